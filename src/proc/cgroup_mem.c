// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "proc/cgroup_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc/proc_status.h"

/* [s, end) into path, whole or not at all: a cut path would name another
 * cgroup, or none. */
static int copy_path(char *path, size_t len, const char *s, const char *end)
{
	if ((size_t)(end - s) >= len)
		return -ENAMETOOLONG;
	memcpy(path, s, (size_t)(end - s));
	path[end - s] = 0;
	return 0;
}

int parse_proc_cgroup(const char *text, char *path, size_t len, bool *v1)
{
	const char *line = text, *v2 = NULL;

	for (; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *c1 = strchr(line, ':'), *c2, *end;
		const char *ctl;

		if (!c1)
			break;
		c2 = strchr(c1 + 1, ':');
		end = strchrnul(line, '\n');
		if (!c2 || c2 > end)
			continue;
		if (c2 == c1 + 1) { /* "0::/path": the v2 hierarchy */
			v2 = c2 + 1;
			continue;
		}
		/* a v1 hierarchy: its controllers, comma-separated, between the colons */
		for (ctl = c1 + 1; ctl < c2;) {
			const char *comma = memchr(ctl, ',', c2 - ctl);
			size_t n = (comma ? comma : c2) - ctl;

			if (n == 6 && !memcmp(ctl, "memory", 6)) {
				*v1 = true;
				return copy_path(path, len, c2 + 1, end);
			}
			ctl += n + 1;
		}
	}
	if (!v2)
		return -ENOENT;
	*v1 = false;
	return copy_path(path, len, v2, strchrnul(v2, '\n'));
}

int cgroup_of_pid(int pid, char *path, size_t len, bool *v1)
{
	char buf[4096];

	if (read_proc_file(pid, "cgroup", buf, sizeof(buf)) < 0)
		return -ESRCH;
	return parse_proc_cgroup(buf, path, len, v1);
}

int cgroup_mount_point(bool v1, char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024];
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (ret && fgets(line, sizeof(line), f)) {
		char mnt[512], fstype[64], opts[512];
		const char *sep = strstr(line, " - ");

		/* id parent major:minor root MOUNTPOINT ... - FSTYPE SOURCE SUPEROPTS */
		if (!sep || sscanf(line, "%*s %*s %*s %*s %511s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %*s %511s", fstype, opts) != 2)
			continue;
		if (v1 ? !strcmp(fstype, "cgroup") && strstr(opts, "memory") : !strcmp(fstype, "cgroup2")) {
			snprintf(out, len, "%s", mnt);
			ret = 0;
		}
	}
	fclose(f);
	return ret;
}

int cgroup_shown_mount_point(char *out, size_t len)
{
	return cgroup_mount_point(true, out, len) ? cgroup_mount_point(false, out, len) : 0;
}

int cgroup_stat_field(const char *text, const char *key, uint64_t *val)
{
	size_t n = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, n) && p[n] == ' ') {
			*val = strtoull(p + n + 1, NULL, 10);
			return 0;
		}
	}
	return -1;
}

void cgroup_mem_parse_stat(struct cgroup_mem *cg, const char *stat)
{
	uint64_t v;

	if (cg->v1) {
		/* v1: "rss" is anon (huge pages included), "cache" all page cache
		 * with shmem. total_* would include child cgroups: prefer them. */
		if (!cgroup_stat_field(stat, "total_rss", &v) || !cgroup_stat_field(stat, "rss", &v))
			cg->anon = v;
		if (!cgroup_stat_field(stat, "total_cache", &v) || !cgroup_stat_field(stat, "cache", &v))
			cg->file = v;
		if (!cgroup_stat_field(stat, "total_mapped_file", &v) ||
		    !cgroup_stat_field(stat, "mapped_file", &v))
			cg->file_mapped = v;
		if (!cgroup_stat_field(stat, "total_shmem", &v) || !cgroup_stat_field(stat, "shmem", &v))
			cg->shmem = v;
		return;
	}
	if (!cgroup_stat_field(stat, "anon", &v))
		cg->anon = v;
	if (!cgroup_stat_field(stat, "file", &v))
		cg->file = v;
	if (!cgroup_stat_field(stat, "file_mapped", &v))
		cg->file_mapped = v;
	if (!cgroup_stat_field(stat, "shmem", &v))
		cg->shmem = v;
	cg->has_kernel = !cgroup_stat_field(stat, "kernel", &v);
	if (cg->has_kernel)
		cg->kernel = v;
}

static long read_file(const char *dir, const char *name, char *buf, size_t len)
{
	char path[CG_PATH_LEN + 600];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return n;
}

static int read_u64(const char *dir, const char *name, uint64_t *v)
{
	char buf[64];

	if (read_file(dir, name, buf, sizeof(buf)) <= 0)
		return -1;
	if (!strncmp(buf, "max", 3))
		return -1;
	*v = strtoull(buf, NULL, 10);
	return 0;
}

int cgroup_mem_read(struct cgroup_mem *cg)
{
	char mnt[512], dir[CG_PATH_LEN + 520];
	static char stat[16384];
	int err = cgroup_mount_point(cg->v1, mnt, sizeof(mnt));

	if (err)
		return err;
	snprintf(dir, sizeof(dir), "%s%s", mnt, cg->path);
	if (read_file(dir, "memory.stat", stat, sizeof(stat)) <= 0)
		return -ENOENT;
	cgroup_mem_parse_stat(cg, stat);
	if (cg->v1) {
		if (read_u64(dir, "memory.usage_in_bytes", &cg->current))
			return -ENOENT;
		cg->has_peak = !read_u64(dir, "memory.max_usage_in_bytes", &cg->peak);
		cg->has_kernel = !read_u64(dir, "memory.kmem.usage_in_bytes", &cg->kernel);
	} else {
		/* the root cgroup has no memory.current: the stat's sum stands in */
		if (read_u64(dir, "memory.current", &cg->current))
			cg->current = cg->anon + cg->file + cg->kernel;
		cg->has_peak = !read_u64(dir, "memory.peak", &cg->peak);
	}
	cg->ok = true;
	return 0;
}

static uint64_t want_id;
static char *found_path;
static size_t found_len, root_len;

static int match_ino(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type != FTW_D || (uint64_t)st->st_ino != want_id)
		return 0;
	snprintf(found_path, found_len, "%s", path[root_len] ? path + root_len : "/");
	return 1;
}

int cgroup_path_by_id(uint64_t id, char *path, size_t len)
{
	char mnt[512];

	for (int v1 = 1; v1 >= 0; v1--) {
		if (cgroup_mount_point(v1, mnt, sizeof(mnt)))
			continue;
		want_id = id;
		found_path = path;
		found_len = len;
		root_len = strlen(mnt);
		if (nftw(mnt, match_ino, 16, FTW_PHYS | FTW_MOUNT) == 1)
			return 0;
	}
	return -ENOENT;
}
