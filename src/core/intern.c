// SPDX-License-Identifier: GPL-2.0
#include "core/intern.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const void *key, size_t len)
{
	const unsigned char *k = key;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ k[i]) * 0x100000001b3ULL;
	return h;
}

static struct intern_entry *intern_slot(struct intern_entry *v, size_t cap, const void *key, size_t len)
{
	for (size_t i = fnv1a(key, len) & (cap - 1);; i = (i + 1) & (cap - 1))
		if (!v[i].key || (v[i].len == len && !memcmp(v[i].key, key, len)))
			return &v[i];
}

static int intern_grow(struct intern *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	struct intern_entry *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].key)
			*intern_slot(v, cap, t->v[i].key, t->v[i].len) = t->v[i];
	free(t->v);
	t->v = v;
	t->cap = cap;
	return 0;
}

uint64_t intern(struct intern *t, const void *key, size_t len, bool *added)
{
	struct intern_entry *e;

	*added = false;
	if ((t->n + 1) * 2 > t->cap && intern_grow(t))
		return 0;
	e = intern_slot(t->v, t->cap, key, len);
	if (e->key)
		return e->id;
	e->key = malloc(len ? len : 1);
	if (!e->key)
		return 0;
	memcpy(e->key, key, len);
	e->len = len;
	e->id = ++t->n;
	*added = true;
	return e->id;
}

void intern_free(struct intern *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->v[i].key);
	free(t->v);
}
