// SPDX-License-Identifier: GPL-2.0
#include "core/u64_map.h"

#include <stdlib.h>
#include <string.h>

struct slot_head {
	uint64_t key;
	uint64_t used;
};

static size_t stride(const struct u64_map *m)
{
	return sizeof(struct slot_head) + ((m->vsize + 7) & ~(size_t)7);
}

static struct slot_head *head(const struct u64_map *m, size_t i)
{
	return (struct slot_head *)(m->slots + i * stride(m));
}

/* splitmix64's finalizer: page numbers and counters are far from random */
static size_t home(const struct u64_map *m, uint64_t key)
{
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebULL;
	key ^= key >> 31;
	return (size_t)key & (m->cap - 1);
}

void u64_map_init(struct u64_map *m, size_t vsize)
{
	memset(m, 0, sizeof(*m));
	m->vsize = vsize;
}

/* key's slot, or the empty slot where it would go */
static size_t find(const struct u64_map *m, uint64_t key)
{
	size_t i = home(m, key);

	while (head(m, i)->used && head(m, i)->key != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

void *u64_map_get(const struct u64_map *m, uint64_t key)
{
	size_t i;

	if (!m->n)
		return NULL;
	i = find(m, key);
	return head(m, i)->used ? head(m, i) + 1 : NULL;
}

static bool grow(struct u64_map *m)
{
	struct u64_map bigger = *m;

	bigger.cap = m->cap ? m->cap * 2 : 64;
	bigger.slots = calloc(bigger.cap, stride(m));
	if (!bigger.slots)
		return false;
	for (size_t i = 0; i < m->cap; i++) {
		struct slot_head *h = head(m, i);

		if (h->used)
			memcpy(head(&bigger, find(&bigger, h->key)), h, stride(m));
	}
	free(m->slots);
	*m = bigger;
	return true;
}

void *u64_map_put(struct u64_map *m, uint64_t key, bool *created)
{
	struct slot_head *h;

	*created = false;
	if ((m->n + 1) * 2 > m->cap && !grow(m))
		return NULL;
	h = head(m, find(m, key));
	if (!h->used) {
		memset(h, 0, stride(m));
		h->key = key;
		h->used = 1;
		m->n++;
		*created = true;
	}
	return h + 1;
}

void u64_map_del(struct u64_map *m, uint64_t key)
{
	size_t i, j, mask = m->cap - 1;

	if (!m->n)
		return;
	i = find(m, key);
	if (!head(m, i)->used)
		return;
	/* move back each follower whose home does not lie in (i, j] */
	for (j = (i + 1) & mask; head(m, j)->used; j = (j + 1) & mask) {
		size_t k = home(m, head(m, j)->key);

		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		memcpy(head(m, i), head(m, j), stride(m));
		i = j;
	}
	head(m, i)->used = 0;
	m->n--;
}

void *u64_map_slot(const struct u64_map *m, size_t i, uint64_t *key)
{
	struct slot_head *h = head(m, i);

	if (!h->used)
		return NULL;
	*key = h->key;
	return h + 1;
}

void u64_map_free(struct u64_map *m)
{
	free(m->slots);
	u64_map_init(m, m->vsize);
}
