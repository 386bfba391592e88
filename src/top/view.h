/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What one frame of `rsstrace top` shows: the rows and recent peaks
 * (core/live_view.h) and the lines around them. The loop (top.c) fills it;
 * the interactive screen (screen.c) and the batch printers (batch.c) show it.
 */
#ifndef TOP_VIEW_H
#define TOP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/live_view.h"
#include "core/text_escape.h"
#include "output/oom_report.h"
#include "proc/meminfo.h"

struct top_view {
	const struct top_frame *f;
	uint64_t t0;		    /* when tracing started: frame times count from it */
	uint64_t lost;		    /* events lost so far */
	struct meminfo mem;	    /* read for this frame */
	uint64_t page_kb;
	const struct oom_note *oom; /* the latest OOM kill, valid if nooms */
	uint64_t nooms;		    /* OOM kills so far */
	bool oom_is_new;	    /* the latest came since the previous frame */
};

/* The GROW cell: "0", "+1.50M", "-976K". */
void top_growth_cell(int64_t kb, char *buf, size_t len);

/* The CGROUP cell, escaped (core/text_escape.h) and cut to maxcols columns:
 * what the path says of a container or pod first, in brackets, then the path
 * ("[containerd 0123456789ab pod <uid> Burstable] /kubepods.slice/..."), so
 * that a narrow cell keeps the container and a path (which always begins with
 * '/') cannot pass for one. "" if the cgroup is unknown. */
#define TOP_CGROUP_CELL_LEN (CONTAINER_DESCRIBE_LEN + 3 + TEXT_ESC_LEN(4096))
void top_cgroup_cell(const struct top_row *r, char *buf, size_t len, size_t maxcols);

/* The FLT/s cell: faults per second, or "n/a" without a fault hook. */
void top_faults_cell(const struct top_row *r, char *buf, size_t len);

#endif
