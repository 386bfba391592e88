// SPDX-License-Identifier: GPL-2.0
/*
 * rsstrace: exact, live RSS accounting of a process tree with eBPF.
 * This file wires the pieces together: options, checks, launch or attach,
 * the tracing loop, and the exit status.
 */
#define _GNU_SOURCE
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "trace/cgroup_watch.h"
#include "trace/footprint_loader.h"
#include "core/hooks.h"
#include "trace/launch.h"
#include "core/log.h"
#include "trace/observers.h"
#include "trace/options.h"
#include "core/preflight.h"
#include "serve/serve.h"
#include "top/top.h"
#include "proc/proc_status.h"
#include "output/report.h"
#include "core/tracer.h"

bool log_verbose;

static volatile sig_atomic_t stop_signal;

struct app {
	struct options o;
	struct tracer t;
	struct report r;
	struct launch l;
	struct hooks hooks;
	struct observers ob;
	bool launched;
	int cmd_status; /* wait(2) status, -1 until reaped */
	uint64_t mms_at_end; /* address spaces still traced when tracing stopped */
	char target[256];
	struct cgroup_watch cgw; /* --cgroup */
	struct fp_state fp;	 /* --footprint on the rmap hooks */
	const char *fp_unavailable; /* --footprint: why not on the rmap hooks */
};

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!log_verbose || level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

struct live_lookup {
	uint32_t tgid;
	struct oom_kill_record *rec;
};

static void find_live(void *ctx, const struct mm_state *st)
{
	struct live_lookup *l = ctx;

	if (st->tgid != l->tgid || l->rec->has_acct)
		return;
	memcpy(l->rec->acct, st->cur, sizeof(l->rec->acct));
	l->rec->acct_peak = st->peak_rss;
	l->rec->has_acct = 1;
}

/* An OOM kill: name its cgroup by path; if the kernel side could not read
 * our accounting (a pid-only tracepoint), take the live row now. */
static void on_oom_kill(struct app *a, const struct oom_kill_record *rec)
{
	struct oom_note n;

	oom_note_init(&n, rec);
	if (!rec->has_acct) {
		struct live_lookup l = { rec->tgid, &n.rec };

		tracer_foreach_live(&a->t, find_live, &l);
		n.acct_late = n.rec.has_acct;
	}
	report_add_oom(&a->r, &n);
}

static void on_record(void *ctx, const void *data, size_t len)
{
	struct app *a = ctx;
	uint32_t type = len >= sizeof(uint32_t) ? *(const uint32_t *)data : 0;

	observers_on_record(&a->ob, data, len);
	if (type == REC_MM_END && len >= sizeof(struct mm_end_record)) {
		report_add_row(&a->r, &((const struct mm_end_record *)data)->st);
	} else if (type == REC_EXIT && len >= sizeof(struct exit_record)) {
		const struct exit_record *e = data;

		report_add_exit(&a->r, e->tgid, e->exit_code, e->ns);
	} else if (type == REC_OOM_KILL && len >= sizeof(struct oom_kill_record)) {
		on_oom_kill(a, data);
	}
}

static void describe_target(struct app *a)
{
	size_t off = 0;

	if (a->o.cmd) {
		for (char **p = a->o.cmd; *p && off < sizeof(a->target) - 1; p++)
			off += snprintf(a->target + off, sizeof(a->target) - off, "%s%s",
					p == a->o.cmd ? "" : " ", *p);
		if (off >= sizeof(a->target) - 1)
			strcpy(a->target + sizeof(a->target) - 4, "...");
		return;
	}
	off = snprintf(a->target, sizeof(a->target), "pid");
	for (int i = 0; i < a->o.npids && off < sizeof(a->target) - 12; i++)
		off += snprintf(a->target + off, sizeof(a->target) - off, "%s%d", i ? "," : " ",
				a->o.pids[i]);
}

