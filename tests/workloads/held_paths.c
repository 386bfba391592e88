// SPDX-License-Identifier: GPL-2.0
/*
 * Every way a process gives memory back, each from its own site, before its
 * peak, for --stacks' "held at the peak": site_moved's pages are moved by
 * mremap() to a new place and kept; site_brk's grow the heap, which then
 * shrinks; site_dontneed's are dropped by madvise(MADV_DONTNEED);
 * site_fixed's are replaced by an untouched mmap(MAP_FIXED). Then site_hold
 * faults in HOLD_MIB and the process peaks, holding moved and hold only.
 * usage: held_paths [MIB=8] [HOLD_MIB=32]
 */
#define _GNU_SOURCE
#include "workload.h"

static char *fresh(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		wl_die("mmap");
	return p;
}

#define TOUCH(p, bytes, byte)                                  \
	do {                                                   \
		for (size_t i = 0; i < (bytes); i += 4096)     \
			((volatile char *)(p))[i] = (byte);    \
	} while (0)

/* moved for sure: to a place reserved first (MREMAP_FIXED) */
__attribute__((noinline)) char *site_moved(size_t bytes)
{
	char *p = fresh(bytes), *to = mmap(NULL, 2 * bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TOUCH(p, bytes, 1);
	if (to == MAP_FAILED || mremap(p, bytes, 2 * bytes, MREMAP_MAYMOVE | MREMAP_FIXED, to) != to)
		wl_die("mremap");
	return to;
}

__attribute__((noinline)) void site_brk(size_t bytes)
{
	char *p = sbrk((intptr_t)bytes);

	if (p == (void *)-1)
		wl_die("sbrk");
	TOUCH(p, bytes, 2);
	if (sbrk(-(intptr_t)bytes) == (void *)-1)
		wl_die("sbrk");
}

__attribute__((noinline)) void site_dontneed(size_t bytes)
{
	char *p = fresh(bytes);

	TOUCH(p, bytes, 3);
	if (madvise(p, bytes, MADV_DONTNEED))
		wl_die("madvise");
}

__attribute__((noinline)) void site_fixed(size_t bytes)
{
	char *p = fresh(bytes);

	TOUCH(p, bytes, 4);
	if (mmap(p, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p)
		wl_die("mmap fixed");
}

__attribute__((noinline)) char *site_hold(size_t bytes)
{
	char *p = fresh(bytes);

	TOUCH(p, bytes, 5);
	return p;
}

int main(int argc, char **argv)
{
	size_t mib = wl_arg_mib(argc, argv, 1, 8), hold = wl_arg_mib(argc, argv, 2, 32);

	wl_prefault();
	site_moved(mib);
	site_brk(mib);
	site_dontneed(mib);
	site_fixed(mib);
	site_hold(hold);
	wl_report_exit("held_paths", 0);
}
