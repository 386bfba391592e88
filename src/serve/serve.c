// SPDX-License-Identifier: GPL-2.0
/*
 * `rsstrace serve`: every address space on the system, accounted as `rsstrace
 * top` does (one iterator pass seeds them, then every rss_stat event), summed
 * per cgroup in BPF, and served on /metrics for Prometheus.
 *
 * Threads: libmicrohttpd's internal polling thread answers requests; the main
 * thread drains the ring buffer. Both take `lock`, so each scrape sees one
 * consistent state and builds its whole response from it: no response mixes
 * two snapshots. A scrape also closes the per-cgroup peak window (the peak
 * since the previous scrape), which is why responses are not cached.
 *
 * Peaks per scraper: BPF keeps one window, closed by every scrape; user space
 * folds each closed window into a running maximum per scraper (remote address
 * + User-Agent), so a curl between two Prometheus scrapes does not take a
 * spike away from Prometheus.
 */
#define _GNU_SOURCE
#include "serve/serve.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "serve/cgroup_table.h"
#include "core/hooks.h"
#include "serve/listen_addr.h"
#include "core/log.h"
#include "serve/metrics.h"
#include "core/exit_status.h"
#include "core/preflight.h"
#include "core/stop_signal.h"
#include "core/live_view.h"
#include "core/tracer.h"
#include "core/units.h"
#include "rss_math.h"

struct serve_opts {
	const char *listen;
	struct listen_addr addr;
	bool allow_remote, causes;
	uint64_t top_processes, map_entries, cgroup_entries;
};

struct serve {
	struct serve_opts o;
	pthread_mutex_t lock; /* everything below */
	struct tracer t;
	struct hooks hooks;
	struct top_state *ts;
	struct top_frame f;
	struct mm_state *live;
	uint32_t live_cap;
	struct cgroup_window *win;
	uint32_t win_cap;
	struct cg_table cgs;
	uint64_t page_bytes;
	uint64_t ended_events, events_shown, scrapes;
	uint64_t last_close_ns;
	char cgroup_root[512]; /* the cgroup2 mount */
};

static const char usage[] =
	"Usage: rsstrace serve [--listen ADDR:PORT [--allow-remote]] [--top-processes N]\n"
	"\n"
	"Serve the exact, event-driven RSS accounting of every process on /metrics,\n"
	"in the Prometheus text format or OpenMetrics (as the scraper asks), for\n"
	"Prometheus and everything that reads its format. Per cgroup: RSS by type,\n"
	"swap, the peak since the previous scrape (a 50 ms spike between two 15 s\n"
	"scrapes still shows), and counters of why memory moved. Per process: only\n"
	"the top N by RSS and by peak, because per-pid series are unbounded.\n"
	"\n"
	"  -l, --listen ADDR:PORT  where to listen (default 127.0.0.1:9464;\n"
	"                          IPv6 as [::1]:9464)\n"
	"      --allow-remote      allow an address other than loopback: the metrics\n"
	"                          name every cgroup and the top processes\n"
	"  -n, --top-processes N   per-process series for the N largest by RSS and\n"
	"                          the N largest by peak (default 5, 0 = none)\n"
	"      --no-causes         no fault/CoW/swap-in hooks (saves their cost);\n"
	"                          the counters derived from RSS changes remain\n"
	"      --max-procs N       address spaces the maps hold (default 65536)\n"
	"      --max-cgroups N     cgroups the map holds (default 4096)\n"
	"  -v, --verbose           hooks in use, libbpf messages\n"
	"  -h, --help              this help\n"
	"\n"
	"Stops cleanly on SIGINT or SIGTERM (exit 0). Metrics: docs/rsstrace-serve.1.md.\n"
	"\n"
	"EXAMPLES\n"
	"  sudo rsstrace serve                       # http://127.0.0.1:9464/metrics\n"
	"  curl -s localhost:9464/metrics | grep rss_peak\n"
	"  sudo rsstrace serve -l 0.0.0.0:9464 --allow-remote -n 10\n"
	"  prometheus.yml:  scrape_configs: [{job_name: rsstrace,\n"
	"                     static_configs: [{targets: ['127.0.0.1:9464']}]}]\n";

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "rsstrace serve: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'rsstrace serve --help'.\n");
	return EXIT_USAGE;
}

