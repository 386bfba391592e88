/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live view of every address space, shared by `rsstrace top` (its rows)
 * and `rsstrace serve` (its top processes): one frame = every live address
 * space (read from the BPF map in one batch), plus those that ended in the
 * last seconds, with growth and fault rates against the previous frame,
 * filtered, sorted, optionally as a tree with subtree sums; and the largest
 * peaks of the last minute, including processes that lived for milliseconds.
 */
#ifndef LIVE_VIEW_H
#define LIVE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc/cgroup_mem.h"
#include "proc/container_cgroup.h"
#include "rsstrace.h"

#define TOP_EXITED_KEEP_NS (5ULL * 1000000000)	 /* ended rows stay this long */
#define TOP_PEAKS_WINDOW_NS (60ULL * 1000000000) /* "recent peaks" window */
#define TOP_MAX_PEAKS 8

enum top_sort { SORT_RSS, SORT_HWM, SORT_GROWTH, SORT_SWAP, SORT_PID };

/* The cgroup a process is shown under, read once per process: its memory
 * cgroup's path, whole, and what the path says of a container and a pod. */
struct top_cgroup {
	struct container_cgroup container; /* zeroed if the path names neither */
	bool is_container;		   /* the path names a container or a pod */
	char path[];
};

struct top_row {
	struct mm_state st;
	uint64_t rss_kb, anon_kb, file_kb, shmem_kb, swap_kb;
	uint64_t hwm_kb;	/* peak since rsstrace started, never below the kernel's VmHWM */
	int64_t growth_kb;	/* since the previous frame */
	double faults_per_s;	/* < 0: no fault hook */
	uint64_t subtree_rss_kb; /* tree view: this row and its descendants */
	int depth;		/* tree view indentation */
	bool exited;
	char user[16];
	const struct top_cgroup *cg; /* NULL if not read (gone first) or forgotten;
					valid until the next top_build() */
};

struct top_peak {
	uint32_t pid;
	char comm[RSS_COMM_LEN];
	uint64_t peak_kb;
	uint64_t at_ns;
	bool exited;
};

struct top_filter {
	char user[32];	 /* exact user name, "" = all */
	char cgroup[CG_PATH_LEN]; /* in the cgroup path, or begins its container id or pod UID */
	char comm[32];	 /* substring of the command name */
};

struct top_frame {
	struct top_row *rows;
	uint32_t nrows;
	size_t cap;
	struct top_peak peaks[TOP_MAX_PEAKS];
	int npeaks;
	uint64_t total_kb[RSS_NR_MEMBERS]; /* system-wide, by member */
	uint64_t events_per_s;
	uint64_t at_ns;
};

struct top_state; /* what frames remember of each other (opaque) */

struct top_state *top_state_new(uint64_t page_kb, bool have_faults);
void top_state_free(struct top_state *ts);

/* An address space ended (from the ring buffer): kept on screen for a while
 * and a candidate for the recent peaks. */
void top_note_ended(struct top_state *ts, const struct mm_state *st, uint64_t now_ns);

/* Builds a frame from the live address spaces read from the map. */
int top_build(struct top_state *ts, const struct mm_state *live, uint32_t nlive, uint64_t now_ns,
	      struct top_frame *f);

/* The cgroup path shown for r: "" if unknown. */
const char *top_row_cgroup(const struct top_row *r);

/* Filters, then sorts (or orders as a tree with subtree sums). */
void top_arrange(struct top_frame *f, const struct top_filter *flt, enum top_sort sort, bool tree);

void top_frame_free(struct top_frame *f);

#endif
