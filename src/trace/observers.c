// SPDX-License-Identifier: GPL-2.0
#include "trace/observers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_writer.h"
#include "output/svg_chart.h"
#include "core/tracer.h"

int observers_open(struct observers *ob, const struct options *o, const char **path)
{
	memset(ob, 0, sizeof(*ob));
	ob->sharing_on = o->sharing;
	ob->timeline_on = o->csv || o->svg;
	ob->stacks_on = o->stacks;
	ob->kernel_stacks = o->kernel_stacks;
	ob->csv_path = o->csv;
	ob->svg_path = o->svg;
	ob->folded_path = o->folded;
	ob->rows = o->rows;
	if (o->csv && !(ob->csv = fopen(o->csv, "we"))) {
		*path = o->csv;
		return -errno;
	}
	if (o->svg && !(ob->svg = fopen(o->svg, "we"))) {
		*path = o->svg;
		return -errno;
	}
	if (o->folded && !(ob->folded = fopen(o->folded, "we"))) {
		*path = o->folded;
		return -errno;
	}
	if (ob->timeline_on) {
		/* before start: the interval and width come from the options */
		ob->tl.interval_ns = (uint64_t)(o->timeline_interval * 1e9);
		ob->tl.top_procs = (uint32_t)o->timeline_procs;
	}
	return 0;
}

int observers_start(struct observers *ob, struct tracer *t, uint64_t t0_ns, uint64_t page_kb,
		    uint32_t live_cap)
{
	int err;

	ob->t0_ns = t0_ns;
	ob->page_kb = page_kb;
	if (ob->stacks_on) {
		err = stacks_init(&ob->st, tracer_map_fd(t, "stack_counts"), tracer_map_fd(t, "stack_frames"),
				  ob->kernel_stacks);
		if (err)
			return err;
		ob->st.last_harvest_ns = t0_ns;
	}
	if (!ob->sharing_on && !ob->timeline_on && !ob->stacks_on)
		return 0;
	/* calloc'ed pages are only touched as far as a read fills them */
	ob->live = calloc(live_cap, sizeof(*ob->live));
	if (!ob->live)
		return -ENOMEM;
	ob->live_cap = live_cap;
	if (ob->timeline_on)
		return timeline_init(&ob->tl, ob->csv, ob->svg != NULL, t0_ns, page_kb,
				     ob->tl.interval_ns / 1e9, ob->tl.top_procs);
	return 0;
}

int observers_wait_ms(const struct observers *ob, uint64_t now_ns, int max_ms)
{
	uint64_t ms;

	if (!ob->timeline_on || ob->tl.next_ns <= now_ns)
		return ob->timeline_on ? 0 : max_ms;
	ms = (ob->tl.next_ns - now_ns + 999999) / 1000000;
	return ms < (uint64_t)max_ms ? (int)ms : max_ms;
}

static int read_live(struct observers *ob, struct tracer *t)
{
	int n = tracer_read_live(t, ob->live, ob->live_cap);

	if (n < 0)
		ob->read_errors++;
	return n < 0 ? 0 : n;
}

void observers_on_record(struct observers *ob, const void *data, size_t len)
{
	uint32_t type = len >= sizeof(uint32_t) ? *(const uint32_t *)data : 0;

	if (!ob->stacks_on)
		return;
	if (type == REC_EXEC && len >= sizeof(struct exec_record)) {
		const struct exec_record *e = data;
		char name[EXEC_PATH_LEN + 1];

		memcpy(name, e->filename, EXEC_PATH_LEN);
		name[EXEC_PATH_LEN] = 0;
		stacks_on_exec(&ob->st, e->tgid, name);
	} else if (type == REC_MM_END && len >= sizeof(struct mm_end_record)) {
		stacks_on_mm(&ob->st, &((const struct mm_end_record *)data)->st, true);
	}
}

void observers_tick(struct observers *ob, struct tracer *t, const struct tree_state *tree,
		    uint64_t now_ns)
{
	if (ob->stacks_on && now_ns - ob->st.last_harvest_ns >= STACKS_HARVEST_MS * 1000000ULL) {
		stacks_harvest(&ob->st, false);
		ob->st.last_harvest_ns = now_ns;
	}
	bool sharing = ob->sharing_on && sharing_due(&ob->sh, tree, now_ns);
	bool sample = ob->timeline_on && timeline_due(&ob->tl, now_ns);
	int n;

	if (!sharing && !sample)
		return;
	n = read_live(ob, t);
	if (sharing && sharing_take(&ob->sh, ob->live, n, tree, ob->page_kb, now_ns))
		ob->read_errors++;
	if (sample) {
		timeline_sample(&ob->tl, tree, ob->live, n, now_ns);
		ob->samples++;
	}
}

