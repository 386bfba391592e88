// SPDX-License-Identifier: GPL-2.0
/* --csv FILE / --svg FILE: the tree's RSS over time, sampled every
 * --timeline-interval, as a trace feature (trace/feature.h). */
#include <errno.h>
#include <limits.h>

#include "core/text_escape.h"
#include "output/svg_chart.h"
#include "trace/feature.h"
#include "trace/features.h"
#include "trace/timeline.h"

struct timeline_feature {
	struct timeline tl;
	struct output_file csv, svg;
	uint64_t samples;
};

static bool wanted(const struct options *o)
{
	return o->csv || o->svg;
}

static int open_files(void *self, struct trace_run *run, const char **what)
{
	struct timeline_feature *f = self;
	const struct options *o = run->o;

	int err = 0;

	if (o->csv)
		err = trace_run_open_output(run, &f->csv, o->csv, what);
	if (o->svg && !err)
		err = trace_run_open_output(run, &f->svg, o->svg, what);
	return err;
}

static int start(void *self, struct trace_run *run, const char **what)
{
	struct timeline_feature *f = self;
	int err = timeline_init(&f->tl, f->csv.f, f->svg.f != NULL, run->t0_ns, run->page_kb,
				run->o->timeline_interval, (uint32_t)run->o->timeline_procs);

	if (err)
		*what = "start the timeline";
	return err;
}

static int wait_ms(void *self, uint64_t now_ns, int max_ms)
{
	struct timeline_feature *f = self;
	uint64_t ms;

	if (f->tl.next_ns <= now_ns)
		return 0;
	ms = (f->tl.next_ns - now_ns + 999999) / 1000000;
	return ms < (uint64_t)max_ms ? (int)ms : max_ms;
}

static void sample(struct timeline_feature *f, struct trace_run *run, const struct tree_state *tree,
		   uint64_t now_ns)
{
	struct mm_state *live;
	int n = trace_run_live(run, &live);

	timeline_sample(&f->tl, tree, live, n, now_ns);
	f->samples++;
}

static void tick(void *self, struct trace_run *run, const struct tree_state *tree, uint64_t now_ns)
{
	struct timeline_feature *f = self;

	if (timeline_due(&f->tl, now_ns))
		sample(f, run, tree, now_ns);
}

static int finish(void *self, struct trace_run *run, uint64_t now_ns, const char **what)
{
	struct timeline_feature *f = self;
	struct tree_state tree;
	int err = 0, e;

	tracer_tree(run->t, &tree);
	sample(f, run, &tree, now_ns);
	timeline_finish(&f->tl, &tree);
	f->tl.csv = NULL;
	if (f->csv.f && (e = output_file_close(&f->csv) ?: (f->tl.write_error ? EIO : 0))) {
		err = -e;
		*what = run->o->csv;
	}
	if (f->svg.f) {
		int werr = svg_chart_write(f->svg.f, &f->tl, run->title);

		e = output_file_close(&f->svg) ?: (werr ? EIO : 0);
		if (e && !err) {
			err = -e;
			*what = run->o->svg;
		}
	}
	return err;
}

static void print_text(void *self, FILE *out, const struct trace_run *run, const struct trace_end *e)
{
	struct timeline_feature *f = self;
	char path[TEXT_ESC_LEN(PATH_MAX)]; /* the file names, escaped (core/text_escape.h) */

	fprintf(out, "\nTimeline: %llu samples", (unsigned long long)f->samples);
	if (run->o->csv)
		fprintf(out, ", CSV in %s", text_escape(path, sizeof(path), run->o->csv, PATH_MAX));
	if (run->o->svg)
		fprintf(out, ", chart in %s", text_escape(path, sizeof(path), run->o->svg, PATH_MAX));
	fputc('\n', out);
	if (f->tl.thinned)
		fprintf(out, "  the chart's series was halved %u time(s) to stay under %d points "
			     "(peaks kept; the CSV has every sample)\n", f->tl.thinned, TIMELINE_MAX_POINTS);
	if (f->tl.oom)
		fprintf(out, "WARNING: out of memory: the chart misses some samples (the CSV has them)\n");
}

static void print_json(void *self, FILE *out, const struct trace_run *run, const struct trace_end *e)
{
	struct timeline_feature *f = self;
	struct json_obj j;

	json_begin(&j, out);
	json_str(&j, "type", "timeline");
	json_uint(&j, "samples", f->samples);
	if (run->o->csv)
		json_str(&j, "csv", run->o->csv);
	if (run->o->svg)
		json_str(&j, "svg", run->o->svg);
	json_uint(&j, "interval_ms", f->tl.interval_ns / 1000000);
	json_uint(&j, "thinned", f->tl.thinned);
	json_bool(&j, "incomplete", f->tl.oom);
	json_end(&j);
}

static void free_state(void *self)
{
	struct timeline_feature *f = self;

	output_file_close(&f->csv);
	output_file_close(&f->svg);
	timeline_free(&f->tl);
}

const struct trace_feature feature_timeline = {
	.name = "timeline",
	.state_size = sizeof(struct timeline_feature),
	.wanted = wanted,
	.open = open_files,
	.start = start,
	.wait_ms = wait_ms,
	.tick = tick,
	.finish = finish,
	.print_text = print_text,
	.print_json = print_json,
	.free = free_state,
};
