// SPDX-License-Identifier: GPL-2.0
#include "trace/held_pages.h"

#include <stdlib.h>
#include <string.h>

#include "core/array.h"

#define PAGE_SHIFT 12

/* A charge alive at a page. */
struct held_page {
	uint64_t hash;
	uint64_t pages;
	uint32_t member;
};

/* What a stack holds in one address space, and held at its latest peak
 * and at the tree's. */
struct held_stack {
	int64_t held[RSS_NR_MEMBERS];
	int64_t at_peak[RSS_NR_MEMBERS];
	int64_t at_tree_peak[RSS_NR_MEMBERS];
	uint32_t seq;
	uint64_t tree_seq;
};

struct held_mm {
	struct u64_map pages;  /* page number -> struct held_page */
	struct u64_map stacks; /* stack hash -> struct held_stack */
};

void held_pages_init(struct held_pages *h)
{
	memset(h, 0, sizeof(*h));
	u64_map_init(&h->mms, sizeof(struct held_mm));
}

static void free_mm(struct held_mm *mm)
{
	u64_map_free(&mm->pages);
	u64_map_free(&mm->stacks);
}

void held_pages_free(struct held_pages *h)
{
	uint64_t key;

	for (size_t i = 0; i < h->mms.cap; i++) {
		struct held_mm *mm = u64_map_slot(&h->mms, i, &key);

		if (mm)
			free_mm(mm);
	}
	u64_map_free(&h->mms);
}

/* Before a stack's first change after a peak (its address space's, the
 * tree's): what it held at that peak. */
static void touch(struct held_stack *st, const struct held_record *r)
{
	if (st->seq != r->seq)
		memcpy(st->at_peak, st->held, sizeof(st->held));
	if (st->tree_seq != r->tree_seq)
		memcpy(st->at_tree_peak, st->held, sizeof(st->held));
	st->seq = r->seq;
	st->tree_seq = r->tree_seq;
}

/* A charge p comes (sign 1) or goes (-1), in the change r. */
static void add(struct held_mm *mm, const struct held_page *p, int64_t sign, const struct held_record *r)
{
	struct held_stack *st = u64_map_get(&mm->stacks, p->hash);

	if (!st || p->member >= RSS_NR_MEMBERS)
		return;
	touch(st, r);
	st->held[p->member] += sign * (int64_t)p->pages;
}

static void charge(struct held_pages *h, struct held_mm *mm, const struct held_record *r)
{
	struct held_page p = { r->hash, r->len, (uint32_t)r->to }, *old;
	bool created;

	if (!u64_map_put(&mm->stacks, r->hash, &created)) {
		h->errors++;
		return;
	}
	old = r->addr ? u64_map_get(&mm->pages, r->addr >> PAGE_SHIFT) : NULL;
	if (old) { /* the page it held went: a copy on write, a refault */
		add(mm, old, -1, r);
	} else if (r->addr) {
		old = h->npages < HELD_PAGES_MAX ? u64_map_put(&mm->pages, r->addr >> PAGE_SHIFT, &created) : NULL;
		if (old)
			h->npages++;
		else
			h->errors++; /* kept as unknown: held to the end */
	}
	if (old)
		*old = p;
	else
		h->unknown_pages += r->len;
	add(mm, &p, 1, r);
}

/* Appends (key, *p) to *keys and *out (n of each so far). False if memory
 * ran out. */
static bool take_one(uint64_t **keys, struct held_page **out, size_t *n, size_t *kcap, size_t *cap,
		     uint64_t key, const struct held_page *p)
{
	if (!array_grow((void **)keys, kcap, *n, sizeof(**keys)) || !array_grow((void **)out, cap, *n, sizeof(**out)))
		return false;
	(*keys)[*n] = key;
	(*out)[(*n)++] = *p;
	return true;
}

/* The charges in [first, end) (page numbers), removed from mm into *out
 * (keys in *keys); returns how many, or -1 if memory ran out. A range of
 * fewer pages than mm holds is probed page by page, else the table walked. */
static long take_range(struct held_pages *h, struct held_mm *mm, uint64_t first, uint64_t end, uint64_t **keys,
		       struct held_page **out)
{
	size_t n = 0, cap = 0, kcap = 0;
	bool probe = end - first <= mm->pages.n;
	uint64_t key;

