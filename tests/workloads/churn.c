// SPDX-License-Identifier: GPL-2.0
/* N short-lived children, PAR at a time, each touching KB of fresh memory and
 * exiting; reports how many it started. usage: churn [N=10000] [PAR=4] [KB=64] */
#include "workload.h"
#include <sys/wait.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 10000;
	int par = argc > 2 ? atoi(argv[2]) : 4;
	size_t bytes = (argc > 3 ? strtoul(argv[3], NULL, 10) : 64) * 1024;
	long started = 0, running = 0, failed = 0;
	int status;

	while (started < n || running) {
		while (running < par && started < n) {
			pid_t pid = wl_fork();

			if (pid == 0) {
				char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

				for (size_t i = 0; p != MAP_FAILED && i < bytes; i += 4096)
					p[i] = 1;
				_exit(0);
			}
			started++;
			running++;
		}
		if (wait(&status) > 0) {
			running--;
			failed += !WIFEXITED(status) || WEXITSTATUS(status);
		}
	}
	printf("churn started=%ld failed=%ld\n", started, failed);
	return failed != 0;
}
