// SPDX-License-Identifier: GPL-2.0
/* Output files opened safely as root; their write errors (core/output_file.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/output_file.h"

/* The directory that holds path's last component. */
static void parent_dir(const char *path, char *dir, size_t size)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(dir, size, "%s", dirname(copy));
}

static bool trusted_uid(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* Others than root and us can add or replace entries in it. */
static bool others_can_write(const struct stat *dir)
{
	return !trusted_uid(dir->st_uid) || (dir->st_mode & (S_IWGRP | S_IWOTH));
}

/* A symlink is followed only if no one but root or us could have placed it. */
static int check_symlink(const char *path, const struct stat *lst, const char **why)
{
	char dir[PATH_MAX];
	struct stat dst;

	if (!trusted_uid(lst->st_uid)) {
		*why = "is a symbolic link owned by another user (refused: it could point anywhere)";
		return -ELOOP;
	}
	parent_dir(path, dir, sizeof(dir));
	if (stat(dir, &dst)) {
		*why = strerror(errno);
		return -errno;
	}
	if (others_can_write(&dst)) {
		*why = "is a symbolic link in a directory that others can write (refused: it could point anywhere)";
		return -ELOOP;
	}
	return 0;
}

/* fs.protected_regular by hand: an existing file in a sticky directory that
 * others can write must be ours or the directory owner's (and not a second
 * name of another file). */
static int check_existing(const char *path, const struct stat *st, const char **why)
{
	char dir[PATH_MAX];
	struct stat dst;

	if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode))
		return 0;
	parent_dir(path, dir, sizeof(dir));
	if (stat(dir, &dst)) {
		*why = strerror(errno);
		return -errno;
	}
	if (!(dst.st_mode & S_ISVTX) || !(dst.st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	if (st->st_uid != geteuid() && st->st_uid != dst.st_uid) {
		*why = "belongs to another user, in a sticky directory that others can write (like /tmp)";
		return -EACCES;
	}
	if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
		*why = "has other hard links, in a sticky directory that others can write (like /tmp)";
		return -EACCES;
	}
	return 0;
}

static int open_fd(struct output_file *of, const char *path, const char **why)
{
	const int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY;
	struct stat lst, st;
	int fd, err;

	/* twice at most: a name that appears or changes kind meanwhile is looked at again */
	for (int tries = 0; tries < 2; tries++) {
		if (lstat(path, &lst)) {
			if (errno != ENOENT)
				break;
			fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW, 0666);
			if (fd >= 0) {
				of->created = true;
				return fd;
			}
			if (errno == EEXIST)
				continue;
			break;
		}
		if (S_ISLNK(lst.st_mode)) {
			err = check_symlink(path, &lst, why);
			if (err)
				return err;
			fd = open(path, flags);
		} else {
			fd = open(path, flags | O_NOFOLLOW);
			if (fd < 0 && errno == ELOOP)
				continue;
		}
		if (fd < 0)
			break;
		err = fstat(fd, &st) ? -errno : check_existing(path, &st, why);
		if (err) {
			if (!*why)
				*why = strerror(-err);
			close(fd);
			return err;
		}
		return fd;
	}
	err = errno ? errno : EAGAIN;
	*why = strerror(err);
	return -err;
}

static int truncate_regular(struct output_file *of)
{
	struct stat st;

	if (fstat(of->fd, &st) || !S_ISREG(st.st_mode))
		return 0;
	return ftruncate(of->fd, 0);
}

