// SPDX-License-Identifier: GPL-2.0
/* --stacks (and --kernel-stacks, --folded FILE, --cow-folded FILE): which
 * code made the tree's memory resident, and which copied it on write, as a
 * trace feature (trace/feature.h). */
#include <errno.h>
#include <string.h>

#include "trace/feature.h"
#include "trace/features.h"
#include "trace/stacks.h"

struct stacks_feature {
	struct stacks st;
	bool started;
	struct output_file folded;
	struct output_file cow_folded;
	char cow_hook[64];
};

static bool wanted(const struct options *o)
{
	return o->stacks;
}

static int open_files(void *self, struct trace_run *run, const char **what)
{
	struct stacks_feature *f = self;

	int err = 0;

	if (run->o->folded)
		err = trace_run_open_output(run, &f->folded, run->o->folded, what);
	if (!err && run->o->cow_folded)
		err = trace_run_open_output(run, &f->cow_folded, run->o->cow_folded, what);
	return err;
}

static void configure(void *self, const struct options *o, struct tracer_config *cfg)
{
	cfg->stacks = true;
	cfg->kernel_stacks = o->kernel_stacks;
	cfg->stack_entries = (uint32_t)o->stack_entries;
	cfg->stacks_dwarf = o->stacks_dwarf;
	cfg->stack_copy_bytes = (uint32_t)o->stack_copy;
}

static int start(void *self, struct trace_run *run, const char **what)
{
	struct stacks_feature *f = self;
	int err;

	err = stacks_init(&f->st, tracer_map_fd(run->t, "stack_counts"), tracer_map_fd(run->t, "stack_frames"),
			  run->o->kernel_stacks, run->o->stacks_dwarf);
	if (err) {
		*what = "read the stack maps";
		return err;
	}
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
	} else if (type == REC_MM_END && len >= sizeof(struct mm_end_record)) {
		stacks_on_mm(&f->st, &((const struct mm_end_record *)data)->st, true);
	}
}

/* Ended address spaces leave the BPF map every STACKS_HARVEST_MS. */
static void tick(void *self, struct trace_run *run, const struct tree_state *tree, uint64_t now_ns)
{
	struct stacks_feature *f = self;

	if (now_ns - f->st.last_harvest_ns < STACKS_HARVEST_MS * 1000000ULL)
		return;
	stacks_harvest(&f->st, false);
	f->st.last_harvest_ns = now_ns;
}

/* Writes and closes an open folded file; on error *what names it. */
static int write_folded(struct output_file *file, struct stacks *st, int (*write)(struct stacks *, FILE *),
			const char *path, const char **what)
{
	int werr, e;

	if (!file->f)
		return 0;
	werr = write(st, file->f);
	e = output_file_close(file);
	if (e || werr) {
		*what = path;
		return e ? -e : -EIO;
	}
	return 0;
}

static int finish(void *self, struct trace_run *run, uint64_t now_ns, const char **what)
{
	struct stacks_feature *f = self;
	struct mm_state *live;
	int n = trace_run_live(run, &live), err = 0;

	/* the live ones end here: their peaks are as of now */
	for (int i = 0; i < n; i++)
		stacks_on_mm(&f->st, &live[i], false);
	stacks_harvest(&f->st, true);
	err = write_folded(&f->folded, &f->st, stacks_write_folded, run->o->folded, what);
	if (!err)
		err = write_folded(&f->cow_folded, &f->st, stacks_write_cow_folded, run->o->cow_folded, what);
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
