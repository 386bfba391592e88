// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "trace/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/exit_status.h"

static void child(char **argv, int gate_rd, int err_wr)
{
	char c;
	int err;

	/* rsstrace ignores SIGPIPE; CMD must get the default back */
	signal(SIGPIPE, SIG_DFL);
	if (read(gate_rd, &c, 1) != 1)
		_exit(EXIT_FAIL); /* the loader gave up */
	close(gate_rd);
	execvp(argv[0], argv);
	err = errno;
	if (write(err_wr, &err, sizeof(err)) < 0)
		_exit(EXIT_FAIL);
	_exit(err == ENOENT ? EXIT_CMD_NOTFOUND : EXIT_CMD_NOEXEC);
}

int launch_prepare(char **argv, struct launch *l)
{
	int gate[2], errp[2];

	if (pipe2(gate, O_CLOEXEC))
		return -errno;
	if (pipe2(errp, O_CLOEXEC)) {
		int err = -errno;

		close(gate[0]);
		close(gate[1]);
		return err;
	}
	l->pid = fork();
	if (l->pid < 0) {
		int err = -errno;

		close(gate[0]);
		close(gate[1]);
		close(errp[0]);
		close(errp[1]);
		return err;
	}
	if (l->pid == 0) {
		close(gate[1]);
		close(errp[0]);
		child(argv, gate[0], errp[1]);
	}
	close(gate[0]);
	close(errp[1]);
	l->gate_fd = gate[1];
	l->err_fd = errp[0];
	return 0;
}

int launch_release(struct launch *l)
{
	char c = 1;
	int err = 0;
	ssize_t n;

	if (write(l->gate_fd, &c, 1) != 1)
		err = errno;
	close(l->gate_fd);
	if (err)
		return err;
	do
		n = read(l->err_fd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(l->err_fd);
	return n == sizeof(err) ? err : 0;
}

void launch_abort(struct launch *l)
{
	close(l->gate_fd); /* the child reads EOF and exits */
	close(l->err_fd);
	waitpid(l->pid, NULL, 0);
}
