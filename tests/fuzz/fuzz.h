/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers for the libFuzzer targets. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The input as a NUL-terminated string (the parsers take C strings; an
 * embedded NUL just ends it early). malloc'ed, exactly size + 1 bytes, so
 * AddressSanitizer catches a read past the end. NULL if out of memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = 0;
	}
	return s;
}

#endif
