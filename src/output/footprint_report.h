/* SPDX-License-Identifier: GPL-2.0 */
/* --footprint in the output: the tree's unique pages next to its summed RSS,
 * and each process's first-touched pages. */
#ifndef FOOTPRINT_REPORT_H
#define FOOTPRINT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "trace/footprint_loader.h"

struct fp_report_ctx {
	uint64_t t0_ns, page_kb;
	uint64_t tree_peak_rss_kb;	/* the sum of RSS at its own peak */
	uint64_t tree_rss_kb;		/* and when tracing stopped */
	uint64_t rows;			/* owners shown in text, 0 = all */
};

void footprint_print_text(FILE *out, const struct fp_result *r, const struct fp_report_ctx *c);
/* A {"type":"footprint"} line, then one {"type":"footprint_process"} per owner. */
void footprint_print_json(FILE *out, const struct fp_result *r, const struct fp_report_ctx *c);

struct sharing;

/* The fallback where no rmap hook attaches: the sum of PSS from smaps_rollup
 * (--sharing's readings near the peak and at the end), labelled as such;
 * why: why the rmap hooks are not used. sh may be NULL (no readings). */
void footprint_print_pss_text(FILE *out, const struct sharing *sh, const char *why,
			      const struct fp_report_ctx *c);
void footprint_print_pss_json(FILE *out, const struct sharing *sh, const char *why,
			      const struct fp_report_ctx *c);

#endif
