// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: JSON string escaping. Invariants: no overflow, and the
 * output is valid JSON string content: no raw control characters or quotes,
 * and every backslash starts a known escape. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[256];
	size_t n = json_escape(out, sizeof(out), (const char *)data, size);

	if (n >= sizeof(out) || strlen(out) != n)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];

		if (c < 0x20 || c == '"')
			abort();
		if (c == '\\') {
			if (i + 1 >= n || !strchr("\"\\nrtbfu", out[i + 1]))
				abort();
			i++;
		}
	}
	return 0;
}
