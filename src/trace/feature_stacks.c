// SPDX-License-Identifier: GPL-2.0
/* --stacks (and --kernel-stacks, --folded FILE, --cow-folded FILE, --pprof
 * FILE): which code made the tree's memory resident, and which copied it on
 * write, as a trace feature (trace/feature.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "trace/feature.h"
#include "trace/features.h"
#include "trace/stacks.h"
#include "trace/stack_sampling.h"
#include "trace/stacks_pprof.h"

struct stacks_feature {
	struct stacks st;
	bool started;
	struct output_file folded, cow_folded, pprof;
	char cow_hook[64];
	uint32_t sample_pages, sample_gaps[STACK_SAMPLE_GAPS];
};

static bool wanted(const struct options *o)
{
	return o->stacks;
}

static int open_files(void *self, struct trace_run *run, const char **what)
{
	struct stacks_feature *f = self;
	int err = run->o->folded ? trace_run_open_output(run, &f->folded, run->o->folded, what) : 0;

	if (!err && run->o->cow_folded)
		err = trace_run_open_output(run, &f->cow_folded, run->o->cow_folded, what);
	return !err && run->o->pprof ? trace_run_open_output(run, &f->pprof, run->o->pprof, what) : err;
}

/* One output file written by write(): its write errors (or write's own)
 * become the run's error *err, said once at the top with the file's name.
 * Every file is written even if an earlier one failed; the first error is
 * the one said. */
static void write_output(struct output_file *of, const char *name, int werr, int *err, const char **what)
{
	int e = output_file_close(of);

	if ((!e && !werr) || *err)
		return;
	*err = e ? -e : werr;
	*what = name;
}

static void configure(void *self, const struct options *o, struct tracer_config *cfg)
{
	struct stacks_feature *f = self;

	cfg->stacks = true;
	cfg->kernel_stacks = o->kernel_stacks;
	cfg->stack_entries = (uint32_t)o->stack_entries;
	cfg->stacks_dwarf = o->stacks_dwarf;
	cfg->stack_copy_bytes = (uint32_t)o->stack_copy;
	cfg->stack_sample_pages = (uint32_t)(o->stack_sample / (uint64_t)sysconf(_SC_PAGESIZE));
	if (o->stack_sample && !cfg->stack_sample_pages)
		cfg->stack_sample_pages = 1; /* under a page: every page */
	f->sample_pages = cfg->stack_sample_pages;
	if (cfg->stack_sample_pages) {
		stack_sample_gaps(cfg->stack_sample_pages, f->sample_gaps);
		cfg->stack_sample_gaps = f->sample_gaps;
	}
}

static int start(void *self, struct trace_run *run, const char **what)
{
	struct stacks_feature *f = self;
	int err;

	err = stacks_init(&f->st, tracer_map_fd(run->t, "stack_counts"), tracer_map_fd(run->t, "stack_frames"),
			  run->o->kernel_stacks, run->o->stacks_dwarf, run->o->debug_dir);
	if (err) {
		*what = "read the stack maps";
		return err;
	}
	f->st.sample_pages = f->sample_pages;
	f->st.held_on = tracer_held_on(run->t);
	f->st.reclaim_seen = run->hooks->h[LH_RECLAIM].chosen >= 0;
	stacks_init_cow(&f->st, tracer_map_fd(run->t, "cow_counts"),
			hook_in_use(run->hooks, LH_COW, f->cow_hook, sizeof(f->cow_hook)));
	f->started = true;
	f->st.last_harvest_ns = run->t0_ns;
	return 0;
}

static void on_record(void *self, const void *data, size_t len)
{
	struct stacks_feature *f = self;
	uint32_t type = len >= sizeof(uint32_t) ? *(const uint32_t *)data : 0;

	if (type == REC_EXEC && len >= sizeof(struct exec_record)) {
		const struct exec_record *e = data;
		char name[EXEC_PATH_LEN + 1];

		memcpy(name, e->filename, EXEC_PATH_LEN);
		name[EXEC_PATH_LEN] = 0;
		stacks_on_exec(&f->st, e->tgid, name);
	} else if (type == REC_STACK_SAMPLE) {
		stacks_on_sample(&f->st, data, len);
	} else if (type == REC_HELD) {
		stacks_on_held(&f->st, data, len);
	} else if (type == REC_MM_END && len >= sizeof(struct mm_end_record)) {
		stacks_on_mm(&f->st, &((const struct mm_end_record *)data)->st, true);
	}
}

/* The mmap records read every turn; ended address spaces leave the BPF map
 * every STACKS_HARVEST_MS. */
static void tick(void *self, struct trace_run *run, const struct tree_state *tree, uint64_t now_ns)
{
	struct stacks_feature *f = self;

	stacks_read_mmap_records(&f->st);
	if (now_ns - f->st.last_harvest_ns < STACKS_HARVEST_MS * 1000000ULL)
		return;
	stacks_harvest(&f->st, false);
	f->st.last_harvest_ns = now_ns;
}

static int finish(void *self, struct trace_run *run, uint64_t now_ns, const char **what)
{
	struct stacks_feature *f = self;
	struct mm_state *live;
	int n = trace_run_live(run, &live), err = 0;
	struct tree_state tree;

	/* the live ones end here: their peaks are as of now, the tree's too */
	tracer_tree(run->t, &tree);
	f->st.final_tree_seq = tree.held_peak_seq;
	for (int i = 0; i < n; i++)
		stacks_on_mm(&f->st, &live[i], false);
	stacks_harvest(&f->st, true);
	if (f->folded.f)
		write_output(&f->folded, run->o->folded, stacks_write_folded(&f->st, f->folded.f), &err, what);
	if (f->cow_folded.f)
		write_output(&f->cow_folded, run->o->cow_folded, stacks_write_cow_folded(&f->st, f->cow_folded.f),
			     &err, what);
	if (f->pprof.f) {
		struct loss_counters loss;

		tracer_losses(run->t, &loss);
		write_output(&f->pprof, run->o->pprof,
			     stacks_write_pprof(&f->st, f->pprof.f, run->page_kb, now_ns - run->t0_ns, &loss), &err,
			     what);
	}
	return err;
}

static void print_text(void *self, FILE *out, const struct trace_run *run, const struct trace_end *e)
{
	struct stacks_feature *f = self;

	stacks_print(&f->st, out, false, run->page_kb, &e->loss);
}

static void print_json(void *self, FILE *out, const struct trace_run *run, const struct trace_end *e)
{
	struct stacks_feature *f = self;

	stacks_print(&f->st, out, true, run->page_kb, &e->loss);
}

static void free_state(void *self)
{
	struct stacks_feature *f = self;

	output_file_close(&f->folded);
	output_file_close(&f->cow_folded);
	output_file_close(&f->pprof);
	if (f->started)
		stacks_free(&f->st);
}

const struct trace_feature feature_stacks = {
	.name = "stacks",
	.state_size = sizeof(struct stacks_feature),
	.wanted = wanted,
	.open = open_files,
	.configure = configure,
	.start = start,
	.on_record = on_record,
	.tick = tick,
	.finish = finish,
	.print_text = print_text,
	.print_json = print_json,
	.free = free_state,
};
