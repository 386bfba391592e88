/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the test workloads. Each workload reports its own
 * /proc/self/status right before it exits, without allocating in between:
 * a static buffer, raw read(2)/write(2), then _exit(2). The report goes to
 * stdout as one write (atomic on a pipe: the status text is < PIPE_BUF):
 *
 *   @@status pid=PID tag=TAG
 *   <the text of /proc/self/status>
 *   @@end
 */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024UL * 1024)

static char wl_buf[4000];

/*
 * Raw system calls for the moment between reading /proc/self/status and the
 * exit: a libc wrapper called there for the first time in this process (a fork
 * child does not inherit the parent's page-table entries of libc's text) would
 * fault in file pages after the reading and make it stale.
 */
static inline long wl_sys3(long nr, long a, long b, long c)
{
	long ret;

	asm volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}

static inline void wl_die(const char *what)
{
	fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
	exit(111);
}

/* fork(2), or die saying so. */
static inline pid_t wl_fork(void)
{
	pid_t pid = fork();

	if (pid < 0)
		wl_die("fork");
	return pid;
}

/* Writes the report; touches no new memory (the buffer is in .bss and was
 * touched by an earlier call to wl_prefault()). */
static inline void wl_report(const char *tag)
{
	int n, fd, len;

	len = snprintf(wl_buf, sizeof(wl_buf), "@@status pid=%d tag=%s\n", getpid(), tag);
	fd = (int)wl_sys3(SYS_open, (long)"/proc/self/status", O_RDONLY, 0);
	if (fd < 0)
		wl_die("open /proc/self/status");
	n = (int)wl_sys3(SYS_read, fd, (long)(wl_buf + len), sizeof(wl_buf) - len - 8);
	wl_sys3(SYS_close, fd, 0, 0);
	if (n <= 0)
		wl_die("read /proc/self/status");
	len += n;
	for (const char *e = "@@end\n"; *e; e++)
		wl_buf[len++] = *e;
	if (wl_sys3(SYS_write, 1, (long)wl_buf, len) != len)
		wl_die("write report");
}

/* Touch the report buffer and the code of wl_report's callees once, so the
 * final report adds no resident pages of its own. */
static inline void wl_prefault(void)
{
	char tmp[64];
	int fd = open("/proc/self/status", O_RDONLY);

	memset(wl_buf, 0, sizeof(wl_buf));
	if (fd >= 0) {
		if (read(fd, tmp, sizeof(tmp)) < 0)
			wl_die("read");
		close(fd);
	}
	snprintf(tmp, sizeof(tmp), "%d", getpid());
}

/* Report and leave at once. */
static inline void wl_report_exit(const char *tag, int code)
{
	wl_report(tag);
	wl_sys3(SYS_exit_group, code, 0, 0);
	__builtin_unreachable();
}

/* mmap + write one byte per page: anonymous private memory, resident. */
static inline char *wl_anon(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		wl_die("mmap");
	for (size_t i = 0; i < bytes; i += 4096)
		p[i] = 1;
	return p;
}

/* A file of BYTES (a multiple of 64 KiB) of real data in DIR (not tmpfs),
 * unlinked at once: the data lives while its descriptor or a mapping does. */
static inline int wl_temp_file(const char *dir, const char *name, size_t bytes)
{
	static char chunk[1 << 16];
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s.%d", dir, name, getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		wl_die(path);
	unlink(path);
	memset(chunk, 'x', sizeof(chunk));
	for (size_t off = 0; off < bytes; off += sizeof(chunk))
		if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
			wl_die("write");
	return fd;
}

/* A parent of a tree held on a pipe: prints its "@@ready ..." line, waits
 * until its stdin closes, lets the tree go (closes hold_wr: every holder
 * reads EOF), waits for its children, reports and exits. */
static inline void wl_parent_hold(const char *ready_line, int hold_wr)
{
	char c;

	printf("%s\n", ready_line);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	close(hold_wr);
	while (wait(NULL) > 0)
		;
	wl_report_exit("parent", 0);
}

static inline size_t wl_arg_mib(int argc, char **argv, int i, size_t dflt)
{
	return (argc > i ? strtoul(argv[i], NULL, 10) : dflt) * MIB;
}

#endif
