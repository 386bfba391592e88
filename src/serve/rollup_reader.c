// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "serve/rollup_reader.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "proc/smaps_rollup.h"

/* MSG_NOSIGNAL: a reader that died is an error to report, not a SIGPIPE
 * that ends serve. */
static int full_io(int fd, void *buf, size_t len, bool writing)
{
	char *p = buf;

	while (len) {
		ssize_t n = writing ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The reader's loop: one request at a time until serve closes its end. */
static void serve_requests(int fd)
{
	uint32_t n, pid;
	struct smaps_rollup s;
	int64_t pss;

	while (!full_io(fd, &n, sizeof(n), false) && n <= ROLLUP_READER_MAX) {
		for (uint32_t i = 0; i < n; i++) {
			if (full_io(fd, &pid, sizeof(pid), false))
				return;
			pss = read_smaps_rollup((int)pid, &s) ? -1 : s.pss;
			if (full_io(fd, &pss, sizeof(pss), true))
				return;
		}
	}
}

int rollup_reader_start(struct rollup_reader *r, const struct serve_user *u)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		elog("serve: cannot start the footprint reader: %s", strerror(errno));
		return -1;
	}
	r->pid = fork();
	if (r->pid < 0) {
		elog("serve: cannot start the footprint reader: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (r->pid == 0) {
		/* nothing of serve's: its socket on fd 3, every other fd closed
		 * (the BPF objects, the listening socket) */
		if (dup2(sv[1], 3) != 3 || syscall(SYS_close_range, 4, ~0U, 0) ||
		    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) || getppid() == 1 ||
		    serve_drop_privileges(u, -1, true))
			_exit(1);
		serve_requests(3);
		_exit(0);
	}
	close(sv[1]);
	r->fd = sv[0];
	return 0;
}

int rollup_reader_pss(struct rollup_reader *r, const uint32_t *pids, uint32_t n, int64_t *pss_kb)
{
	int err = full_io(r->fd, &n, sizeof(n), true);

	/* one pid out, one answer back: the socket buffers never fill */
	for (uint32_t i = 0; !err && i < n; i++) {
		err = full_io(r->fd, (void *)&pids[i], sizeof(*pids), true);
		if (!err)
			err = full_io(r->fd, &pss_kb[i], sizeof(*pss_kb), false);
	}
	return err;
}

void rollup_reader_stop(struct rollup_reader *r)
{
	if (r->pid <= 0)
		return;
	close(r->fd);
	waitpid(r->pid, NULL, 0);
	r->pid = 0;
}
