// SPDX-License-Identifier: GPL-2.0
/*
 * Two allocation sites of known sizes, for --stacks: site_alpha() faults in
 * ALPHA_MIB of anonymous memory, site_beta() BETA_MIB, each touching its pages
 * in its own loop (so the faulting instruction is in that function, not in a
 * libc memset without a frame pointer). Both are held until the exit.
 * With "free", alpha's memory is unmapped before beta runs: the process's
 * peak is alpha's, and beta's pages came after it.
 * usage: two_sites [ALPHA_MIB=48] [BETA_MIB=16] [free]
 */
#include "workload.h"

__attribute__((noinline)) char *site_alpha(size_t bytes)
{
	volatile char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		wl_die("mmap");
	for (size_t i = 0; i < bytes; i += 4096)
		p[i] = 1;
	return (char *)p;
}

__attribute__((noinline)) char *site_beta(size_t bytes)
{
	volatile char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		wl_die("mmap");
	for (size_t i = 0; i < bytes; i += 4096)
		p[i] = 2;
	return (char *)p;
}

int main(int argc, char **argv)
{
	size_t alpha = wl_arg_mib(argc, argv, 1, 48), beta = wl_arg_mib(argc, argv, 2, 16);

	wl_prefault();
	char *a = site_alpha(alpha);

	if (argc > 3 && !strcmp(argv[3], "free"))
		munmap(a, alpha);
	site_beta(beta);
	wl_report_exit("two_sites", 0);
}
