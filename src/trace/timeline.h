/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --csv / --svg: the tree's RSS over time, by type, and its largest processes.
 *
 * Samples are taken every interval from the live accounting; the tree's exact
 * peak (kept by the BPF side at every event, so even a spike shorter than the
 * interval is in it) is added as its own point when it moves, so the series'
 * maximum is the summary's tree peak. The CSV is written as samples come (no
 * memory growth); the SVG needs the whole series, kept in memory: when it
 * reaches TIMELINE_MAX_POINTS, every other sample is merged into its
 * neighbour (the larger one is kept, so no peak is lost) and the interval
 * doubles. The summary says when that happened.
 */
#ifndef TIMELINE_H
#define TIMELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rsstrace.h"

#define TIMELINE_MAX_POINTS 20000

struct timeline_point {
	uint64_t ns;
	uint64_t kb[RSS_NR_MEMBERS]; /* FILE, ANON, SWAP, SHMEM (enum rss_member) */
	uint64_t rss_kb;	     /* FILE + ANON + SHMEM */
	uint32_t procs;
	bool peak;		     /* the tree's exact peak, not a sample */
};

/* A process's RSS at one sample (only the top `procs` of each sample). */
struct timeline_proc_point {
	uint64_t ns;
	uint32_t tgid;
	uint32_t exec_seq;
	uint64_t rss_kb;
	char comm[RSS_COMM_LEN];
};

struct timeline {
	FILE *csv;		/* NULL: no CSV */
	bool keep;		/* keep the series (for the SVG) */
	uint64_t t0_ns;
	uint64_t page_kb;
	uint64_t interval_ns;
	uint64_t next_ns;
	uint32_t top_procs;	/* processes per sample (0 = all) */
	struct timeline_point *pts;
	size_t npts, pts_cap;
	struct timeline_proc_point *pp;
	size_t npp, pp_cap;
	uint64_t last_peak_ns;	/* of the latest peak point */
	int64_t last_peak;	/* pages */
	uint32_t thinned;	/* times the kept series was halved */
	bool oom;		/* a point could not be kept (said in the summary) */
	bool write_error;
};

/* csv may be NULL; keep: keep the series for timeline_write_svg(). Writes the
 * CSV header. Returns 0 or -errno. */
int timeline_init(struct timeline *tl, FILE *csv, bool keep, uint64_t t0_ns, uint64_t page_kb,
		  double interval_s, uint32_t top_procs);

/* Whether a sample is due at now_ns. */
bool timeline_due(const struct timeline *tl, uint64_t now_ns);

/* Adds a sample: the tree now (and its peak point, if the peak moved) and the
 * largest of the live address spaces (live is reordered). */
void timeline_sample(struct timeline *tl, const struct tree_state *t, struct mm_state *live,
		     size_t n, uint64_t now_ns);

/* The last word: the final tree peak point (call after the last sample). */
void timeline_finish(struct timeline *tl, const struct tree_state *t);

void timeline_free(struct timeline *tl);

/* RFC 4180 field, its control bytes escaped first (\x0a: a row is a line;
 * core/text_escape.h), then quoted if it holds a comma or quote. */
void csv_field(FILE *out, const char *s, size_t maxlen);

#endif
