/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exposition text of `rsstrace serve`: a snapshot of the accounting in,
 * the Prometheus text format (0.0.4) or OpenMetrics 1.0 out. A pure function
 * of its input (no BPF, no /proc), so it is unit-tested without root.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rsstrace.h"

/* Per-cgroup counters of why RSS moved (see struct mm_causes). The first
 * three come from rss_stat itself and always exist; the others need a hook. */
enum metrics_cause {
	MC_FORK_BYTES,	   /* fork_pages */
	MC_UNMAPPED_BYTES, /* unmapped_pages */
	MC_SWAPOUT_BYTES,  /* swapout_pages */
	MC_FAULTS,	   /* faults (fault hook) */
	MC_COW_FAULTS,	   /* wp_faults (cow/wp hook) */
	MC_SWAPIN_FAULTS,  /* swapin_faults (swap-in hook) */
	MC_COUNT,
};

enum metrics_loss { ML_RINGBUF, ML_MMS, ML_TASKS, ML_CGROUPS, ML_COUNT };
/* Counter reads that may be inexact (tracer_inexact_reads()). */
enum metrics_inexact { MI_APPROXIMATE, MI_UNSETTLED, MI_COUNT };
enum metrics_map { MM_MMS, MM_TRACED, MM_CGROUPS, MM_COUNT };

struct metrics_cgroup {
	const char *path;		     /* "/system.slice/x.service" */
	uint64_t bytes[RSS_NR_MEMBERS];	     /* now, by member (kernel order) */
	uint64_t peak_bytes;		     /* FILE+ANON+SHMEM peak since the previous scrape */
	uint64_t processes;		     /* address spaces accounted to it */
	uint64_t causes[MC_COUNT];	     /* since rsstrace started */
	bool has_footprint;		     /* --footprint-interval: it had processes at the latest pass */
	uint64_t footprint_bytes;	     /* their summed PSS then */
};

struct metrics_process {
	uint32_t pid;
	char comm[RSS_COMM_LEN]; /* not NUL-terminated when 16 long */
	const char *cgroup;
	uint64_t rss_bytes;
	uint64_t peak_bytes; /* since the process started */
};

struct metrics_hook {
	const char *hook;   /* "fault" */
	const char *attach; /* "tp_btf/page_fault_user" */
};

struct metrics_snapshot {
	const char *version;
	const struct metrics_cgroup *cgroups;
	uint32_t ncgroups;
	const struct metrics_process *procs; /* already limited to the top N */
	uint32_t nprocs;
	const struct metrics_hook *hooks;
	uint32_t nhooks;
	bool cause_available[MC_COUNT]; /* false: the family is left out, never 0 */
	double window_seconds;		/* what the peaks cover */
	uint64_t events;		/* rss_stat events accounted */
	uint64_t address_spaces;
	uint64_t lost[ML_COUNT];
	uint64_t inexact[MI_COUNT];
	uint64_t map_entries[MM_COUNT], map_capacity[MM_COUNT];
	uint64_t scrapes;
	/* --footprint-interval (false: its families are left out) */
	bool footprint_on;
	double footprint_pass_seconds;	 /* what the latest pass took */
	double footprint_age_seconds;	 /* since it ended */
	uint64_t footprint_unreadable;	 /* processes it could not read (gone) */
};

enum metrics_format { MF_PROMETHEUS, MF_OPENMETRICS };

/* The format an HTTP Accept header asks for (OpenMetrics if it is listed at
 * all: Prometheus lists it first when it supports it). NULL: Prometheus text. */
enum metrics_format metrics_negotiate(const char *accept);
const char *metrics_content_type(enum metrics_format f);

/* Renders the snapshot into a malloc'ed, NUL-terminated *text of *len bytes.
 * Returns 0 or -ENOMEM. */
int metrics_render(const struct metrics_snapshot *s, enum metrics_format f, char **text, size_t *len);

#endif
