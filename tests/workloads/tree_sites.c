// SPDX-License-Identifier: GPL-2.0
/* A tree whose peak is not the sum of its processes' peaks: site_parent
 * touches PARENT_MIB and keeps it; a first child's site_early touches
 * EARLY_MIB and exits; then a second child's site_late touches LATE_MIB
 * (less) and exits. The tree peaks while the first child lives: site_late's
 * pages were never resident then. Each reports its status before exiting.
 * usage: tree_sites [PARENT_MIB=16] [EARLY_MIB=64] [LATE_MIB=32] */
#include "workload.h"

static inline __attribute__((always_inline)) void touch(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		wl_die("mmap");
	for (size_t i = 0; i < bytes; i += 4096)
		p[i] = 1;
}

static __attribute__((noinline)) void site_parent(size_t bytes) { touch(bytes); }
static __attribute__((noinline)) void site_early(size_t bytes) { touch(bytes); }
static __attribute__((noinline)) void site_late(size_t bytes) { touch(bytes); }

/* A child that runs site(bytes), reports and exits; waited for. */
static void child(void (*site)(size_t), size_t bytes, const char *tag)
{
	int status;
	pid_t pid = wl_fork();

	if (pid == 0) {
		site(bytes);
		wl_report_exit(tag, 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		wl_die("child");
}

int main(int argc, char **argv)
{
	size_t parent = wl_arg_mib(argc, argv, 1, 16), early = wl_arg_mib(argc, argv, 2, 64);
	size_t late = wl_arg_mib(argc, argv, 3, 32);

	wl_prefault();
	site_parent(parent);
	child(site_early, early, "early");
	child(site_late, late, "late");
	wl_report_exit("parent", 0);
}
