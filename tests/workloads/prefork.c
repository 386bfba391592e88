// SPDX-License-Identifier: GPL-2.0
/* A pre-forking server: the parent maps MIB of anonymous memory and writes
 * it, optionally maps FILE_MIB of a file MAP_SHARED (made in FILE_DIR, not
 * tmpfs) and reads it, then forks CHILDREN children that share all of it
 * copy-on-write; the first DIRTIERS of them write the first half of the
 * anonymous memory (each gets its own copy of those pages) and every child
 * reads the file. Everyone reports its status, the parent then prints
 * "@@ready", and all hold until stdin closes.
 * The memory is MADV_NOHUGEPAGE: copy-on-write then works in 4 KiB pages, as
 * the expected figures assume, whatever the THP setting.
 * usage: prefork [MIB=128] [CHILDREN=6] [DIRTIERS=3] [FILE_DIR] [FILE_MIB=16] */
#include "workload.h"
#include <sys/wait.h>

static char *map_file(const char *dir, size_t bytes)
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

static void read_all(const char *p, size_t bytes)
{
	volatile char sum = 0;

	for (size_t off = 0; off < bytes; off += 4096)
		sum += p[off];
}

static void hold(void)
{
	static char buf[256];

	while (read(0, buf, sizeof(buf)) > 0)
		;
}

int main(int argc, char **argv)
{
	size_t bytes = wl_arg_mib(argc, argv, 1, 128), fbytes = wl_arg_mib(argc, argv, 5, 16);
	int children = argc > 2 ? atoi(argv[2]) : 6, dirtiers = argc > 3 ? atoi(argv[3]) : 3;
	const char *dir = argc > 4 && *argv[4] ? argv[4] : NULL;
	char *anon, *file = NULL;

	wl_prefault();
	anon = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED || madvise(anon, bytes, MADV_NOHUGEPAGE))
		wl_die("mmap");
	for (size_t off = 0; off < bytes; off += 4096)
		anon[off] = 1;
	if (dir) {
		file = map_file(dir, fbytes);
		read_all(file, fbytes);
	}
	for (int i = 0; i < children; i++) {
		pid_t pid = fork();

		if (pid < 0)
			wl_die("fork");
		if (pid)
			continue;
		if (i < dirtiers)
			for (size_t off = 0; off < bytes / 2; off += 4096)
				anon[off] = 2;
		if (file)
			read_all(file, fbytes);
		wl_report("child");
		hold();
		_exit(0);
	}
	wl_report("parent");
	if (write(1, "@@ready\n", 8) != 8)
		wl_die("write");
	hold();
	while (wait(NULL) > 0)
		;
	return 0;
}
