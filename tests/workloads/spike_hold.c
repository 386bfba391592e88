// SPDX-License-Identifier: GPL-2.0
/* Holds HOLD_MIB and says "ready"; then, for each 's' read on stdin, spikes by
 * SPIKE_MIB for about 50 ms (reporting its status at the top, tag "spike"),
 * frees it and reports the steady state again (tag "hold"); exits on 'q' or
 * when stdin closes. For peak-between-scrapes tests.
 * usage: spike_hold [HOLD_MIB=16] [SPIKE_MIB=64] */
#include "workload.h"
#include <time.h>

int main(int argc, char **argv)
{
	size_t hold = wl_arg_mib(argc, argv, 1, 16), spike = wl_arg_mib(argc, argv, 2, 64);
	struct timespec ms50 = { 0, 50 * 1000 * 1000 };
	char c;

	wl_prefault();
	/* the first calls of nanosleep and munmap fault in libc text (16 pages
	 * with fault-around): do it now, not between the spike's report and its end */
	nanosleep(&(struct timespec){ 0, 1 }, NULL);
	munmap(wl_anon(4096), 4096);
	wl_anon(hold);
	wl_report("hold"); /* the steady state, before any spike */
	while (read(0, &c, 1) == 1 && c != 'q') {
		char *p;

		if (c != 's')
			continue;
		p = wl_anon(spike);
		wl_report("spike");
		nanosleep(&ms50, NULL);
		munmap(p, spike);
		wl_report("hold");
	}
	wl_report_exit("end", 0);
}
