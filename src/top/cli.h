/* SPDX-License-Identifier: GPL-2.0 */
/* The command line of `rsstrace top`. */
#ifndef TOP_CLI_H
#define TOP_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "proc/cgroup_mem.h"

struct top_opts {
	double delay;	      /* -d: seconds between frames */
	uint64_t count;	      /* -n: frames, 0 = until q / Ctrl-C */
	char cgroup[CG_PATH_LEN]; /* -c: the cgroup filter (top_filter), "" = all */
	bool batch;	      /* -b: text frames on stdout */
	bool json;	      /* --json (with -b) */
	bool faults;	      /* false with --no-faults */
	uint64_t map_entries; /* --max-procs */
	bool verbose;	      /* -v */
};

/* What --help prints; the interactive view shows it on '?'. */
extern const char top_help[];

/* Parses argv (argv[0] is "top"). Returns 0 to go on, -1 after --help (exit
 * 0), or EXIT_USAGE after printing one error line and a usage hint. */
int top_parse_options(int argc, char **argv, struct top_opts *o);

#endif
