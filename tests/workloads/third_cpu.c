// SPDX-License-Identifier: GPL-2.0
/* An address space whose events ran on two CPUs gets events on a third: the
 * main thread, pinned to online CPU 0, faults a page; a thread on CPU 1
 * faults one; then a thread on CPU 2 faults PAGES pages and holds them, the
 * address space's anon peak, reported as "peak". It frees them, and the
 * process reports "end". rsstrace reads an address space on one or two CPUs
 * inline (bpf/lib/mm_counters.bpf.h read_inline()); the third CPU's events
 * must leave that read, which does not take the third CPU's delta.
 * It first pins itself to CPU 0 and execs itself again: the new address
 * space's events then begin on CPU 0 only (exec's balancing, and the
 * scheduler before the pin, had put them on other CPUs of a 40-CPU guest,
 * whose list was longer than two before the third CPU came).
 * Needs 3 online CPUs, numbered 0-2 (exit 2 otherwise).
 * usage: third_cpu [PAGES=1000] */
#include "workload.h"
#include <pthread.h>
#include <sched.h>

static size_t bytes;

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		wl_die("sched_setaffinity");
}

static void *one_page(void *arg)
{
	(void)arg;
	pin(1);
	wl_anon(4096);
	return NULL;
}

static void *spike(void *arg)
{
	char *p;

	(void)arg;
	pin(2);
	p = wl_anon(bytes);
	wl_report("peak");
	munmap(p, bytes);
	return NULL;
}

/* Each thread starts on CPU 0 (the affinity it inherits), then moves. */
static void run_thread(void *(*fn)(void *))
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, NULL) || pthread_join(t, NULL))
		wl_die("pthread");
}

int main(int argc, char **argv)
{
	const char *pages = argc > 1 ? argv[1] : "1000";

	bytes = strtoul(pages, NULL, 10) * 4096;
	if (!bytes || sysconf(_SC_NPROCESSORS_ONLN) < 3)
		return 2;
	if (argc < 3) {
		pin(0);
		execl("/proc/self/exe", argv[0], pages, "pinned", (char *)NULL);
		wl_die("execl");
	}
	wl_prefault();
	wl_anon(4096);
	run_thread(one_page);
	run_thread(spike);
	wl_report_exit("end", 0);
}
