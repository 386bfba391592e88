/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Separate debug info for --stacks' names and CFI: the symbols of a stripped
 * file live in another file, found by libdwfl's standard search (the
 * build-id tree /usr/lib/debug/.build-id/xx/yyyy.debug, then .gnu_debuglink
 * next to the file and under /usr/lib/debug) and, when DEBUGINFOD_URLS is
 * set, asked of those debuginfod servers (libdwfl loads libdebuginfod itself).
 *
 * Bounded, because every libdwfl session (one per file named, one per
 * unwound process) would otherwise ask again, each miss waiting up to
 * DEBUGINFOD_TIMEOUT (libdebuginfod's default: 90 s): each (build id, link)
 * is looked up once per run, misses too, under one lock (the unwinding
 * thread and the summary both look up); after a server fails (a timeout,
 * a refused connection: not a "not found") debuginfod is not asked again
 * in the run; the timeout defaults to DEBUGINFO_TIMEOUT_S. The downloads go to DEBUGINFOD_CACHE_PATH; unset, to
 * DEBUGINFO_ROOT_CACHE as root (not a root-owned directory in the home of
 * whoever ran sudo), to libdebuginfod's own default otherwise.
 */
#ifndef DEBUGINFO_H
#define DEBUGINFO_H

#include <elfutils/libdwfl.h>
#include <stddef.h>

#define DEBUGINFO_TIMEOUT_S "10"
#define DEBUGINFO_ROOT_CACHE "/var/cache/rsstrace/debuginfod"

/* The Dwfl_Callbacks.debuginfo_path of every libdwfl session: NULL (its
 * default, ":.debug:/usr/lib/debug") or with --debug-dir's before it. */
extern char *debuginfo_search_path;

/* Sets the search path (dir: --debug-dir, absolute, or NULL) and the
 * debuginfod variables' defaults (above). Call before any thread starts: it
 * changes the environment. Returns 0 or -ENOMEM. */
int debuginfo_setup(const char *dir);

/* The Dwfl_Callbacks.find_debuginfo of every libdwfl session: libdwfl's
 * standard search, once per (build id, link) and run. */
int debuginfo_find(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
		   const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
		   char **debuginfo_file_name);

/* What debuginfod gave, for the summary. */
struct debuginfo_report {
	const char *urls;	/* DEBUGINFOD_URLS; NULL: not asked */
	size_t asked;		/* lookups that reached debuginfod */
	size_t found;		/* of which answered with a file */
	const char *const *files; /* the files named through it (found of them) */
	int server_error;	/* errno of the failure after which it was not asked */
};

void debuginfo_get_report(struct debuginfo_report *r);

/* Forgets every lookup (the end of a run). */
void debuginfo_reset(void);

#endif
