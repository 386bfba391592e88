// SPDX-License-Identifier: GPL-2.0
#include "serve/cli.h"

#include <stdio.h>

#include "core/cli.h"
#include "core/log.h"
#include "core/units.h"
#include "rsstrace.h"

/* No kernel has more processes (PID_MAX_LIMIT on 64-bit), hence no more
 * address spaces or tgids to hold: a larger --max-procs only costs memory. */
#define MAX_PROCS_LIMIT RSS_PID_MAX
/* Above this much kernel memory for the maps, say so when starting. */
#define MAX_PROCS_WARN_BYTES (256ULL << 20)

/*
 * What --max-procs N costs. The kernel preallocates every map: per hash entry
 * a 48-byte htab_elem header, the key and value rounded up to 8, and a
 * 16-byte bucket (n rounded up to a power of two), for `mms` (the address
 * spaces' slots) and `traced`; one mm_state per slot of `mm_states`; a slot
 * number per entry of `free_slots`: 847 B per entry with `traced`'s (bpftool's
 * memlock on 6.18 for 1,000 entries: 81 `mms`, 672 `mm_states`, 4 `free_slots`, 89 `traced`).
 * User space holds one mm_state per entry to read the maps into (allocated,
 * touched only as far as it fills).
 */
uint64_t serve_maps_kernel_bytes(uint64_t n)
{
	uint64_t buckets = 1;

	while (buckets < n)
		buckets <<= 1;
	return n * (48 + 8 + 8 + sizeof(struct mm_state) + 4 + 48 + 8 + sizeof(struct traced_task)) +
	       2 * 16 * buckets;
}

uint64_t serve_maps_user_bytes(uint64_t n)
{
	return n * sizeof(struct mm_state);
}

#define USAGE "Usage: rsstrace serve [--listen ADDR:PORT [--allow-remote]] [--top-processes N]\n"

static const char help_text[] =
	USAGE
	"\n"
	"Serve the exact, event-driven RSS accounting of every process on /metrics,\n"
	"in the Prometheus text format or OpenMetrics (as the scraper asks), for\n"
	"Prometheus and everything that reads its format. Per memory cgroup (v1\n"
	"where the memory controller is on v1, else v2): RSS by type, swap, the\n"
	"peak since the previous scrape (a 50 ms spike between two 15 s scrapes\n"
	"still shows), and counters of why memory moved. Per process: only the top\n"
	"N by RSS and by peak, because per-pid series are unbounded.\n"
	"\n"
	"  -l, --listen ADDR:PORT  where to listen (default 127.0.0.1:9464;\n"
	"                          IPv6 as [::1]:9464)\n"
	"      --allow-remote      allow an address other than loopback: the metrics\n"
	"                          name every cgroup and the top processes\n"
	"  -n, --top-processes N   per-process series for the N largest by RSS and\n"
	"                          the N largest by peak (default 5, 0 = none)\n"
	"      --no-causes         no fault/CoW/swap-in hooks (saves their cost);\n"
	"                          the counters derived from RSS changes remain\n"
	"      --footprint-interval SECONDS\n"
	"                          per cgroup, the sum of its processes' PSS\n"
	"                          (rsstrace_cgroup_footprint_bytes: shared pages\n"
	"                          counted once), read from smaps_rollup every\n"
	"                          SECONDS (at least 1), never at a scrape; off by\n"
	"                          default: a pass costs 17-76 us per process and\n"
	"                          6-34 ms per GiB of 4 kB pages, and a reader\n"
	"                          process keeps CAP_SYS_PTRACE (serve does not)\n"
	"      --max-procs N       address spaces the maps hold (default 65536,\n"
	"                          at most 4194304; ~700 bytes each)\n"
	"      --max-cgroups N     cgroups the map holds (default 4096)\n"
	"      --user NAME         once attached, run as this user (no capability\n"
	"                          is kept in any case)\n"
	"  -v, --verbose           hooks in use, libbpf messages\n"
	"  -h, --help              this help\n"
	"\n"
	"Stops cleanly on SIGINT or SIGTERM (exit 0). Metrics: man rsstrace-serve.\n"
	"\n"
	"EXAMPLES\n"
	"  sudo rsstrace serve                       # http://127.0.0.1:9464/metrics\n"
	"  curl -s localhost:9464/metrics | grep rss_peak\n"
	"  sudo rsstrace serve -l 0.0.0.0:9464 --allow-remote -n 10\n"
	"  prometheus.yml:  scrape_configs: [{job_name: rsstrace,\n"
	"                     static_configs: [{targets: ['127.0.0.1:9464']}]}]\n";

