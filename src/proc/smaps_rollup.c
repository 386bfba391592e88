// SPDX-License-Identifier: GPL-2.0
#include "proc/smaps_rollup.h"

#include <errno.h>
#include <string.h>

#include "proc/proc_status.h"

static long long field_or_zero(const char *text, const char *key)
{
	long long v;

	return parse_status_field(text, key, &v) ? 0 : v;
}

int parse_smaps_rollup(const char *text, struct smaps_rollup *out)
{
	memset(out, 0, sizeof(*out));
	/* The first line is the address range "[rollup]", not a field; each
	 * field is "Name:   N kB", the same shape as /proc/PID/status. */
	if (parse_status_field(text, "Rss", &out->rss) || parse_status_field(text, "Pss", &out->pss))
		return -1;
	out->pss_anon = field_or_zero(text, "Pss_Anon");
	out->pss_file = field_or_zero(text, "Pss_File");
	out->pss_shmem = field_or_zero(text, "Pss_Shmem");
	out->shared_clean = field_or_zero(text, "Shared_Clean");
	out->shared_dirty = field_or_zero(text, "Shared_Dirty");
	out->private_clean = field_or_zero(text, "Private_Clean");
	out->private_dirty = field_or_zero(text, "Private_Dirty");
	out->swap = field_or_zero(text, "Swap");
	out->swap_pss = field_or_zero(text, "SwapPss");
	return 0;
}

int read_smaps_rollup(int pid, struct smaps_rollup *out)
{
	char buf[4096];

	if (read_proc_file(pid, "smaps_rollup", buf, sizeof(buf)) < 0)
		return -1;
	/* a zombie or kernel thread has an empty rollup */
	if (parse_smaps_rollup(buf, out)) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

void smaps_rollup_add(struct smaps_rollup *out, const struct smaps_rollup *s)
{
	out->rss += s->rss;
	out->pss += s->pss;
	out->pss_anon += s->pss_anon;
	out->pss_file += s->pss_file;
	out->pss_shmem += s->pss_shmem;
	out->shared_clean += s->shared_clean;
	out->shared_dirty += s->shared_dirty;
	out->private_clean += s->private_clean;
	out->private_dirty += s->private_dirty;
	out->swap += s->swap;
	out->swap_pss += s->swap_pss;
}