/* -p: check each PID, mark it traced, read its state as of now. */
static int attach_pids(struct app *a)
{
	static int tgids[MAX_PIDS];
	uint32_t *owners = NULL;
	int n = 0, alive = 0, err, nowners;

	for (int i = 0; i < a->o.npids; i++) {
		int pid = a->o.pids[i], tgid = pid;

		switch (classify_pid(pid, &tgid)) {
		case PID_GONE:
			elog("no process with PID %d", pid);
			return EXIT_FAIL;
		case PID_KTHREAD:
			elog("PID %d is a kernel thread: it has no user address space to trace", pid);
			return EXIT_FAIL;
		case PID_ZOMBIE:
			elog("PID %d has already exited (zombie): nothing left to trace", pid);
			return EXIT_FAIL;
		case PID_USER:
			break;
		}
		if (tgid != pid)
			vlog("PID %d is a thread of process %d: tracing the process", pid, tgid);
		err = tracer_add_tgid(&a->t, tgid, 0);
		if (err == -EEXIST)
			continue;
		if (err) {
			elog("cannot trace PID %d: %s", pid, strerror(-err));
			return EXIT_FAIL;
		}
		tgids[n++] = tgid;
	}
	vlog("PIDs checked; attaching");
	/* Tests widen the window between the check and the attach to exercise
	 * "PID exited while attaching" deterministically. */
	if (getenv("RSSTRACE_TEST_ATTACH_DELAY_MS"))
		usleep(1000 * atoi(getenv("RSSTRACE_TEST_ATTACH_DELAY_MS")));
	err = tracer_seed(&a->t);
	if (err) {
		elog("cannot read the state of the traced processes (iter/task): %s", strerror(-err));
		return EXIT_FAIL;
	}
	nowners = tracer_owners(&a->t, &owners);
	if (nowners < 0) {
		elog("cannot read the traced address spaces: %s", strerror(-nowners));
		return EXIT_FAIL;
	}
	for (int i = 0; i < n; i++) {
		uint32_t key = (uint32_t)tgids[i];

		if (bsearch(&key, owners, nowners, sizeof(*owners), tracer_cmp_tgid)) {
			alive++;
			continue;
		}
		/* gone between the check and the attach: if the kernel did not see
		 * it exit (it was gone before we marked it), take it back ourselves */
		tracer_drop_tgid(&a->t, tgids[i]);
		wlog("PID %d exited while rsstrace was attaching", tgids[i]);
	}
	free(owners);
	if (!alive) {
		elog("every PID exited while rsstrace was attaching: nothing to trace");
		return EXIT_FAIL;
	}
	return 0;
}

/* -- CMD: start it behind a gate, mark it traced, let it exec. */
static int launch_cmd(struct app *a)
{
	int err = launch_prepare(a->o.cmd, &a->l);

	if (err) {
		elog("cannot start %s: %s", a->o.cmd[0], strerror(-err));
		return EXIT_FAIL;
	}
	a->launched = true;
	err = tracer_add_tgid(&a->t, a->l.pid, getpid());
	if (err) {
		launch_abort(&a->l);
		a->launched = false;
		elog("cannot trace the command: %s", strerror(-err));
		return EXIT_FAIL;
	}
	err = launch_release(&a->l);
	if (err) {
		waitpid(a->l.pid, NULL, 0);
		a->launched = false;
		if (err == ENOENT) {
			elog("%s: command not found", a->o.cmd[0]);
			return EXIT_CMD_NOTFOUND;
		}
		elog("%s: cannot execute: %s", a->o.cmd[0], strerror(err));
		return EXIT_CMD_NOEXEC;
	}
	return 0;
}

static void pick_largest(void *ctx, const struct mm_state *st)
{
	struct mm_state *best = ctx;
	int64_t rss = st->cur[RSS_FILE] + st->cur[RSS_ANON] + st->cur[RSS_SHMEM];

	if (!best->tgid || rss > best->cur[RSS_FILE] + best->cur[RSS_ANON] + best->cur[RSS_SHMEM])
		*best = *st;
}

static void print_live(struct app *a)
{
	struct tree_state tree;
	struct mm_state largest = { 0 };
	struct live_sharing sh = { .readings = a->ob.sh.readings,
				   .rss_sum_kb = (uint64_t)a->ob.sh.latest.rss,
				   .footprint_kb = (uint64_t)a->ob.sh.latest.pss,
				   .after_peak_kb = (uint64_t)a->ob.sh.read_peak * a->r.page_kb };
	struct loss_counters l;

	tracer_tree(&a->t, &tree);
	tracer_losses(&a->t, &l);
	tracer_foreach_live(&a->t, pick_largest, &largest);
	report_live(&a->r, &tree, largest.tgid ? &largest : NULL, tracer_now_ns(),
		    l.ringbuf_full + l.mms_full + l.tasks_full, &sh);
}

static void reap_cmd(struct app *a, int flags)
{
	int status;

	if (!a->launched || a->cmd_status >= 0)
		return;
	if (waitpid(a->l.pid, &status, flags) == a->l.pid)
		a->cmd_status = status;
}

