/* SPDX-License-Identifier: GPL-2.0 */
/* Checks before loading anything: privileges and kernel BTF. */
#ifndef PREFLIGHT_H
#define PREFLIGHT_H

/* Returns 0, or EXIT_FAIL after one error line saying what to do. */
int preflight(void);

#endif
