/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --svg: a self-contained SVG chart of the tree's RSS over time: anon, shmem
 * and file stacked (they add up to RSS), swap as a dashed line, the largest
 * processes as lines, the tree's exact peak marked. No script, no external
 * font or style: it opens in any browser and in image viewers.
 */
#ifndef SVG_CHART_H
#define SVG_CHART_H

#include <stdio.h>

#include "trace/timeline.h"

#define SVG_CHART_PROCS 5 /* process lines drawn: the largest by their peak */

/* Writes the chart of tl's kept series. title is free text (escaped here).
 * Returns 0, or -EIO if writing failed. */
int svg_chart_write(FILE *out, const struct timeline *tl, const char *title);

/* Writes s (at most len bytes) as XML character data: markup escaped, invalid
 * UTF-8 and control characters replaced, so the document stays well-formed. */
void xml_text(FILE *out, const char *s, size_t len);

#endif