	*keys = NULL;
	*out = NULL;
	for (size_t i = 0; probe ? first + i < end : i < mm->pages.cap; i++) {
		struct held_page *p;

		key = first + i;
		p = probe ? u64_map_get(&mm->pages, key) : u64_map_slot(&mm->pages, i, &key);
		if (p && key >= first && key < end && !take_one(keys, out, &n, &kcap, &cap, key, p))
			return -1;
	}
	for (size_t i = 0; i < n; i++)
		u64_map_del(&mm->pages, (*keys)[i]);
	h->npages -= n;
	return (long)n;
}

/* A free (to == 0 and !move) or a move of [r->addr, r->addr + r->len). */
static void range(struct held_pages *h, struct held_mm *mm, const struct held_record *r)
{
	uint64_t first = r->addr >> PAGE_SHIFT, end = (r->addr + r->len) >> PAGE_SHIFT, *keys;
	struct held_page *v;
	long n = take_range(h, mm, first, end, &keys, &v);
	bool created;

	if (n < 0)
		h->errors++;
	for (long i = 0; i < n; i++) {
		struct held_page *p;

		if (r->kind == HELD_FREE) {
			add(mm, &v[i], -1, r);
			h->given_back += v[i].pages;
			continue;
		}
		p = u64_map_put(&mm->pages, keys[i] - first + (r->to >> PAGE_SHIFT), &created);
		if (!p) {
			h->errors++;
			continue;
		}
		if (!created)
			add(mm, p, -1, r);
		h->npages += created;
		*p = v[i];
	}
	free(keys);
	free(v);
}

void held_pages_record(struct held_pages *h, const struct held_record *r)
{
	uint64_t key = address_space_key(r->tgid, r->start_ns);
	struct held_mm *mm = u64_map_get(&h->mms, key);
	bool created;

	if (!mm && r->kind != HELD_CHARGE)
		return; /* nothing charged there: nothing to give back */
	if (!mm) {
		mm = u64_map_put(&h->mms, key, &created);
		if (!mm) {
			h->errors++;
			return;
		}
		u64_map_init(&mm->pages, sizeof(struct held_page));
		u64_map_init(&mm->stacks, sizeof(struct held_stack));
	}
	if (r->kind == HELD_CHARGE)
		charge(h, mm, r);
	else if (r->kind == HELD_FREE || r->kind == HELD_MOVE)
		range(h, mm, r);
}

/* What was held at the latest peak, of a stack whose last change was at
 * seq: held now, unless a change came after that peak (seq == final). */
static void at_latest(const int64_t *held, const int64_t *at_peak, bool changed_after, uint64_t *out)
{
	for (int i = 0; i < RSS_NR_MEMBERS; i++) {
		int64_t v = changed_after ? at_peak[i] : held[i];

		out[i] = v > 0 ? (uint64_t)v : 0;
	}
}

bool held_pages_at_peak(const struct held_pages *h, uint32_t tgid, uint64_t start_ns, uint64_t hash,
			uint32_t final_seq, uint64_t final_tree_seq, uint64_t out[RSS_NR_MEMBERS],
			uint64_t tree_out[RSS_NR_MEMBERS])
{
	const struct held_mm *mm = u64_map_get(&h->mms, address_space_key(tgid, start_ns));
	const struct held_stack *st = mm ? u64_map_get(&mm->stacks, hash) : NULL;

	memset(out, 0, RSS_NR_MEMBERS * sizeof(out[0]));
	memset(tree_out, 0, RSS_NR_MEMBERS * sizeof(tree_out[0]));
	if (!st)
		return false;
	at_latest(st->held, st->at_peak, st->seq == final_seq, out);
	at_latest(st->held, st->at_tree_peak, st->tree_seq == final_tree_seq, tree_out);
	return true;
}

void held_pages_forget(struct held_pages *h, uint32_t tgid, uint64_t start_ns)
{
	uint64_t key = address_space_key(tgid, start_ns);
	struct held_mm *mm = u64_map_get(&h->mms, key);

	if (!mm)
		return;
	h->npages -= mm->pages.n;
	free_mm(mm);
	u64_map_del(&h->mms, key);
}
