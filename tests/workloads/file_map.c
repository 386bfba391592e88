// SPDX-License-Identifier: GPL-2.0
/* A private read mapping and a shared writable mapping of real files
 * (RssFile), created in DIR (which must not be tmpfs, or they count as shmem).
 * With READ_FIRST=1 the shared mapping is read before it is written: each
 * write is then a write-protect fault on a present page (the kernel tracks
 * dirty file pages), which copies nothing.
 * usage: file_map DIR [MIB=16] [READ_FIRST=0] */
#include "workload.h"

static int make_file(const char *dir, const char *name, size_t bytes, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s.%d", dir, name, getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, bytes))
		wl_die(path);
	/* real data blocks, so the private mapping reads page cache, not holes */
	for (size_t off = 0; off < bytes; off += 4096)
		if (pwrite(fd, "x", 1, off) != 1)
			wl_die("pwrite");
	return fd;
}

int main(int argc, char **argv)
{
	size_t bytes = wl_arg_mib(argc, argv, 2, 16);
	char path1[512], path2[512];
	volatile char sum = 0;
	int fd1, fd2;
	char *priv, *shared;

	if (argc < 2) {
		fprintf(stderr, "usage: file_map DIR [MIB]\n");
		return 2;
	}
	wl_prefault();
	fd1 = make_file(argv[1], "priv", bytes, path1, sizeof(path1));
	fd2 = make_file(argv[1], "shared", bytes, path2, sizeof(path2));
	priv = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE, fd1, 0);
	shared = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	if (priv == MAP_FAILED || shared == MAP_FAILED)
		wl_die("mmap");
	if (argc > 3 && atoi(argv[3]))
		for (size_t off = 0; off < bytes; off += 4096)
			sum += shared[off];
	for (size_t off = 0; off < bytes; off += 4096) {
		sum += priv[off];
		shared[off] = 7;
	}
	unlink(path1);
	unlink(path2);
	wl_report_exit("file_map", 0);
}
