/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /proc/PID/smaps_rollup: the kernel's own answer to "how much of this RSS is
 * shared". PSS divides each page by the number of processes mapping it, so the
 * sum of PSS over processes is their physical footprint (each page once);
 * USS (private clean + private dirty) is what would be freed if the process
 * exited. Reading it walks every page table entry of the process, so callers
 * rate-limit it.
 */
#ifndef SMAPS_ROLLUP_H
#define SMAPS_ROLLUP_H

#include <stdbool.h>

/* All in kB, as the kernel prints them. */
struct smaps_rollup {
	long long rss;
	long long pss;
	long long pss_anon;	/* 0 where the kernel has no Pss_Anon (< 5.10) */
	long long pss_file;
	long long pss_shmem;
	long long shared_clean;
	long long shared_dirty;
	long long private_clean;
	long long private_dirty;
	long long swap;
	long long swap_pss;
};

static inline long long smaps_uss(const struct smaps_rollup *s)
{
	return s->private_clean + s->private_dirty;
}

static inline long long smaps_shared(const struct smaps_rollup *s)
{
	return s->shared_clean + s->shared_dirty;
}

/* Parse the text of /proc/PID/smaps_rollup. Returns 0, or -1 if Rss or Pss is
 * missing (not a rollup). Absent optional fields read as 0. */
int parse_smaps_rollup(const char *text, struct smaps_rollup *out);

/* Read and parse /proc/PID/smaps_rollup. Returns 0, or -1 with errno set
 * (ESRCH-like errors when the process is gone or has no address space). */
int read_smaps_rollup(int pid, struct smaps_rollup *out);

/* out += s */
void smaps_rollup_add(struct smaps_rollup *out, const struct smaps_rollup *s);

#endif
