// SPDX-License-Identifier: GPL-2.0
#include "proc/proc_status.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PF_KTHREAD 0x00200000UL

int parse_proc_stat(const char *text, int *ppid, unsigned long *flags)
{
	const char *p = strrchr(text, ')');
	char state;
	int pp, pgrp, session, tty, tpgid;
	unsigned long fl;

	if (!p)
		return -1;
	if (sscanf(p + 1, " %c %d %d %d %d %d %lu", &state, &pp, &pgrp, &session, &tty, &tpgid,
		   &fl) != 7)
		return -1;
	*ppid = pp;
	*flags = fl;
	return 0;
}

int parse_status_field(const char *text, const char *key, long long *val)
{
	size_t klen = strlen(key);
	const char *p = text;
	char *end;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			errno = 0;
			*val = strtoll(p + klen + 1, &end, 10);
			if (errno || end == p + klen + 1)
				return -1;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

long read_proc_file(int pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n = 0, total = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)total < len - 1 && (n = read(fd, buf + total, len - 1 - total)) > 0)
		total += n;
	close(fd);
	if (n < 0)
		return -1;
	buf[total] = 0;
	return total;
}

enum pid_kind classify_pid(int pid, int *tgid)
{
	char buf[4096];
	long long v;
	unsigned long flags;
	int ppid;

	if (read_proc_file(pid, "stat", buf, sizeof(buf)) < 0)
		return PID_GONE;
	if (parse_proc_stat(buf, &ppid, &flags))
		return PID_GONE;
	if (flags & PF_KTHREAD)
		return PID_KTHREAD;
	if (read_proc_file(pid, "status", buf, sizeof(buf)) < 0 ||
	    parse_status_field(buf, "Tgid", &v))
		return PID_GONE;
	*tgid = (int)v;
	/* a zombie has no VmSize: its address space is gone */
	if (parse_status_field(buf, "VmSize", &v))
		return PID_ZOMBIE;
	return PID_USER;
}

bool in_child_pid_namespace(void)
{
	/* PROC_PID_INIT_INO (include/linux/proc_ns.h): the initial PID
	 * namespace's fixed inode number, on every kernel */
	const unsigned long init_ino = 0xEFFFFFFCUL;
	struct stat st;

	return !stat("/proc/self/ns/pid", &st) && (unsigned long)st.st_ino != init_ino;
}
