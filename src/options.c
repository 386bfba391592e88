// SPDX-License-Identifier: GPL-2.0
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

#ifndef RSSTRACE_VERSION
#define RSSTRACE_VERSION "0.1"
#endif

static const char usage_text[] =
	"Usage: rsstrace [OPTIONS] -- CMD [ARGS...]\n"
	"       rsstrace [OPTIONS] -p PID[,PID...]\n"
	"       rsstrace --hooks [--json]\n"
	"       rsstrace top [OPTIONS]     every process, live (rsstrace top --help)\n"
	"       rsstrace serve [OPTIONS]   a Prometheus exporter (rsstrace serve --help)\n";

static const char help_text[] =
	"\n"
	"Trace the resident memory (RSS) of a command and all its descendants, or of\n"
	"running processes, exactly and live: every change of the kernel's RSS\n"
	"counters is seen as it happens, so a spike that lasts a millisecond is\n"
	"caught, which no /proc poller can promise. At the end, one row per address\n"
	"space with the numbers /proc/PID/status shows (VmRSS, RssAnon, RssFile,\n"
	"RssShmem, VmSwap, VmHWM, VmPeak) just before it exited or exec'd, and the\n"
	"peak of the whole tree: the largest total resident at one moment.\n"
	"\n"
	"What to trace:\n"
	"  -- CMD [ARGS...]       run CMD and trace it and its descendants\n"
	"  -p, --pid PID[,PID]    attach to running processes (and their new children)\n"
	"      --no-children      trace only the named processes, not their children\n"
	"\n"
	"When to stop (the summary is printed in every case):\n"
	"  when every traced process has exited, on Ctrl-C or SIGTERM, or\n"
	"  -d, --duration SECS    after SECS seconds (fractions allowed)\n"
	"\n"
	"Output:\n"
	"  -o, --output FILE      write rsstrace's output to FILE (CMD keeps stdout)\n"
	"      --json             JSON Lines: one object per address space when it ends,\n"
	"                         then a summary object (schema: docs/json-schema.md)\n"
	"  -i, --interval SECS    print a live line every SECS seconds: tree total,\n"
	"                         breakdown, and the largest process\n"
	"      --rows N           rows in the summary table (default 25, 0 = all)\n"
	"  -v, --verbose          say which hooks are used; libbpf and verifier output\n"
	"\n"
	"Why memory moved:\n"
	"      --causes           also count faults, copy-on-write faults, rmap and VMA\n"
	"                         removals, swap-ins per process (costs more per fault)\n"
	"      --hooks            print, for this kernel, each hook and the attach point\n"
	"                         in use (and why better ones were rejected); then exit\n"
	"\n"
	"Budget:\n"
	"      --max-rss SIZE     fail (exit 99) if the tree's peak RSS exceeds SIZE,\n"
	"                         e.g. 512M, 2G, 1.5G (binary units)\n"
	"\n"
	"Limits:\n"
	"      --max-procs N      address spaces and processes traced at once\n"
	"                         (default 65536); overflow is counted and reported\n"
	"\n"
	"Exit status:\n"
	"  with -- CMD: CMD's own status (128+N if it was killed by signal N,\n"
	"  127 if CMD was not found, 126 if it could not be executed);\n"
	"  with -p: 0. In both modes: 99 if --max-rss was exceeded, 1 if rsstrace\n"
	"  failed (not root, no BTF, BPF load failure), 2 for a bad command line.\n"
	"\n"
	"Examples:\n"
	"  sudo rsstrace -- make -j8                 peak memory of a build, per process\n"
	"  sudo rsstrace -o mem.txt -- ./server      keep the server's stdout clean\n"
	"  sudo rsstrace -p 1234 -d 60 -i 5          watch a process for a minute\n"
	"  sudo rsstrace --json -o rows.json -- ./job  machine-readable rows\n"
	"  sudo rsstrace --max-rss 2G -- ./test.sh   CI memory budget (exit 99 if over)\n"
	"\n"
	"Needs root (or CAP_BPF + CAP_PERFMON) and a kernel with BTF\n"
	"(/sys/kernel/btf/vmlinux). See rsstrace(1): docs/rsstrace.1.md\n";

