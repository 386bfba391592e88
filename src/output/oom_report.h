/* SPDX-License-Identifier: GPL-2.0 */
/* OOM kills in the output: a JSON record as each happens, a section of the summary. */
#ifndef OOM_REPORT_H
#define OOM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rsstrace.h"

struct oom_note {
	struct oom_kill_record rec;
	char cgroup[256];	/* the victim's memory cgroup path, or its name */
	bool acct_late;		/* acct[] read from the live row when the record arrived */
};

/* A note from the kernel's record: the cgroup named by its path where it
 * can still be found, else by its own name. */
void oom_note_init(struct oom_note *n, const struct oom_kill_record *rec);

/* One line for `top`: "OOM kill 12.3 s ago: pid 42 hog anon 1.2G ...". */
void oom_print_short(char *buf, size_t len, const struct oom_note *n, uint64_t now_ns, uint64_t page_kb);

/* One {"type":"oom_kill",...} line. t0_ns: when tracing began. */
void oom_print_json(FILE *out, const struct oom_note *n, uint64_t t0_ns, uint64_t page_kb);

/* The summary's lines for one kill. */
void oom_print_text(FILE *out, const struct oom_note *n, uint64_t t0_ns, uint64_t page_kb);

#endif