static void add_to_cgroup_sample(void *ctx, const struct mm_state *st)
{
	struct app *a = ctx;
	int64_t fp = a->fp.skel ? (int64_t)footprint_owner_pages(&a->fp, st->tgid) : -1;

	cgroup_watch_add(&a->cgw, st, fp, (uint64_t)sysconf(_SC_PAGESIZE) / 1024);
}

/* --cgroup: read the traced processes' cgroups now (near the peak, or at the end). */
static void sample_cgroups(struct app *a, int64_t tree_peak, bool at_end)
{
	uint64_t now = tracer_now_ns();

	cgroup_watch_begin(&a->cgw, tree_peak, now, at_end);
	tracer_foreach_live(&a->t, add_to_cgroup_sample, a);
	cgroup_watch_end(&a->cgw, tracer_now_ns(), at_end);
}

/* Traces until every traced process is gone, a signal, or the duration. */
static void trace_loop(struct app *a, uint64_t t0)
{
	uint64_t deadline = a->o.duration ? t0 + (uint64_t)(a->o.duration * 1e9) : 0;
	uint64_t step = a->o.interval ? (uint64_t)(a->o.interval * 1e9) : 0;
	uint64_t next_live = t0 + step;
	struct tree_state tree;

	/* Test hook: stop consuming for a while, so a small ring buffer overflows. */
	if (getenv("RSSTRACE_TEST_STALL_MS"))
		usleep(1000 * atoi(getenv("RSSTRACE_TEST_STALL_MS")));
	for (;;) {
		tracer_poll(&a->t, observers_wait_ms(&a->ob, tracer_now_ns(), 50));
		report_flush(&a->r, false);
		if (stop_signal || ferror(a->r.out))
			return;
		reap_cmd(a, WNOHANG);
		if (deadline && tracer_now_ns() >= deadline)
			return;
		tracer_tree(&a->t, &tree);
		observers_tick(&a->ob, &a->t, &tree, tracer_now_ns());
		if (tree.live_tgids <= 0 && tree.live_mms <= 0)
			return;
		if (a->o.cgroup && cgroup_watch_due(&a->cgw, tree.rss, tree.peak, tracer_now_ns()))
			sample_cgroups(a, tree.peak, false);
		if (step && tracer_now_ns() >= next_live) {
			print_live(a);
			next_live += step;
		}
	}
}

static void add_detached(void *ctx, const struct mm_state *st)
{
	struct app *a = ctx;
	struct mm_state s = *st;

	a->mms_at_end++;
	s.end_reason = END_DETACH;
	s.end_ns = tracer_now_ns();
	report_add_row(&a->r, &s);
}

/* What the summary says about the hooks in use (after any fallback at load). */
static void describe_hooks(struct app *a, struct summary *s)
{
	static char use[LH_COUNT][128];
	struct hooks *hk = &a->hooks;

	for (int h = 0; h < LH_COUNT && h < MAX_HOOKS; h++) {
		s->hooks[h].key = hook_key(h);
		s->hooks[h].use = hook_in_use(hk, h, use[h], sizeof(use[h]));
		s->hooks[h].optional = h >= LH_FAULT;
		if (s->hooks[h].use)
			vlog("hook: %-13s -> %s", hook_name(h), s->hooks[h].use);
	}
	s->nhooks = LH_COUNT < MAX_HOOKS ? LH_COUNT : MAX_HOOKS;
	s->avail.shown = a->o.causes;
	s->avail.faults = hk->h[LH_FAULT].chosen >= 0;
	s->avail.wp_faults = hk->h[LH_WP].chosen >= 0;
	s->avail.rmap_pages = hk->h[LH_RMAP].chosen >= 0;
	s->avail.vmas_removed = hook_is_function(hk, LH_VMA);
	s->avail.munmap_requests = hk->h[LH_VMA].chosen >= 0 && !hook_is_function(hk, LH_VMA);
	s->avail.swapin_faults = hk->h[LH_SWAPIN].chosen >= 0;
}

