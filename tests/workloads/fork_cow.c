// SPDX-License-Identifier: GPL-2.0
/* A parent with SHARED_MIB of anonymous memory forks NCHILD children; each
 * writes a different fraction of it (copy-on-write), reports and exits.
 * usage: fork_cow [NCHILD=3] [SHARED_MIB=32] */
#include "workload.h"
#include <sys/wait.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	size_t shared = wl_arg_mib(argc, argv, 2, 32);
	char *p;

	wl_prefault();
	p = wl_anon(shared);
	for (int i = 0; i < n; i++) {
		pid_t pid = wl_fork();

		if (pid == 0) {
			/* child i dirties (i+1)/(n+1) of the shared pages */
			size_t dirty = shared / (n + 1) * (i + 1);

			for (size_t off = 0; off < dirty; off += 4096)
				p[off] = 2;
			wl_report_exit("child", 0);
		}
	}
	while (wait(NULL) > 0)
		;
	wl_report_exit("parent", 0);
}
