// SPDX-License-Identifier: GPL-2.0
/*
 * rsstrace: exact, live RSS accounting with eBPF. A table of subcommands, as
 * bpftool has; without one, rsstrace traces a process tree (trace/trace.c).
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "serve/serve.h"
#include "top/top.h"
#include "trace/trace.h"

static const struct command {
	const char *name;
	int (*main)(int argc, char **argv); /* argv[0] is the command's name */
} commands[] = {
	{ "top", top_main },
	{ "serve", serve_main },
};

/* A closed standard output (`>&-`) stays a failed write (EBADF), not the
 * first file, socket or BPF map that open() would give fd 1: it is held by
 * a read-only /dev/null. The same for stdin and stderr (serve's log lines
 * would otherwise go to whatever took fd 2: a client's socket). For every
 * command: `top -b >&-` wrote its frames into a BPF object's fd (EINVAL). */
static void hold_closed_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int nfd = open("/dev/null", O_RDONLY);

		if (nfd >= 0 && nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
}

int main(int argc, char **argv)
{
	hold_closed_std_fds();
	libbpf_set_print(log_libbpf);
	for (size_t i = 0; argc > 1 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	return trace_main(argc, argv);
}
