// SPDX-License-Identifier: GPL-2.0
/*
 * Loader of bench/floor.bpf.c, driven on stdin so the harness can switch a
 * program on and off between workload blocks without restarting anything:
 *   floor PROGRAM      PROGRAM: empty_btf | empty_tp | count_btf | fixed_btf
 *   stdin: "a" attach, "d" detach, "c" print the event count; EOF quits.
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>

#include "floor.skel.h"

int main(int argc, char **argv)
{
	struct floor_bpf *skel = floor_bpf__open_and_load();
	struct bpf_program *prog;
	struct bpf_link *link = NULL;
	char line[16];

	if (!skel || argc < 2) {
		fprintf(stderr, "floor: cannot load (usage: floor empty_btf|empty_tp|count_btf|fixed_btf)\n");
		return 1;
	}
	prog = bpf_object__find_program_by_name(skel->obj, argv[1]);
	if (!prog) {
		fprintf(stderr, "floor: no program %s\n", argv[1]);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		if (line[0] == 'a' && !link) {
			link = bpf_program__attach(prog);
			if (!link) {
				fprintf(stderr, "floor: attach failed\n");
				return 1;
			}
		} else if (line[0] == 'd' && link) {
			bpf_link__destroy(link);
			link = NULL;
		} else if (line[0] == 'c') {
			printf("%llu\n", (unsigned long long)skel->bss->events);
			continue;
		}
		printf("ok\n");
	}
	bpf_link__destroy(link);
	floor_bpf__destroy(skel);
	return 0;
}
