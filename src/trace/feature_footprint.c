// SPDX-License-Identifier: GPL-2.0
/*
 * --footprint: the tree's unique pages, first-toucher accounting on the rmap
 * hooks (bpf/footprint.bpf.c), as a trace feature (trace/feature.h). Where no
 * rmap hook attaches, the PSS footprint of --sharing's smaps_rollup readings
 * stands in, labelled as such.
 */
#include <string.h>

#include "core/log.h"
#include "output/footprint_report.h"
#include "trace/feature.h"
#include "trace/features.h"
#include "trace/footprint_loader.h"

extern const struct trace_feature feature_footprint; /* defined below */

struct footprint_feature {
	struct fp_state fp;
	struct fp_result result;
	bool have_result;
	const char *unavailable; /* why not on the rmap hooks, NULL if on them */
	char why[160];
};

static bool wanted(const struct options *o)
{
	return o->footprint;
}

static int start(void *self, struct trace_run *run, const char **what)
{
	struct footprint_feature *f = self;
	const char *step;
	int err;

	if (!hooks_footprint_ready(run->hooks)) {
		f->unavailable = "the rmap functions cannot be hooked on this kernel (see --hooks)";
	} else {
		err = footprint_start(&f->fp, run->t, run->hooks, (uint32_t)run->o->footprint_pages,
				      (uint32_t)run->o->map_entries, &step);
		if (!err)
			return 0;
		footprint_stop(&f->fp);
		snprintf(f->why, sizeof(f->why), "cannot %s: %s", step, strerror(-err));
		hooks_drop_footprint(run->hooks, f->why);
		f->unavailable = f->why;
	}
	feature_sharing_activate(run);
	wlog("--footprint: %s; using the PSS footprint from smaps_rollup instead", f->unavailable);
	return 0;
}

int64_t feature_footprint_owner_pages(const struct trace_run *run, uint32_t tgid)
{
	struct footprint_feature *f = trace_run_state(run, &feature_footprint);

	return f && f->fp.skel ? (int64_t)footprint_owner_pages(&f->fp, tgid) : -1;
}

static void collect(void *self, struct trace_run *run)
{
	struct footprint_feature *f = self;

	if (!f->fp.skel)
		return;
	if (footprint_read(&f->fp, &f->result))
		wlog("could not read the footprint maps");
	else
		f->have_result = true;
	footprint_stop(&f->fp);
}

static struct fp_report_ctx report_ctx(const struct trace_run *run, const struct trace_end *e)
{
	return (struct fp_report_ctx){ .t0_ns = run->t0_ns,
				       .page_kb = run->page_kb,
				       .tree_peak_rss_kb = (uint64_t)e->tree.peak * run->page_kb,
				       .tree_rss_kb = (uint64_t)e->tree.rss * run->page_kb,
				       .rows = e->rows };
}

static void print_text(void *self, FILE *out, const struct trace_run *run, const struct trace_end *e)
{
	struct footprint_feature *f = self;
	struct fp_report_ctx c = report_ctx(run, e);

	if (f->have_result)
		footprint_print_text(out, &f->result, &c);
	else if (f->unavailable)
		footprint_print_pss_text(out, feature_sharing_readings(run), f->unavailable, &c);
}

static void print_json(void *self, FILE *out, const struct trace_run *run, const struct trace_end *e)
{
	struct footprint_feature *f = self;
	struct fp_report_ctx c = report_ctx(run, e);

	if (f->have_result)
		footprint_print_json(out, &f->result, &c);
	else if (f->unavailable)
		footprint_print_pss_json(out, feature_sharing_readings(run), f->unavailable, &c);
}

static void summary_json(void *self, struct json_obj *j)
{
	struct footprint_feature *f = self;

	if (!f->have_result)
		return;
	json_uint(j, "footprint_pages_not_counted", f->result.loss.pages_full);
	json_uint(j, "footprint_processes_not_itemized", f->result.loss.owners_full);
}

static void free_state(void *self)
{
	struct footprint_feature *f = self;

	footprint_stop(&f->fp);
	footprint_result_free(&f->result);
}

const struct trace_feature feature_footprint = {
	.name = "footprint",
	.state_size = sizeof(struct footprint_feature),
	.wanted = wanted,
	.start = start,
	.collect = collect,
	.print_text = print_text,
	.print_json = print_json,
	.summary_json = summary_json,
	.free = free_state,
};
