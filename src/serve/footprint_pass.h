/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --footprint-interval: each cgroup's footprint, the sum of the PSS of its
 * processes (/proc/PID/smaps_rollup, proc/smaps_rollup.h): the memory they
 * really use, each shared page counted once, where the RSS gauges count a
 * page in every process that maps it (a prefork server's workers sum far past
 * what the machine holds).
 *
 * Reading smaps_rollup walks a process's page tables: 17-76 us for a small
 * process, 6.4-34 ms for 1 GiB of 4 kB pages (the 6.18 host quiet, then
 * busy: docs/performance.md). A
 * scrape never reads it: the main loop does one pass every interval (the
 * processes listed under the lock from the same map a scrape reads, their
 * rollups read without it by the reader process, the sums published under
 * it), so a scrape costs the same with it and a client cannot make serve
 * walk page tables.
 */
#ifndef SERVE_FOOTPRINT_PASS_H
#define SERVE_FOOTPRINT_PASS_H

#include <stddef.h>
#include <stdint.h>

#include "rsstrace.h"
#include "serve/rollup_reader.h"

struct fp_proc {
	uint32_t tgid;
	uint64_t cgroup_id;
};

struct fp_sum {
	uint64_t cgroup_id;
	uint64_t pss_kb;
	uint32_t processes, unreadable;
};

struct footprint_pass {
	struct fp_proc *procs;	/* listed for this pass, sorted by cgroup */
	size_t nprocs, procs_cap;
	struct fp_sum *sums;	/* one per cgroup with a listed process */
	size_t nsums, sums_cap;
	uint32_t *pids;		/* scratch: the request to the reader */
	int64_t *pss_kb;	/* scratch: its answers */
	uint32_t unreadable;	/* gone or unreadable while being read */
	uint64_t cost_ns;	/* what reading the rollups took */
	uint64_t done_ns;	/* when the pass ended, 0: none yet */
	uint64_t passes;
};

/* Lists the live address spaces' owners and cgroups (under the caller's
 * lock). Returns 0 or -ENOMEM. */
int fp_pass_list(struct footprint_pass *p, const struct mm_state *live, size_t n);

/* Has the reader read every listed process's smaps_rollup and sums PSS per
 * cgroup (no lock needed: it touches only p). Returns 0 or -errno. */
int fp_pass_read(struct footprint_pass *p, struct rollup_reader *r);

void fp_pass_free(struct footprint_pass *p);

#endif
