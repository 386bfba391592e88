// SPDX-License-Identifier: GPL-2.0
/*
 * `rsstrace serve`: every address space on the system, accounted as `rsstrace
 * top` does (one iterator pass seeds them, then every rss_stat event), summed
 * per cgroup in BPF, and served on /metrics for Prometheus.
 *
 * Threads: libmicrohttpd's internal polling thread answers requests (http.c);
 * the main thread drains the ring buffer. Both take `lock`, so each scrape
 * (scrape.c) sees one consistent state and builds its whole response from it:
 * no response mixes two snapshots. A scrape also closes the per-cgroup peak
 * window (the peak since the previous scrape), which is why responses are
 * not cached.
 *
 * Peaks per scraper: BPF keeps one window, closed by every scrape; user space
 * folds each closed window into a running maximum per scraper (remote address
 * + User-Agent, cgroup_table.c), so a curl between two Prometheus scrapes
 * does not take a spike away from Prometheus.
 *
 * Privileges: once loaded and attached, before the HTTP thread exists, every
 * capability is dropped (privs.c says why none is needed), optionally the
 * user switched (--user), and no_new_privs set: the HTTP parser never runs
 * privileged. --footprint-interval's smaps_rollup reads need CAP_SYS_PTRACE:
 * a reader process of its own holds it (rollup_reader.h), serve does not.
 *
 * --footprint-interval: the main thread also reads every process's
 * smaps_rollup once per interval (footprint_pass.h, through the reader), the
 * lock held only to list them and to publish the sums; the first pass is done before the HTTP
 * thread starts, so that every response has a footprint.
 */
#define _GNU_SOURCE
#include "serve/serve.h"

#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "core/exit_status.h"
#include "core/hooks.h"
#include "core/log.h"
#include "core/preflight.h"
#include "core/stop_signal.h"
#include "core/tracer.h"
#include "serve/cli.h"
#include "serve/footprint_pass.h"
#include "serve/http.h"
#include "serve/listen_addr.h"
#include "serve/privs.h"
#include "serve/rollup_reader.h"
#include "serve/scrape.h"

struct serve {
	struct serve_opts o;
	pthread_mutex_t lock; /* everything below */
	struct tracer t;
	struct hooks hooks;
	struct scrape_state sc;
	struct footprint_pass fp;	/* the main thread's only (--footprint-interval) */
	struct rollup_reader reader;	/* reads smaps_rollup for it */
	uint64_t next_fp_ns;
};

/* A scrape, from the HTTP thread. */
static int scrape_locked(void *ctx, enum metrics_format fmt, const char *who, char **text, size_t *len)
{
	struct serve *s = ctx;
	int err;

	pthread_mutex_lock(&s->lock);
	err = scrape(&s->sc, fmt, who, text, len);
	pthread_mutex_unlock(&s->lock);
	return err;
}

static int start_tracing(struct serve *s)
{
	struct tracer_config cfg;
	const char *what;
	int err;

	if (hooks_choose(&s->hooks, s->o.causes, false, false, false, &what)) {
		elog("this kernel offers no way to see the '%s' event (rsstrace --hooks tells why)", what);
		return EXIT_FAIL;
	}
	/* the accounting of rsstrace top, plus the per-cgroup totals */
	cfg = (struct tracer_config){ .map_entries = (uint32_t)s->o.map_entries, .ringbuf_bytes = 4 << 20,
				      .cgroup_entries = (uint32_t)s->o.cgroup_entries, .hooks = &s->hooks };
	err = tracer_start_all(&s->t, &cfg, scrape_on_record, &s->sc, &what);
	if (err) {
		tracer_print_start_error(&s->t, err, what);
		return EXIT_FAIL;
	}
	for (int h = 0; h < LH_COUNT; h++) {
		char buf[128];
		const char *use = hook_in_use(&s->hooks, h, buf, sizeof(buf));

		vlog("hook: %-13s -> %s", hook_name(h), use ? use : "unavailable");
	}
	if (scrape_state_init(&s->sc, &s->t, &s->hooks, (uint32_t)s->o.map_entries,
			      (uint32_t)s->o.cgroup_entries, (uint32_t)s->o.top_processes)) {
		elog("serve: out of memory");
		return EXIT_FAIL;
	}
	return 0;
}

