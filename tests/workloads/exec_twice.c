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

	wl_report("first");
	/* raw execve: libc's wrapper would fault in text pages after the report */
	wl_sys3(SYS_execve, (long)"/proc/self/exe", (long)args, (long)environ);
	wl_die("execve");
}
