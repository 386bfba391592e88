/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --footprint on the rmap hooks (bpf/footprint.bpf.c): its own BPF object,
 * loaded only when asked for, sharing the tracer's map of traced address
 * spaces. Where the kernel lets no rmap hook attach, the caller falls back to
 * the PSS footprint from smaps_rollup.
 */
#ifndef FOOTPRINT_LOADER_H
#define FOOTPRINT_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "footprint.h"

struct footprint_bpf;
struct tracer;
struct hooks;

struct fp_state {
	struct footprint_bpf *skel;
};

/* What --footprint measured, read at the end. */
struct fp_result {
	bool rmap;			/* first-toucher accounting on the rmap hooks */
	__s64 cur[FP_NR_TYPES];		/* unique pages now */
	struct fp_peak peak;		/* the largest total, with its breakdown and time */
	struct fp_loss loss;
	struct fp_owner *owners;	/* malloc'ed, sorted by peak, largest first */
	uint32_t nowners;
	uint64_t max_pages;		/* the per-page map's bound */
};

/* Opens, sizes, loads and attaches the footprint programs the hook layer
 * chose. Returns 0 or -errno; *what says which step failed. */
int footprint_start(struct fp_state *fp, struct tracer *t, const struct hooks *hk, uint32_t max_pages,
		    uint32_t max_owners, const char **what);

/* Reads the totals, the peak, the losses and every owner. Returns 0 or -errno. */
int footprint_read(struct fp_state *fp, struct fp_result *out);

void footprint_result_free(struct fp_result *r);

/* Pages tgid touched first and that are still mapped (0 if none, or no map). */
uint64_t footprint_owner_pages(struct fp_state *fp, uint32_t tgid);

/* Detaches and frees. Safe to call twice, or without a start. */
void footprint_stop(struct fp_state *fp);

#endif
