// SPDX-License-Identifier: GPL-2.0
#include "trace/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/cli.h"
#include "core/output_file.h"
#include "core/units.h"
#include "rsstrace.h"

#ifndef RSSTRACE_VERSION
#define RSSTRACE_VERSION "0.1"
#endif

#define USAGE                                                                       \
	"Usage: rsstrace [OPTIONS] -- CMD [ARGS...]\n"                                \
	"       rsstrace [OPTIONS] -p PID[,PID...]\n"                                 \
	"       rsstrace [OPTIONS] --cgroup-path PATH\n"                              \
	"       rsstrace --hooks [--json]\n"                                          \
	"       rsstrace top [OPTIONS]     every process, live (rsstrace top --help)\n" \
	"       rsstrace serve [OPTIONS]   a Prometheus exporter (rsstrace serve --help)\n"

static const char help_text[] =
	USAGE
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
	"  -p, --pid PID[,PID]    attach to running processes, their descendants and\n"
	"                         their new children\n"
	"      --no-children      trace only the named processes, not their children\n"
	"      --cgroup-path PATH every process in the cgroup PATH (v2, or v1 memory;\n"
	"                         a directory or a path in the hierarchy) and below\n"
	"                         it, and every process that enters later\n"
	"\n"
	"When to stop (the summary is printed in every case):\n"
	"  when every traced process has exited, on Ctrl-C or SIGTERM, or\n"
	"  -d, --duration SECS    after SECS seconds (fractions allowed)\n"
	"\n"
	"Output:\n"
	"  -o, --output FILE      write to FILE (- is stdout); CMD keeps its own stdout\n"
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
	"      --sharing          how much RSS is really each process's own: at the\n"
	"                         tree's peak and at the end, read smaps_rollup and\n"
	"                         report PSS, USS, shared, and the footprint (sum of\n"
	"                         PSS) next to the sum of RSS\n"
	"\n"
	"Which code made memory resident:\n"
	"      --stacks[=MODE]    charge each page faulted in to the user stack that\n"
	"                         faulted it; the summary lists the stacks by pages\n"
	"                         they held at their process's peak, then the stacks\n"
	"                         that copied pages shared since fork (copy-on-write)\n"
	"                         per stack and per process. MODE fp (the\n"
	"                         default) walks frame pointers at each fault: deep\n"
	"                         only in code built with them; dwarf copies the top\n"
	"                         of the user stack once per new stack and unwinds it\n"
	"                         with the CFI (.eh_frame) every binary has, stripped\n"
	"                         or not (x86_64; see --stack-copy)\n"
	"      --stack-copy SIZE  --stacks=dwarf: user stack copied per stack, 4K to\n"
	"                         28K in 4K steps (default 16K); deeper frames are lost\n"
	"      --stack-sample SIZE  charge a page fault per SIZE faulted in, on\n"
	"                         average (random gaps), as SIZE: an unbiased estimate\n"
	"                         per stack, with the number of samples and the error,\n"
	"                         at a fraction of the cost (default 512K); 0: every\n"
	"                         page, exact, for small runs (implies --stacks)\n"
	"      --debug-dir DIR    also look for stripped files' debug info in DIR\n"
	"                         (DIR/.build-id/xx/yyyy.debug), before /usr/lib/debug;\n"
	"                         DEBUGINFOD_URLS set: asked of debuginfod too\n"
	"      --kernel-stacks    also the kernel stack (implies --stacks)\n"
	"      --folded FILE      write the stacks in the folded format of flame graph\n"
	"                         tools: comm;outer;...;inner PAGES (implies --stacks)\n"
	"      --cow-folded FILE  the same for the pages copied on write (implies\n"
	"                         --stacks)\n"
	"      --pprof FILE       write the stacks as a pprof profile (gzip'd\n"
	"                         profile.proto: go tool pprof, Pyroscope, Perfetto):\n"
	"                         bytes faulted in up to each process's peak (and over\n"
	"                         the run), with files, build ids, functions and\n"
	"                         lines (implies --stacks; fp unless --stacks=dwarf)\n"
	"      --stack-entries N  (process, stack) pairs kept at once (default 65536);\n"
	"                         overflow is counted and reported\n"
	"\n"
	"Timelines:\n"
	"      --csv FILE         the tree's and the largest processes' RSS by type\n"
	"                         over time, plus the exact tree peak, as CSV\n"
	"      --svg FILE         a chart of the same: RSS stacked by type, the\n"
	"                         largest processes as lines, the peak marked\n"
	"      --timeline-interval SECS  sampling period (default 0.1)\n"
	"      --timeline-procs N processes per sample, largest first (default 20,\n"
	"                         0 = all)\n"
	"\n"
	"Each page once:\n"
	"      --footprint        count every physical page the tree maps once, charged\n"
	"                         to the process that mapped it first (first-toucher,\n"
	"                         on the kernel's rmap functions): unique anon / file /\n"
	"                         shmem pages, per process and for the tree, their peak,\n"
	"                         next to the sum of RSS. Where the rmap hooks cannot\n"
	"                         attach, the PSS sum from smaps_rollup instead (said)\n"
	"      --footprint-pages N  pages the per-page map holds (default 1048576 =\n"
	"                         4 GiB of 4 KiB pages); overflow is counted, reported\n"
	"\n"
	"Cgroups:\n"
	"      --cgroup           read the memory cgroup(s) of the traced processes\n"
	"                         (memory.stat, memory.current, memory.peak; the v1\n"
	"                         files where only v1 is mounted) near the tree's\n"
	"                         peak and at the end, next to the tree's summed RSS,\n"
	"                         and say why they differ (page cache, shared pages,\n"
	"                         kernel memory)\n"
	"\n"
	"Budget:\n"
	"      --max-rss SIZE     fail (exit 99) if the tree's peak RSS exceeds SIZE,\n"
	"                         e.g. 512M, 2G, 1.5G (binary units; at least 1K)\n"
	"\n"
	"Limits:\n"
	"      --max-procs N      address spaces and processes traced at once\n"
	"                         (default 65536); overflow is counted and reported\n"
	"\n"
	"Exit status:\n"
	"  with -- CMD: CMD's own status (128+N if it was killed by signal N,\n"
	"  127 if CMD was not found, 126 if it could not be executed);\n"
	"  with -p: 0. In both modes: 99 if --max-rss was exceeded, 98 if an\n"
	"  output could not be written (said on stderr; 141 if a pipe's reader went\n"
	"  away), 1 if rsstrace failed (not root, no BTF, BPF load failure), 2 for a\n"
	"  bad command line (also: an output path that is a symlink or another\n"
	"  user's file in a shared directory, two outputs naming one file).\n"
	"\n"
	"Examples:\n"
	"  sudo rsstrace -- make -j8                 peak memory of a build, per process\n"
	"  sudo rsstrace -o mem.txt -- ./server      keep the server's stdout clean\n"
	"  sudo rsstrace -p 1234 -d 60 -i 5          watch a process (and its children)\n"
	"  sudo rsstrace -p $(cat /run/nginx.pid) -d 60   a server's master and workers\n"
	"  sudo rsstrace --cgroup-path /system.slice/app.service -d 60   a whole service\n"
	"  sudo rsstrace --json -o rows.json -- ./job  machine-readable rows\n"
	"  sudo rsstrace --max-rss 2G -- ./test.sh   CI memory budget (exit 99 if over)\n"
	"  sudo rsstrace --sharing -- ./prefork      RSS sum vs real footprint\n"
	"  sudo rsstrace --svg mem.svg -- ./job      a chart to look at\n"
	"  sudo rsstrace --folded f.txt -- ./job && flamegraph.pl f.txt > f.svg\n"
	"  sudo rsstrace --stacks=dwarf -- xz -9 big  stacks through Debian's libraries\n"
	"  sudo rsstrace --pprof m.pb.gz -- ./job && go tool pprof -top m.pb.gz\n"
	"  sudo rsstrace --cgroup -- ./etl.sh        why the cgroup's usage is not RSS\n"
	"  sudo rsstrace --footprint -- ./prefork    real memory of a forking server\n"
	"\n"
	"Needs root (or CAP_BPF + CAP_PERFMON; + CAP_DAC_READ_SEARCH for hooks on\n"
	"classic tracepoints) and a kernel with BTF (/sys/kernel/btf/vmlinux).\n"
	"See rsstrace(8): man rsstrace\n";

