/* SPDX-License-Identifier: GPL-2.0 */
/* A hash table from 64-bit keys to fixed-size values, with deletion: open
 * addressing with linear probing, grown at half full, deleted slots closed
 * by shifting their followers back (no tombstones, so a table that churns
 * does not fill up). Values move when the table grows or an entry is
 * deleted: a pointer to one is good until the next put or delete. */
#ifndef U64_MAP_H
#define U64_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64_map {
	unsigned char *slots; /* cap slots of (key, used, value) */
	size_t cap, n, vsize;
};

/* An empty table of values of vsize bytes (no memory until the first put). */
void u64_map_init(struct u64_map *m, size_t vsize);
/* key's value, or NULL. */
void *u64_map_get(const struct u64_map *m, uint64_t key);
/* key's value, zeroed and *created set if it is new; NULL if memory ran out. */
void *u64_map_put(struct u64_map *m, uint64_t key, bool *created);
/* Removes key (if there). */
void u64_map_del(struct u64_map *m, uint64_t key);
/* Slot i's value and *key, or NULL if slot i is empty (i < m->cap): for
 * walking the table. */
void *u64_map_slot(const struct u64_map *m, size_t i, uint64_t *key);
void u64_map_free(struct u64_map *m);

#endif
