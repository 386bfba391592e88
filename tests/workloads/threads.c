// SPDX-License-Identifier: GPL-2.0
/* NTHREADS threads fault MIB each at the same moment (one address space).
 * usage: threads [NTHREADS=4] [MIB=16] */
#include "workload.h"
#include <pthread.h>

static pthread_barrier_t start, done;
static size_t bytes;

static void *run(void *arg)
{
	pthread_barrier_wait(&start);
	wl_anon(bytes);
	pthread_barrier_wait(&done);
	/* stay until the process exits: a thread exiting on its own after the
	 * report would change the counters (up to 6.1 it folds its cached RSS
	 * changes into the mm when it exits). Nor may it fault again: up to 6.1
	 * a fault folds the cache once it counted 64 events, and libc's pause()
	 * called for the first time here faulted its text in after the report
	 * (a 5.10 guest saw the row 64 anon pages above the report) */
	for (;;)
		wl_sys3(SYS_pause, 0, 0, 0);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t tid[64];

	bytes = wl_arg_mib(argc, argv, 2, 16);
	if (n < 1 || n > 64)
		return 2;
	wl_prefault();
	pthread_barrier_init(&start, NULL, n);
	pthread_barrier_init(&done, NULL, n + 1);
	for (int i = 0; i < n; i++)
		if (pthread_create(&tid[i], NULL, run, NULL))
			wl_die("pthread_create");
	pthread_barrier_wait(&done); /* all threads have faulted, all still alive */
	wl_report_exit("threads", 0);
}
