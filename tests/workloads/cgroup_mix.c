// SPDX-License-Identifier: GPL-2.0
/* Page cache and a shared file mapping, for --cgroup: writes and reads a
 * CACHE_MIB file with write()/read() (page cache, mapped by nobody), maps a
 * SHARED_MIB file MAP_SHARED in itself and in a child (both touch every page),
 * both report their status (the test waits for both), the parent prints
 * "@@ready", and both hold until stdin closes. Files are made in DIR (not tmpfs) and unlinked at once.
 * usage: cgroup_mix DIR [CACHE_MIB=32] [SHARED_MIB=8] */
#include "workload.h"
#include <signal.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	size_t cache = wl_arg_mib(argc, argv, 2, 32), shared = wl_arg_mib(argc, argv, 3, 8);
	static char buf[1 << 16];
	volatile char sum = 0;
	int cfd, sfd;
	pid_t child;
	char *p;

	if (argc < 2) {
		fprintf(stderr, "usage: cgroup_mix DIR [CACHE_MIB] [SHARED_MIB]\n");
		return 2;
	}
	wl_prefault();
	cfd = wl_temp_file(argv[1], "cache", cache);
	if (lseek(cfd, 0, SEEK_SET) < 0)
		wl_die("lseek");
	while (read(cfd, buf, sizeof(buf)) > 0)
		;
	sfd = wl_temp_file(argv[1], "shared", shared);
	p = mmap(NULL, shared, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
	if (p == MAP_FAILED)
		wl_die("mmap");
	for (size_t off = 0; off < shared; off += 4096)
		sum += p[off];
	child = wl_fork();
	if (child == 0) {
		/* fork does not copy shared file PTEs: touch them again */
		for (size_t off = 0; off < shared; off += 4096)
			sum += p[off];
		wl_report("child");
		while (read(0, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	wl_report("parent");
	if (write(1, "@@ready\n", 8) != 8)
		wl_die("write");
	while (read(0, buf, sizeof(buf)) > 0)
		;
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	return 0;
}
