// SPDX-License-Identifier: GPL-2.0
#include "top/view.h"

#include <stdio.h>

#include "core/units.h"

void top_growth_cell(int64_t kb, char *buf, size_t len)
{
	char tmp[12];

	if (!kb) {
		snprintf(buf, len, "0");
		return;
	}
	fmt_kb(kb < 0 ? (uint64_t)-kb : (uint64_t)kb, tmp, sizeof(tmp));
	snprintf(buf, len, "%c%s", kb < 0 ? '-' : '+', tmp);
}

void top_faults_cell(const struct top_row *r, char *buf, size_t len)
{
	if (r->faults_per_s < 0)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.0f", r->faults_per_s);
}
