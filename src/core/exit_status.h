/* SPDX-License-Identifier: GPL-2.0 */
/* rsstrace's exit statuses, shared by every subcommand (documented in --help
 * and docs/man/rsstrace.8.md). Under `-- CMD` the status is otherwise CMD's own. */
#ifndef EXIT_STATUS_H
#define EXIT_STATUS_H

#define EXIT_FAIL 1	       /* rsstrace itself failed */
#define EXIT_USAGE 2	       /* bad command line */
#define EXIT_OUTPUT_FAILED 98  /* an output could not be written (said on stderr) */
#define EXIT_OVER_BUDGET 99    /* --max-rss exceeded */
#define EXIT_OUTPUT_CLOSED 141 /* the output pipe's reader went away (128 + SIGPIPE) */
#define EXIT_CMD_NOEXEC 126    /* CMD found but not executable */
#define EXIT_CMD_NOTFOUND 127  /* CMD not found */

#endif