/* --footprint: first-toucher accounting on the rmap hooks where they attach. */
static void start_footprint(struct app *a)
{
	static char why[160];
	const char *what;
	int err;

	if (!hooks_footprint_ready(&a->hooks)) {
		a->fp_unavailable = "the rmap functions cannot be hooked on this kernel (see --hooks)";
	} else {
		err = footprint_start(&a->fp, &a->t, &a->hooks, (uint32_t)a->o.footprint_pages,
				      (uint32_t)a->o.map_entries, &what);
		if (!err)
			return;
		footprint_stop(&a->fp);
		snprintf(why, sizeof(why), "cannot %s: %s", what, strerror(-err));
		hooks_drop_footprint(&a->hooks, why);
		a->fp_unavailable = why;
	}
	/* the fallback: the PSS footprint of --sharing's smaps_rollup readings */
	a->ob.sharing_on = true;
	wlog("--footprint: %s; using the PSS footprint from smaps_rollup instead", a->fp_unavailable);
}

/* rsstrace's own CPU time (user + system), for the benchmark. */
static uint64_t own_cpu_ms(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000ULL +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* rsstrace's own peak RSS: it must not grow with the number of processes. */
static uint64_t own_hwm_kb(void)
{
	char buf[4096];
	long long v = 0;

	if (read_proc_file(getpid(), "status", buf, sizeof(buf)) < 0 ||
	    parse_status_field(buf, "VmHWM", &v))
		return 0;
	return (uint64_t)v;
}

static int setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: poll returns */

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGHUP, &sa, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN); /* a closed output pipe shows as EPIPE */
	return 0;
}

