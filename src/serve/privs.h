/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What `rsstrace serve` keeps once its BPF programs are loaded and attached:
 * no capability (CAP_BPF on kernels that refuse map reads without it;
 * CAP_SYS_PTRACE with --footprint-interval),
 * optionally another user, and no way back (no_new_privs). See privs.c for
 * why nothing more is needed.
 */
#ifndef SERVE_PRIVS_H
#define SERVE_PRIVS_H

#include <stdbool.h>
#include <sys/types.h>

struct serve_user {
	bool set;	/* --user given */
	uid_t uid;
	gid_t gid;
};

/* --user NAME (or a numeric uid) to ids. Returns 0, or -1 after one error line. */
int serve_user_lookup(const char *name, struct serve_user *out);

/* Drops every capability (effective, permitted, inheritable, ambient and,
 * if it may, the bounding set) but CAP_BPF where reading map_fd needs it
 * (map_fd < 0: no map to read) and CAP_SYS_PTRACE if keep_ptrace (the
 * footprint reader, rollup_reader.h), switches to u if set, and sets
 * no_new_privs.
 * Only the calling thread: call it before any other thread is started.
 * Returns 0, or -1 after one error line. */
int serve_drop_privileges(const struct serve_user *u, int map_fd, bool keep_ptrace);

#endif
