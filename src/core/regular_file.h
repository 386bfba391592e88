/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Opening files that traced processes name (the paths of their mappings, in
 * /proc/PID/maps or the kernel's mmap records) for reading, as root: a
 * process can put a FIFO or a device where its mapped file was (renamed over
 * it, or named "PATH (deleted)" as /proc shows a mapping whose file is gone),
 * and a plain open() of a FIFO blocks until a writer comes: rsstrace would
 * hang. Only regular files are opened, and the open never blocks.
 */
#ifndef CORE_REGULAR_FILE_H
#define CORE_REGULAR_FILE_H

/* A read-only, close-on-exec descriptor of path if it is a regular file;
 * else -1 with errno set (EINVAL: it is something else). */
int open_regular_file(const char *path);

#endif
