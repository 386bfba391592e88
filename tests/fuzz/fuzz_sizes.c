// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: the parsers of sizes, durations and numbers people type,
 * and the size printer. Invariants: no crash, no UB, and what parses as a
 * size prints within the summary's column width. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/units.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), buf[16];
	uint64_t v;
	double d;

	if (!s)
		return 0;
	if (!parse_size(s, &v) && (v == 0 || strlen(fmt_kb(v / 1024, buf, sizeof(buf))) > 6))
		abort();
	if (!parse_seconds(s, &d) && !(d > 0))
		abort();
	if (!parse_uint(s, 1, 100, &v) && (v < 1 || v > 100))
		abort();
	free(s);
	return 0;
}
