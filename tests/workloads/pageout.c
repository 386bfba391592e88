// SPDX-License-Identifier: GPL-2.0
/* Swap: MIB of anonymous memory, then MADV_PAGEOUT on OUT_MIB of it. Needs
 * swap (the VM suite turns on zram; the host has none).
 * usage: pageout [MIB=32] [OUT_MIB=16] */
#include "workload.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

int main(int argc, char **argv)
{
	size_t bytes = wl_arg_mib(argc, argv, 1, 32), out = wl_arg_mib(argc, argv, 2, 16);
	char *p;

	wl_prefault();
	p = wl_anon(bytes);
	for (size_t i = 0; i < bytes; i += 4096)
		p[i] = (char)(i >> 12) | 1; /* not zero pages: they must really go to swap */
	if (madvise(p, out, MADV_PAGEOUT))
		wl_die("madvise(MADV_PAGEOUT)");
	wl_report_exit("pageout", 0);
}
