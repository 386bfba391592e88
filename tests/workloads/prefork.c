// SPDX-License-Identifier: GPL-2.0
/*
 * A prefork server in miniature: the parent fills SHARED_MIB of anonymous
 * memory, forks NCHILD children that share it copy-on-write, and the first
 * DIRTIERS of them write to half of it (so each gets a private copy of that
 * half). Then everyone holds their memory until the parent's stdin closes.
 *
 * Physical footprint: SHARED + DIRTIERS * SHARED/2; sum of RSS: about
 * (NCHILD + 1) * SHARED. The classic "the RSS of my workers sums past RAM".
 *
 * Prints "@@ready pids=PARENT,CHILD,..." once every child has done its part,
 * then each process reports its /proc/self/status as it exits.
 * usage: prefork [NCHILD=6] [SHARED_MIB=128] [DIRTIERS=3]
 */
#include "workload.h"
#include <sys/wait.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 6;
	size_t shared = wl_arg_mib(argc, argv, 2, 128);
	int dirtiers = argc > 3 ? atoi(argv[3]) : 3;
	int ready[2], hold[2];
	char line[64 * 12], *w = line;
	pid_t pids[256];
	char *p, c;

	if (n < 0 || n > 256)
		wl_die("NCHILD must be 0..256");
	wl_prefault();
	if (pipe(ready) || pipe(hold))
		wl_die("pipe");
	p = wl_anon(shared);
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			wl_die("fork");
		if (pids[i] == 0) {
			close(hold[1]);
			if (i < dirtiers)
				for (size_t off = 0; off < shared / 2; off += 4096)
					p[off] = 2;
			if (write(ready[1], "r", 1) != 1)
				wl_die("write ready");
			/* hold until the parent closes its end (it exits or is told to) */
			while (read(hold[0], &c, 1) > 0)
				;
			wl_report_exit("child", 0);
		}
	}
	close(ready[1]);
	close(hold[0]);
	for (int i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			wl_die("read ready");
	w += sprintf(w, "@@ready pids=%d", getpid());
	for (int i = 0; i < n; i++)
		w += sprintf(w, ",%d", pids[i]);
	printf("%s\n", line);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	close(hold[1]);
	while (wait(NULL) > 0)
		;
	wl_report_exit("parent", 0);
}
