// SPDX-License-Identifier: GPL-2.0
#include "proc/meminfo.h"

#include <stdio.h>
#include <string.h>

#include "proc/proc_status.h"

/* the same "Key:   123 kB" lines as /proc/PID/status */
static long long field(const char *text, const char *key)
{
	long long v;

	return parse_status_field(text, key, &v) ? 0 : v;
}

void parse_meminfo(const char *text, struct meminfo *m)
{
	m->total = field(text, "MemTotal");
	m->avail = field(text, "MemAvailable");
	m->swap_total = field(text, "SwapTotal");
	m->swap_free = field(text, "SwapFree");
}

int read_meminfo(struct meminfo *m)
{
	char buf[4096]; /* the four fields are in the first lines */
	FILE *f = fopen("/proc/meminfo", "re");
	size_t n;

	if (!f) {
		memset(m, 0, sizeof(*m));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	parse_meminfo(buf, m);
	return 0;
}
