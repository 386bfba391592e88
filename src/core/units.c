// SPDX-License-Identifier: GPL-2.0
#include "core/units.h"

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

	/* plain decimal only: strtod would also take hex, exponents, "inf" */
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (end != s + strspn(s, "0123456789."))
		return -1;
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

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end != s + strspn(s, "0123456789.") || *end || !isfinite(v) || v <= 0 || v > 366.0 * 86400)
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

/* At most 6 characters: three significant digits and a unit. */
const char *fmt_kb(uint64_t kb, char *buf, size_t len)
{
	static const char units[] = "MGTP";
	double v = (double)kb;
	int u = -1;

	if (kb < 1000) {
		snprintf(buf, len, "%lluK", (unsigned long long)kb);
		return buf;
	}
	do {
		v /= 1024;
		u++;
	} while (v >= 999.95 && u < 3);
	if (v < 9.995)
		snprintf(buf, len, "%.2f%c", v, units[u]);
	else if (v < 99.95)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
	return buf;
}
