// SPDX-License-Identifier: GPL-2.0
/* NCHILD short-lived children, each with MIB of anonymous memory, all alive at
 * once (they wait for each other), then all exit. The tree peak must cover
 * them all. usage: burst [NCHILD=16] [MIB=8] */
#include "workload.h"
#include <sys/wait.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 16;
	size_t bytes = wl_arg_mib(argc, argv, 2, 8);
	int ready[2], go[2];
	char c;

	wl_prefault();
	if (pipe(ready) || pipe(go))
		wl_die("pipe");
	for (int i = 0; i < n; i++) {
		pid_t pid = wl_fork();

		if (pid == 0) {
			close(go[1]);
			wl_anon(bytes);
			if (write(ready[1], "r", 1) != 1)
				wl_die("write");
			/* everyone is resident when this read returns (EOF) */
			if (read(go[0], &c, 1) < 0)
				wl_die("read");
			wl_report_exit("child", 0);
		}
	}
	for (int i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			wl_die("read ready");
	wl_report("parent-at-peak");
	close(go[1]);
	while (wait(NULL) > 0)
		;
	wl_report_exit("parent", 0);
}
