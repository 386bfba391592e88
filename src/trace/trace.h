/* SPDX-License-Identifier: GPL-2.0 */
/* `rsstrace [OPTIONS] -- CMD` and `rsstrace [OPTIONS] -p PID`: trace a process
 * tree until it ends, then print its rows and summary. */
#ifndef TRACE_H
#define TRACE_H

/* Returns the exit status (CMD's own, or one of core/exit_status.h). */
int trace_main(int argc, char **argv);

#endif
