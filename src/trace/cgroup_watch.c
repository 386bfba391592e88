// SPDX-License-Identifier: GPL-2.0
#include "trace/cgroup_watch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool cgroup_watch_due(const struct cgroup_watch *w, int64_t tree_rss, int64_t tree_peak, uint64_t now_ns)
{
	/* A peak can rise by a page as processes begin to exit; by the next
	 * turn the tree may be mostly gone. Sample only a tree still near its
	 * peak, so that "near the peak" stays true. */
	return tree_peak > w->sampled_peak && now_ns - w->last_ns >= CG_SAMPLE_GAP_NS &&
	       tree_rss * 100 >= tree_peak * 95;
}

static struct cg_sample *slot(struct cg_watched *c, bool at_end)
{
	return at_end ? &c->at_end : &c->at_peak;
}

void cgroup_watch_begin(struct cgroup_watch *w, int64_t tree_peak, uint64_t now_ns, bool at_end)
{
	/* a new sample replaces the last one of the same kind, for every cgroup */
	for (int i = 0; i < w->n; i++)
		memset(slot(&w->cg[i], at_end), 0, sizeof(struct cg_sample));
	if (!at_end) {
		w->sampled_peak = tree_peak;
		w->last_ns = now_ns;
	}
	w->not_shown = 0;
	w->cur_end = at_end;
}

static struct cg_watched *find_or_add(struct cgroup_watch *w, const char *path, bool v1)
{
	for (int i = 0; i < w->n; i++)
		if (w->cg[i].v1 == v1 && !strcmp(w->cg[i].path, path))
			return &w->cg[i];
	if (w->n >= CG_WATCH_MAX)
		return NULL;
	memset(&w->cg[w->n], 0, sizeof(w->cg[0]));
	snprintf(w->cg[w->n].path, sizeof(w->cg[0].path), "%s", path);
	w->cg[w->n].v1 = v1;
	return &w->cg[w->n++];
}

void cgroup_watch_add(struct cgroup_watch *w, const struct mm_state *st, int64_t fp_pages, uint64_t page_kb)
{
	char path[CG_PATH_LEN];
	struct cg_watched *c;
	struct cg_sample *s;
	bool v1;
	int err;

	err = cgroup_of_pid((int)st->tgid, path, sizeof(path), &v1);
	if (err == -ENAMETOOLONG) {
		w->not_shown++; /* counted, not shown under a cut name */
		return;
	}
	if (err)
		return; /* gone meanwhile */
	c = find_or_add(w, path, v1);
	if (!c) {
		w->not_shown++;
		return;
	}
	s = slot(c, w->cur_end);
	s->taken = true;
	s->procs++;
	for (int m = 0; m < RSS_NR_MEMBERS; m++)
		s->tree[m] += st->cur[m] > 0 ? st->cur[m] : 0;
	if (fp_pages >= 0) {
		s->has_footprint = true;
		s->footprint_kb += (uint64_t)fp_pages * page_kb;
	}
}

void cgroup_watch_end(struct cgroup_watch *w, uint64_t now_ns, bool at_end)
{
	for (int i = 0; i < w->n; i++) {
		struct cg_sample *s = slot(&w->cg[i], at_end);

		/* at the end, cgroups whose processes are gone are read too: the
		 * page cache they left is still charged there */
		if (!s->taken && !at_end)
			continue;
		s->taken = true;
		s->ns = now_ns;
		snprintf(s->mem.path, sizeof(s->mem.path), "%s", w->cg[i].path);
		s->mem.v1 = w->cg[i].v1;
		s->read_failed = cgroup_mem_read(&s->mem) != 0;
	}
}
