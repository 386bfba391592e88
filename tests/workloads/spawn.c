// SPDX-License-Identifier: GPL-2.0
/* posix_spawn (CLONE_VM|CLONE_VFORK in glibc): the child runs on the parent's
 * address space until it execs itself as "child", allocates and reports.
 * usage: spawn [CHILD_MIB=24] */
#include "workload.h"
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
	char *args[] = { argv[0], "child", argc > 1 ? argv[1] : "24", NULL };
	pid_t pid;
	int status;

	wl_prefault();
	if (argc > 1 && !strcmp(argv[1], "child")) {
		wl_anon(wl_arg_mib(argc, argv, 2, 24));
		wl_report_exit("child", 3);
	}
	wl_anon(4 * MIB);
	if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ))
		wl_die("posix_spawn");
	if (waitpid(pid, &status, 0) != pid)
		wl_die("waitpid");
	wl_report_exit("parent", 0);
}
