// SPDX-License-Identifier: GPL-2.0
#include "serve/footprint_pass.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/tracer.h"

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

int fp_pass_read(struct footprint_pass *p, struct rollup_reader *reader)
{
	uint64_t start = tracer_now_ns();
	int err;

	qsort(p->procs, p->nprocs, sizeof(*p->procs), cmp_cgroup);
	free(p->pids);
	free(p->pss_kb);
	p->pids = malloc((p->nprocs ? p->nprocs : 1) * sizeof(*p->pids));
	p->pss_kb = malloc((p->nprocs ? p->nprocs : 1) * sizeof(*p->pss_kb));
	if (!p->pids || !p->pss_kb)
		return -ENOMEM;
	for (size_t i = 0; i < p->nprocs; i++)
		p->pids[i] = p->procs[i].tgid;
	err = rollup_reader_pss(reader, p->pids, (uint32_t)p->nprocs, p->pss_kb);
	if (err)
		return err;
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
		if (p->pss_kb[i] < 0) {
			s->unreadable++;
			p->unreadable++;
			continue;
		}
		s->pss_kb += (uint64_t)p->pss_kb[i];
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
	free(p->pids);
	free(p->pss_kb);
	memset(p, 0, sizeof(*p));
}