static int parse(int argc, char **argv, struct serve_opts *o)
{
	enum { OPT_REMOTE = 256, OPT_NOCAUSES, OPT_MAXPROCS, OPT_MAXCG };
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "allow-remote", no_argument, NULL, OPT_REMOTE },
		{ "top-processes", required_argument, NULL, 'n' },
		{ "no-causes", no_argument, NULL, OPT_NOCAUSES },
		{ "max-procs", required_argument, NULL, OPT_MAXPROCS },
		{ "max-cgroups", required_argument, NULL, OPT_MAXCG },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct serve_opts){ .listen = "127.0.0.1:9464", .causes = true, .top_processes = 5,
				  .map_entries = 65536, .cgroup_entries = 4096 };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+l:n:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'l': o->listen = optarg; break;
		case OPT_REMOTE: o->allow_remote = true; break;
		case 'n':
			if (parse_uint(optarg, 0, 1000, &o->top_processes))
				return usage_error("invalid number of processes '%s' (0 to 1000)", optarg);
			break;
		case OPT_NOCAUSES: o->causes = false; break;
		case OPT_MAXPROCS:
			if (parse_uint(optarg, 1, 1 << 24, &o->map_entries))
				return usage_error("invalid process limit '%s'", optarg);
			break;
		case OPT_MAXCG:
			if (parse_uint(optarg, 1, 1 << 20, &o->cgroup_entries))
				return usage_error("invalid cgroup limit '%s'", optarg);
			break;
		case 'v': log_verbose = true; break;
		case 'h': fputs(usage, stdout); return -1;
		default: return usage_error("unknown option or missing value: '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (parse_listen_addr(o->listen, &o->addr))
		return usage_error("invalid listen address '%s' (expected IP:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)",
				   o->listen);
	if (!o->addr.loopback && !o->allow_remote)
		return usage_error("'%s' is not a loopback address: anyone who can reach it would read every "
				   "cgroup and process name; add --allow-remote if that is intended", o->listen);
	return 0;
}

/* ---- cgroups ------------------------------------------------------------------------ */

/* Where the cgroup v2 hierarchy is mounted (/sys/fs/cgroup, or .../unified
 * on hybrid systems). */
static void find_cgroup_root(char *buf, size_t len)
{
	char line[1024], mnt[400];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	snprintf(buf, len, "/sys/fs/cgroup");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - cgroup2 ");

		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT ..." */
		if (sep && sscanf(line, "%*s %*s %*s %*s %399s", mnt) == 1) {
			snprintf(buf, len, "%s", mnt);
			break;
		}
	}
	fclose(f);
}

/* ---- records from the kernel --------------------------------------------------- */

static void add_causes(uint64_t *dst, const struct mm_causes *c)
{
	dst[MC_FORK_BYTES] += c->fork_pages;
	dst[MC_UNMAPPED_BYTES] += c->unmapped_pages;
	dst[MC_SWAPOUT_BYTES] += c->swapout_pages;
	dst[MC_FAULTS] += c->faults;
	dst[MC_COW_FAULTS] += c->wp_faults;
	dst[MC_SWAPIN_FAULTS] += c->swapin_faults;
}

/* An address space ended: what it counted stays in its cgroup's counters. */
static void on_record(void *ctx, const void *data, size_t len)
{
	struct serve *s = ctx;
	const struct mm_state *st;
	struct cg_entry *e;

	if (len < sizeof(struct mm_end_record) || *(const uint32_t *)data != REC_MM_END)
		return;
	st = &((const struct mm_end_record *)data)->st;
	s->ended_events += st->events;
	e = cg_get(&s->cgs, st->cgroup_id);
	if (e)
		add_causes(e->ended, &st->causes);
}

