// SPDX-License-Identifier: GPL-2.0
/* --sharing: PSS / USS of the tree from smaps_rollup near its peak and at the
 * end, as a trace feature (trace/feature.h). Also the fallback footprint of
 * --footprint where no rmap hook attaches (feature_sharing_activate). */
#include "output/report.h"
#include "trace/feature.h"
#include "trace/features.h"
#include "trace/sharing.h"

extern const struct trace_feature feature_sharing; /* defined below */

struct sharing_feature {
	struct sharing sh;
	bool active;		/* --sharing, or --footprint's fallback */
};

/* With --footprint too: its fallback may need the readings. */
static bool wanted(const struct options *o)
{
	return o->sharing || o->footprint;
}

static int start(void *self, struct trace_run *run, const char **what)
{
	struct sharing_feature *f = self;

	f->active = f->active || run->o->sharing;
	return 0;
}

void feature_sharing_activate(struct trace_run *run)
{
	struct sharing_feature *f = trace_run_state(run, &feature_sharing);

	if (f)
		f->active = true;
}

const struct sharing *feature_sharing_readings(const struct trace_run *run)
{
	struct sharing_feature *f = trace_run_state(run, &feature_sharing);

	return f && f->active ? &f->sh : NULL;
}

void feature_sharing_live(const struct trace_run *run, struct live_sharing *out)
{
	const struct sharing *sh = feature_sharing_readings(run);

	*out = (struct live_sharing){ 0 };
	if (!sh)
		return;
	out->readings = sh->readings;
	out->rss_sum_kb = (uint64_t)sh->latest.rss;
	out->footprint_kb = (uint64_t)sh->latest.pss;
	out->after_peak_kb = (uint64_t)sh->read_peak * run->page_kb;
}

static void tick(void *self, struct trace_run *run, const struct tree_state *tree, uint64_t now_ns)
{
	struct sharing_feature *f = self;
	struct mm_state *live;
	int n;

	if (!f->active || !sharing_due(&f->sh, tree, now_ns))
		return;
	n = trace_run_live(run, &live);
	if (sharing_take(&f->sh, live, n, tree, run->page_kb, now_ns))
		run->read_errors++;
}

static int finish(void *self, struct trace_run *run, uint64_t now_ns, const char **what)
{
	struct sharing_feature *f = self;
	struct mm_state *live;
	struct tree_state tree;
	int n;

	if (!f->active)
		return 0;
	tracer_tree(run->t, &tree);
	n = trace_run_live(run, &live);
	if (n > 0 && sharing_read(&f->sh.at_end, live, n, &tree, run->page_kb, now_ns))
		run->read_errors++;
	return 0;
}

/* e->tree is what the summary prints: its peak is the one quoted. */
static void print_either(void *self, FILE *out, const struct trace_run *run, const struct trace_end *e,
			 bool json)
{
	struct sharing_feature *f = self;
	struct sharing_peak peak = { (uint64_t)e->tree.peak * run->page_kb, e->tree.peak_ns };

	if (f->active)
		sharing_print(out, json, &f->sh, run->t0_ns, e->rows, &peak);
}

static void print_text(void *self, FILE *out, const struct trace_run *run, const struct trace_end *e)
{
	print_either(self, out, run, e, false);
}

static void print_json(void *self, FILE *out, const struct trace_run *run, const struct trace_end *e)
{
	print_either(self, out, run, e, true);
}

static void free_state(void *self)
{
	struct sharing_feature *f = self;

	sharing_free(&f->sh);
}

const struct trace_feature feature_sharing = {
	.name = "sharing",
	.state_size = sizeof(struct sharing_feature),
	.wanted = wanted,
	.start = start,
	.tick = tick,
	.finish = finish,
	.print_text = print_text,
	.print_json = print_json,
	.free = free_state,
};
