// SPDX-License-Identifier: GPL-2.0
/* A thread that is not the leader names itself and execs: the process, its
 * pid and its name until then are the leader's ("thread_exec", as /proc shows
 * them), the thread's name ("worker") is its own. Allocates MIB first; the
 * new image (itself, "second") exits 3.
 * usage: thread_exec [MIB=8] */
#include <pthread.h>
#include <sys/prctl.h>
#include "workload.h"

static char **args;

static void *worker(void *unused)
{
	extern char **environ;

	prctl(PR_SET_NAME, "worker");
	wl_sys3(SYS_execve, (long)"/proc/self/exe", (long)args, (long)environ);
	wl_die("execve");
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	if (argc > 1 && !strcmp(argv[1], "second"))
		return 3;
	wl_anon(wl_arg_mib(argc, argv, 1, 8));
	args = (char *[]){ argv[0], "second", NULL };
	if (pthread_create(&t, NULL, worker, NULL))
		wl_die("pthread_create");
	pthread_join(t, NULL); /* execve ends this thread */
	wl_die("still here");
}