enum {
	OPT_JSON = 256,
	OPT_NO_CHILDREN,
	OPT_MAX_RSS,
	OPT_ROWS,
	OPT_MAX_PROCS,
	OPT_RINGBUF,
	OPT_CAUSES,
	OPT_HOOKS,
};

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, 'i' },
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-children", no_argument, NULL, OPT_NO_CHILDREN },
	{ "max-rss", required_argument, NULL, OPT_MAX_RSS },
	{ "rows", required_argument, NULL, OPT_ROWS },
	{ "max-procs", required_argument, NULL, OPT_MAX_PROCS },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF }, /* hidden: tests of loss */
	{ "causes", no_argument, NULL, OPT_CAUSES },
	{ "hooks", no_argument, NULL, OPT_HOOKS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "rsstrace: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%sTry 'rsstrace --help' for more information.\n", usage_text);
	return EXIT_USAGE;
}

static int parse_pids(const char *arg, struct options *o)
{
	char *copy = strdup(arg), *rest = copy, *tok;
	uint64_t v;
	int err = 0;

	if (!copy)
		return -1;
	/* strsep keeps empty fields, so "1,,2", ",1" and "1," are rejected */
	while ((tok = strsep(&rest, ",")) != NULL) {
		if (parse_uint(tok, 1, 4194304, &v) || o->npids >= MAX_PIDS) {
			err = -1;
			break;
		}
		o->pids[o->npids++] = (int)v;
	}
	free(copy);
	return err;
}

int parse_options(int argc, char **argv, struct options *o)
{
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->follow_children = true;
	o->rows = 25;
	o->map_entries = 65536;
	o->ringbuf_bytes = 4 << 20;
	opterr = 0;
	/* '+': stop at the first non-option, so CMD's own options stay CMD's */
	while ((c = getopt_long(argc, argv, "+p:d:i:o:vhV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_pids(optarg, o))
				return usage_error("invalid PID list '%s' (expected PID[,PID...], PIDs > 0)", optarg);
			break;
		case 'd':
			if (parse_seconds(optarg, &o->duration))
				return usage_error("invalid duration '%s' (expected seconds > 0, e.g. 10 or 0.5)", optarg);
			break;
		case 'i':
			if (parse_seconds(optarg, &o->interval) || o->interval < 0.01)
				return usage_error("invalid interval '%s' (expected seconds >= 0.01)", optarg);
			break;
		case 'o':
			if (!*optarg)
				return usage_error("empty output file name%s", "");
			o->output = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_NO_CHILDREN:
			o->follow_children = false;
			break;
		case OPT_MAX_RSS:
			if (parse_size(optarg, &o->max_rss))
				return usage_error("invalid size '%s' (expected e.g. 512M, 2G, 1.5G)", optarg);
			break;
		case OPT_ROWS:
			if (parse_uint(optarg, 0, 1000000000, &o->rows))
				return usage_error("invalid row count '%s'", optarg);
			break;
		case OPT_MAX_PROCS:
			if (parse_uint(optarg, 1, 1 << 24, &v))
				return usage_error("invalid process limit '%s' (1 to 16777216)", optarg);
			o->map_entries = v;
			break;
		case OPT_RINGBUF:
			if (parse_size(optarg, &v) || v < 4096 || v > (1ULL << 30) || (v & (v - 1)))
				return usage_error("invalid ring buffer size '%s' (a power of 2, 4K to 1G)", optarg);
			o->ringbuf_bytes = v;
			break;
		case OPT_CAUSES:
			o->causes = true;
			break;
		case OPT_HOOKS:
			o->list_hooks = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			printf("%s%s", usage_text, help_text);
			return -1;
		case 'V':
			printf("rsstrace %s\n", RSSTRACE_VERSION);
			return -1;
		case '?':
		default:
			return usage_error("unknown option or missing value: '%s'", argv[optind - 1]);
		}
	}
	/* "rsstrace ls -l" works too, as with time(1) and strace(1) */
	if (optind < argc)
		o->cmd = &argv[optind];
	if (o->list_hooks)
		return o->cmd || o->npids ? usage_error("--hooks takes no PID or command%s", "") : 0;
	if (o->cmd && o->npids)
		return usage_error("give either -p PID or -- CMD, not both%s", "");
	if (!o->cmd && !o->npids)
		return usage_error("nothing to trace: give -- CMD [ARGS...] or -p PID%s", "");
	return 0;
}
