/* SPDX-License-Identifier: GPL-2.0 */
/* Checks before loading anything: privileges and kernel BTF. */
#ifndef PREFLIGHT_H
#define PREFLIGHT_H

/* Returns 0, or EXIT_FAIL after one error line saying what to do. */
int preflight(void);

/* Refuses (EXIT_FAIL, one line) to trace from a PID namespace other than
 * the initial one, whose PIDs are not those BPF sees. */
int preflight_pid_namespace(void);

#endif
