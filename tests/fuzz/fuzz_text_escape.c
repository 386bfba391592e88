// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: escaping names traced processes choose. Invariants: no
 * crash, no UB; the output has no control byte, no C1 control and is valid
 * UTF-8; it fits the buffer; a cell is exactly its width in columns. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text_escape.h"
#include "fuzz.h"

static void check(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; p[i]; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			abort();
		if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] < 0xa0)
			abort();
		if (p[i] >= 0x80) { /* a lead byte and its continuations */
			size_t n = p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : p[i] >= 0xc2 ? 2 : 0;

			if (!n)
				abort();
			for (size_t k = 1; k < n; k++)
				if ((p[i + k] & 0xc0) != 0x80)
					abort();
			i += n - 1;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), big[TEXT_ESC_LEN(64)], small[9], cell[TEXT_ESC_LEN(16)];

	if (!s)
		return 0;
	check(text_escape(big, sizeof(big), s, size));
	check(text_escape(small, sizeof(small), s, size));
	if (strlen(small) >= sizeof(small))
		abort();
	check(text_cell(cell, sizeof(cell), s, 16, 12));
	if (text_cols(cell) != 12)
		abort();
	free(s);
	return 0;
}
