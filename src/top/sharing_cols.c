// SPDX-License-Identifier: GPL-2.0
#include "top/sharing_cols.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"
#include "core/tracer.h"

static int cmp_cell(const void *pa, const void *pb)
{
	const struct sharing_cell *a = pa, *b = pb;

	if (a->tgid != b->tgid)
		return a->tgid < b->tgid ? -1 : 1;
	return (a->start_ns > b->start_ns) - (a->start_ns < b->start_ns);
}

static const struct sharing_cell *cell_of(const struct sharing_cell *cells, size_t n, uint32_t tgid,
					  uint64_t start_ns)
{
	struct sharing_cell key = { .tgid = tgid, .start_ns = start_ns };

	return n ? bsearch(&key, cells, n, sizeof(*cells), cmp_cell) : NULL;
}

/* Room for n cells in cells, old and order. */
static int make_room(struct top_sharing *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!array_grow((void **)&t->cells, &t->cap, i, sizeof(*t->cells)) ||
		    !array_grow((void **)&t->old, &t->old_cap, i, sizeof(*t->old)) ||
		    !array_grow((void **)&t->order, &t->order_cap, i, sizeof(*t->order)))
			return -ENOMEM;
	return 0;
}

/* The visible live rows as cells, with what the previous refresh read. */
static int take_rows(struct top_sharing *t, const struct top_frame *f, uint32_t visible)
{
	size_t nold = t->n;
	struct sharing_cell *swap;
	size_t swap_cap;

	if (visible > f->nrows)
		visible = f->nrows;
	if (make_room(t, visible))
		return -ENOMEM;
	swap = t->old;
	t->old = t->cells;
	t->cells = swap;
	swap_cap = t->old_cap;
	t->old_cap = t->cap;
	t->cap = swap_cap;
	t->n = 0;
	for (uint32_t i = 0; i < visible; i++) {
		const struct top_row *r = &f->rows[i];
		const struct sharing_cell *was;

		if (r->exited)
			continue;
		was = cell_of(t->old, nold, r->st.tgid, r->st.start_ns);
		t->cells[t->n++] = was ? *was : (struct sharing_cell){ .tgid = r->st.tgid, .start_ns = r->st.start_ns };
	}
	qsort(t->cells, t->n, sizeof(*t->cells), cmp_cell);
	return 0;
}

static const struct sharing_cell *sort_base;

static int cmp_oldest(const void *pa, const void *pb)
{
	const struct sharing_cell *a = &sort_base[*(const size_t *)pa], *b = &sort_base[*(const size_t *)pb];

	if (a->read_ns != b->read_ns)
		return a->read_ns < b->read_ns ? -1 : 1;
	return a->tgid < b->tgid ? -1 : a->tgid > b->tgid;
}

int top_sharing_refresh(struct top_sharing *t, const struct top_frame *f, uint32_t visible, uint64_t budget_ns)
{
	uint64_t start = tracer_now_ns(), now = start;
	size_t i;

	if (take_rows(t, f, visible))
		return -ENOMEM;
	for (i = 0; i < t->n; i++)
		t->order[i] = i;
	sort_base = t->cells;
	qsort(t->order, t->n, sizeof(*t->order), cmp_oldest);
	for (i = 0; i < t->n && now - start < budget_ns; i++) {
		struct sharing_cell *c = &t->cells[t->order[i]];

		/* gone, a zombie, or not ours to read (another user's, without
		 * CAP_SYS_PTRACE): shown as such, not as 0 */
		c->state = read_smaps_rollup((int)c->tgid, &c->s) ? SHARING_UNREADABLE : SHARING_READ;
		now = tracer_now_ns();
		c->read_ns = now;
	}
	t->read = (uint32_t)i;
	t->pending = (uint32_t)(t->n - i);
	t->cost_ns = now - start;
	return 0;
}

const struct sharing_cell *top_sharing_find(const struct top_sharing *t, const struct top_row *r)
{
	return r->exited ? NULL : cell_of(t->cells, t->n, r->st.tgid, r->st.start_ns);
}

void top_sharing_free(struct top_sharing *t)
{
	free(t->cells);
	free(t->old);
	free(t->order);
	memset(t, 0, sizeof(*t));
}