/* ---- one scrape ----------------------------------------------------------------- */

/* Largest first; ties by pid, so that the series chosen do not flap. */
static int desc_then_pid(uint64_t va, uint64_t vb, const struct top_row *a, const struct top_row *b)
{
	if (va != vb)
		return va < vb ? 1 : -1;
	return (a->st.tgid > b->st.tgid) - (a->st.tgid < b->st.tgid);
}

static int cmp_rss(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	return desc_then_pid(x->rss_kb, y->rss_kb, x, y);
}

static int cmp_hwm(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	return desc_then_pid(x->hwm_kb, y->hwm_kb, x, y);
}

static const char *cg_path(struct serve *s, uint64_t id)
{
	struct cg_entry *e = cg_find(&s->cgs, id);

	return e ? cg_label(e) : "";
}

/* The top N by RSS, then the top N by peak that are not among them. */
static uint32_t pick_processes(struct serve *s, struct metrics_process *out)
{
	struct top_frame *f = &s->f;
	uint32_t n = 0, live = 0, want = (uint32_t)s->o.top_processes;

	for (uint32_t i = 0; i < f->nrows; i++) /* top_build appends the ended ones: drop them */
		if (!f->rows[i].exited)
			f->rows[live++] = f->rows[i];
	for (int pass = 0; pass < 2; pass++) {
		uint32_t taken = 0;

		qsort(f->rows, live, sizeof(*f->rows), pass ? cmp_hwm : cmp_rss);
		for (uint32_t i = 0; i < live && taken < want; i++) {
			const struct top_row *r = &f->rows[i];
			bool dup = false;

			for (uint32_t k = 0; k < n && !dup; k++)
				dup = out[k].pid == r->st.tgid;
			taken++;
			if (dup)
				continue;
			out[n] = (struct metrics_process){ .pid = r->st.tgid, .rss_bytes = r->rss_kb * 1024,
							   .peak_bytes = r->hwm_kb * 1024,
							   .cgroup = cg_path(s, r->st.cgroup_id) };
			memcpy(out[n++].comm, r->st.comm, RSS_COMM_LEN);
		}
	}
	return n;
}

static uint32_t list_hooks(struct serve *s, struct metrics_hook *out, char (*buf)[128])
{
	uint32_t n = 0;

	for (int h = 0; h < LH_COUNT; h++) {
		const char *use = hook_in_use(&s->hooks, h, buf[n], sizeof(buf[n]));

		if (use)
			out[n++] = (struct metrics_hook){ .hook = hook_key(h), .attach = use };
	}
	return n;
}

/*
 * Per cgroup: totals and the peak since this scraper's previous scrape. The
 * peak of the window BPF just closed is the largest of: what events produced
 * in it, the level at its start (it held that much when it began), and the
 * level now; each scraper's peak is the largest of the windows since its
 * previous scrape.
 */