int observers_finish(struct observers *ob, struct tracer *t, uint64_t now, const char *title,
		     const char **path)
{
	struct tree_state tree;
	int n, err = 0;

	if (!ob->live)
		return 0;
	tracer_tree(t, &tree);
	ob->final_peak_kb = (uint64_t)tree.peak * ob->page_kb;
	n = read_live(ob, t);
	if (ob->stacks_on) {
		/* the live ones end here: their peaks are as of now */
		for (int i = 0; i < n; i++)
			stacks_on_mm(&ob->st, &ob->live[i], false);
		stacks_harvest(&ob->st, true);
		if (ob->folded) {
			if ((stacks_write_folded(&ob->st, ob->folded) || fclose(ob->folded)) && !err) {
				err = -EIO;
				*path = ob->folded_path;
			}
			ob->folded = NULL;
		}
	}
	if (ob->sharing_on && n > 0 &&
	    sharing_read(&ob->sh.at_end, ob->live, n, &tree, ob->page_kb, now))
		ob->read_errors++;
	if (ob->timeline_on) {
		timeline_sample(&ob->tl, &tree, ob->live, n, now);
		ob->samples++;
		timeline_finish(&ob->tl, &tree);
		if (ob->csv && (ob->tl.write_error || fclose(ob->csv))) {
			err = -EIO;
			*path = ob->csv_path;
		}
		ob->csv = NULL;
	}
	if (ob->svg) {
		if ((svg_chart_write(ob->svg, &ob->tl, title) || fclose(ob->svg)) && !err) {
			err = -EIO;
			*path = ob->svg_path;
		}
		ob->svg = NULL;
	}
	return err;
}

static void print_timeline(struct observers *ob, FILE *out, bool json)
{
	struct json_obj j;

	if (json) {
		json_begin(&j, out);
		json_str(&j, "type", "timeline");
		json_uint(&j, "samples", ob->samples);
		if (ob->csv_path)
			json_str(&j, "csv", ob->csv_path);
		if (ob->svg_path)
			json_str(&j, "svg", ob->svg_path);
		json_uint(&j, "interval_ms", ob->tl.interval_ns / 1000000);
		json_uint(&j, "thinned", ob->tl.thinned);
		json_bool(&j, "incomplete", ob->tl.oom);
		json_end(&j);
		return;
	}
	fprintf(out, "\nTimeline: %llu samples", (unsigned long long)ob->samples);
	if (ob->csv_path)
		fprintf(out, ", CSV in %s", ob->csv_path);
	if (ob->svg_path)
		fprintf(out, ", chart in %s", ob->svg_path);
	fputc('\n', out);
	if (ob->tl.thinned)
		fprintf(out, "  the chart's series was halved %u time(s) to stay under %d points "
			     "(peaks kept; the CSV has every sample)\n", ob->tl.thinned, TIMELINE_MAX_POINTS);
	if (ob->tl.oom)
		fprintf(out, "WARNING: out of memory: the chart misses some samples (the CSV has them)\n");
}

void observers_print(void *ctx, FILE *out, bool json)
{
	struct observers *ob = ctx;

	if (ob->stacks_on)
		stacks_print(&ob->st, out, json, ob->page_kb, &ob->loss);
	if (ob->sharing_on)
		sharing_print(out, json, &ob->sh, ob->t0_ns, ob->rows, ob->final_peak_kb);
	if (ob->timeline_on)
		print_timeline(ob, out, json);
	if (ob->read_errors && !json)
		fprintf(out, "WARNING: %d reading(s) of the live processes failed\n", ob->read_errors);
}

void observers_free(struct observers *ob)
{
	if (ob->csv)
		fclose(ob->csv);
	if (ob->svg)
		fclose(ob->svg);
	if (ob->folded)
		fclose(ob->folded);
	if (ob->stacks_on)
		stacks_free(&ob->st);
	sharing_free(&ob->sh);
	timeline_free(&ob->tl);
	free(ob->live);
	ob->live = NULL;
}
