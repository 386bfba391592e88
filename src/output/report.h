/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What rsstrace prints: rows (one per address space, as each ends), the live
 * line, and the summary; in plain text for people or JSON Lines for scripts.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "output/oom_report.h"
#include "rsstrace.h"

struct json_obj;

struct exit_note {
	uint32_t tgid;
	int32_t status; /* wait(2) status */
	uint64_t ns;
};

/* Which cause counters have a live hook (others print as null / n/a). */
struct cause_avail {
	bool shown;	   /* --causes: print the human table */
	bool faults, wp_faults, rmap_pages, vmas_removed, swapin_faults;
	bool munmap_requests; /* unmapped bytes come from munmap() requests, not VMAs */
};

#define MAX_OOM_NOTES 16 /* OOM kills the text summary details; all are counted */
#define EXIT_NOTES 4096 /* recent exits kept to join with rows (older kernels) */

/*
 * Rows are not all kept: JSON rows are printed as they complete, text mode
 * keeps the `keep` largest for its table; totals are kept as running sums.
 * So the tracer's memory does not grow with the number of processes.
 */
/* When a process grew while exiting: from its first such fault to its
 * teardown (is the tree peak in it?). */
struct exit_window {
	uint32_t tgid;
	uint64_t from_ns, to_ns, pages;
};

struct report {
	FILE *out;
	bool json;
	uint64_t t0_ns;	  /* CLOCK_MONOTONIC when tracing began */
	uint64_t page_kb; /* page size in kB */
	uint64_t keep;	  /* text mode: rows kept for the table, 0 = all */
	struct mm_state *rows; /* kept rows */
	size_t nrows, rows_cap;
	struct mm_state *pending; /* exited, waiting for their exit status */
	size_t npending, pending_cap;
	struct exit_note exits[EXIT_NOTES]; /* a ring of the latest */
	uint64_t nexits;
	uint64_t total_rows;
	uint64_t sum_hwm_pages;
	bool oom; /* a row could not be stored: said in the summary */
	struct oom_note kills[MAX_OOM_NOTES]; /* the first OOM kills (text summary) */
	uint64_t nkills;
	struct cause_avail avail;
	/* rows that grew while their process exited (mm_state.exit_growth) */
	uint64_t exit_growth_pages, exit_growers;
	struct exit_window *windows;
	size_t nwindows, windows_cap;
};

#define MAX_HOOKS 32

struct summary {
	struct cause_avail avail;
	struct {
		const char *key; /* "fault" */
		const char *use; /* "tp_btf/page_fault_user", or NULL */
		bool optional;	 /* a --causes hook */
	} hooks[MAX_HOOKS];
	int nhooks;
	struct tree_state tree;
	struct loss_counters loss;
	uint64_t end_ns;
	uint64_t max_rss_kb; /* 0 = no budget */
	uint64_t approx_reads, unsettled_sums; /* tracer_inexact_reads() */
	uint64_t shadowed, shadows_full; /* tracer_shadows() */
	uint64_t mms_at_end;	/* map entries when tracing stopped (live ones) */
	uint64_t tasks_at_end;
	uint64_t tracer_hwm_kb; /* rsstrace's own VmHWM */
	uint64_t tracer_cpu_ms; /* and CPU time */
	int cmd_status;	     /* wait(2) status of CMD, -1 in -p mode or if unknown */
	const char *target;  /* "make -j8" or "pid 1234" */
	const char *attach;  /* what -p / --cgroup-path attached to: "pids_and_descendants",
			      * "pids", "cgroup"; NULL: -- CMD */
	int64_t found_at_attach; /* processes traced once attached, -1: -- CMD */
	/* The run's optional sections (--stacks, --sharing, ...): printed after
	 * the text table, or as JSON lines before the summary object, which stays
	 * the last line; fields adds to that object. */
	void (*sections)(void *ctx, FILE *out, bool json);
	void (*fields)(void *ctx, struct json_obj *j);
	void *sections_ctx;
};

void report_init(struct report *r, FILE *out, bool json, uint64_t t0_ns, uint64_t page_kb,
		 const struct cause_avail *avail, uint64_t keep);
void report_free(struct report *r);

/* An address space ended (or is still alive at the end: END_DETACH). */
void report_add_row(struct report *r, const struct mm_state *st);
/* A traced process exited with this wait(2) status. */
void report_add_exit(struct report *r, uint32_t tgid, int32_t status, uint64_t ns);

/* The OOM killer chose a traced victim: JSON prints it now, text keeps it
 * for the summary. */
void report_add_oom(struct report *r, const struct oom_note *n);

/* Flushes the output; with final, also the rows still waiting for an exit
 * status (they go out without it). */
void report_flush(struct report *r, bool final);

/* --sharing's latest reading, for the live line. */
struct live_sharing {
	uint64_t readings;	  /* 0: none yet (or --sharing is off) */
	uint64_t rss_sum_kb;	  /* sum of smaps_rollup Rss */
	uint64_t footprint_kb;	  /* sum of Pss */
	uint64_t after_peak_kb;	  /* the tree peak that reading followed */
};

/* One live line: tree totals now and the largest live process; sh may be NULL. */
void report_live(struct report *r, const struct tree_state *tree, const struct mm_state *largest,
		 uint64_t now_ns, uint64_t lost, const struct live_sharing *sh);

/* The end: table (or JSON summary object). Returns true if over budget. */
bool report_summary(struct report *r, const struct summary *s);

/* wait(2) status to a shell-style code: 0-255, or 128+N for signal N. */
int status_to_code(int status);

#endif