enum {
	OPT_JSON = 256,
	OPT_NO_CHILDREN,
	OPT_CGROUP_PATH,
	OPT_MAX_RSS,
	OPT_ROWS,
	OPT_MAX_PROCS,
	OPT_RINGBUF,
	OPT_CAUSES,
	OPT_HOOKS,
	OPT_CGROUP,
	OPT_FOOTPRINT,
	OPT_FOOTPRINT_PAGES,
	OPT_SHARING,
	OPT_CSV,
	OPT_SVG,
	OPT_TL_INTERVAL,
	OPT_TL_PROCS,
	OPT_STACKS,
	OPT_KSTACKS,
	OPT_FOLDED,
	OPT_COW_FOLDED,
	OPT_PPROF,
	OPT_STACK_ENTRIES,
	OPT_STACK_COPY,
	OPT_STACK_SAMPLE,
	OPT_DEBUG_DIR,
};

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, 'i' },
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-children", no_argument, NULL, OPT_NO_CHILDREN },
	{ "cgroup-path", required_argument, NULL, OPT_CGROUP_PATH },
	{ "max-rss", required_argument, NULL, OPT_MAX_RSS },
	{ "rows", required_argument, NULL, OPT_ROWS },
	{ "max-procs", required_argument, NULL, OPT_MAX_PROCS },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF }, /* hidden: tests of loss */
	{ "causes", no_argument, NULL, OPT_CAUSES },
	{ "hooks", no_argument, NULL, OPT_HOOKS },
	{ "cgroup", no_argument, NULL, OPT_CGROUP },
	{ "footprint", no_argument, NULL, OPT_FOOTPRINT },
	{ "footprint-pages", required_argument, NULL, OPT_FOOTPRINT_PAGES },
	{ "sharing", no_argument, NULL, OPT_SHARING },
	{ "csv", required_argument, NULL, OPT_CSV },
	{ "svg", required_argument, NULL, OPT_SVG },
	{ "timeline-interval", required_argument, NULL, OPT_TL_INTERVAL },
	{ "timeline-procs", required_argument, NULL, OPT_TL_PROCS },
	{ "stacks", optional_argument, NULL, OPT_STACKS },
	{ "stack-copy", required_argument, NULL, OPT_STACK_COPY },
	{ "stack-sample", required_argument, NULL, OPT_STACK_SAMPLE },
	{ "debug-dir", required_argument, NULL, OPT_DEBUG_DIR },
	{ "kernel-stacks", no_argument, NULL, OPT_KSTACKS },
	{ "folded", required_argument, NULL, OPT_FOLDED },
	{ "cow-folded", required_argument, NULL, OPT_COW_FOLDED },
	{ "pprof", required_argument, NULL, OPT_PPROF },
	{ "stack-entries", required_argument, NULL, OPT_STACK_ENTRIES },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ 0 },
};

