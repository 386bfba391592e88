// SPDX-License-Identifier: GPL-2.0
/*
 * Three allocation sites in code without frame pointers (the Makefile builds
 * this file -O2 -fomit-frame-pointer), for --stacks=dwarf: each site_X()
 * faults in its memory in its own loop and is called by stage_X(), called by
 * main(), so each charged stack is site_X, stage_X, main, then libc's start
 * frames. site_a's memory is unmapped before the others run.
 * usage: nofp_sites [A_MIB=24] [B_MIB=16] [C_MIB=32]
 */
#include "workload.h"

volatile char wl_sink; /* keeps the calls from becoming tail calls */

#define SITE(x, byte)                                                                          \
	__attribute__((noinline)) char *site_##x(size_t bytes)                                 \
	{                                                                                      \
		volatile char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,                   \
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);                   \
		if (p == MAP_FAILED)                                                           \
			wl_die("mmap");                                                        \
		for (size_t i = 0; i < bytes; i += 4096)                                       \
			p[i] = byte;                                                           \
		return (char *)p;                                                              \
	}                                                                                      \
	__attribute__((noinline)) char *stage_##x(size_t bytes)                                \
	{                                                                                      \
		char *p = site_##x(bytes);                                                     \
		wl_sink = p[0];                                                                \
		return p;                                                                      \
	}

SITE(a, 1)
SITE(b, 2)
SITE(c, 3)

int main(int argc, char **argv)
{
	size_t a = wl_arg_mib(argc, argv, 1, 24), b = wl_arg_mib(argc, argv, 2, 16);
	size_t c = wl_arg_mib(argc, argv, 3, 32);

	wl_prefault();
	munmap(stage_a(a), a);
	stage_b(b);
	stage_c(c);
	wl_report_exit("nofp_sites", 0);
}
