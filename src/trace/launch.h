/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Start CMD so that it is traced from its first instruction: the child is
 * forked, waits at a gate until the loader has marked its pid as traced, then
 * execs. An exec failure comes back through a close-on-exec pipe.
 */
#ifndef LAUNCH_H
#define LAUNCH_H

#include <sys/types.h>

struct launch {
	pid_t pid;
	int gate_fd; /* write end: one byte opens the gate */
	int err_fd;  /* read end: errno of a failed exec, or EOF on success */
};

/* Forks the gated child. Returns 0 or -errno. */
int launch_prepare(char **argv, struct launch *l);

/* Opens the gate and waits for the exec. Returns 0 if CMD is running, or the
 * errno of the failed exec (the child has then exited with 126/127). */
int launch_release(struct launch *l);

/* Kills a child that never got its gate opened (setup failed). */
void launch_abort(struct launch *l);

#endif
