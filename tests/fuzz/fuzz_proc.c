// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: parsers of /proc/PID/stat and /proc/PID/status text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc/proc_status.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	unsigned long flags;
	long long v;
	int ppid;

	if (!s)
		return 0;
	parse_proc_stat(s, &ppid, &flags);
	parse_status_field(s, "VmHWM", &v);
	parse_status_field(s, "Tgid", &v);
	free(s);
	return 0;
}
