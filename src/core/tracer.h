/* SPDX-License-Identifier: GPL-2.0 */
/* The BPF side's lifecycle: open, size, load, attach, seed, poll, read back, close. */
#ifndef TRACER_H
#define TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rsstrace.h"

struct rss_account_bpf;
struct ring_buffer;

/* Called for each record from the kernel: enum record_type in rsstrace.h
 * (REC_MM_END, REC_EXIT, REC_EXEC, REC_OOM_KILL); records start with the type. */
typedef void (*record_fn)(void *ctx, const void *data, size_t len);

struct tracer {
	struct rss_account_bpf *skel;
	struct ring_buffer *rb;
	record_fn on_record;
	void *ctx;
	bool load_refused; /* tracer_start failed in the verifier, not before */
};

struct hooks;

struct tracer_config {
	bool follow_children;
	bool trace_all; /* every process (rsstrace top) */
	bool users;	/* rows follow setuid() and its kin (rsstrace top's USER) */
	uint32_t map_entries;
	uint32_t ringbuf_bytes;
	uint32_t cgroup_entries; /* > 0: per-cgroup totals and window peaks (rsstrace serve) */
	struct hooks *hooks; /* chosen by hooks_choose(); cause hooks may be dropped */
	bool stacks;	     /* --stacks: charge growth to user stacks */
	bool kernel_stacks;  /* --kernel-stacks: and to kernel stacks */
	uint32_t stack_entries; /* (address space, stack) pairs the map holds */
	bool stacks_dwarf;	/* --stacks=dwarf: send stack samples to unwind */
	uint32_t stack_copy_bytes; /* --stack-copy: user stack bytes per sample */
	uint32_t stack_sample_pages; /* --stack-sample: mean pages between charges, 0 = every page */
	const uint32_t *stack_sample_gaps; /* STACK_SAMPLE_GAPS of them, mean stack_sample_pages */
	uint64_t watch_cgroup_id; /* --cgroup-path: trace processes entering it (kernfs id), 0: off */
	int watch_hierarchy_id;	  /* its hierarchy: 0 = v2, else the v1 one's id */
};

/* Opens, loads and attaches everything. Returns 0 or -errno; *what says which
 * step failed (for the one-line error). */
int tracer_start(struct tracer *t, const struct tracer_config *cfg, record_fn fn, void *ctx,
		 const char **what);

/* The one-line error for a failed tracer_start(): a refused load points at
 * the verifier's log (-v). */
void tracer_print_start_error(const struct tracer *t, int err, const char *what);

/* Every process on the system (rsstrace top and serve): tracer_start() with
 * trace_all and follow_children set in *cfg, then every existing process
 * seeded in one pass of the task iterator. Returns 0 or -errno, with *what. */
int tracer_start_all(struct tracer *t, struct tracer_config *cfg, record_fn fn, void *ctx, const char **what);

/* Marks a thread group as traced (ppid: for its rows, 0 = read at seeding).
 * Returns 0, -EEXIST, or -errno (map full). */
int tracer_add_tgid(struct tracer *t, int tgid, int ppid);

/* Takes back a tgid that exited before it could be traced (it had no
 * address space to read): no longer counted as traced, whether the kernel saw
 * it exit or not. Returns true if this call removed it from the map. */
bool tracer_drop_tgid(struct tracer *t, int tgid);

struct bpf_program;
/* Runs a task iterator program once over every task. */
int tracer_run_iter(struct tracer *t, struct bpf_program *prog, enum iter_mode mode);
/* Creates rows for traced processes that existed before tracing (-p). */
int tracer_seed(struct tracer *t);
/* tracer_seed(), and every existing descendant of a traced process is
 * traced and seeded too (-p without --no-children). */
int tracer_seed_tree(struct tracer *t);
/* Re-reads the counters and hiwater marks of every live row. */
int tracer_refresh(struct tracer *t);

/* Now on CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns(): comparable with
 * every timestamp the BPF side records. */
static inline uint64_t tracer_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Orders tgids (uint32_t), for qsort()/bsearch() on tracer_owners(). */
static inline int tracer_cmp_tgid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The owners of all accounted address spaces, sorted (one read of the map).
 * Returns how many, or -errno; *tgids is malloc'ed. */
int tracer_owners(struct tracer *t, uint32_t **tgids);

/* Copies up to max live address spaces into out (one batched read where the
 * kernel has it). Returns how many, or -errno. */
int tracer_read_live(struct tracer *t, struct mm_state *out, uint32_t max);

/* Calls fn for every live address space (a copy of its state). */
int tracer_foreach_live(struct tracer *t, void (*fn)(void *ctx, const struct mm_state *st),
			void *ctx);

/* Entries of the traced-process map (processes traced and alive). */
uint64_t tracer_count_tasks(struct tracer *t);

/* Delivers pending records; waits up to timeout_ms for the first. */
int tracer_poll(struct tracer *t, int timeout_ms);

/* Snapshots of the shared counters (consistent enough for a live line). */
void tracer_tree(struct tracer *t, struct tree_state *out);
void tracer_losses(struct tracer *t, struct loss_counters *out);
/* Counter reads that may be inexact: without the per-CPU sum (approx), or
 * sums of which no try was consistent (unsettled: each may count one fold
 * twice, see SUM_TRIES in bpf/lib/mm_counters.bpf.h). */
void tracer_inexact_reads(struct tracer *t, uint64_t *approx, uint64_t *unsettled);
/* Address spaces read from shadows (bpf/lib/shadow.bpf.h: those on many
 * CPUs), and those that did not fit their map (read by the sum). */
void tracer_shadows(struct tracer *t, uint64_t *made, uint64_t *full);

/* The fd of one of the BPF maps, by name (-1 if there is none). */
int tracer_map_fd(struct tracer *t, const char *name);
/* --stacks: whether the charges' addresses and the ranges given back are
 * traced (bpf/held.bpf.c): what each stack held at the peak is known. */
bool tracer_held_on(const struct tracer *t);
/* The ring buffer's epoll fd: wait on it without holding what tracer_poll needs. */
int tracer_poll_fd(struct tracer *t);

enum tracer_map { TMAP_MMS, TMAP_TRACED, TMAP_CGROUPS };
uint64_t tracer_map_capacity(struct tracer *t, enum tracer_map m);

/* One cgroup at the close of a scrape window (pages). */
struct cgroup_window {
	uint64_t id;
	int64_t cur[RSS_NR_MEMBERS];
	int64_t window_peak;	/* largest FILE+ANON+SHMEM an event produced in the window, 0: no event */
};

/* Closes the open scrape window (a new one starts at once) and reads every
 * cgroup's totals and peak in the window just closed. Returns how many (up to
 * max), or -errno. One window at a time: callers serialise. */
int tracer_close_window(struct tracer *t, struct cgroup_window *out, uint32_t max);

/* Detaches every program and frees everything. Safe to call twice. */
void tracer_stop(struct tracer *t);

#endif
