/* SPDX-License-Identifier: GPL-2.0 */
/* Command line of rsstrace. */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/exit_status.h"

#define MAX_PIDS 65536

/* --stacks' default sampling interval: on the anon fault storm within the
 * noise of untraced, where charging every page cost +62% wall
 * (docs/performance.md, "--stack-sample"). */
#define STACK_SAMPLE_DEFAULT (512 << 10)

struct options {
	int pids[MAX_PIDS];
	int npids;
	const char *cgroup_path; /* --cgroup-path: trace a cgroup's processes */
	char **cmd; /* argv after "--", NULL-terminated; NULL in -p mode */
	double duration;   /* -d, 0 = until the traced processes exit */
	double interval;   /* -i, 0 = no live lines */
	const char *output; /* -o, NULL = stdout */
	bool json;
	bool follow_children;
	uint64_t max_rss;  /* bytes, 0 = no budget */
	uint64_t rows;     /* rows in the human summary, 0 = all */
	uint64_t map_entries; /* address spaces / processes the maps hold */
	uint64_t ringbuf_bytes;
	bool verbose;
	bool causes;	/* --causes: fault/cow/rmap/vma/swap-in hooks */
	bool list_hooks; /* --hooks: print the hook choice and exit */
	bool sharing;	/* --sharing: PSS/USS/footprint from smaps_rollup */
	const char *csv;   /* --csv FILE: time series */
	const char *svg;   /* --svg FILE: chart */
	double timeline_interval; /* --timeline-interval, seconds */
	uint64_t timeline_procs;  /* --timeline-procs: processes per sample, 0 = all */
	bool stacks;		/* --stacks */
	bool stacks_dwarf;	/* --stacks=dwarf: unwind with CFI, not frame pointers */
	uint64_t stack_copy;	/* --stack-copy: user stack bytes per dwarf sample */
	uint64_t stack_sample;	/* --stack-sample: mean bytes between charges, 0 = every page */
	const char *debug_dir;	/* --debug-dir DIR (absolute), or NULL */
	char debug_dir_buf[PATH_MAX];
	bool kernel_stacks;	/* --kernel-stacks (implies --stacks) */
	const char *folded;	/* --folded FILE (implies --stacks) */
	const char *cow_folded;	/* --cow-folded FILE (implies --stacks) */
	const char *pprof;	/* --pprof FILE (implies --stacks) */
	uint64_t stack_entries;	/* --stack-entries */
	bool cgroup;	/* --cgroup: the traced processes' memory cgroups, reconciled */
	bool footprint;	/* --footprint: unique pages, first-toucher */
	uint64_t footprint_pages; /* --footprint-pages: bound of the per-page map */
};

/* Parses argv. Returns 0 to go on, -1 after --help/--version (exit 0), or
 * EXIT_USAGE after printing one error line and a usage hint. */
int parse_options(int argc, char **argv, struct options *o);

#endif
