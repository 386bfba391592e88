/* SPDX-License-Identifier: GPL-2.0 */
/* Stopping cleanly on SIGINT or SIGTERM, for the subcommands that run until
 * asked to stop (top, serve): the handler only records the signal; the main
 * loop tests it and tears down as on any other exit. */
#ifndef STOP_SIGNAL_H
#define STOP_SIGNAL_H

/* Installs the handler for SIGINT and SIGTERM, and ignores SIGPIPE (a closed
 * output is then a write error, which the caller reports). */
void stop_on_signals(void);

/* The signal that asked to stop, 0 while none has. */
int stop_requested(void);

#endif
