// SPDX-License-Identifier: GPL-2.0
#include "top/view.h"

#include <stdio.h>
#include <string.h>

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

void top_cgroup_cell(const struct top_row *r, char *buf, size_t len, size_t maxcols)
{
	const char *path = top_row_cgroup(r);
	char what[CONTAINER_DESCRIBE_LEN];
	size_t n = 0;

	buf[0] = 0;
	if (r->cg && r->cg->is_container) {
		/* plain ASCII: a byte is a column */
		snprintf(buf, len, "[%s] ", container_cgroup_describe(&r->cg->container, what, sizeof(what)));
		n = strlen(buf);
		if (n >= maxcols) {
			buf[maxcols < len ? maxcols : len - 1] = 0;
			return;
		}
	}
	text_escape_cols(buf + n, len - n, path, strlen(path), maxcols - n);
}
