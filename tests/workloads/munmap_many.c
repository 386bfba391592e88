// SPDX-License-Identifier: GPL-2.0
/* NMAPS separate anonymous mappings of MIB each, touched, then unmapped one
 * by one: known VMA and page removals. usage: munmap_many [NMAPS=8] [MIB=4] */
#include "workload.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8;
	size_t bytes = wl_arg_mib(argc, argv, 2, 4);
	char *maps[64];

	if (n < 1 || n > 64)
		return 2;
	wl_prefault();
	for (int i = 0; i < n; i++) {
		/* PROT_EXEC differs from the neighbours' flags: no VMA merging */
		maps[i] = wl_anon(bytes);
		if (i % 2 && mprotect(maps[i], bytes, PROT_READ))
			wl_die("mprotect");
	}
	for (int i = 0; i < n; i++)
		munmap(maps[i], bytes);
	wl_report_exit("munmap_many", 0);
}
