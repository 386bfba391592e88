/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --sharing: how much of the tree's RSS is really its own.
 *
 * RSS counts a page in every process that maps it, so the RSS of a prefork
 * server's children sums far past what the machine holds. The kernel knows the
 * split: smaps_rollup's PSS charges each page 1/N to each of its N mappers, so
 * the sum of PSS is the tree's physical footprint, and USS (private clean +
 * private dirty) is what each process alone holds. Reading smaps_rollup walks
 * every page table entry, so it is read when the tree reaches a new peak (at
 * most once per SHARING_MIN_GAP_MS), again every SHARING_REFRESH_MS while the
 * tree stays within SHARING_NEAR_PEAK_PCT of its peak (copy-on-write moves
 * pages from shared to private without changing any RSS counter: no event
 * says so), and once more when tracing stops.
 */
#ifndef SHARING_H
#define SHARING_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rsstrace.h"
#include "proc/smaps_rollup.h"

#define SHARING_MIN_GAP_MS 250
#define SHARING_REFRESH_MS 1000
#define SHARING_NEAR_PEAK_PCT 95
/* Readings whose tree RSS differs by less than this share of the peak are
 * equally near it in value: the one nearer in time is kept. A plateau moves
 * by a few pages (stacks, page tables' neighbours); without it the latest of
 * a plateau's readings won, seconds after the peak. */
#define SHARING_SAME_VALUE_PCT 1

struct sharing_proc {
	uint32_t tgid;
	char comm[RSS_COMM_LEN];
	struct smaps_rollup s;
};

/* One reading of every live traced process. */
struct sharing_sample {
	uint64_t ns;		/* CLOCK_MONOTONIC of the reading */
	uint64_t tree_rss_kb;	/* the tree's RSS by rsstrace's accounting then */
	uint64_t tree_peak_kb;	/* the tree's peak so far */
	uint64_t peak_ns;	/* ... and when it was reached */
	struct smaps_rollup total;
	struct sharing_proc *procs; /* sorted by PSS, largest first */
	size_t nprocs;
	size_t unreadable;	/* exited (or lost their mm) while being read */
};

struct sharing {
	struct sharing_sample at_peak;	/* the reading nearest the tree's peak (sharing_nearer) */
	struct sharing_sample at_end;	/* when tracing stopped (if anything was alive) */
	uint64_t last_ns;		/* of the latest reading */
	int64_t read_peak;		/* tree peak (pages) the latest reading followed */
	uint64_t readings;
	struct smaps_rollup latest;	/* totals of the latest reading (live lines) */
};

/* Whether a reading is due now: the tree has a peak no reading followed yet
 * and the last reading is SHARING_MIN_GAP_MS old, or the tree is near its
 * peak and the last reading is SHARING_REFRESH_MS old. */
bool sharing_due(const struct sharing *s, const struct tree_state *t, uint64_t now_ns);

/* Reads smaps_rollup of each live address space's owner into *out (replacing
 * its content). Returns 0 or -ENOMEM. */
int sharing_read(struct sharing_sample *out, const struct mm_state *live, size_t n,
		 const struct tree_state *t, uint64_t page_kb, uint64_t now_ns);

/* Whether reading m is nearer the tree's peak (as known at m, the latest)
 * than kept: in value (its tree RSS), then, within SHARING_SAME_VALUE_PCT of
 * the peak, one taken after the peak over one before it, then in time. */
bool sharing_nearer(const struct sharing_sample *m, const struct sharing_sample *kept);

/* A reading due by sharing_due(): it becomes the peak reading if it is
 * nearer the peak than the kept one (sharing_nearer). */
int sharing_take(struct sharing *s, const struct mm_state *live, size_t n,
		    const struct tree_state *t, uint64_t page_kb, uint64_t now_ns);

void sharing_free(struct sharing *s);

/* The tree's peak every section of a report quotes: the summary's. */
struct sharing_peak {
	uint64_t kb;
	uint64_t ns;
};

/* Prints the peak and end readings: a section of the text summary, or
 * "sharing" / "sharing_process" JSON objects. rows limits the per-process
 * lines of the text (0 = all); JSON has them all. peak: the tree's peak as
 * the summary gives it, quoted next to each reading (and to say when no
 * reading could follow it). */
void sharing_print(FILE *out, bool json, const struct sharing *s, uint64_t t0_ns, uint64_t rows,
		   const struct sharing_peak *peak);

#endif
