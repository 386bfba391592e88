/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --stacks, user space: collect what bpf/lib/stacks.bpf.h charged to each
 * (address space, stack), take each address space's value at its own peak,
 * add up by (command, stack), symbolize, and print: the summary's top stacks,
 * JSON "stack" objects, and --folded FILE for flame graphs
 * ("comm;outer;...;inner PAGES"). The second sample type, pages copied on
 * write (bpf/cow.bpf.c), goes the same way per process and for the tree:
 * "cow_stack" and "cow_process_stack" objects, --cow-folded FILE.
 *
 * Entries of address spaces that ended are folded in and deleted from the BPF
 * map every STACKS_HARVEST_MS, so the map holds only live ones.
 */
#ifndef STACKS_H
#define STACKS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/text_escape.h"
#include "trace/held_pages.h"
#include "rsstrace.h"

#define STACKS_HARVEST_MS 1000
#define STACKS_TOP 10 /* stacks in the text summary */

struct symbolizer;
struct named_stack;
struct unwind_worker;

/* An address space with stack entries: what is needed to read them. */
struct stack_mm {
	uint64_t start_ns;
	uint32_t tgid;
	uint32_t peak_seq;
	uint32_t exec_seq;
	bool ended;
	bool maps_read;
	char comm[RSS_COMM_LEN];
	uint64_t tree_seq;	/* tree_state.held_peak_seq when it ended (or at the end) */
};

/* Pages held at the tree's peak: the sum over address spaces that lived at
 * its latest peak (seq); one that ended before a later one adds nothing. */
struct tree_held {
	uint64_t pages[RSS_NR_MEMBERS];
	uint64_t seq;
};

/* Pages charged to one stack in processes with one command name. */
struct stack_agg {
	uint64_t hash;
	char comm[RSS_COMM_LEN];
	uint64_t at_peak[RSS_NR_MEMBERS];
	uint64_t grown[RSS_NR_MEMBERS];
	uint64_t held[RSS_NR_MEMBERS]; /* of at_peak, still resident at the peak */
	struct tree_held tree;	/* held at the tree's peak */
	uint32_t procs;
	uint64_t *mms;		/* the address spaces it charged (address_space_key), procs of them */
	size_t mms_cap;
	uint64_t cow;		/* pages it copied on write (bpf/cow.bpf.c) */
	uint64_t samples;	/* --stack-sample: the samples in grown */
	struct stack_frames *frames; /* NULL: lost (map full) */
	bool used;
};

/* Pages one process copied on write from one stack (--stacks' second
 * sample type: which code broke copy-on-write). */
struct cow_charge {
	uint32_t tgid;
	char comm[RSS_COMM_LEN];
	uint64_t hash;
	uint64_t pages;
};

struct mmap_events;

struct stacks {
	int counts_fd, frames_fd;
	int cow_fd;		/* cow_counts */
	const char *cow_hook;	/* the attach point counting copies, NULL: none */
	struct cow_charge *cows;
	size_t ncows, cows_cap;
	bool kernel;
	struct symbolizer *sym;
	bool dwarf;		/* --stacks=dwarf */
	uint32_t sample_pages;	/* --stack-sample: a sample's weight, 0: every page charged */
	bool held_on;		/* the charges' addresses and frees are seen (bpf/held.bpf.c) */
	bool reclaim_seen;	/* ... and reclaim's (the reclaim hook is in use) */
	struct held_pages held;
	struct unwind_worker *unw; /* --stacks=dwarf, until the final harvest */
	uint64_t unwind_failed;	/* samples that gave no frame (the kernel's kept) */
	uint64_t unwound, unwound_to_end, unwound_without_maps, unwound_parent_maps;
	struct mmap_events *mmaps; /* --stacks=dwarf: the kernel's mmap records */
	uint64_t maps_from_events; /* samples whose maps were made of them */
	struct stack_mm *ends;	/* ended address spaces, for the worker */
	size_t nends, ends_cap;
	struct stack_mm *mms;
	size_t nmms, mms_cap;
	bool mms_sorted;
	struct stack_agg *aggs; /* open addressing on (hash, comm) */
	size_t naggs, aggs_cap;
	uint64_t last_harvest_ns;
	uint64_t peak_pages;	/* sum of each address space's peak RSS */
	uint64_t final_tree_seq; /* tree_state.held_peak_seq at the end */
	uint64_t unmatched;	/* entries whose address space was never known */
	uint64_t harvest_errors;
	struct named_stack *named; /* symbolized once, after the final harvest */
	long nnamed;
	struct named_stack *cow_named; /* cows by process and named stack, likewise */
	long ncow_named;
};

