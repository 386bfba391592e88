// SPDX-License-Identifier: GPL-2.0
/*
 * A running process tree to attach to (-p): the parent holds PARENT_MIB of
 * anonymous memory and forks NCHILD children; child i holds (i + 1) *
 * CHILD_MIB and forks NGRAND grandchildren; grandchild j of it holds (j + 1)
 * * GRAND_MIB. Every process touches its memory, then says its pid on a pipe.
 *
 * Prints "@@ready pids=PARENT,..." (every pid of the tree) once all are
 * ready. When the parent's stdin closes, every process reports its
 * /proc/self/status and exits (children after their grandchildren).
 * usage: pretree [NCHILD=2] [NGRAND=2] [PARENT_MIB=16] [CHILD_MIB=8] [GRAND_MIB=4]
 */
#include "workload.h"
#include <sys/wait.h>

#define MAX_PROCS 256

/* Holds its memory until the hold pipe closes, waits for its own children,
 * reports and exits. */
static void hold_and_report(int hold_rd, const char *tag)
{
	char c;

	while (read(hold_rd, &c, 1) > 0)
		;
	while (wait(NULL) > 0)
		;
	wl_report_exit(tag, 0);
}

static void say_ready(int ready_wr)
{
	int pid = getpid();

	if (write(ready_wr, &pid, sizeof(pid)) != sizeof(pid))
		wl_die("write ready");
}

static void child(int i, int ngrand, size_t child_bytes, size_t grand_bytes, int ready_wr, int hold_rd)
{
	wl_anon((size_t)(i + 1) * child_bytes);
	for (int j = 0; j < ngrand; j++) {
		if (wl_fork() == 0) {
			wl_anon((size_t)(j + 1) * grand_bytes);
			say_ready(ready_wr);
			hold_and_report(hold_rd, "grandchild");
		}
	}
	say_ready(ready_wr);
	hold_and_report(hold_rd, "child");
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2, ngrand = argc > 2 ? atoi(argv[2]) : 2;
	size_t parent_bytes = wl_arg_mib(argc, argv, 3, 16);
	size_t child_bytes = wl_arg_mib(argc, argv, 4, 8);
	size_t grand_bytes = wl_arg_mib(argc, argv, 5, 4);
	int ready[2], hold[2], total, pid;
	static char line[MAX_PROCS * 12];
	char *w = line;

	if (n < 0 || ngrand < 0 || n * (ngrand + 1) >= MAX_PROCS)
		wl_die("NCHILD * (NGRAND + 1) must be below 256");
	total = n * (ngrand + 1);
	wl_prefault();
	if (pipe(ready) || pipe(hold))
		wl_die("pipe");
	wl_anon(parent_bytes);
	for (int i = 0; i < n; i++) {
		if (wl_fork() == 0) {
			close(hold[1]);
			close(ready[0]);
			child(i, ngrand, child_bytes, grand_bytes, ready[1], hold[0]);
		}
	}
	close(ready[1]);
	close(hold[0]);
	w += sprintf(w, "@@ready pids=%d", getpid());
	for (int k = 0; k < total; k++) {
		if (read(ready[0], &pid, sizeof(pid)) != sizeof(pid))
			wl_die("read ready");
		w += sprintf(w, ",%d", pid);
	}
	wl_parent_hold(line, hold[1]);
}
