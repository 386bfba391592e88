// SPDX-License-Identifier: GPL-2.0
/* One pid, two images: allocates FIRST_MIB, reports, execs itself as
 * "second", allocates SECOND_MIB, reports, exits 5.
 * usage: exec_twice [FIRST_MIB=40] [SECOND_MIB=12] */
#include "workload.h"

int main(int argc, char **argv)
{
	wl_prefault();
	if (argc > 1 && !strcmp(argv[1], "second")) {
		wl_anon(wl_arg_mib(argc, argv, 2, 12));
		wl_report_exit("second", 5);
	}
	wl_anon(wl_arg_mib(argc, argv, 1, 40));
	char *args[] = { argv[0], "second", argc > 2 ? argv[2] : "12", NULL };

	extern char **environ;
	static const char exe[] = "/proc/self/exe";
	volatile char touch = exe[0];

	/* Touch the path now: execve() reads it before the kernel marks the task
	 * as execing, and a fault there could fold (up to 6.1) the task's cached
	 * RSS changes into the mm after our reading. */
	(void)touch;
	wl_report("first");
	/* raw execve: libc's wrapper would fault in text pages after the report */
	wl_sys3(SYS_execve, (long)exe, (long)args, (long)environ);
	wl_die("execve");
}
