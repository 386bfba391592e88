// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark workloads, driven block by block so that a harness can switch a
 * tracer on and off between blocks (bench/bench.py).
 *
 *   storm KIND [IDLE [THREADS]]    KIND: anon | file | cow | procs
 *
 * Reads a number N per line on stdin, runs N iterations, and answers
 * "<elapsed ns>" on stdout. IDLE > 0 first forks that many idle children
 * (tracing cost must not grow with the number of traced processes).
 * THREADS > 1 (anon only): that many threads of the one address space, thread
 * i pinned to online CPU i (mod their number), each run N iterations at once.
 *
 *   anon   mmap 4 MiB, write every page, munmap        (1024 faults, 2 events/iter+)
 *   file   mmap 4 MiB of a cached file, read every page, munmap
 *   cow    fork; the child writes 2 MiB of a shared 4 MiB region; exit; wait
 *   procs  fork; the child touches 64 KiB; exit; wait
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024)
#define REGION (4 * MIB)

static char *shared;
static int file_fd = -1;

static void die(const char *what)
{
	fprintf(stderr, "storm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void touch(char *p, size_t bytes, int write)
{
	volatile char sink = 0;

	for (size_t i = 0; i < bytes; i += 4096) {
		if (write)
			p[i] = 1;
		else
			sink = p[i];
	}
	(void)sink;
}

static void iter_anon(void)
{
	char *p = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	/* 4 KiB pages whatever the THP setting: in the 6.12 guest (THP "always")
	 * the region took 2 huge-page faults, a few events per iteration, not 1024 */
	madvise(p, REGION, MADV_NOHUGEPAGE);
	touch(p, REGION, 1);
	munmap(p, REGION);
}

static void iter_file(void)
{
	char *p = mmap(NULL, REGION, PROT_READ, MAP_PRIVATE, file_fd, 0);

	if (p == MAP_FAILED)
		die("mmap file");
	touch(p, REGION, 0);
	munmap(p, REGION);
}

static void iter_fork(size_t child_bytes, int use_shared)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		if (use_shared) {
			touch(shared, child_bytes, 1);
		} else {
			char *p = mmap(NULL, child_bytes, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p != MAP_FAILED)
				touch(p, child_bytes, 1);
		}
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

static void setup_file(void)
{
	char path[] = "/tmp/storm-file-XXXXXX";
	char *buf = calloc(1, MIB);

	file_fd = mkstemp(path);
	if (file_fd < 0 || !buf)
		die("mkstemp");
	unlink(path);
	for (int i = 0; i < 4; i++)
		if (write(file_fd, buf, MIB) != (ssize_t)MIB)
			die("write");
	free(buf);
}

struct anon_thread {
	pthread_t tid;
	int cpu;
	long iters;
};

static void *run_anon_thread(void *arg)
{
	struct anon_thread *t = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	/* best effort: with fewer online CPUs than threads they share */
	sched_setaffinity(0, sizeof(set), &set);
	for (long i = 0; i < t->iters; i++)
		iter_anon();
	return NULL;
}

/* THREADS threads of this address space run n anon iterations each. */
static void anon_threads(int threads, long n)
{
	struct anon_thread t[64];
	long online = sysconf(_SC_NPROCESSORS_ONLN);

	for (int i = 0; i < threads; i++) {
		t[i] = (struct anon_thread){ .cpu = (int)(i % (online > 0 ? online : 1)), .iters = n };
		if (pthread_create(&t[i].tid, NULL, run_anon_thread, &t[i]))
			die("pthread_create");
	}
	for (int i = 0; i < threads; i++)
		pthread_join(t[i].tid, NULL);
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "anon";
	long idle = argc > 2 ? atol(argv[2]) : 0;
	int threads = argc > 3 ? atoi(argv[3]) : 1;
	char line[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (threads < 1 || threads > 64 || (threads > 1 && strcmp(kind, "anon"))) {
		fprintf(stderr, "storm: THREADS must be 1-64, and above 1 only for anon\n");
		return 2;
	}
	signal(SIGCHLD, SIG_DFL);
	for (long i = 0; i < idle; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork idle");
		if (pid == 0) {
			/* idle until the parent goes away */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
	}
	if (!strcmp(kind, "file"))
		setup_file();
	shared = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		die("mmap shared");
	touch(shared, REGION, 1);
	printf("ready %d\n", getpid());
	while (fgets(line, sizeof(line), stdin)) {
		long n = atol(line);
		unsigned long long t0 = now_ns();

		if (threads > 1)
			anon_threads(threads, n);
		for (long i = 0; threads == 1 && i < n; i++) {
			if (!strcmp(kind, "anon"))
				iter_anon();
			else if (!strcmp(kind, "file"))
				iter_file();
			else if (!strcmp(kind, "cow"))
				iter_fork(2 * MIB, 1);
			else
				iter_fork(64 * 1024, 0);
		}
		printf("%llu\n", now_ns() - t0);
	}
	return 0; /* the idle children die with us (PR_SET_PDEATHSIG) */
}