/* --debug-dir: made absolute (libdwfl looks for build ids only under
 * absolute entries of its search path, which ':' separates). Returns NULL
 * or why not. */
static const char *parse_debug_dir(const char *arg, struct options *o)
{
	struct stat st;

	if (!*arg)
		return "empty";
	if (!realpath(arg, o->debug_dir_buf) || stat(o->debug_dir_buf, &st))
		return strerror(errno);
	if (!S_ISDIR(st.st_mode))
		return strerror(ENOTDIR);
	if (strchr(o->debug_dir_buf, ':'))
		return "a ':' in it would split the search path";
	o->debug_dir = o->debug_dir_buf;
	return NULL;
}

/* -p's list into o->pids: 0, or -1 for a word that is not a PID, -2 for
 * more than MAX_PIDS of them. */
static int parse_pids(const char *arg, struct options *o)
{
	char *copy = strdup(arg), *rest = copy, *tok;
	uint64_t v;
	int err = 0;

	if (!copy)
		return -1;
	/* strsep keeps empty fields, so "1,,2", ",1" and "1," are rejected */
	while ((tok = strsep(&rest, ",")) != NULL) {
		if (o->npids >= MAX_PIDS) {
			err = -2;
			break;
		}
		if (parse_uint(tok, 1, RSS_PID_MAX, &v)) {
			err = -1;
			break;
		}
		o->pids[o->npids++] = (int)v;
	}
	free(copy);
	return err;
}

/* An option's FILE into *file. getopt takes the next word, whatever it is:
 * `rsstrace --csv -- make` wrote its CSV to a file named "--" and ran make,
 * without a word. "-" (standard output) is a name; other words that begin
 * with '-' are options or a forgotten name. */
static int file_option(const struct cli *c, const char *opt, const char *arg, const char **file)
{
	if (!*arg)
		return cli_error(c, "empty file name for %s", opt);
	if (arg[0] == '-' && arg[1])
		return cli_error(c, "%s needs a file name, not '%s' (for a file whose name begins with '-': ./%s)",
				 opt, arg, arg);
	*file = arg;
	return 0;
}

