// SPDX-License-Identifier: GPL-2.0
/* A process that renames itself (prctl PR_SET_NAME) after its exec, then
 * exits while its address space lives on in a clone(CLONE_VM) child of
 * another thread group: the address space ends in that child, not in the
 * process that named it (tests/test_rename.py). The child ends it once the
 * process has exited (a pipe only the process could write to closes).
 * usage: rename_late NAME MIB */
#include "workload.h"
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>

static int pipe_fds[2];
static char child_stack[64 << 10];

static int keep_the_address_space(void *arg)
{
	char c;

	close(pipe_fds[1]);
	while (read(pipe_fds[0], &c, 1) > 0) /* 0: the process exited */
		;
	_exit(0);
}

int main(int argc, char **argv)
{
	unsigned long mib;
	char *p;

	if (argc != 3 || !(mib = strtoul(argv[2], NULL, 10))) {
		fprintf(stderr, "usage: rename_late NAME MIB\n");
		return 2;
	}
	p = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		wl_die("mmap");
	memset(p, 1, mib * MIB);
	if (prctl(PR_SET_NAME, argv[1], 0, 0, 0))
		wl_die("prctl");
	if (pipe(pipe_fds))
		wl_die("pipe");
	if (clone(keep_the_address_space, child_stack + sizeof(child_stack), CLONE_VM | SIGCHLD, NULL) < 0)
		wl_die("clone");
	close(pipe_fds[0]);
	return 0; /* exit without waiting: the child, reparented, ends the address space */
}
