/* SPDX-License-Identifier: GPL-2.0 */
/* The command line of `rsstrace serve`. */
#ifndef SERVE_CLI_H
#define SERVE_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "serve/listen_addr.h"

struct serve_opts {
	const char *listen;	  /* -l, as given */
	struct listen_addr addr;  /* -l, parsed; loopback unless --allow-remote */
	bool allow_remote;	  /* --allow-remote */
	bool causes;		  /* false with --no-causes */
	double footprint_interval; /* --footprint-interval: seconds between passes, 0 = off */
	uint64_t top_processes;	  /* -n: per-process series, by RSS and by peak */
	uint64_t map_entries;	  /* --max-procs */
	uint64_t cgroup_entries;  /* --max-cgroups */
	const char *user;	  /* --user: run as this user once attached, or NULL */
	bool verbose;		  /* -v */
};

/* Parses argv (argv[0] is "serve"). Returns 0 to go on, -1 after --help
 * (exit 0), or EXIT_USAGE after printing one error line and a usage hint. */
/* The memory --max-procs n takes: in the kernel (the two hash maps it
 * sizes), and in serve's own buffer for reading them. */
uint64_t serve_maps_kernel_bytes(uint64_t n);
uint64_t serve_maps_user_bytes(uint64_t n);

int serve_parse_options(int argc, char **argv, struct serve_opts *o);

#endif
