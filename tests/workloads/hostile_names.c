// SPDX-License-Identifier: GPL-2.0
/* Processes with names chosen to attack whoever prints them (issue 15,
 * tests/test_hostile_names.py). For each NAME, a child that execs itself
 * with NAME as argv[0] (the command line) and sets its comm to NAME with
 * prctl(PR_SET_NAME), then touches 1 MiB.
 *   once: each child exits at once; the parent waits for them all
 *   hold: each child says "ready" on stdout, then waits until stdin closes
 * usage: hostile_names once|hold NAME... */
#include "workload.h"
#include <sys/prctl.h>
#include <sys/wait.h>

static int child(const char *name, const char *mode)
{
	char c, *p;

	if (prctl(PR_SET_NAME, name, 0, 0, 0))
		wl_die("prctl");
	p = mmap(NULL, MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		wl_die("mmap");
	memset(p, 1, MIB);
	if (!strcmp(mode, "hold")) {
		if (write(1, "ready\n", 6) != 6)
			wl_die("write");
		while (read(0, &c, 1) > 0)
			;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int status, failed = 0;

	if (argc == 3 && !strcmp(argv[1], "--child"))
		return child(argv[0], argv[2]);
	if (argc < 3 || (strcmp(argv[1], "once") && strcmp(argv[1], "hold"))) {
		fprintf(stderr, "usage: hostile_names once|hold NAME...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (wl_fork() == 0) {
			char *args[] = { argv[i], "--child", argv[1], NULL };

			execv("/proc/self/exe", args);
			wl_die("execv");
		}
	}
	while (wait(&status) > 0)
		failed |= !WIFEXITED(status) || WEXITSTATUS(status);
	return failed;
}
