// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "proc/cgroup_target.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "proc/cgroup_mem.h"

#define CGROUP_SUPER_MAGIC 0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270

int memory_hierarchy_id(const char *text)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		int id, enabled;

		/* "#subsys_name hierarchy num_cgroups enabled" */
		if (!strncmp(p, "memory\t", 7) && sscanf(p + 7, "%d %*d %d", &id, &enabled) == 2)
			return id > 0 && enabled ? id : -1;
	}
	return -1;
}

static int read_memory_hierarchy(void)
{
	char buf[4096];
	FILE *f = fopen("/proc/cgroups", "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return memory_hierarchy_id(buf);
}

/* dir is a cgroup directory: fills cg from it. */
static int describe_dir(const char *dir, struct cgroup_target *cg, const char **why)
{
	struct statfs sfs;
	struct stat st;
	char procs[4200];

	if (statfs(dir, &sfs) || stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		*why = "no such directory";
		return -ENOENT;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	if ((sfs.f_type != CGROUP2_SUPER_MAGIC && sfs.f_type != CGROUP_SUPER_MAGIC) || access(procs, R_OK)) {
		*why = "not a cgroup directory (no cgroup.procs in a cgroup file system)";
		return -EINVAL;
	}
	snprintf(cg->dir, sizeof(cg->dir), "%s", dir);
	cg->id = (uint64_t)st.st_ino;
	cg->v1 = sfs.f_type == CGROUP_SUPER_MAGIC;
	cg->hierarchy = 0;
	if (cg->v1) {
		snprintf(procs, sizeof(procs), "%s/memory.usage_in_bytes", dir);
		cg->hierarchy = read_memory_hierarchy();
		if (cg->hierarchy < 0 || access(procs, F_OK)) {
			*why = "a cgroup v1 directory outside the memory hierarchy";
			return -EINVAL;
		}
	}
	return 0;
}

int cgroup_target_resolve(const char *arg, struct cgroup_target *cg, const char **why)
{
	char mnt[512], dir[4096];
	int err = describe_dir(arg, cg, why);

	if (err != -ENOENT || arg[0] != '/')
		return err;
	/* a path within a hierarchy: v2 first, then the v1 memory one */
	for (int v1 = 0; v1 <= 1; v1++) {
		if (cgroup_mount_point(v1, mnt, sizeof(mnt)))
			continue;
		snprintf(dir, sizeof(dir), "%s%s", mnt, arg);
		if (!describe_dir(dir, cg, why))
			return 0;
	}
	*why = "no such cgroup (neither a directory nor a path in the v2 or v1 memory hierarchy)";
	return -ENOENT;
}

static int (*each_fn)(void *ctx, int pid);
static void *each_ctx;
static int each_ret;

static int read_procs(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char file[4200], line[32];
	FILE *f;

	if (type != FTW_D)
		return 0;
	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	f = fopen(file, "re");
	if (!f)
		return 0; /* removed while we walk: its processes moved up, or are gone */
	while (!each_ret && fgets(line, sizeof(line), f))
		each_ret = each_fn(each_ctx, atoi(line));
	fclose(f);
	return each_ret ? 1 : 0;
}

int cgroup_target_procs(const struct cgroup_target *cg, int (*fn)(void *ctx, int pid), void *ctx)
{
	each_fn = fn;
	each_ctx = ctx;
	each_ret = 0;
	if (nftw(cg->dir, read_procs, 16, FTW_PHYS | FTW_MOUNT) < 0)
		return -errno;
	return each_ret;
}
