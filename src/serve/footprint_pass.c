// SPDX-License-Identifier: GPL-2.0
#include "serve/footprint_pass.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/tracer.h"
#include "proc/smaps_rollup.h"

static int cmp_cgroup(const void *pa, const void *pb)
{
	const struct fp_proc *a = pa, *b = pb;

	return (a->cgroup_id > b->cgroup_id) - (a->cgroup_id < b->cgroup_id);
}

int fp_pass_list(struct footprint_pass *p, const struct mm_state *live, size_t n)
{
	p->nprocs = 0;
	for (size_t i = 0; i < n; i++) {
		if (!array_grow((void **)&p->procs, &p->procs_cap, p->nprocs, sizeof(*p->procs)))
			return -ENOMEM;
		p->procs[p->nprocs++] = (struct fp_proc){ .tgid = live[i].tgid, .cgroup_id = live[i].cgroup_id };
	}
	/* a churn's burst made it large: give it back once it is over */
	array_fit((void **)&p->procs, &p->procs_cap, p->nprocs, sizeof(*p->procs));
	return 0;
}

int fp_pass_read(struct footprint_pass *p)
{
	uint64_t start = tracer_now_ns();
	struct smaps_rollup r;

	qsort(p->procs, p->nprocs, sizeof(*p->procs), cmp_cgroup);
	p->nsums = 0;
	p->unreadable = 0;
	for (size_t i = 0; i < p->nprocs; i++) {
		struct fp_sum *s = p->nsums ? &p->sums[p->nsums - 1] : NULL;

		if (!s || s->cgroup_id != p->procs[i].cgroup_id) {
			if (!array_grow((void **)&p->sums, &p->sums_cap, p->nsums, sizeof(*p->sums)))
				return -ENOMEM;
			s = &p->sums[p->nsums++];
			*s = (struct fp_sum){ .cgroup_id = p->procs[i].cgroup_id };
		}
		s->processes++;
		/* gone since it was listed, or a zombie: counted, not summed */
		if (read_smaps_rollup((int)p->procs[i].tgid, &r)) {
			s->unreadable++;
			p->unreadable++;
			continue;
		}
		s->pss_kb += (uint64_t)r.pss;
	}
	array_fit((void **)&p->sums, &p->sums_cap, p->nsums, sizeof(*p->sums));
	p->done_ns = tracer_now_ns();
	p->cost_ns = p->done_ns - start;
	p->passes++;
	return 0;
}

void fp_pass_free(struct footprint_pass *p)
{
	free(p->procs);
	free(p->sums);
	memset(p, 0, sizeof(*p));
}
