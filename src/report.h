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

#include "rsstrace.h"

struct row {
	struct mm_state st;
	bool printed; /* its JSON line is out */
};

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

struct report {
	FILE *out;
	bool json;
	uint64_t t0_ns;	 /* CLOCK_MONOTONIC when tracing began */
	uint64_t page_kb; /* page size in kB */
	struct row *rows;
	size_t nrows, rows_cap;
	struct exit_note *exits;
	size_t nexits, exits_cap;
	size_t first_unprinted;
	bool oom; /* a row could not be stored: said in the summary */
	struct cause_avail avail;
};

#define MAX_HOOKS 16

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
	uint64_t rows_limit; /* human table rows, 0 = all */
	uint64_t approx_reads;
	int cmd_status;	     /* wait(2) status of CMD, -1 in -p mode or if unknown */
	const char *target;  /* "make -j8" or "pid 1234" */
};

void report_init(struct report *r, FILE *out, bool json, uint64_t t0_ns, uint64_t page_kb,
		 const struct cause_avail *avail);
void report_free(struct report *r);

/* An address space ended (or is still alive at the end: END_DETACH). */
void report_add_row(struct report *r, const struct mm_state *st);
/* A traced process exited with this wait(2) status. */
void report_add_exit(struct report *r, uint32_t tgid, int32_t status, uint64_t ns);

/* JSON mode: prints every row that is complete (its exit status known);
 * with final, prints all. */
void report_flush(struct report *r, bool final);

/* One live line: tree totals now and the largest live process. */
void report_live(struct report *r, const struct tree_state *tree, const struct mm_state *largest,
		 uint64_t now_ns);

/* The end: table (or JSON summary object). Returns true if over budget. */
bool report_summary(struct report *r, const struct summary *s);

/* Exit status of the row's process, -1 while unknown (or not an exit). */
int row_exit_status(const struct report *r, const struct row *row);

/* wait(2) status to a shell-style code: 0-255, or 128+N for signal N. */
int status_to_code(int status);

#endif
