/* SPDX-License-Identifier: GPL-2.0 */
/* Growable arrays: the one realloc-doubling step every table here needs,
 * and its inverse. */
#ifndef ARRAY_H
#define ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/* Makes room for element n of *arr (elements of elem bytes, *cap of them
 * allocated): doubles the capacity (from 64) when n reaches it. Returns
 * false, leaving *arr and *cap as they were, if memory ran out. */
bool array_grow(void **arr, size_t *cap, size_t n, size_t elem);

/* Gives memory back once n elements fill less than a quarter of *cap:
 * halves the capacity (not below 64) while that holds, so that a table a
 * burst made large shrinks when the burst is over; growing again after a
 * halving needs n to double first, so it does not flap. Returns whether it
 * shrank the array. */
bool array_fit(void **arr, size_t *cap, size_t n, size_t elem);

#endif
