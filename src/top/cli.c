// SPDX-License-Identifier: GPL-2.0
#include "top/cli.h"

#include <getopt.h>
#include <stdio.h>

#include "core/exit_status.h"
#include "core/units.h"
#include "core/usage_error.h"

#define PROG "rsstrace top"
#define USAGE "Usage: rsstrace top [-d SECONDS] [-b [-n COUNT] [--json]] [--no-faults]\n"

const char top_help[] =
	USAGE
	"\n"
	"A live view of every address space on the system, fed by the same exact,\n"
	"event-driven accounting as rsstrace: peaks between two refreshes are not\n"
	"missed, and processes that lived for milliseconds show up in the recent\n"
	"peaks.\n"
	"\n"
	"  -d, --delay SECONDS   time between refreshes (default 1)\n"
	"  -b, --batch           plain-text frames on stdout, for scripts and logs\n"
	"  -n, --iterations N    with -b: stop after N frames\n"
	"      --json            with -b: one JSON object per frame\n"
	"      --no-faults       do not count page faults (FLT/s column; saves a hook)\n"
	"      --max-procs N     address spaces the maps hold (default 65536)\n"
	"  -v, --verbose         hooks in use, libbpf messages\n"
	"\n"
	"Keys: M sort by RSS, H by peak (HWM), G by growth, S by swap, P by pid;\n"
	"t tree view (parents show subtree sums); c filter by cgroup, u by user,\n"
	"/ by command (empty input clears); space pauses; ? help; q quits.\n";

enum { OPT_JSON = 256, OPT_NO_FAULTS, OPT_MAX_PROCS };

static const struct option long_opts[] = {
	{ "delay", required_argument, NULL, 'd' },
	{ "batch", no_argument, NULL, 'b' },
	{ "iterations", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-faults", no_argument, NULL, OPT_NO_FAULTS },
	{ "max-procs", required_argument, NULL, OPT_MAX_PROCS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

int top_parse_options(int argc, char **argv, struct top_opts *o)
{
	int c;

	*o = (struct top_opts){ .delay = 1, .faults = true, .map_entries = 65536 };
	optind = 0; /* a fresh scan, whatever was parsed before */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+d:bn:vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (parse_seconds(optarg, &o->delay) || o->delay < 0.05)
				return report_usage_error(PROG, USAGE, "invalid delay '%s' (seconds >= 0.05)", optarg);
			break;
		case 'b':
			o->batch = true;
			break;
		case 'n':
			if (parse_uint(optarg, 1, 1000000000, &o->count))
				return report_usage_error(PROG, USAGE, "invalid count '%s'", optarg);
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_NO_FAULTS:
			o->faults = false;
			break;
		case OPT_MAX_PROCS:
			if (parse_uint(optarg, 1, 1 << 24, &o->map_entries))
				return report_usage_error(PROG, USAGE, "invalid process limit '%s'", optarg);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(top_help, stdout);
			return -1;
		case '?':
		default:
			return report_usage_error(PROG, USAGE, "unknown option or missing value: '%s'",
						  argv[optind - 1]);
		}
	}
	if (optind < argc)
		return report_usage_error(PROG, USAGE, "unexpected argument '%s'", argv[optind]);
	if (o->json && !o->batch)
		return report_usage_error(PROG, USAGE, "--json needs -b (batch mode)");
	return 0;
}
