// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: the /proc/PID/maps parser (paths come from the traced
 * processes) and lookups in what it kept. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc_maps.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	struct proc_maps m = { 0 };

	if (!s)
		return 0;
	if (!parse_proc_maps(s, &m))
		for (size_t i = 0; i < m.n; i++)
			proc_maps_find(&m, m.v[i].start + (m.v[i].end - m.v[i].start) / 2);
	proc_maps_free(&m);
	free(s);
	return 0;
}
