/* SPDX-License-Identifier: GPL-2.0 */
/* What user space needs from /proc about a process, before attaching. */
#ifndef PROC_STATUS_H
#define PROC_STATUS_H

#include <stdbool.h>
#include <stddef.h>

/* Parse the text of /proc/PID/stat: ppid and flags (comm may hold spaces and
 * parentheses, so fields are counted from the last ')'). Returns 0 or -1. */
int parse_proc_stat(const char *text, int *ppid, unsigned long *flags);

/* Value of "Key:" in the text of /proc/PID/status (e.g. "Tgid", "VmHWM").
 * Returns 0 and the number (kB for sizes), or -1 if absent or malformed. */
int parse_status_field(const char *text, const char *key, long long *val);

/* Reads /proc/PID/<name> into buf. Returns bytes read, or -1 with errno set. */
long read_proc_file(int pid, const char *name, char *buf, size_t len);

/* Classify a pid given on the command line. */
enum pid_kind {
	PID_GONE = 0,	/* no such process */
	PID_USER = 1,	/* a user process: *tgid is its thread group */
	PID_KTHREAD = 2, /* a kernel thread: no address space */
	PID_ZOMBIE = 3,	/* exited, not yet reaped */
};
enum pid_kind classify_pid(int pid, int *tgid);

/* Whether we run in a PID namespace other than the initial one (a
 * container): our PIDs are then not the kernel's, which BPF sees. */
bool in_child_pid_namespace(void);

#endif
