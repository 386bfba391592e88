/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --cgroup: the memory cgroups the traced processes are in, read near the
 * tree's peak and at the end, each next to the part of the tree inside it
 * (its summed RSS, and its footprint when --footprint measures one).
 */
#ifndef CGROUP_WATCH_H
#define CGROUP_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "proc/cgroup_mem.h"
#include "rsstrace.h"

#define CG_WATCH_MAX 8 /* cgroups shown; more are counted */
#define CG_SAMPLE_GAP_NS (200ULL * 1000000) /* at most 5 peak samples a second */

struct cg_sample {
	bool taken;
	bool read_failed;	  /* the cgroup's files could not be read (removed?) */
	uint64_t ns;
	struct cgroup_mem mem;
	__s64 tree[RSS_NR_MEMBERS]; /* the traced processes in it: summed RSS, pages */
	uint32_t procs;		  /* traced address spaces in it */
	uint64_t footprint_kb;	  /* their unique pages, when known */
	bool has_footprint;
};

struct cg_watched {
	char path[CG_PATH_LEN];
	bool v1;
	struct cg_sample at_peak, at_end;
};

struct cgroup_watch {
	struct cg_watched cg[CG_WATCH_MAX];
	int n;
	uint64_t not_shown;	/* traced processes in further cgroups */
	uint64_t last_ns;	/* of the latest peak sample */
	int64_t sampled_peak;	/* tree peak (pages) the latest peak sample followed */
	struct cg_sample *cur;	/* being filled (during a sample) */
	bool cur_end;
};

/* Whether a peak sample is due: the tree's peak rose since the last one, the
 * last is CG_SAMPLE_GAP_NS old, and the tree is still within 5% of its peak. */
bool cgroup_watch_due(const struct cgroup_watch *w, int64_t tree_rss, int64_t tree_peak, uint64_t now_ns);

/* A sample: call begin, then add for every live traced address space, then end. */
void cgroup_watch_begin(struct cgroup_watch *w, int64_t tree_peak, uint64_t now_ns, bool at_end);
/* fp_pages: the pages the process touched first (--footprint), or -1. */
void cgroup_watch_add(struct cgroup_watch *w, const struct mm_state *st, int64_t fp_pages, uint64_t page_kb);
void cgroup_watch_end(struct cgroup_watch *w, uint64_t now_ns, bool at_end);

#endif
