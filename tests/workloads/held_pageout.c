// SPDX-License-Identifier: GPL-2.0
/* Reclaim before the peak: site_swapped touches MIB of anonymous memory and
 * site_dropped reads FILE_MIB of a file in DIR (a private mapping), both are
 * paged out (MADV_PAGEOUT: anon to swap, file pages dropped), and then
 * site_peak touches PEAK_MIB, the peak. Reports "touched" before the page-out
 * and "paged" after it. Swap must be on (the VM suite's zram; never the
 * host), DIR a real file system.
 * usage: held_pageout DIR [MIB=32] [FILE_MIB=16] [PEAK_MIB=64] */
#include "workload.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

/* untouched: each site's own loop faults its pages in, so it is the leaf */
static char *fresh_anon(size_t bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		wl_die("mmap");
	return p;
}

static __attribute__((noinline)) char *site_swapped(size_t bytes)
{
	char *p = fresh_anon(bytes);

	for (size_t i = 0; i < bytes; i += 4096)
		p[i] = (char)(i >> 12) | 1; /* not zero pages: they must really go to swap */
	return p;
}

static __attribute__((noinline)) char *site_dropped(const char *dir, size_t bytes)
{
	int fd = wl_temp_file(dir, "held_pageout", bytes);
	volatile char sum = 0;
	char *p;

	if (fsync(fd)) /* clean pages: reclaim drops them */
		wl_die("fsync");
	p = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		wl_die("mmap");
	for (size_t off = 0; off < bytes; off += 4096)
		sum += p[off];
	return p;
}

static __attribute__((noinline)) void site_peak(size_t bytes)
{
	char *p = fresh_anon(bytes);

	for (size_t i = 0; i < bytes; i += 4096)
		p[i] = 1;
}

int main(int argc, char **argv)
{
	size_t anon = wl_arg_mib(argc, argv, 2, 32), file = wl_arg_mib(argc, argv, 3, 16);
	size_t peak = wl_arg_mib(argc, argv, 4, 64);
	char *a, *f;

	if (argc < 2) {
		fprintf(stderr, "usage: held_pageout DIR [MIB] [FILE_MIB] [PEAK_MIB]\n");
		return 2;
	}
	wl_prefault();
	a = site_swapped(anon);
	f = site_dropped(argv[1], file);
	wl_report("touched");
	if (madvise(a, anon, MADV_PAGEOUT) || madvise(f, file, MADV_PAGEOUT))
		wl_die("madvise(MADV_PAGEOUT)");
	wl_report("paged");
	site_peak(peak);
	wl_report_exit("held_pageout", 0);
}
