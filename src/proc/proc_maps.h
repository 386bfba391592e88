/* SPDX-License-Identifier: GPL-2.0 */
/* The file mappings of a process, from /proc/PID/maps (--stacks=dwarf keeps a
 * snapshot per process, so its stacks can be named after it exited). */
#ifndef PROC_MAPS_H
#define PROC_MAPS_H

#include <stddef.h>
#include <stdint.h>

struct proc_map {
	uint64_t start, end;	/* [start, end) */
	uint64_t pgoff;		/* file offset of start */
	char *path;		/* absolute path; mappings without one are not kept */
};

struct proc_maps {
	struct proc_map *v; /* sorted by start, as the kernel lists them */
	size_t n, cap;
};

/* Parses the text of /proc/PID/maps into m (emptied first); lines that are
 * malformed or map no file are skipped. Returns 0 or -ENOMEM. */
int parse_proc_maps(const char *text, struct proc_maps *m);

/* Reads /proc/PID/maps now into m (which must be empty) and its text into
 * *text (malloc'ed). Returns 0, or -errno (-ESRCH: no file mapping, as for
 * an exited process) with nothing allocated. */
int read_proc_maps_text(int pid, struct proc_maps *m, char **text);

/* The mapping that holds addr, or NULL. */
const struct proc_map *proc_maps_find(const struct proc_maps *m, uint64_t addr);

void proc_maps_free(struct proc_maps *m);

#endif