enum { OPT_ALLOW_REMOTE = 256, OPT_NO_CAUSES, OPT_MAX_PROCS, OPT_MAX_CGROUPS, OPT_USER, OPT_FOOTPRINT };

static const struct option long_opts[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "allow-remote", no_argument, NULL, OPT_ALLOW_REMOTE },
	{ "top-processes", required_argument, NULL, 'n' },
	{ "no-causes", no_argument, NULL, OPT_NO_CAUSES },
	{ "footprint-interval", required_argument, NULL, OPT_FOOTPRINT },
	{ "max-procs", required_argument, NULL, OPT_MAX_PROCS },
	{ "max-cgroups", required_argument, NULL, OPT_MAX_CGROUPS },
	{ "user", required_argument, NULL, OPT_USER },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static int on_option(const struct cli *c, int opt, const char *arg, void *opts)
{
	struct serve_opts *o = opts;

	switch (opt) {
	case 'l':
		o->listen = arg;
		break;
	case OPT_ALLOW_REMOTE:
		o->allow_remote = true;
		break;
	case 'n':
		if (parse_uint(arg, 0, 1000, &o->top_processes))
			return cli_error(c, "invalid number of processes '%s' (0 to 1000)", arg);
		break;
	case OPT_NO_CAUSES:
		o->causes = false;
		break;
	case OPT_FOOTPRINT:
		if (parse_seconds(arg, &o->footprint_interval) || o->footprint_interval < 1)
			return cli_error(c, "invalid footprint interval '%s' (seconds >= 1)", arg);
		break;
	case OPT_MAX_PROCS:
		if (parse_uint(arg, 1, MAX_PROCS_LIMIT, &o->map_entries)) {
			uint64_t n;
			char k[16];

			if (parse_uint(arg, MAX_PROCS_LIMIT + 1, UINT32_MAX, &n))
				return cli_error(c, "invalid process limit '%s'", arg);
			return cli_error(c, "--max-procs %s: more than any kernel has processes (at most %u); "
					 "it would take %s of kernel memory", arg, MAX_PROCS_LIMIT,
					 fmt_kb(serve_maps_kernel_bytes(n) >> 10, k, sizeof(k)));
		}
		break;
	case OPT_MAX_CGROUPS:
		if (parse_uint(arg, 1, 1 << 20, &o->cgroup_entries))
			return cli_error(c, "invalid cgroup limit '%s'", arg);
		break;
	case OPT_USER:
		o->user = arg;
		break;
	case 'v':
		o->verbose = true;
		break;
	}
	return 0;
}

static const struct cli serve_cli = {
	.prog = "rsstrace serve", .usage = USAGE, .help = help_text,
	.shorts = "+l:n:vh", .longs = long_opts, .on_option = on_option,
};

int serve_parse_options(int argc, char **argv, struct serve_opts *o)
{
	int ret;

	*o = (struct serve_opts){ .listen = "127.0.0.1:9464", .causes = true, .top_processes = 5,
				  .map_entries = 65536, .cgroup_entries = 4096 };
	ret = cli_parse(&serve_cli, argc, argv, o);
	if (ret)
		return ret;
	if (parse_listen_addr(o->listen, &o->addr))
		return cli_error(&serve_cli,
				 "invalid listen address '%s' (expected IP:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)",
				 o->listen);
	if (serve_maps_kernel_bytes(o->map_entries) > MAX_PROCS_WARN_BYTES) {
		char k[16], u[16];

		wlog("serve: --max-procs %llu: the maps take %s of kernel memory (and up to %s here), "
		     "and every scrape reads them all", (unsigned long long)o->map_entries,
		     fmt_kb(serve_maps_kernel_bytes(o->map_entries) >> 10, k, sizeof(k)),
		     fmt_kb(serve_maps_user_bytes(o->map_entries) >> 10, u, sizeof(u)));
	}
	if (!o->addr.loopback && !o->allow_remote)
		return cli_error(&serve_cli, "'%s' is not a loopback address: anyone who can reach it would read every "
				 "cgroup and process name; add --allow-remote if that is intended", o->listen);
	return 0;
}
