// SPDX-License-Identifier: GPL-2.0
/* NTHREADS threads of one address space, thread i pinned to online CPU i (mod
 * their number), fault and free PAGES pages each, ROUNDS times: every round
 * they all map and touch their pages at once, hold them (a barrier: the
 * address space's peak is base + NTHREADS * PAGES, reached exactly then), and
 * unmap them. Reports /proc/self/status as "base" before the first round and
 * as "end" after the last (the same anon: every round frees what it took).
 * usage: churn_threads [NTHREADS=2] [ROUNDS=10000] [PAGES=64] */
#include "workload.h"
#include <pthread.h>
#include <sched.h>

static pthread_barrier_t warm, go, hold, freed, done;
static long rounds;
static size_t bytes;

static void round_trip(void)
{
	char *p = wl_anon(bytes);

	pthread_barrier_wait(&hold);
	munmap(p, bytes);
	pthread_barrier_wait(&freed);
}

static void *run(void *arg)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET((int)((long)arg % (online > 0 ? online : 1)), &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		wl_die("sched_setaffinity");
	/* one round before "base": this thread's stack, libc's pages and the
	 * page tables of the area are in place, so rounds change only anon */
	round_trip();
	pthread_barrier_wait(&warm);
	pthread_barrier_wait(&go);
	for (long r = 0; r < rounds; r++)
		round_trip();
	pthread_barrier_wait(&done);
	/* stay until the process exits, faulting nothing (see threads.c) */
	for (;;)
		wl_sys3(SYS_pause, 0, 0, 0);
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2;
	pthread_t tid;

	rounds = argc > 2 ? atol(argv[2]) : 10000;
	bytes = (argc > 3 ? strtoul(argv[3], NULL, 10) : 64) * 4096;
	if (n < 1 || n > 64 || rounds < 1 || !bytes)
		return 2;
	wl_prefault();
	pthread_barrier_init(&hold, NULL, n);
	pthread_barrier_init(&freed, NULL, n);
	pthread_barrier_init(&warm, NULL, n + 1);
	pthread_barrier_init(&go, NULL, n + 1);
	pthread_barrier_init(&done, NULL, n + 1);
	for (long i = 0; i < n; i++)
		if (pthread_create(&tid, NULL, run, (void *)i))
			wl_die("pthread_create");
	pthread_barrier_wait(&warm);
	wl_report("base");
	pthread_barrier_wait(&go);
	pthread_barrier_wait(&done);
	wl_report_exit("end", 0);
}
