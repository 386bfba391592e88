/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --cgroup-path: a cgroup named on the command line (a directory of the v2
 * hierarchy, or of the v1 memory hierarchy), how the kernel names it (its
 * kernfs id and hierarchy id, which the BPF side compares), and the
 * processes in it and in its descendants (their cgroup.procs files).
 */
#ifndef CGROUP_TARGET_H
#define CGROUP_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cgroup_target {
	char dir[4096];	       /* the directory in cgroupfs */
	uint64_t id;	       /* its kernfs id: the directory's inode number */
	int hierarchy;	       /* 0: v2; else the v1 memory hierarchy's id (/proc/cgroups) */
	bool v1;
};

/* Finds the cgroup arg names: a cgroupfs directory, or a path below the v2
 * mount, else below the v1 memory mount ("/system.slice/x.service"). Returns
 * 0, or -errno with *why (for the one-line error). */
int cgroup_target_resolve(const char *arg, struct cgroup_target *cg, const char **why);

/* Calls fn for every pid in the cgroup and its descendants (cgroup.procs);
 * stops at fn's first non-zero return and returns it. Returns 0, or -errno. */
int cgroup_target_procs(const struct cgroup_target *cg, int (*fn)(void *ctx, int pid), void *ctx);

/* The hierarchy id of the v1 memory controller, from /proc/cgroups text, or
 * -1 (not there, or not on a v1 hierarchy). */
int memory_hierarchy_id(const char *proc_cgroups);

#endif
