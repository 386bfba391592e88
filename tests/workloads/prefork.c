// SPDX-License-Identifier: GPL-2.0
/*
 * A prefork server in miniature: the parent fills SHARED_MIB of anonymous
 * memory, forks NCHILD children that share it copy-on-write, and the first
 * DIRTIERS of them write to half of it from dirty_half() (so each gets a
 * private copy of that half: --stacks charges the copies to that function);
 * the others only read that half (read_half(): no copy). Then everyone holds
 * their memory until the parent's stdin closes.
 *
 * Physical footprint: SHARED + DIRTIERS * SHARED/2; sum of RSS: about
 * (NCHILD + 1) * SHARED. The classic "the RSS of my workers sums past RAM".
 *
 * Prints "@@ready pids=PARENT,CHILD,..." once every child has done its part,
 * then each process reports its /proc/self/status as it exits.
 * With FILE_DIR (not tmpfs), the parent also maps FILE_MIB of a file there
 * MAP_SHARED and reads it, and every child reads it too: a file mapped by
 * every process (in every RSS, one copy in memory).
 * With LAST_MIB, the parent touches LAST_MIB more once every child is ready:
 * the tree's RSS peaks after the copy-on-write (which changes no RSS counter).
 * usage: prefork [NCHILD=6] [SHARED_MIB=128] [DIRTIERS=3] [FILE_DIR] [FILE_MIB=16] [LAST_MIB=0]
 */
#include "workload.h"
#include <sys/wait.h>

/* FILE_MIB of a new file in dir (unlinked at once), mapped shared and read. */
static char *shared_file(const char *dir, size_t bytes)
{
	static char chunk[1 << 16];
	char path[512], *p;
	int fd;

	snprintf(path, sizeof(path), "%s/prefork.%d", dir, getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		wl_die(path);
	unlink(path);
	memset(chunk, 'f', sizeof(chunk));
	for (size_t off = 0; off < bytes; off += sizeof(chunk))
		if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
			wl_die("write");
	p = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		wl_die("mmap file");
	close(fd);
	return p;
}

static __attribute__((noinline)) void read_pages(const char *p, size_t bytes)
{
	volatile char sum = 0;

	for (size_t off = 0; off < bytes; off += 4096)
		sum += p[off];
}

/* One byte per page of the first half: a copy-on-write copy of each page.
 * Not inlined: the copies are charged to this function by name. */
static __attribute__((noinline)) void dirty_half(char *p, size_t bytes)
{
	for (size_t off = 0; off < bytes / 2; off += 4096)
		((volatile char *)p)[off] = 2;
}

static __attribute__((noinline)) void read_half(const char *p, size_t bytes)
{
	read_pages(p, bytes / 2);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 6;
	size_t shared = wl_arg_mib(argc, argv, 2, 128);
	int dirtiers = argc > 3 ? atoi(argv[3]) : 3;
	int ready[2], hold[2];
	char line[64 * 12], *w = line;
	pid_t pids[256];
	const char *file_dir = argc > 4 && *argv[4] ? argv[4] : NULL;
	size_t file_bytes = wl_arg_mib(argc, argv, 5, 16);
	size_t last_bytes = wl_arg_mib(argc, argv, 6, 0);
	char *p, *file = NULL, c;

	if (n < 0 || n > 256)
		wl_die("NCHILD must be 0..256");
	wl_prefault();
	if (pipe(ready) || pipe(hold))
		wl_die("pipe");
	p = wl_anon(shared);
	if (file_dir) {
		file = shared_file(file_dir, file_bytes);
		read_pages(file, file_bytes);
	}
	for (int i = 0; i < n; i++) {
		pids[i] = wl_fork();
		if (pids[i] == 0) {
			close(hold[1]);
			if (i < dirtiers)
				dirty_half(p, shared);
			else
				read_half(p, shared);
			if (file)
				read_pages(file, file_bytes); /* fork does not copy shared file PTEs */
			if (write(ready[1], "r", 1) != 1)
				wl_die("write ready");
			/* hold until the parent closes its end (it exits or is told to) */
			while (read(hold[0], &c, 1) > 0)
				;
			wl_report_exit("child", 0);
		}
	}
	close(ready[1]);
	close(hold[0]);
	for (int i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			wl_die("read ready");
	if (last_bytes)
		wl_anon(last_bytes);
	w += sprintf(w, "@@ready pids=%d", getpid());
	for (int i = 0; i < n; i++)
		w += sprintf(w, ",%d", pids[i]);
	wl_parent_hold(line, hold[1]);
}