/* debug_dir: --debug-dir, or NULL (trace/debuginfo.h) */
int stacks_init(struct stacks *s, int counts_fd, int frames_fd, bool kernel, bool dwarf,
		const char *debug_dir);
/* Copy-on-write copies are read from cow_fd too, counted by hook (NULL:
 * no hook could count them here: the output says so). */
void stacks_init_cow(struct stacks *s, int cow_fd, const char *hook);
void stacks_free(struct stacks *s);

/* A traced process exec'd this path (REC_EXEC). */
void stacks_on_exec(struct stacks *s, uint32_t tgid, const char *filename);
/* --stacks=dwarf: a stack sample (REC_STACK_SAMPLE): its process's maps are
 * read now, while it lives, and the sample goes to the unwinding thread,
 * whose frames replace the frame-pointer ones in the frames map. */
void stacks_on_sample(struct stacks *s, const void *data, size_t len);
/* --stacks=dwarf: reads the kernel's mmap records so far (every turn of the
 * trace loop, so that its buffers do not fill). */
void stacks_read_mmap_records(struct stacks *s);

/* --stacks: a charge, or a range given back or moved (REC_HELD). */
void stacks_on_held(struct stacks *s, const void *data, size_t len);

/* An address space ended (or is live at the end: ended=false). */
void stacks_on_mm(struct stacks *s, const struct mm_state *st, bool ended);

/* Resident pages of a per-member count: anon + file + shmem (not swap). */
static inline uint64_t stacks_resident(const uint64_t *pages)
{
	return pages[RSS_ANON] + pages[RSS_FILE] + pages[RSS_SHMEM];
}

/* Pages a stack held at the tree's peak (0: its address spaces were all
 * gone by the last one). */
static inline uint64_t stacks_tree_held(const struct stacks *s, const struct tree_held *t)
{
	return t->seq == s->final_tree_seq ? stacks_resident(t->pages) : 0;
}

/* Folds in the entries of ended address spaces (all of them if final: call
 * stacks_on_mm for the live ones first) and deletes them from the map. */
int stacks_harvest(struct stacks *s, bool final);

/* --folded: one line per (command, stack) with pages at the peak > 0. */
int stacks_write_folded(struct stacks *s, FILE *out);
/* --cow-folded: one line per (command, stack) with pages copied on write. */
int stacks_write_cow_folded(struct stacks *s, FILE *out);

/*
 * What other writers of the stacks (trace/stacks_pprof.c) take from the
 * aggregates in s->aggs, named as the text and folded outputs name them:
 */
/* Looks system-wide, once, for the files of frames whose build id is still
 * unknown (before naming frames). */
void stacks_find_files(struct stacks *s);
/* The frames of f (0 if NULL): innermost = 0, kernel frames first. */
uint32_t stacks_nframes(const struct stack_frames *f);
/* How many innermost kernel frames are the tracing machinery itself (the
 * BPF program, the tracepoint's glue): not part of why memory moved. */
uint32_t stacks_tracing_frames(struct stacks *s, const struct stack_frames *f);
/* The name of frame i of f, escaped (core/text_escape.h, and ';' as '_');
 * kernel frames end in "_[k]". Returns false past the end. */
bool stacks_frame_name(struct stacks *s, const struct stack_frames *f, uint32_t i, char *buf, size_t len);
/* a's command, escaped the same way, into buf (STACKS_COMM_LEN). Returns buf. */
#define STACKS_COMM_LEN TEXT_ESC_LEN(RSS_COMM_LEN)
const char *stacks_comm(const struct stack_agg *a, char *buf);

/* Summary section (text) or "stack" objects (JSON). */
void stacks_print(struct stacks *s, FILE *out, bool json, uint64_t page_kb,
		  const struct loss_counters *loss);

#endif
