// SPDX-License-Identifier: GPL-2.0
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int parse_size(const char *s, uint64_t *bytes)
{
	const char *units = "KMGT";
	const char *p;
	char *end;
	double v, mult = 1;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -1;
	if (*end) {
		p = strchr(units, toupper((unsigned char)*end));
		if (!p)
			return -1;
		mult = pow(1024, (double)(p - units + 1));
		end++;
		/* accept "M", "MB", "MiB" (all binary: memory sizes) */
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -1;
	} else if (v != floor(v)) {
		return -1; /* fractional bytes */
	}
	v *= mult;
	if (v < 1 || v > 9.0e18)
		return -1;
	*bytes = (uint64_t)v;
	return 0;
}

int parse_seconds(const char *s, double *seconds)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 366.0 * 86400)
		return -1;
	*seconds = v;
	return 0;
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

const char *fmt_kb(uint64_t kb, char *buf, size_t len)
{
	if (kb < 1024)
		snprintf(buf, len, "%lluK", (unsigned long long)kb);
	else if (kb < 1024 * 1024)
		snprintf(buf, len, "%.1fM", kb / 1024.0);
	else if (kb < 1024ULL * 1024 * 1024)
		snprintf(buf, len, "%.2fG", kb / (1024.0 * 1024));
	else
		snprintf(buf, len, "%.2fT", kb / (1024.0 * 1024 * 1024));
	return buf;
}