static ssize_t stream_write(void *cookie, const char *buf, size_t size)
{
	struct output_file *of = cookie;
	size_t done = 0;

	if (of->discard)
		return (ssize_t)size;
	/* data can only go out once the run has begun (not before a flush
	 * that output_file_commit would truncate away) */
	if (!of->committed && output_file_commit(of) && !of->err)
		of->err = errno;
	while (done < size) {
		ssize_t n = write(of->fd, buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue; /* a signal: the line goes out whole all the same */
		if (n <= 0) {
			if (!of->err)
				of->err = n < 0 ? errno : EIO;
			errno = of->err;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int stream_close(void *cookie)
{
	struct output_file *of = cookie;

	if (of->own_fd && close(of->fd) && errno != EINTR) {
		if (!of->err)
			of->err = errno;
		return -1;
	}
	return 0;
}

static int make_stream(struct output_file *of, int fd)
{
	static const cookie_io_functions_t io = { .write = stream_write, .close = stream_close };

	of->fd = fd;
	of->f = fopencookie(of, "w", io);
	if (!of->f)
		return -errno;
	if (isatty(fd))
		setvbuf(of->f, NULL, _IOLBF, 0);
	return 0;
}

/* "-" and /dev/stdout name standard output, /dev/stderr standard error: the
 * descriptor itself, as bash and gawk take them, whatever /dev holds: in
 * virtme-ng guests /dev/stdout is a link to the console's virtio port
 * (/dev/virtio-ports/virtme.dev_stdout), not to /proc/self/fd/1, so opening
 * it sent the output past a pipe to the console; and reopening
 * /proc/self/fd/1 would start at offset 0 of a file the shell opened to
 * append to, and truncate it. Returns the descriptor, or -1 for any other
 * path. */
static int standard_fd(const char *path)
{
	if (!strcmp(path, "-") || !strcmp(path, "/dev/stdout"))
		return STDOUT_FILENO;
	if (!strcmp(path, "/dev/stderr"))
		return STDERR_FILENO;
	return -1;
}

int output_file_open(struct output_file *of, const char *path, const char **why)
{
	int fd = standard_fd(path), err;

	*why = NULL;
	if (fd >= 0) {
		*of = (struct output_file){ .path = path, .committed = true };
		err = make_stream(of, fd);
		if (err)
			*why = strerror(-err);
		return err;
	}
	*of = (struct output_file){ .path = path, .own_fd = true };
	fd = open_fd(of, path, why);
	if (fd < 0)
		return fd;
	err = make_stream(of, fd);
	if (err) {
		close(fd);
		*why = strerror(-err);
	}
	return err;
}

int output_file_stdout(struct output_file *of)
{
	*of = (struct output_file){ .path = "standard output", .committed = true };
	return make_stream(of, STDOUT_FILENO);
}

int output_file_commit(struct output_file *of)
{
	if (!of->committed && !of->created && truncate_regular(of))
		return -errno;
	of->committed = true;
	return 0;
}

int output_file_close(struct output_file *of)
{
	struct stat st, now;
	int err = 0;

	if (!of->f)
		return 0;
	if (of->committed) {
		fclose(of->f); /* flushes: a failed write or close is in of->err */
		err = of->err;
	} else {
		/* never begun: a file we created goes again, if it is still ours */
		bool remove = of->created && !fstat(of->fd, &st) && !lstat(of->path, &now) &&
			      st.st_dev == now.st_dev && st.st_ino == now.st_ino;

		of->discard = true;
		fclose(of->f);
		if (remove)
			unlink(of->path);
	}
	of->f = NULL;
	return err;
}

/* path with its directory resolved (the file itself may not exist yet) */
static bool canonical(const char *path, char *out)
{
	char dir[PATH_MAX], copy[PATH_MAX], real[PATH_MAX];

	if (realpath(path, out))
		return true;
	parent_dir(path, dir, sizeof(dir));
	snprintf(copy, sizeof(copy), "%s", path);
	if (!realpath(dir, real))
		return false;
	return snprintf(out, PATH_MAX, "%s/%s", real, basename(copy)) < PATH_MAX;
}

/* stat(2) of an output path, standard streams by their descriptor */
static bool output_stat(const char *path, struct stat *st)
{
	int fd = standard_fd(path);

	return fd >= 0 ? !fstat(fd, st) : !stat(path, st);
}

bool output_same_file(const char *a, const char *b)
{
	char ca[PATH_MAX], cb[PATH_MAX];
	struct stat sa, sb;
	bool ea, eb;

	if (standard_fd(a) >= 0 && standard_fd(a) == standard_fd(b))
		return true;
	ea = output_stat(a, &sa);
	eb = output_stat(b, &sb);

	/* two writers of one device or FIFO (/dev/null) are the user's choice */
	if ((ea && !S_ISREG(sa.st_mode)) || (eb && !S_ISREG(sb.st_mode)))
		return false;
	if (ea && eb)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	if (canonical(a, ca) && canonical(b, cb))
		return !strcmp(ca, cb);
	return !strcmp(a, b);
}

int output_file_flush(struct output_file *of)
{
	if (of->f && fflush(of->f) == EOF && !of->err)
		of->err = EIO;
	return of->err;
}