static uint32_t fill_cgroups(struct serve *s, int nwin, int nlive, int k, struct metrics_cgroup *out)
{
	struct cg_table *t = &s->cgs;
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->n; i++) {
		t->cgs[i].processes = 0;
		memset(t->cgs[i].live, 0, sizeof(t->cgs[i].live));
	}
	for (int i = 0; i < nwin; i++)
		cg_get(t, s->win[i].id);
	for (int i = 0; i < nlive; i++) {
		struct cg_entry *e = cg_get(t, s->live[i].cgroup_id);

		if (e) {
			e->processes++;
			add_causes(e->live, &s->live[i].causes);
		}
	}
	cg_resolve_paths(t, s->cgroup_root);
	for (int i = 0; i < nwin; i++) { /* no more cg_get(): entries stay put */
		const struct cgroup_window *w = &s->win[i];
		struct cg_entry *e = cg_find(t, w->id);
		struct metrics_cgroup *m = &out[n];
		__s64 cur[RSS_NR_MEMBERS]; /* the type rss_math.h takes */
		int64_t peak;

		if (!e)
			continue; /* out of memory when it was added */
		for (int c = 0; c < RSS_NR_MEMBERS; c++)
			cur[c] = w->cur[c];
		peak = cg_close_window(t, e, k, w->window_peak, rss_pages(cur));
		/* a removed cgroup keeps its (empty) map entry: leave it out */
		if (!e->path && !e->processes)
			continue;
		memset(m, 0, sizeof(*m));
		m->path = cg_label(e);
		for (int c = 0; c < RSS_NR_MEMBERS; c++)
			m->bytes[c] = (uint64_t)rss_clamp(cur[c]) * s->page_bytes;
		m->peak_bytes = (uint64_t)peak * s->page_bytes;
		m->processes = e->processes;
		for (int c = 0; c < MC_COUNT; c++)
			m->causes[c] = cg_counter(e, c) * (c <= MC_SWAPOUT_BYTES ? s->page_bytes : 1);
		n++;
	}
	return n;
}

/* One consistent response, built under the lock. Returns 0 or -errno. */
static int scrape(struct serve *s, enum metrics_format fmt, const char *who, char **text, size_t *len)
{
	struct metrics_snapshot snap = { .version = RSSTRACE_VERSION };
	struct metrics_hook hooks[LH_COUNT];
	char hook_buf[LH_COUNT][128];
	struct metrics_cgroup *cgs = NULL;
	struct metrics_process *procs = NULL;
	struct loss_counters l;
	struct tree_state tree;
	uint64_t now, events = s->ended_events;
	int nwin, nlive, err, k;

	tracer_poll(&s->t, 0); /* records first: an ended mm is then in `ended`, not lost */
	nwin = tracer_close_window(&s->t, s->win, s->win_cap);
	if (nwin < 0)
		return nwin;
	nlive = tracer_read_live(&s->t, s->live, s->live_cap);
	if (nlive < 0)
		return nlive;
	now = tracer_now_ns();
	if (top_build(s->ts, s->live, (uint32_t)nlive, now, &s->f))
		return -ENOMEM;
	cgs = calloc(nwin ? nwin : 1, sizeof(*cgs));
	procs = calloc(s->o.top_processes * 2 + 1, sizeof(*procs));
	if (!cgs || !procs) {
		err = -ENOMEM;
		goto out;
	}
	k = cg_scraper(&s->cgs, who);
	snap.ncgroups = fill_cgroups(s, nwin, nlive, k, cgs);
	snap.cgroups = cgs;
	snap.nprocs = pick_processes(s, procs);
	snap.procs = procs;
	snap.nhooks = list_hooks(s, hooks, hook_buf);
	snap.hooks = hooks;
	snap.cause_available[MC_FORK_BYTES] = snap.cause_available[MC_UNMAPPED_BYTES] =
		snap.cause_available[MC_SWAPOUT_BYTES] = true;
	snap.cause_available[MC_FAULTS] = s->hooks.h[LH_FAULT].chosen >= 0;
	snap.cause_available[MC_COW_FAULTS] = s->hooks.h[LH_WP].chosen >= 0;
	snap.cause_available[MC_SWAPIN_FAULTS] = s->hooks.h[LH_SWAPIN].chosen >= 0;
	snap.window_seconds = (now - (s->cgs.scrapers[k].last_ns ? s->cgs.scrapers[k].last_ns : s->last_close_ns)) / 1e9;
	s->cgs.scrapers[k].last_ns = now;
	s->last_close_ns = now;
	for (int i = 0; i < nlive; i++)
		events += s->live[i].events;
	s->events_shown = events > s->events_shown ? events : s->events_shown;
	snap.events = s->events_shown;
	snap.address_spaces = (uint64_t)nlive;
	tracer_losses(&s->t, &l);
	snap.lost[ML_RINGBUF] = l.ringbuf_full;
	snap.lost[ML_MMS] = l.mms_full;
	snap.lost[ML_TASKS] = l.tasks_full;
	snap.lost[ML_CGROUPS] = l.cgroups_full;
	tracer_tree(&s->t, &tree);
	snap.map_entries[MM_MMS] = (uint64_t)nlive;
	snap.map_entries[MM_TRACED] = tree.live_tgids > 0 ? (uint64_t)tree.live_tgids : 0;
	snap.map_entries[MM_CGROUPS] = (uint64_t)nwin;
	snap.map_capacity[MM_MMS] = tracer_map_capacity(&s->t, TMAP_MMS);
	snap.map_capacity[MM_TRACED] = tracer_map_capacity(&s->t, TMAP_TRACED);
	snap.map_capacity[MM_CGROUPS] = tracer_map_capacity(&s->t, TMAP_CGROUPS);
	snap.scrapes = ++s->scrapes;
	err = metrics_render(&snap, fmt, text, len);
out:
	free(cgs);
	free(procs);
	return err;
}

