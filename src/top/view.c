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

void top_sharing_cells(const struct sharing_cell *c, char *pss, char *uss, size_t len)
{
	const char *none = c && c->state == SHARING_UNREADABLE ? "?" : "-";

	if (!c || c->state != SHARING_READ) {
		snprintf(pss, len, "%s", none);
		snprintf(uss, len, "%s", none);
		return;
	}
	fmt_kb((uint64_t)c->s.pss, pss, len);
	fmt_kb((uint64_t)smaps_uss(&c->s), uss, len);
}

void top_sharing_line(const struct top_sharing *s, char *buf, size_t len)
{
	snprintf(buf, len, "PSS: RSS with each shared page split among its mappers; USS: pages only it maps "
		 "(smaps_rollup: %u read in %.1f ms, %u waiting; budget %d ms)",
		 s->read, s->cost_ns / 1e6, s->pending, TOP_SHARING_BUDGET_MS);
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