/* --folded, --cow-folded, --pprof FILE: a file of the stacks (implies --stacks). */
static int stacks_file_option(const struct cli *c, struct options *o, int opt, const char *arg)
{
	const char *name = opt == OPT_FOLDED ? "--folded" : opt == OPT_COW_FOLDED ? "--cow-folded" : "--pprof";
	const char **file = opt == OPT_FOLDED ? &o->folded : opt == OPT_COW_FOLDED ? &o->cow_folded : &o->pprof;

	o->stacks = true;
	return file_option(c, name, arg, file);
}

static int on_option(const struct cli *c, int opt, const char *arg, void *opts)
{
	struct options *o = opts;
	uint64_t v;

	switch (opt) {
	case 'p':
		switch (parse_pids(arg, o)) {
		case -1:
			return cli_error(c, "invalid PID list '%s' (expected PID[,PID...], each from 1 to %u)", arg,
					 RSS_PID_MAX);
		case -2:
			return cli_error(c, "invalid PID list: more than %d PIDs", MAX_PIDS);
		}
		break;
	case 'd':
		if (parse_seconds(arg, &o->duration))
			return cli_error(c, "invalid duration '%s' (expected seconds > 0, e.g. 10 or 0.5)", arg);
		break;
	case 'i':
		if (parse_seconds(arg, &o->interval) || o->interval < 0.01)
			return cli_error(c, "invalid interval '%s' (expected seconds >= 0.01)", arg);
		break;
	case 'o':
		return file_option(c, "-o", arg, &o->output);
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_NO_CHILDREN:
		o->follow_children = false;
		break;
	case OPT_CGROUP_PATH:
		if (!*arg)
			return cli_error(c, "empty cgroup path");
		o->cgroup_path = arg;
		break;
	case OPT_MAX_RSS:
		if (parse_size(arg, &o->max_rss))
			return cli_error(c, "invalid size '%s' (expected e.g. 512M, 2G, 1.5G)", arg);
		/* the budget is held in KiB: below 1K it would be none at all */
		if (o->max_rss < 1024)
			return cli_error(c, "--max-rss %s is below 1K: give a budget of at least 1K", arg);
		break;
	case OPT_ROWS:
		if (parse_uint(arg, 0, 1000000000, &o->rows))
			return cli_error(c, "invalid row count '%s'", arg);
		break;
	case OPT_MAX_PROCS:
		if (parse_uint(arg, 1, 1 << 24, &v))
			return cli_error(c, "invalid process limit '%s' (1 to 16777216)", arg);
		o->map_entries = v;
		break;
	case OPT_RINGBUF:
		if (parse_size(arg, &v) || v < 4096 || v > (1ULL << 30) || (v & (v - 1)))
			return cli_error(c, "invalid ring buffer size '%s' (a power of 2, 4K to 1G)", arg);
		o->ringbuf_bytes = v;
		break;
	case OPT_CAUSES:
		o->causes = true;
		break;
	case OPT_HOOKS:
		o->list_hooks = true;
		break;
	case OPT_CGROUP:
		o->cgroup = true;
		break;
	case OPT_FOOTPRINT:
		o->footprint = true;
		break;
	case OPT_FOOTPRINT_PAGES:
		if (parse_uint(arg, 1, 1ULL << 28, &v))
			return cli_error(c, "invalid page count '%s' (1 to 268435456)", arg);
		o->footprint_pages = v;
		o->footprint = true;
		break;
	case OPT_SHARING:
		o->sharing = true;
		break;
	case OPT_CSV:
		return file_option(c, "--csv", arg, &o->csv);
	case OPT_SVG:
		return file_option(c, "--svg", arg, &o->svg);
	case OPT_TL_INTERVAL:
		if (parse_seconds(arg, &o->timeline_interval) || o->timeline_interval < 0.01)
			return cli_error(c, "invalid timeline interval '%s' (expected seconds >= 0.01)", arg);
		break;
	case OPT_STACKS:
		if (arg && strcmp(arg, "fp") && strcmp(arg, "dwarf"))
			return cli_error(c, "invalid stack mode '%s' (fp or dwarf)", arg);
		o->stacks = true;
		o->stacks_dwarf = arg && !strcmp(arg, "dwarf");
#ifndef __x86_64__
		if (o->stacks_dwarf) /* the samples' registers are x86_64's (include/rsstrace.h) */
			return cli_error(c, "--stacks=dwarf is x86_64 only for now");
#endif
		break;
	case OPT_STACK_COPY:
		if (parse_size(arg, &o->stack_copy) || o->stack_copy < 4096 || o->stack_copy > STACK_COPY_MAX ||
		    o->stack_copy % 4096)
			return cli_error(c, "invalid stack copy size '%s' (4K to 28K, in 4K steps)", arg);
		break;
	case OPT_STACK_SAMPLE:
		o->stack_sample = 0;
		if (strcmp(arg, "0") && (parse_size(arg, &o->stack_sample) || o->stack_sample % 4096 ||
					 o->stack_sample > (1ULL << 30)))
			return cli_error(c, "invalid sampling interval '%s' (0, or 4K to 1G in 4K steps)", arg);
		o->stacks = true;
		break;
	case OPT_DEBUG_DIR: {
		const char *why = parse_debug_dir(arg, o);

		if (why)
			return cli_error(c, "invalid debug directory '%s': %s", arg, why);
		break;
	}
	case OPT_KSTACKS:
		o->stacks = o->kernel_stacks = true;
		break;
	case OPT_FOLDED:
	case OPT_COW_FOLDED:
	case OPT_PPROF:
		return stacks_file_option(c, o, opt, arg);
	case OPT_STACK_ENTRIES:
		if (parse_uint(arg, 1, 1 << 24, &o->stack_entries))
			return cli_error(c, "invalid stack entry count '%s' (1 to 16777216)", arg);
		break;
	case OPT_TL_PROCS:
		if (parse_uint(arg, 0, 1000000, &o->timeline_procs))
			return cli_error(c, "invalid process count '%s' (0 to 1000000)", arg);
		break;
	case 'v':
		o->verbose = true;
		break;
	case 'V':
		return cli_print(c, "rsstrace " RSSTRACE_VERSION "\n");
	}
	return 0;
}