/* ---- HTTP ------------------------------------------------------------------------ */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *type, char *body,
			     size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* Who is scraping: remote address and User-Agent (two Prometheus servers of an
 * HA pair differ by address; Prometheus and a curl by agent). */
static void scraper_key(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *agent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
	char addr[INET6_ADDRSTRLEN] = "?";

	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof(addr));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr, sizeof(addr));
	}
	snprintf(buf, len, "%s %s", addr, agent ? agent : "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_len, void **req)
{
	static const char index_page[] = "rsstrace serve: metrics at /metrics\n";
	static const char not_found[] = "not found: try /metrics\n";
	static const char bad_method[] = "only GET and HEAD\n";
	struct serve *s = cls;
	enum metrics_format fmt;
	char who[192], *text;
	size_t len;
	int err;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", (char *)bad_method,
			     sizeof(bad_method) - 1, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/plain", (char *)index_page, sizeof(index_page) - 1,
			     MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", (char *)not_found, sizeof(not_found) - 1,
			     MHD_RESPMEM_PERSISTENT);
	fmt = metrics_negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
	/* a HEAD (a health check) must not close anyone's peak window */
	if (!strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_OK, metrics_content_type(fmt), (char *)"", 0, MHD_RESPMEM_PERSISTENT);
	scraper_key(c, who, sizeof(who));
	pthread_mutex_lock(&s->lock);
	err = scrape(s, fmt, who, &text, &len);
	pthread_mutex_unlock(&s->lock);
	if (err) {
		static const char failed[] = "rsstrace: cannot read the accounting maps\n";

		elog("serve: a scrape failed: %s", strerror(-err));
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", (char *)failed, sizeof(failed) - 1,
			     MHD_RESPMEM_PERSISTENT);
	}
	return reply(c, MHD_HTTP_OK, metrics_content_type(fmt), text, len, MHD_RESPMEM_MUST_FREE);
}

/* Our own socket, so that a bind error says exactly why (libmicrohttpd's does not). */
static int listen_socket(const struct serve_opts *o)
{
	int fd = socket(o->addr.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&o->addr.ss, o->addr.len) || listen(fd, 128)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	if (!log_verbose)
		return;
	fprintf(stderr, "rsstrace: http: ");
	vfprintf(stderr, fmt, ap);
}

static struct MHD_Daemon *start_http(struct serve *s, int fd)
{
	sigset_t block, old;
	struct MHD_Daemon *d;

	/* the server's threads inherit this mask: signals go to the main thread */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, 0, NULL, NULL,
			     on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
			     MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, 256U,
			     MHD_OPTION_CONNECTION_TIMEOUT, 30U, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return d;
}

