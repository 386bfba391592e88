/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sharing columns of `rsstrace top` (key s, --sharing): PSS and USS of
 * the visible rows, from /proc/PID/smaps_rollup (proc/smaps_rollup.h), the
 * kernel's own split of a process's RSS into what it shares and what it
 * alone maps. For a prefork worker USS is what it allocated or copied on
 * write since the fork (plus file pages no other process maps).
 *
 * Reading smaps_rollup walks every page table entry: measured here (6.18,
 * 2 CPUs; bench/smaps_cost.py and docs/performance.md) 17 us for a small
 * process and 6.4 ms for one with 1 GiB of 4 kB anonymous pages on a quiet
 * host, 36-76 us and 23-34 ms while other engineers' QEMU guests ran (0.07
 * to 0.4 ms once the GiB is in huge pages). So each refresh reads the
 * visible rows oldest reading first, for at most TOP_SHARING_BUDGET_MS (5%
 * of the default 1 s refresh): 650 to 3000 small processes, or 1.5 to 8 GiB
 * of 4 kB mappings, per refresh; rows not reached keep their previous
 * reading, and come first at the next refresh.
 */
#ifndef TOP_SHARING_COLS_H
#define TOP_SHARING_COLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/live_view.h"
#include "proc/smaps_rollup.h"

#define TOP_SHARING_BUDGET_MS 50

enum sharing_state { SHARING_UNREAD, SHARING_READ, SHARING_UNREADABLE };

struct sharing_cell {
	uint32_t tgid;
	uint64_t start_ns;	/* the address space's start: a reused pid is another process */
	uint64_t read_ns;	/* when it was read (0: never) */
	enum sharing_state state;
	struct smaps_rollup s;
};

struct top_sharing {
	struct sharing_cell *cells; /* the visible rows', sorted by tgid */
	size_t n, cap;
	struct sharing_cell *old;   /* the previous refresh's (scratch) */
	size_t old_cap;
	size_t *order;		    /* scratch: cell indexes, oldest reading first */
	size_t order_cap;
	/* the latest refresh: what it read and what it cost */
	uint32_t read, pending;
	uint64_t cost_ns;
};

/* Reads the smaps_rollup of the first `visible` rows of f (live ones), the
 * oldest readings first, until every one is fresh or budget_ns is spent.
 * Returns 0 or -ENOMEM. */
int top_sharing_refresh(struct top_sharing *t, const struct top_frame *f, uint32_t visible, uint64_t budget_ns);

/* The cell of a row, or NULL (an exited row, or one not visible). */
const struct sharing_cell *top_sharing_find(const struct top_sharing *t, const struct top_row *r);

void top_sharing_free(struct top_sharing *t);

#endif
