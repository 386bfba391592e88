/* SPDX-License-Identifier: GPL-2.0 */
/* --cgroup in the output: each cgroup's own figures next to the traced
 * processes' summed RSS, with a line on why they differ. */
#ifndef CGROUP_REPORT_H
#define CGROUP_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "trace/cgroup_watch.h"

/* Why a cgroup's figure differs from the tree's (kB; a NULL text: no difference). */
struct cg_diff {
	int64_t file_kb;   /* cgroup file (page cache, shmem included) - tree RssFile+RssShmem */
	int64_t unmapped_kb; /* cgroup file - cgroup file_mapped: page cache no process maps */
	int64_t mapped_kb; /* tree RssFile+RssShmem - cgroup file_mapped */
	int64_t anon_kb;   /* tree RssAnon - cgroup anon */
	int64_t kernel_kb; /* kernel memory in the cgroup's total; -1: not reported */
	const char *why_file, *why_mapped, *why_anon, *why_kernel;
};

void cgroup_explain(const struct cg_sample *s, uint64_t page_kb, struct cg_diff *d);

void cgroup_print_text(FILE *out, const struct cgroup_watch *w, uint64_t t0_ns, uint64_t page_kb);
/* One {"type":"cgroup",...} line per cgroup and moment ("peak", "end"). */
void cgroup_print_json(FILE *out, const struct cgroup_watch *w, uint64_t t0_ns, uint64_t page_kb);

#endif
