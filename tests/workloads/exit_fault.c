// SPDX-License-Identifier: GPL-2.0
/* An exit whose own kernel path faults (rows' exit_growth_kb): maps FILE
 * read-only without touching it, makes a page of it the robust-futex list
 * head, reports and exits at once. The kernel reads that head in
 * mm_release(), past the exit's point of no return: a file page fault
 * (with fault-around, the cached pages of the file near it too). With
 * "resident", the head's page is read before the report: the exit then
 * faults nothing.
 * usage: exit_fault FILE [fault|resident] */
#include "workload.h"
#include <stdbool.h>
#include <sys/stat.h>

/* struct robust_list_head's size on x86_64: set_robust_list() wants it */
#define ROBUST_HEAD_LEN 24

int main(int argc, char **argv)
{
	bool resident = argc > 2 && !strcmp(argv[2], "resident");
	volatile char sink;
	struct stat st;
	char *map, *head;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: exit_fault FILE [fault|resident]\n");
		return 2;
	}
	wl_prefault();
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || st.st_size < 4096)
		wl_die("open FILE (4 KiB at least)");
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		wl_die("mmap");
	head = map + ((size_t)st.st_size / 2 & ~4095UL);
	if (resident)
		sink = *head;
	(void)sink;
	if (wl_sys3(SYS_set_robust_list, (long)head, ROBUST_HEAD_LEN, 0))
		wl_die("set_robust_list");
	wl_report_exit("exit", 0);
}
