// SPDX-License-Identifier: GPL-2.0
/* An anonymous spike freed within milliseconds, then a smaller steady state.
 * usage: spike [SPIKE_MIB=96] [STEADY_MIB=8] */
#include "workload.h"

int main(int argc, char **argv)
{
	size_t spike = wl_arg_mib(argc, argv, 1, 96), steady = wl_arg_mib(argc, argv, 2, 8);
	char *p;

	wl_prefault();
	wl_anon(steady);
	p = wl_anon(spike);
	munmap(p, spike); /* gone within milliseconds: only an event tracer sees it */
	wl_report_exit("spike", 0);
}
