// SPDX-License-Identifier: GPL-2.0
#include "top/cli.h"

#include "core/cli.h"
#include "core/units.h"

#include <string.h>

#define USAGE "Usage: rsstrace top [-d SECONDS] [-c TEXT] [-b [-n N] [--json]] [--no-faults]\n"

const char top_help[] =
	USAGE
	"\n"
	"A live view of every address space on the system, fed by the same exact,\n"
	"event-driven accounting as rsstrace: peaks between two refreshes are not\n"
	"missed, and processes that lived for milliseconds show up in the recent\n"
	"peaks.\n"
	"\n"
	"  -d, --delay SECONDS   time between refreshes (default 1)\n"
	"  -c, --cgroup-filter TEXT\n"
	"                        only processes whose cgroup path contains TEXT, or\n"
	"                        whose container id or pod UID begins with it (the\n"
	"                        c key; CGROUP shows [runtime id pod UID QoS] first)\n"
	"  -b, --batch           plain-text frames on stdout, for scripts and logs\n"
	"  -n, --iterations N    with -b: stop after N frames\n"
	"      --json            with -b: one JSON object per frame\n"
	"      --no-faults       do not count page faults (FLT/s column; saves a hook)\n"
	"      --max-procs N     address spaces the maps hold (default 65536)\n"
	"  -v, --verbose         hooks in use, libbpf messages\n"
	"\n"
	"Keys: M sort by RSS, H by peak (HWM), G by growth, S by swap, P by pid;\n"
	"t tree view (parents show subtree sums); c filter by cgroup (as -c), u by\n"
	"user, / by command (empty input clears); space pauses; ? help; q quits.\n"
	"\n"
	"Examples:\n"
	"  rsstrace top -b -n 1 -c 1b4e28ba-2fa1   the containers of one pod\n"
	"  rsstrace top -c 0123456789ab            one container, by its short id\n";

enum { OPT_JSON = 256, OPT_NO_FAULTS, OPT_MAX_PROCS };

static const struct option long_opts[] = {
	{ "delay", required_argument, NULL, 'd' },
	{ "cgroup-filter", required_argument, NULL, 'c' },
	{ "batch", no_argument, NULL, 'b' },
	{ "iterations", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-faults", no_argument, NULL, OPT_NO_FAULTS },
	{ "max-procs", required_argument, NULL, OPT_MAX_PROCS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static int on_option(const struct cli *c, int opt, const char *arg, void *opts)
{
	struct top_opts *o = opts;

	switch (opt) {
	case 'd':
		if (parse_seconds(arg, &o->delay) || o->delay < 0.05)
			return cli_error(c, "invalid delay '%s' (seconds >= 0.05)", arg);
		break;
	case 'c':
		if (!arg[0] || strlen(arg) >= sizeof(o->cgroup))
			return cli_error(c, "invalid cgroup filter '%s' (1 to %zu bytes)", arg, sizeof(o->cgroup) - 1);
		strcpy(o->cgroup, arg);
		break;
	case 'b':
		o->batch = true;
		break;
	case 'n':
		if (parse_uint(arg, 1, 1000000000, &o->count))
			return cli_error(c, "invalid count '%s'", arg);
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_NO_FAULTS:
		o->faults = false;
		break;
	case OPT_MAX_PROCS:
		if (parse_uint(arg, 1, 1 << 24, &o->map_entries))
			return cli_error(c, "invalid process limit '%s'", arg);
		break;
	case 'v':
		o->verbose = true;
		break;
	}
	return 0;
}

static const struct cli top_cli = {
	.prog = "rsstrace top", .usage = USAGE, .help = top_help,
	.shorts = "+d:c:bn:vh", .longs = long_opts, .on_option = on_option,
};

int top_parse_options(int argc, char **argv, struct top_opts *o)
{
	int ret;

	*o = (struct top_opts){ .delay = 1, .faults = true, .map_entries = 65536 };
	ret = cli_parse(&top_cli, argc, argv, o);
	if (!ret && o->json && !o->batch)
		return cli_error(&top_cli, "--json needs -b (batch mode)");
	return ret;
}