static void stop_tracing(struct serve *s)
{
	tracer_stop(&s->t);
	scrape_state_free(&s->sc);
	fp_pass_free(&s->fp);
	rollup_reader_stop(&s->reader);
}

/* One footprint pass: listed and published under the lock, read without it.
 * Returns 0 or -errno. */
static int footprint_pass(struct serve *s)
{
	int err;

	/* the next one an interval from now, whether this one works or not */
	s->next_fp_ns = tracer_now_ns() + (uint64_t)(s->o.footprint_interval * 1e9);
	pthread_mutex_lock(&s->lock);
	err = scrape_list_footprint(&s->sc, &s->fp);
	pthread_mutex_unlock(&s->lock);
	if (!err)
		err = fp_pass_read(&s->fp, &s->reader);
	if (err)
		return err;
	pthread_mutex_lock(&s->lock);
	err = scrape_publish_footprint(&s->sc, &s->fp);
	pthread_mutex_unlock(&s->lock);
	vlog("footprint pass: %zu processes in %.1f ms, %u unreadable", s->fp.nprocs, s->fp.cost_ns / 1e6,
	     s->fp.unreadable);
	return err;
}

/* Drains the ring buffer until a signal; the HTTP thread does the rest. */
static void run(struct serve *s)
{
	struct pollfd p = { .fd = tracer_poll_fd(&s->t), .events = POLLIN };
	int err;

	while (!stop_requested()) {
		poll(&p, 1, 200); /* woken when records pile up, by a signal, else every 200 ms */
		pthread_mutex_lock(&s->lock);
		tracer_poll(&s->t, 0);
		pthread_mutex_unlock(&s->lock);
		/* the previous sums stay, their age says so */
		if (s->o.footprint_interval && tracer_now_ns() >= s->next_fp_ns && (err = footprint_pass(s)))
			wlog("serve: footprint pass failed: %s", strerror(-err));
	}
}

int serve_main(int argc, char **argv)
{
	static struct serve s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct http_server *http;
	struct serve_user user = { 0 };
	int ret, fd;

	ret = serve_parse_options(argc, argv, &s.o);
	if (ret)
		return ret < 0 ? 0 : ret;
	log_verbose = s.o.verbose;
	if (s.o.user && serve_user_lookup(s.o.user, &user))
		return EXIT_FAIL;
	ret = preflight();
	if (!ret)
		ret = preflight_pid_namespace();
	if (ret)
		return ret;
	stop_on_signals();
	/* bind before loading anything: a busy port is the commonest failure */
	fd = listen_addr_bind(&s.o.addr);
	if (fd < 0) {
		elog("cannot listen on %s: %s", s.o.listen, strerror(-fd));
		return EXIT_FAIL;
	}
	ret = start_tracing(&s);
	if (ret) {
		close(fd);
		stop_tracing(&s);
		return ret;
	}
	/* forked before dropping: it keeps CAP_SYS_PTRACE, serve nothing */
	if (s.o.footprint_interval && rollup_reader_start(&s.reader, &user)) {
		close(fd);
		stop_tracing(&s);
		return EXIT_FAIL;
	}
	if (serve_drop_privileges(&user, tracer_map_fd(&s.t, "mms"), false)) {
		close(fd);
		stop_tracing(&s);
		return EXIT_FAIL;
	}
	s.sc.footprint_on = s.o.footprint_interval > 0;
	if (s.sc.footprint_on && (ret = footprint_pass(&s))) {
		elog("serve: the first footprint pass failed: %s", strerror(-ret));
		close(fd);
		stop_tracing(&s);
		return EXIT_FAIL;
	}
	http = http_start(fd, scrape_locked, &s);
	if (!http) {
		elog("cannot start the HTTP server on %s", s.o.listen);
		close(fd);
		stop_tracing(&s);
		return EXIT_FAIL;
	}
	vlog("serving http://%s/metrics", s.o.listen);
	run(&s);
	http_stop(http); /* waits for requests in progress; closes fd */
	stop_tracing(&s);
	vlog("stopped by signal %d", stop_requested());
	return 0;
}
