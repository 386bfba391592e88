// SPDX-License-Identifier: GPL-2.0
/* Reads MIB of a file in DIR through a private mapping, a page at a time,
 * none of it in the page cache (written, synced, evicted; no read-ahead):
 * every fault sleeps on its read, and may resume on another CPU, or after
 * another task faulted on its own (tests/test_stacks_held.py). DIR must be a
 * real block device's file system, not tmpfs. With CPU, it runs there only.
 * usage: cold_file DIR [MIB=16] [CPU] */
#include "workload.h"
#include <sched.h>

static int cold_file(const char *dir, size_t bytes)
{
	int fd = wl_temp_file(dir, "cold", bytes);

	if (fsync(fd) || posix_fadvise(fd, 0, bytes, POSIX_FADV_DONTNEED))
		wl_die("evict");
	return fd;
}

static __attribute__((noinline)) char site_cold(const char *map, size_t bytes)
{
	volatile char sum = 0;

	for (size_t off = 0; off < bytes; off += 4096)
		sum += map[off];
	return sum;
}

int main(int argc, char **argv)
{
	size_t bytes = wl_arg_mib(argc, argv, 2, 16);
	char *map;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: cold_file DIR [MIB] [CPU]\n");
		return 2;
	}
	if (argc > 3) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(atoi(argv[3]), &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			wl_die("sched_setaffinity");
	}
	wl_prefault();
	fd = cold_file(argv[1], bytes);
	map = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED || madvise(map, bytes, MADV_RANDOM))
		wl_die("mmap");
	site_cold(map, bytes);
	wl_report_exit("cold_file", 0);
}
