// SPDX-License-Identifier: GPL-2.0
/*
 * rsstrace: exact, live RSS accounting with eBPF. A table of subcommands, as
 * bpftool has; without one, rsstrace traces a process tree (trace/trace.c).
 */
#include <bpf/libbpf.h>
#include <string.h>

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

int main(int argc, char **argv)
{
	libbpf_set_print(log_libbpf);
	for (size_t i = 0; argc > 1 && i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	return trace_main(argc, argv);
}
