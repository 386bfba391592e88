/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --footprint: types shared by bpf/footprint.bpf.c and its loader, src/trace/footprint_loader.c.
 * Pages are base pages (a PMD-mapped huge page counts its 512).
 */
#ifndef FOOTPRINT_H
#define FOOTPRINT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "rsstrace.h"

enum fp_type {
	FP_ANON = 0,
	FP_FILE = 1,
	FP_SHMEM = 2,
	FP_NR_TYPES = 3,
};

/* One charged page (or PMD-mapped huge page): value of the per-page map. */
struct fp_page {
	__u32 owner; /* tgid of the traced process that mapped it first */
	__u16 type;  /* enum fp_type */
	__u16 pad;
	__u32 nr;    /* base pages */
	__u32 pad2;
};

/* Pages a traced process touched first and that are still mapped by someone. */
struct fp_owner {
	__u32 tgid;
	__u32 pad;
	char comm[RSS_COMM_LEN];
	__s64 cur[FP_NR_TYPES];
	__s64 peak;	/* its largest total */
	__u64 peak_ns;
};

/* The tree's unique pages at their peak, as one CPU saw it (a per-CPU map;
 * user space takes the largest). */
struct fp_peak {
	__s64 peak;
	__s64 part[FP_NR_TYPES];
	__u64 ns;
};

/* Never silent: printed when non-zero. */
struct fp_loss {
	__u64 pages_full;  /* pages not charged: the per-page map was full */
	__u64 owners_full; /* processes whose charges are not itemized: owner map full */
};

#endif
