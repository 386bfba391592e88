// SPDX-License-Identifier: GPL-2.0
/* --cgroup: the traced processes' memory cgroups, read near the tree's peak
 * and at the end, reconciled with the tree's own figures; a trace feature
 * (trace/feature.h). */
#include "output/cgroup_report.h"
#include "trace/cgroup_watch.h"
#include "trace/feature.h"
#include "trace/features.h"

struct cgroup_feature {
	struct cgroup_watch w;
	struct trace_run *run; /* for add_to_sample */
};

static bool wanted(const struct options *o)
{
	return o->cgroup;
}

static void add_to_sample(void *ctx, const struct mm_state *st)
{
	struct cgroup_feature *f = ctx;

	cgroup_watch_add(&f->w, st, feature_footprint_owner_pages(f->run, st->tgid), f->run->page_kb);
}

/* Reads the traced processes' cgroups now (near the peak, or at the end). */
static void sample(struct cgroup_feature *f, struct trace_run *run, int64_t tree_peak, bool at_end)
{
	f->run = run;
	cgroup_watch_begin(&f->w, tree_peak, tracer_now_ns(), at_end);
	tracer_foreach_live(run->t, add_to_sample, f);
	cgroup_watch_end(&f->w, tracer_now_ns(), at_end);
}

static void tick(void *self, struct trace_run *run, const struct tree_state *tree, uint64_t now_ns)
{
	struct cgroup_feature *f = self;

	/* the loop ends at once: the end sample (at_stop) follows */
	if (tree->live_tgids <= 0 && tree->live_mms <= 0)
		return;
	if (cgroup_watch_due(&f->w, tree->rss, tree->peak, tracer_now_ns()))
		sample(f, run, tree->peak, false);
}

/* Before a SIGTERM ends CMD: the end as the processes left it. */
static void at_stop(void *self, struct trace_run *run)
{
	struct cgroup_feature *f = self;
	struct tree_state tree;

	tracer_poll(run->t, 0);
	tracer_tree(run->t, &tree);
	/* a peak not sampled yet (rate limit, or a short run): now is nearest,
	 * if the tree is still near it (see cgroup_watch_due) */
	if (cgroup_watch_due(&f->w, tree.rss, tree.peak, f->w.last_ns + CG_SAMPLE_GAP_NS))
		sample(f, run, tree.peak, false);
	sample(f, run, 0, true);
}

static void print_text(void *self, FILE *out, const struct trace_run *run, const struct trace_end *e)
{
	struct cgroup_feature *f = self;

	cgroup_print_text(out, &f->w, run->t0_ns, run->page_kb);
}

static void print_json(void *self, FILE *out, const struct trace_run *run, const struct trace_end *e)
{
	struct cgroup_feature *f = self;

	cgroup_print_json(out, &f->w, run->t0_ns, run->page_kb);
}

const struct trace_feature feature_cgroup = {
	.name = "cgroup",
	.state_size = sizeof(struct cgroup_feature),
	.wanted = wanted,
	.tick = tick,
	.at_stop = at_stop,
	.print_text = print_text,
	.print_json = print_json,
};
