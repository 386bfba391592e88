/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What is derived from the live accounting while tracing runs, beside the
 * rows: --sharing readings of smaps_rollup at the tree's peak, and the
 * --csv / --svg timelines. The trace loop calls observers_tick() every turn;
 * each observer decides whether it is due.
 */
#ifndef OBSERVERS_H
#define OBSERVERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/options.h"
#include "trace/sharing.h"
#include "trace/stacks.h"
#include "trace/timeline.h"

struct tracer;

struct observers {
	bool sharing_on, timeline_on, stacks_on, kernel_stacks;
	struct sharing sh;
	struct timeline tl;
	struct stacks st;
	FILE *csv, *svg, *folded;
	const char *csv_path, *svg_path, *folded_path;
	struct mm_state *live; /* scratch for one read of the live address spaces */
	uint32_t live_cap;
	uint64_t page_kb, t0_ns, rows;
	uint64_t samples;
	int read_errors;
	struct loss_counters loss; /* as of the end */
	uint64_t final_peak_kb;	   /* the tree's, as of the end */
};

/* Opens the output files (so a bad path fails before tracing starts).
 * Returns 0, or -errno with *path set to the file that failed. */
int observers_open(struct observers *ob, const struct options *o, const char **path);

/* Tracing began at t0_ns; live_cap: the most address spaces the maps hold. */
int observers_start(struct observers *ob, struct tracer *t, uint64_t t0_ns, uint64_t page_kb,
		    uint32_t live_cap);

/* A record from the kernel (before the report sees it). */
void observers_on_record(struct observers *ob, const void *data, size_t len);

/* Milliseconds until an observer is next due (capped at max_ms). */
int observers_wait_ms(const struct observers *ob, uint64_t now_ns, int max_ms);

void observers_tick(struct observers *ob, struct tracer *t, const struct tree_state *tree,
		    uint64_t now_ns);

/* Tracing is stopping: last readings of what is alive, the final peak point,
 * and the SVG. title names the chart. Returns 0, or -errno if a file could
 * not be written (*path says which). */
int observers_finish(struct observers *ob, struct tracer *t, uint64_t now_ns, const char *title,
		     const char **path);

/* struct summary's extra section; set ob->loss first (--stacks reports its own). */
void observers_print(void *ctx, FILE *out, bool json);

void observers_free(struct observers *ob);

#endif
