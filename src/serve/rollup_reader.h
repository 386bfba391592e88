/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --footprint-interval's reader: a process of its own that reads
 * /proc/PID/smaps_rollup for serve. Opening another process's smaps_rollup
 * is a ptrace read check that needs CAP_SYS_PTRACE (privs.c), a capability
 * that allows ptrace(2) of any process: kept here, in a child that does
 * nothing else (no HTTP, no BPF descriptor, no_new_privs), so that serve
 * itself — whose HTTP thread parses what any client sends — still holds no
 * capability.
 *
 * Protocol over a socket pair: serve sends a count n then n pids (uint32);
 * the reader answers n PSS values in kB (int64, -1: unreadable). It exits
 * when serve closes its end, and is killed if serve dies.
 */
#ifndef SERVE_ROLLUP_READER_H
#define SERVE_ROLLUP_READER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "serve/privs.h"

#define ROLLUP_READER_MAX (1U << 22) /* pids per request: --max-procs's limit */

struct rollup_reader {
	pid_t pid;
	int fd;
};

/* Starts the reader, running as u (if set) with CAP_SYS_PTRACE alone.
 * Call while still privileged, before any other thread exists. Returns 0,
 * or -1 after one error line. */
int rollup_reader_start(struct rollup_reader *r, const struct serve_user *u);

/* PSS in kB of each pid into pss_kb (-1: gone or unreadable). Returns 0 or
 * -errno (the reader died). */
int rollup_reader_pss(struct rollup_reader *r, const uint32_t *pids, uint32_t n, int64_t *pss_kb);

/* Closes its end; waits for the reader to exit. */
void rollup_reader_stop(struct rollup_reader *r);

#endif
