/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A memory cgroup's own accounting, read from its files: cgroup v2
 * (memory.current, memory.peak, memory.stat) or, where the memory controller
 * is only on a v1 hierarchy, the v1 files (memory.usage_in_bytes,
 * memory.max_usage_in_bytes, memory.stat, memory.kmem.usage_in_bytes).
 * Both are turned into one set of figures, in bytes.
 */
#ifndef CGROUP_MEM_H
#define CGROUP_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A cgroup path, NUL included. A pod's container under the kubelet's systemd
 * driver is ~195 bytes (kubepods.slice/kubepods-burstable.slice/
 * kubepods-burstable-pod<36>.slice/cri-containerd-<64>.scope); nested in a
 * kind node or a test's own cgroup, more: 256 was too few. */
#define CG_PATH_LEN 512

struct cgroup_mem {
	char path[CG_PATH_LEN];	/* relative to the hierarchy's root: "/a/b" */
	bool v1;		/* read from the v1 memory hierarchy */
	bool ok;		/* read at least once */
	uint64_t current;	/* memory.current | memory.usage_in_bytes */
	uint64_t peak;		/* memory.peak | memory.max_usage_in_bytes; 0 = not offered */
	bool has_peak;
	uint64_t anon;		/* anon | rss (+ rss_huge is inside rss) */
	uint64_t file;		/* file | cache: page cache, mapped or not (shmem included) */
	uint64_t file_mapped;	/* file_mapped | mapped_file */
	uint64_t shmem;		/* shmem | shmem */
	uint64_t kernel;	/* kernel | memory.kmem.usage_in_bytes; 0 if neither */
	bool has_kernel;
};

/* The memory cgroup of a process: path within the memory hierarchy and
 * whether it is v1. Returns 0, or -errno. */
int cgroup_of_pid(int pid, char *path, size_t len, bool *v1);

/* Parses /proc/PID/cgroup text: the line of the memory hierarchy (v1
 * "N:...memory...:/path") if there is one, else the v2 line ("0::/path").
 * -ENAMETOOLONG if the path does not fit len (never cut). */
int parse_proc_cgroup(const char *text, char *path, size_t len, bool *v1);

/* Parses one key of memory.stat ("file 123"); -1 if absent. */
int cgroup_stat_field(const char *text, const char *key, uint64_t *val);

/* Where the v1 memory hierarchy (v1) or the v2 hierarchy is mounted (the
 * first such mount in /proc/self/mountinfo). Returns 0, or -errno. */
int cgroup_mount_point(bool v1, char *out, size_t len);

/* Where the hierarchy that names the cgroups of `top` and `serve` is mounted
 * (bpf/lib/memcg.bpf.h): the v1 memory hierarchy where the memory controller
 * is mounted on v1, else cgroup v2. Returns 0, or -errno. */
int cgroup_shown_mount_point(char *out, size_t len);

/* Reads the cgroup's files now. Returns 0, or -errno. */
int cgroup_mem_read(struct cgroup_mem *cg);

/* Fills cg's counters from memory.stat text (v1 or v2 keys). */
void cgroup_mem_parse_stat(struct cgroup_mem *cg, const char *stat);

/* The path (relative to its hierarchy) of the memory cgroup whose kernfs id
 * (the directory's inode number) is id. Returns 0 or -ENOENT. */
int cgroup_path_by_id(uint64_t id, char *path, size_t len);

#endif
