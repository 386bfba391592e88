// SPDX-License-Identifier: GPL-2.0
/* A memfd shared mapping: RssShmem. usage: memfd [MIB=20] */
#include "workload.h"

int main(int argc, char **argv)
{
	size_t bytes = wl_arg_mib(argc, argv, 1, 20);
	int fd;
	char *p;

	wl_prefault();
	fd = memfd_create("rsstrace-test", 0);
	if (fd < 0 || ftruncate(fd, bytes))
		wl_die("memfd");
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		wl_die("mmap");
	for (size_t off = 0; off < bytes; off += 4096)
		p[off] = 1;
	wl_report_exit("memfd", 0);
}
