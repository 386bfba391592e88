// SPDX-License-Identifier: GPL-2.0
/*
 * The demo workload of `make demo`: a small "build" that shows what rsstrace
 * sees and a poller does not. A parent loads a 64 MiB table, forks 4 workers
 * that share it copy-on-write (each dirtying a part), and each worker has a
 * 40 ms, 128 MiB scratch spike before it exits. Then one more step execs.
 */
#include "workload.h"
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	char *table;

	if (argc > 1 && !strcmp(argv[1], "link")) { /* the exec'd last step */
		prctl(PR_SET_NAME, "demo-link");
		wl_anon(24 * MIB);
		sleep_ms(100);
		return 0;
	}
	table = wl_anon(64 * MIB);
	for (int i = 0; i < 4; i++) {
		pid_t pid = wl_fork();

		if (pid == 0) {
			char name[16];

			snprintf(name, sizeof(name), "demo-worker%d", i + 1);
			prctl(PR_SET_NAME, name);
			for (size_t off = 0; off < (size_t)(i + 1) * 8 * MIB; off += 4096)
				table[off] = 3; /* copy-on-write */
			sleep_ms(50 * i);
			char *scratch = wl_anon(128 * MIB);

			sleep_ms(40);
			munmap(scratch, 128 * MIB);
			sleep_ms(100);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	munmap(table, 64 * MIB);
	execl("/proc/self/exe", argv[0], "link", (char *)NULL);
	wl_die("exec");
}