/* Two outputs naming one regular file would overwrite each other, and two
 * on standard output would interleave. */
static int check_outputs_differ(const struct cli *c, const struct options *o)
{
	/* without -o, the summary goes to standard output */
	const char *names[] = { o->output ? "-o" : "the summary", "--csv", "--svg", "--folded", "--cow-folded",
				"--pprof" };
	const char *paths[] = { o->output ? o->output : "(standard output: no -o)", o->csv, o->svg, o->folded,
				o->cow_folded, o->pprof };
	int n = (int)(sizeof(paths) / sizeof(paths[0]));

	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (paths[i] && paths[j] &&
			    output_same_file(i || o->output ? paths[i] : "-", paths[j]))
				return cli_error(c, "%s %s and %s %s name the same file", names[i], paths[i],
						 names[j], paths[j]);
	return 0;
}

/* "rsstrace ls -l" works too, as with time(1) and strace(1) */
static int on_operands(const struct cli *c, char **operands, int n, void *opts)
{
	struct options *o = opts;

	if (n > 0)
		o->cmd = operands;
	if (check_outputs_differ(c, o))
		return EXIT_USAGE;
	if (o->stack_copy && !o->stacks_dwarf)
		return cli_error(c, "--stack-copy needs --stacks=dwarf");
	if (o->debug_dir && !o->stacks)
		return cli_error(c, "--debug-dir needs --stacks");
	if (!o->stack_copy)
		o->stack_copy = 16384;
	if (o->list_hooks)
		return o->cmd || o->npids || o->cgroup_path ? cli_error(c, "--hooks takes no PID, cgroup or command") : 0;
	if (!!o->cmd + !!o->npids + !!o->cgroup_path > 1)
		return cli_error(c, "give one of -p PID, --cgroup-path PATH or -- CMD");
	if (!o->cmd && !o->npids && !o->cgroup_path)
		return cli_error(c, "nothing to trace: give -- CMD [ARGS...], -p PID or --cgroup-path PATH");
	return 0;
}

/* '+': stop at the first non-option, so CMD's own options stay CMD's */
static const struct cli trace_cli = {
	.prog = "rsstrace", .usage = USAGE, .help = help_text,
	.shorts = "+p:d:i:o:vhV", .longs = long_opts, .on_option = on_option, .on_operands = on_operands,
};

int parse_options(int argc, char **argv, struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->follow_children = true;
	o->rows = 25;
	o->map_entries = 65536;
	o->ringbuf_bytes = 4 << 20;
	o->footprint_pages = 1 << 20;
	o->timeline_interval = 0.1;
	o->timeline_procs = 20;
	o->stack_entries = 65536;
	o->stack_sample = STACK_SAMPLE_DEFAULT;
	return cli_parse(&trace_cli, argc, argv, o);
}
