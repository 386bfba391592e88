// SPDX-License-Identifier: GPL-2.0
#include "core/regular_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int open_regular_file(const char *path)
{
	/* O_NONBLOCK: a FIFO opens at once (and is refused below); O_NOCTTY: a
	 * terminal does not become ours */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* regular files ignore O_NONBLOCK; libelf and libdw read them as usual */
	return fd;
}
