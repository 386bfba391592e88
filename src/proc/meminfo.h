/* SPDX-License-Identifier: GPL-2.0 */
/* The system's memory and swap, from /proc/meminfo (the header of `rsstrace top`). */
#ifndef MEMINFO_H
#define MEMINFO_H

struct meminfo {
	long long total, avail;		/* MemTotal, MemAvailable (kB) */
	long long swap_total, swap_free; /* SwapTotal, SwapFree (kB) */
};

/* Parses the text of /proc/meminfo. A field that is absent or malformed is 0. */
void parse_meminfo(const char *text, struct meminfo *m);

/* Reads /proc/meminfo now. Returns 0, or -1 with every field 0. */
int read_meminfo(struct meminfo *m);

#endif