int main(int argc, char **argv)
{
	struct tracer_config cfg;
	struct summary sum = { .cmd_status = -1 };
	static struct app a = { .cmd_status = -1 }; /* large: keep it off the stack */
	FILE *out = stdout;
	const char *what;
	uint64_t t0;
	bool over;
	int ret, err;

	if (argc > 1 && !strcmp(argv[1], "top")) {
		libbpf_set_print(libbpf_print);
		return top_main(argc - 1, argv + 1);
	}
	if (argc > 1 && !strcmp(argv[1], "serve")) {
		libbpf_set_print(libbpf_print);
		return serve_main(argc - 1, argv + 1);
	}
	ret = parse_options(argc, argv, &a.o);
	if (ret)
		return ret < 0 ? 0 : ret;
	log_verbose = a.o.verbose;
	libbpf_set_print(libbpf_print);
	if (a.o.output) {
		out = fopen(a.o.output, "we");
		if (!out) {
			elog("cannot open output file %s: %s", a.o.output, strerror(errno));
			return EXIT_USAGE;
		}
	}
	err = observers_open(&a.ob, &a.o, &what);
	if (err) {
		elog("cannot open %s: %s", what, strerror(-err));
		return EXIT_USAGE;
	}
	ret = preflight();
	if (ret)
		return ret;
	if (setup_signals())
		return EXIT_FAIL;
	describe_target(&a);

	if (hooks_choose(&a.hooks, a.o.causes || a.o.list_hooks, a.o.footprint || a.o.list_hooks, &what)) {
		elog("this kernel offers no way to see the '%s' event (rsstrace --hooks tells why)", what);
		return EXIT_FAIL;
	}
	if (a.o.list_hooks) {
		hooks_print(&a.hooks, out, a.o.json);
		return 0;
	}
	cfg = (struct tracer_config){ .follow_children = a.o.follow_children,
				      .map_entries = (uint32_t)a.o.map_entries,
				      .ringbuf_bytes = (uint32_t)a.o.ringbuf_bytes,
				      .hooks = &a.hooks,
				      .stacks = a.o.stacks,
				      .kernel_stacks = a.o.kernel_stacks,
				      .stack_entries = (uint32_t)a.o.stack_entries };
	err = tracer_start(&a.t, &cfg, on_record, &a, &what);
	if (err) {
		if (!strcmp(what, "load the BPF programs"))
			elog("the kernel refused to load the BPF programs (%s)%s", strerror(-err),
			     log_verbose ? ": see the verifier's log above" : "; run with -v to see the verifier's log");
		else
			elog("cannot %s: %s", what, strerror(-err));
		tracer_stop(&a.t);
		return EXIT_FAIL;
	}
	if (a.o.footprint)
		start_footprint(&a);
	t0 = tracer_now_ns();
	err = observers_start(&a.ob, &a.t, t0, (uint64_t)sysconf(_SC_PAGESIZE) / 1024,
			      (uint32_t)a.o.map_entries);
	if (err) {
		elog("cannot start the timeline or sharing readings: %s", strerror(-err));
		tracer_stop(&a.t);
		return EXIT_FAIL;
	}
	describe_hooks(&a, &sum);
	report_init(&a.r, out, a.o.json, t0, (uint64_t)sysconf(_SC_PAGESIZE) / 1024, &sum.avail,
		    a.o.rows);

	ret = a.o.cmd ? launch_cmd(&a) : attach_pids(&a);
	if (ret) {
		footprint_stop(&a.fp);
		tracer_stop(&a.t);
		report_free(&a.r);
		observers_free(&a.ob);
		return ret;
	}
	vlog("tracing started: %s", a.target);
	trace_loop(&a, t0);
	/* before a SIGTERM ends CMD: the end as the processes left it */
	if (a.o.cgroup) {
		struct tree_state tree;

		tracer_poll(&a.t, 0);
		tracer_tree(&a.t, &tree);
		/* a peak not sampled yet (rate limit, or a short run): now is
		 * nearest, if the tree is still near it (see cgroup_watch_due) */
		if (cgroup_watch_due(&a.cgw, tree.rss, tree.peak, a.cgw.last_ns + CG_SAMPLE_GAP_NS))
			sample_cgroups(&a, tree.peak, false);
		sample_cgroups(&a, 0, true);
	}
	if (stop_signal == SIGTERM && a.launched && a.cmd_status < 0) {
		/* we were asked to end: so is the command. Trace its exit for up to
		 * a second, so its row ends as an exit with its status. */
		kill(a.l.pid, SIGTERM);
		stop_signal = 0;
		a.o.duration = 1;
		trace_loop(&a, tracer_now_ns());
	}

	/* What is still alive gets its current state as its row. */
	tracer_poll(&a.t, 0);
	if (tracer_refresh(&a.t))
		wlog("could not refresh the live processes' counters; their rows are as of their last change");
	{
		char title[sizeof(a.target) + 32];

		snprintf(title, sizeof(title), "rsstrace: RSS of %s", a.target);
		if (observers_finish(&a.ob, &a.t, tracer_now_ns(), title, &what))
			elog("writing %s failed", what);
	}
	tracer_foreach_live(&a.t, add_detached, &a);
	tracer_poll(&a.t, 0);
	sum.end_ns = tracer_now_ns();
	tracer_tree(&a.t, &sum.tree);
	tracer_losses(&a.t, &sum.loss);
	sum.approx_reads = tracer_approx_reads(&a.t);
	if (a.fp.skel) {
		static struct fp_result fpr;

		if (footprint_read(&a.fp, &fpr))
			wlog("could not read the footprint maps");
		else
			sum.footprint = &fpr;
		footprint_stop(&a.fp);
	}
	sum.footprint_unavailable = a.o.footprint ? a.fp_unavailable : NULL;
	sum.footprint_pss = sum.footprint_unavailable ? &a.ob.sh : NULL;
	sum.mms_at_end = a.mms_at_end;
	sum.tasks_at_end = tracer_count_tasks(&a.t);
	tracer_stop(&a.t);
	sum.tracer_hwm_kb = own_hwm_kb();
	sum.tracer_cpu_ms = own_cpu_ms();

	/* CMD passed its exit tracepoint if nothing traced is left alive: it is
	 * a zombie now or in a moment, so this wait is short */
	reap_cmd(&a, sum.tree.live_tgids <= 0 ? 0 : WNOHANG);
	sum.cmd_status = a.cmd_status;
	sum.max_rss_kb = a.o.max_rss / 1024;
	sum.target = a.target;
	sum.cgroups = a.o.cgroup ? &a.cgw : NULL;
	sum.extra = observers_print;
	sum.extra_ctx = &a.ob;
	a.ob.loss = sum.loss;
	if (ferror(out)) {
		/* the reader went away (`| head`): end quietly, as SIGPIPE would */
		report_free(&a.r);
		observers_free(&a.ob);
		return EXIT_OUTPUT_CLOSED;
	}
	over = report_summary(&a.r, &sum);
	report_free(&a.r);
	observers_free(&a.ob);
	if (out != stdout && fclose(out)) {
		elog("writing %s: %s", a.o.output, strerror(errno));
		return EXIT_FAIL;
	}
	/* tracing stopped before CMD ended (-d, a signal): its status is still ours */
	if (a.launched && a.cmd_status < 0) {
		stop_signal = 0;
		reap_cmd(&a, 0);
	}
	if (over)
		return EXIT_OVER_BUDGET;
	if (a.launched)
		return a.cmd_status >= 0 ? status_to_code(a.cmd_status) : EXIT_FAIL;
	return 0;
}
