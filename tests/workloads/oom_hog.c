// SPDX-License-Identifier: GPL-2.0
/* Grows its anonymous memory by STEP_MIB at a time, writing every page, until
 * the kernel kills it (run it in a memory-limited cgroup). Exits 3 if it
 * reached MAX_MIB without being killed.
 * usage: oom_hog [STEP_MIB=1] [MAX_MIB=4096] */
#include "workload.h"

int main(int argc, char **argv)
{
	size_t step = wl_arg_mib(argc, argv, 1, 1), max = wl_arg_mib(argc, argv, 2, 4096);

	for (size_t total = 0; total < max; total += step)
		wl_anon(step);
	return 3;
}
