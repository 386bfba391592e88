// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "proc/proc_maps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/array.h"

void proc_maps_free(struct proc_maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* "start-end perms offset dev inode   /path": 0, or -1 if not a file mapping. */
static int parse_line(const char *line, size_t len, struct proc_map *out)
{
	unsigned long long start, end, off;
	const char *path = memchr(line, '/', len);
	int n = 0;

	if (!path || sscanf(line, "%llx-%llx %*4s %llx %n", &start, &end, &off, &n) != 3 || !n ||
	    start >= end || line + n > path)
		return -1;
	out->start = start;
	out->end = end;
	out->pgoff = off;
	out->path = strndup(path, len - (size_t)(path - line));
	return out->path ? 0 : -ENOMEM;
}

int parse_proc_maps(const char *text, struct proc_maps *m)
{
	proc_maps_free(m);
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct proc_map pm;
		int err = parse_line(p, len, &pm);

		p += len + (nl ? 1 : 0);
		if (err == -ENOMEM)
			return err;
		if (err)
			continue;
		if (!array_grow((void **)&m->v, &m->cap, m->n, sizeof(*m->v))) {
			free(pm.path);
			return -ENOMEM;
		}
		m->v[m->n++] = pm;
	}
	return 0;
}

/* The whole file (NUL-terminated, malloc'ed), or NULL with errno. */
static char *slurp(const char *path)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap), *bigger;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || !buf)
		goto fail;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len > 1)
			continue;
		bigger = realloc(buf, cap * 2);
		if (!bigger)
			goto fail;
		buf = bigger;
		cap *= 2;
	}
	if (n < 0)
		goto fail;
	close(fd);
	buf[len] = 0;
	return buf;
fail:
	n = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	errno = (int)n;
	return NULL;
}

int read_proc_maps_text(int pid, struct proc_maps *m, char **text)
{
	char path[64];
	int err;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	*text = slurp(path);
	if (!*text)
		return -errno;
	err = parse_proc_maps(*text, m);
	if (!err && !m->n)
		err = -ESRCH;
	if (err) {
		proc_maps_free(m);
		free(*text);
		*text = NULL;
	}
	return err;
}

const struct proc_map *proc_maps_find(const struct proc_maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < m->v[mid].start)
			hi = mid;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return &m->v[mid];
	}
	return NULL;
}