/* ---- setup ----------------------------------------------------------------------- */

static int start_tracing(struct serve *s)
{
	struct tracer_config cfg;
	const char *what;
	int err;

	if (hooks_choose(&s->hooks, s->o.causes, false, &what)) {
		elog("this kernel offers no way to see the '%s' event (rsstrace --hooks tells why)", what);
		return EXIT_FAIL;
	}
	/* the accounting of rsstrace top, plus the per-cgroup totals */
	cfg = (struct tracer_config){ .map_entries = (uint32_t)s->o.map_entries, .ringbuf_bytes = 4 << 20,
				      .cgroup_entries = (uint32_t)s->o.cgroup_entries, .hooks = &s->hooks };
	err = tracer_start_all(&s->t, &cfg, on_record, s, &what);
	if (err) {
		elog("cannot %s: %s", what, strerror(-err));
		return EXIT_FAIL;
	}
	for (int h = 0; h < LH_COUNT; h++) {
		char buf[128];
		const char *use = hook_in_use(&s->hooks, h, buf, sizeof(buf));

		vlog("hook: %-13s -> %s", hook_name(h), use ? use : "unavailable");
	}
	return 0;
}

static int alloc_state(struct serve *s)
{
	s->page_bytes = (uint64_t)sysconf(_SC_PAGESIZE);
	s->ts = top_state_new(s->page_bytes / 1024, s->hooks.h[LH_FAULT].chosen >= 0);
	s->live_cap = (uint32_t)s->o.map_entries;
	s->live = calloc(s->live_cap, sizeof(*s->live));
	s->win_cap = (uint32_t)s->o.cgroup_entries;
	s->win = calloc(s->win_cap, sizeof(*s->win));
	if (!s->ts || !s->live || !s->win) {
		elog("serve: out of memory");
		return EXIT_FAIL;
	}
	return 0;
}

static void free_state(struct serve *s)
{
	tracer_stop(&s->t);
	top_frame_free(&s->f);
	top_state_free(s->ts);
	free(s->live);
	free(s->win);
	cg_table_free(&s->cgs);
}

/* Drains the ring buffer until a signal; the HTTP thread does the rest. */
static void run(struct serve *s)
{
	struct pollfd p = { .fd = tracer_poll_fd(&s->t), .events = POLLIN };

	while (!stop_requested()) {
		poll(&p, 1, 200); /* woken when records pile up; else every 200 ms */
		pthread_mutex_lock(&s->lock);
		tracer_poll(&s->t, 0);
		pthread_mutex_unlock(&s->lock);
	}
}

int serve_main(int argc, char **argv)
{
	static struct serve s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct MHD_Daemon *d;
	int ret, fd;

	ret = parse(argc, argv, &s.o);
	if (ret)
		return ret < 0 ? 0 : ret;
	ret = preflight();
	if (ret)
		return ret;
	stop_on_signals();
	/* bind before loading anything: a busy port is the commonest failure */
	fd = listen_socket(&s.o);
	if (fd < 0) {
		elog("cannot listen on %s: %s", s.o.listen, strerror(-fd));
		return EXIT_FAIL;
	}
	find_cgroup_root(s.cgroup_root, sizeof(s.cgroup_root));
	ret = start_tracing(&s);
	if (!ret)
		ret = alloc_state(&s);
	if (ret) {
		close(fd);
		free_state(&s);
		return ret;
	}
	s.last_close_ns = tracer_now_ns();
	d = start_http(&s, fd);
	if (!d) {
		elog("cannot start the HTTP server on %s", s.o.listen);
		close(fd);
		free_state(&s);
		return EXIT_FAIL;
	}
	vlog("serving http://%s/metrics", s.o.listen);
	run(&s);
	MHD_stop_daemon(d); /* waits for requests in progress; closes fd */
	free_state(&s);
	vlog("stopped by signal %d", stop_requested());
	return 0;
}
