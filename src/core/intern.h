/* SPDX-License-Identifier: GPL-2.0 */
/* Interning: keys (any bytes) to dense ids 1, 2, 3, ... in the order they
 * were first seen, so that a table of rows indexed by id - 1 holds each key
 * once (the pprof writer's strings, functions, locations, mappings). Open
 * addressing on FNV-1a, grown at half full; the keys are copied. */
#ifndef INTERN_H
#define INTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct intern_entry {
	void *key;
	size_t len;
	uint64_t id;
};

struct intern {
	struct intern_entry *v;
	size_t cap, n; /* n: keys so far, the last id given */
};

/* The id of key; a new key gets the next id (n + 1) and *added is set.
 * Returns 0 if memory ran out (then nothing was added). */
uint64_t intern(struct intern *t, const void *key, size_t len, bool *added);

/* Frees the keys and the table (a zeroed table is empty). */
void intern_free(struct intern *t);

#endif
