// SPDX-License-Identifier: GPL-2.0
#include "core/array.h"

#include <stdlib.h>

bool array_grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 64;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

bool array_fit(void **arr, size_t *cap, size_t n, size_t elem)
{
	size_t ncap = *cap;
	void *p;

	while (ncap > 64 && n < ncap / 4)
		ncap /= 2;
	if (ncap == *cap)
		return false;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return false; /* keeping the larger block is fine */
	*arr = p;
	*cap = ncap;
	return true;
}
