/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output files (-o, --csv, --svg, --folded) opened as root safely, and their
 * write errors turned into one line and an exit status.
 *
 * The rule (docs/man/rsstrace.8.md, FILES): an output path is refused when
 *  - it is a symbolic link that someone else could have placed: one not owned
 *    by root or by us, or one in a directory that others can write (so
 *    /dev/stdout is fine, a link in /tmp or in a user's home is not);
 *  - it is an existing file or FIFO in a sticky directory that others can
 *    write (/tmp) and belongs neither to us nor to the directory's owner
 *    (the kernel's fs.protected_regular, done by hand so that it holds
 *    whatever the sysctl says).
 * A new file is created with O_EXCL. An existing regular file is not
 * truncated when it is opened, only when the run really begins
 * (output_file_commit), so a run that fails early leaves it as it was.
 *
 * Writes go through a stream that retries a write(2) cut by a signal (a
 * signal never cuts a line in two) and keeps the errno of the first write
 * that failed, for the one line that says why.
 */
#ifndef OUTPUT_FILE_H
#define OUTPUT_FILE_H

#include <stdbool.h>
#include <stdio.h>

struct output_file {
	const char *path; /* "standard output" for output_file_stdout */
	FILE *f;	  /* writes through this object: keep it in place */
	int fd;
	int err;	/* errno of the first write that failed, 0 if none */
	bool own_fd;	/* closed with f (not standard output's) */
	bool created;	/* we created it: removed again if the run never begins */
	bool committed; /* truncated, written to */
	bool discard;	/* closed before the run began: nothing is written */
};

/* Opens path for writing under the rule above. Returns 0, or -errno with
 * *why set to a short reason ("is a symbolic link in /tmp, which others can
 * write", or strerror's). */
int output_file_open(struct output_file *of, const char *path, const char **why);

/* Standard output through the same kind of stream (fd 1 is not closed). */
int output_file_stdout(struct output_file *of);

/* The run begins: truncates an existing regular file. Returns 0 or -errno. */
int output_file_commit(struct output_file *of);

/* Closes it; a file we created and never committed is removed. Returns 0,
 * or the errno of the first failed write, flush or close. */
int output_file_close(struct output_file *of);

/* Whether two output paths name the same file (after symlinks and "..",
 * by device and inode where it exists). */
bool output_same_file(const char *a, const char *b);

/* Flushes it; returns 0, or the errno of the first write that failed. */
int output_file_flush(struct output_file *of);

#endif
