// SPDX-License-Identifier: GPL-2.0
/* Transparent huge pages: MIB of 2 MiB-aligned anonymous memory with
 * MADV_HUGEPAGE, so one fault adds 512 pages at once. usage: thp [MIB=64] */
#include "workload.h"

int main(int argc, char **argv)
{
	size_t bytes = wl_arg_mib(argc, argv, 1, 64), align = 2 * MIB;
	char *raw, *p;

	wl_prefault();
	raw = mmap(NULL, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		wl_die("mmap");
	p = (char *)(((unsigned long)raw + align - 1) & ~(align - 1));
	if (madvise(p, bytes, MADV_HUGEPAGE))
		wl_die("madvise");
	for (size_t i = 0; i < bytes; i += 4096)
		p[i] = 1;
	wl_report_exit("thp", 0);
}
