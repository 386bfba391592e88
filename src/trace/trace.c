// SPDX-License-Identifier: GPL-2.0
/*
 * `rsstrace [OPTIONS] -- CMD | -p PID`: options, checks, launch or attach, the
 * tracing loop, the summary and the exit status. The optional parts of a run
 * are features (trace/feature.h), called through trace/features.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/array.h"
#include "core/hooks.h"
#include "core/log.h"
#include "core/output_file.h"
#include "core/preflight.h"
#include "core/tracer.h"
#include "output/report.h"
#include "proc/cgroup_target.h"
#include "proc/proc_status.h"
#include "rss_math.h"
#include "trace/features.h"
#include "trace/launch.h"
#include "trace/options.h"
#include "trace/trace.h"

static volatile sig_atomic_t stop_signal;
/* 1 once the summary has begun: a signal then no longer stops anything;
 * the first says so, the second aborts */
static volatile sig_atomic_t finishing;

struct trace_app {
	struct options o;
	struct tracer t;
	struct report r;
	struct launch l;
	struct hooks hooks;
	struct trace_run run;
	struct trace_end end;
	struct output_file out; /* -o FILE or standard output */
	int write_status;	/* EXIT_OUTPUT_FAILED or _CLOSED once a write failed */
	bool launched;
	bool report_ready;
	int cmd_status;	     /* wait(2) status, -1 until reaped */
	int64_t found_at_attach; /* -p, --cgroup-path: processes traced once attached; -1: -- CMD */
	int hidden_at_attach;	 /* -p PIDs running but not listed by the task iterator */
	uint64_t mms_at_end; /* address spaces still traced when tracing stopped */
	char target[256];
	struct cgroup_target cg; /* --cgroup-path */
};

static void say(const char *msg)
{
	ssize_t n = write(STDERR_FILENO, msg, strlen(msg));

	(void)n;
}

static void on_signal(int sig)
{
	if (!finishing) {
		stop_signal = sig;
		return;
	}
	if (finishing++ == 1) {
		say("rsstrace: signal while the summary is written: finishing it (a second signal aborts it)\n");
		return;
	}
	say("rsstrace: second signal: summary aborted, the output is incomplete\n");
	_exit(128 + sig);
}

/* One line for an output that could not be written, and the exit status
 * that says so: 141 if only a pipe's reader went away, else 98. */
static void output_failed(struct trace_app *a, const char *name, int err)
{
	if (err == EPIPE)
		elog("writing %s: the reader closed the pipe; the output is incomplete", name);
	else
		elog("cannot write %s: %s (the output is incomplete)", name, strerror(err));
	if (err == EPIPE && a->write_status != EXIT_OUTPUT_FAILED)
		a->write_status = EXIT_OUTPUT_CLOSED;
	else
		a->write_status = EXIT_OUTPUT_FAILED;
}

/* Test-only switches, compiled into the test build (build/san/rsstrace, with
 * -DRSSTRACE_TEST_HOOKS) and not into ./rsstrace: a pause of $var ms. */
#ifdef RSSTRACE_TEST_HOOKS
#define TEST_PAUSE(var)                                     \
	do {                                                \
		if (getenv(var))                            \
			usleep(1000 * atoi(getenv(var)));   \
	} while (0)
#else
#define TEST_PAUSE(var) do {} while (0)
#endif

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
static void on_oom_kill(struct trace_app *a, const struct oom_kill_record *rec)
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
	struct trace_app *a = ctx;
	uint32_t type = len >= sizeof(uint32_t) ? *(const uint32_t *)data : 0;

	trace_features_on_record(&a->run, data, len);
	if (type == REC_MM_END && len >= sizeof(struct mm_end_record)) {
		report_add_row(&a->r, &((const struct mm_end_record *)data)->st);
	} else if (type == REC_EXIT && len >= sizeof(struct exit_record)) {
		const struct exit_record *e = data;

		report_add_exit(&a->r, e->tgid, e->exit_code, e->ns);
	} else if (type == REC_OOM_KILL && len >= sizeof(struct oom_kill_record)) {
		on_oom_kill(a, data);
	}
}

static void describe_target(struct trace_app *a)
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
	if (a->o.cgroup_path) {
		snprintf(a->target, sizeof(a->target), "cgroup %s", a->o.cgroup_path);
		return;
	}
	off = snprintf(a->target, sizeof(a->target), "pid");
	for (int i = 0; i < a->o.npids && off < sizeof(a->target) - 12; i++)
		off += snprintf(a->target + off, sizeof(a->target) - off, "%s%d", i ? "," : " ",
				a->o.pids[i]);
}

/* What -p or --cgroup-path attached to, for the summary (NULL with -- CMD). */
static const char *attach_scope(const struct options *o)
{
	if (o->cmd)
		return NULL;
	if (o->cgroup_path)
		return "cgroup";
	return o->follow_children ? "pids_and_descendants" : "pids";
}

/* -p: checks one PID and marks its process traced. Returns its tgid, 0 if
 * it was already traced (another thread of it was named), or -EXIT_FAIL. */
static int add_pid(struct trace_app *a, int pid)
{
	int tgid = pid, err;

	switch (classify_pid(pid, &tgid)) {
	case PID_GONE:
		elog("no process with PID %d", pid);
		return -EXIT_FAIL;
	case PID_KTHREAD:
		elog("PID %d is a kernel thread: it has no user address space to trace", pid);
		return -EXIT_FAIL;
	case PID_ZOMBIE:
		elog("PID %d has already exited (zombie): nothing left to trace", pid);
		return -EXIT_FAIL;
	case PID_USER:
		break;
	}
	if (tgid != pid)
		vlog("PID %d is a thread of process %d: tracing the process", pid, tgid);
	err = tracer_add_tgid(&a->t, tgid, 0);
	if (err == -EEXIST)
		return 0;
	if (err) {
		elog("cannot trace PID %d: %s", pid, strerror(-err));
		return -EXIT_FAIL;
	}
	return tgid;
}

/* Reads the state of the processes marked traced (and, with tree, of their
 * descendants), then takes back those of tgids[] that were gone by then (if
 * the kernel did not see one exit, it was gone before we marked it). Returns
 * how many of tgids[] are traced, or -EXIT_FAIL after one error line. */
static int seed_marked(struct trace_app *a, const int *tgids, size_t n, bool tree, bool say_gone)
{
	uint32_t *owners = NULL;
	int alive = 0, err, nowners, tgid;

	err = tree ? tracer_seed_tree(&a->t) : tracer_seed(&a->t);
	if (err) {
		elog("cannot read the state of the traced processes (iter/task): %s", strerror(-err));
		return -EXIT_FAIL;
	}
	nowners = tracer_owners(&a->t, &owners);
	if (nowners < 0) {
		elog("cannot read the traced address spaces: %s", strerror(-nowners));
		return -EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t key = (uint32_t)tgids[i];

		if (bsearch(&key, owners, nowners, sizeof(*owners), tracer_cmp_tgid)) {
			alive++;
			continue;
		}
		/* gone between the check and the attach: if the kernel did not see
		 * it exit (it was gone before we marked it), take it back ourselves */
		tracer_drop_tgid(&a->t, tgids[i]);
		if (!say_gone)
			continue;
		/* still there: the kernel's task iterator did not list it (seen
		 * for the development host's PID 1, a sandbox's init on a custom
		 * 6.18 kernel, which a minimal iter/task program skips too) */
		if (classify_pid(tgids[i], &tgid) == PID_USER) {
			a->hidden_at_attach++;
			wlog("PID %d is running, but the kernel's BPF task iterator does not list it, so its "
			     "address space cannot be found: not traced", tgids[i]);
		} else {
			wlog("PID %d exited while rsstrace was attaching", tgids[i]);
		}
	}
	free(owners);
	a->found_at_attach = (int64_t)tracer_count_tasks(&a->t);
	return alive;
}

/* -p: check each PID, mark it traced, read its state as of now. */
static int attach_pids(struct trace_app *a)
{
	static int tgids[MAX_PIDS];
	int n = 0, alive;

	for (int i = 0; i < a->o.npids; i++) {
		int tgid = add_pid(a, a->o.pids[i]);

		if (tgid < 0)
			return -tgid;
		if (tgid)
			tgids[n++] = tgid;
	}
	vlog("PIDs checked; attaching");
	/* widens the window between the check and the attach, so that tests
	 * can exercise "PID exited while attaching" deterministically */
	TEST_PAUSE("RSSTRACE_TEST_ATTACH_DELAY_MS");
	alive = seed_marked(a, tgids, (size_t)n, a->o.follow_children, true);
	if (alive < 0)
		return -alive;
	if (!alive) {
		elog(a->hidden_at_attach ? "no PID could be traced: nothing to trace"
			    : "every PID exited while rsstrace was attaching: nothing to trace");
		return EXIT_FAIL;
	}
	return 0;
}

struct cgroup_members {
	struct trace_app *a;
	int *tgids;
	size_t n, cap;
};

/* One pid of cgroup.procs: marked traced (a pid listed twice, or already
 * traced as another's child, is fine). */
static int mark_member(void *ctx, int pid)
{
	struct cgroup_members *m = ctx;
	int err;

	if (pid <= 0 || pid == getpid()) /* rsstrace may run inside the cgroup */
		return 0;
	err = tracer_add_tgid(&m->a->t, pid, 0);
	if (err == -EEXIST)
		return 0;
	if (err)
		return err;
	if (!array_grow((void **)&m->tgids, &m->cap, m->n, sizeof(*m->tgids)))
		return -ENOMEM;
	m->tgids[m->n++] = pid;
	return 0;
}

/* --cgroup-path: every process in the cgroup and below it, read now; those
 * that enter later are traced by the BPF side as they are moved in (its
 * entry hook is attached already, so none is missed in between). */
static int attach_cgroup(struct trace_app *a)
{
	struct cgroup_members m = { .a = a };
	int err = cgroup_target_procs(&a->cg, mark_member, &m), alive;

	if (err) {
		free(m.tgids);
		elog("cannot trace the processes of cgroup %s: %s", a->cg.dir, strerror(-err));
		return EXIT_FAIL;
	}
	alive = seed_marked(a, m.tgids, m.n, false, false);
	free(m.tgids);
	if (alive < 0)
		return -alive;
	vlog("cgroup %s: %d processes at attach", a->cg.dir, alive);
	return 0;
}

/* -- CMD: start it behind a gate, mark it traced, let it exec. */
static int launch_cmd(struct trace_app *a)
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

	if (!best->tgid || rss_pages(st->cur) > rss_pages(best->cur))
		*best = *st;
}

/* -i: one live line. */
static void print_live(struct trace_app *a)
{
	struct tree_state tree;
	struct mm_state largest = { 0 };
	struct live_sharing sh;
	struct loss_counters l;

	tracer_tree(&a->t, &tree);
	tracer_losses(&a->t, &l);
	tracer_foreach_live(&a->t, pick_largest, &largest);
	feature_sharing_live(&a->run, &sh);
	report_live(&a->r, &tree, largest.tgid ? &largest : NULL, tracer_now_ns(),
		    l.ringbuf_full + l.mms_full + l.tasks_full, &sh);
}

static void reap_cmd(struct trace_app *a, int flags)
{
	int status;

	if (!a->launched || a->cmd_status >= 0)
		return;
	if (waitpid(a->l.pid, &status, flags) == a->l.pid)
		a->cmd_status = status;
}

/* Traces until every traced process is gone, a signal, or the duration. */
static void trace_loop(struct trace_app *a, uint64_t t0)
{
	uint64_t deadline = a->o.duration ? t0 + (uint64_t)(a->o.duration * 1e9) : 0;
	uint64_t step = a->o.interval ? (uint64_t)(a->o.interval * 1e9) : 0;
	uint64_t next_live = t0 + step;
	struct tree_state tree;

	/* stops consuming for a while, so that tests can overflow a small ring buffer */
	TEST_PAUSE("RSSTRACE_TEST_STALL_MS");
	for (;;) {
		tracer_poll(&a->t, trace_features_wait_ms(&a->run, tracer_now_ns(), 50));
		report_flush(&a->r, false);
		if (stop_signal || a->out.err)
			return;
		reap_cmd(a, WNOHANG);
		if (deadline && tracer_now_ns() >= deadline)
			return;
		tracer_tree(&a->t, &tree);
		trace_features_tick(&a->run, &tree, tracer_now_ns());
		/* a cgroup may be empty now and entered later */
		if (tree.live_tgids <= 0 && tree.live_mms <= 0 && !a->o.cgroup_path)
			return;
		if (step && tracer_now_ns() >= next_live) {
			print_live(a);
			next_live += step;
		}
	}
}

static void add_detached(void *ctx, const struct mm_state *st)
{
	struct trace_app *a = ctx;
	struct mm_state s = *st;

	a->mms_at_end++;
	s.end_reason = END_DETACH;
	s.end_ns = tracer_now_ns();
	report_add_row(&a->r, &s);
}

/* What the summary says about the hooks in use (after any fallback at load). */
static void describe_hooks(struct trace_app *a, struct summary *s)
{
	static char use[LH_COUNT][128];
	struct hooks *hk = &a->hooks;

	for (int h = 0; h < LH_COUNT && h < MAX_HOOKS; h++) {
		s->hooks[h].key = hook_key(h);
		s->hooks[h].use = hook_in_use(hk, h, use[h], sizeof(use[h]));
		s->hooks[h].optional = hook_optional(h);
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

/* Output files first, so that a bad path fails before anything else; an
 * existing file is truncated only when the run begins (commit_outputs). */
static int open_outputs(struct trace_app *a)
{
	const char *what, *why;
	int err;

	if (a->o.output) {
		err = output_file_open(&a->out, a->o.output, &why);
		if (err) {
			elog("cannot open output file %s: %s", a->o.output, why);
			return EXIT_USAGE;
		}
	} else if ((err = output_file_stdout(&a->out))) {
		elog("cannot write to standard output: %s", strerror(-err));
		return EXIT_FAIL;
	}
	a->run.o = &a->o;
	a->run.t = &a->t;
	a->run.hooks = &a->hooks;
	a->run.live_cap = (uint32_t)a->o.map_entries;
	a->run.page_kb = (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
	err = trace_features_open(&a->run, &what);
	if (err) {
		elog("cannot open output file %s: %s", what, a->run.open_why ? a->run.open_why : strerror(-err));
		return EXIT_USAGE;
	}
	return 0;
}

/* The run begins (every check that can fail has passed): existing output
 * files are truncated now. */
static int commit_outputs(struct trace_app *a)
{
	int err = output_file_commit(&a->out);

	if (err) {
		elog("cannot truncate %s: %s", a->o.output, strerror(-err));
		return EXIT_OUTPUT_FAILED;
	}
	trace_features_commit(&a->run);
	return 0;
}

/* Loads and attaches the programs, starts the features and the report.
 * Returns 0, or the exit status after one error line. */
static int start_tracing(struct trace_app *a, struct summary *sum)
{
	struct tracer_config cfg = { .follow_children = a->o.follow_children,
				     .map_entries = (uint32_t)a->o.map_entries,
				     .ringbuf_bytes = (uint32_t)a->o.ringbuf_bytes,
				     .hooks = &a->hooks,
				     .watch_cgroup_id = a->o.cgroup_path ? a->cg.id : 0,
				     .watch_hierarchy_id = a->cg.hierarchy };
	const char *what;
	int err;

	trace_features_configure(&a->run, &cfg);
	err = tracer_start(&a->t, &cfg, on_record, a, &what);
	if (err) {
		tracer_print_start_error(&a->t, err, what);
		return EXIT_FAIL;
	}
	a->run.t0_ns = tracer_now_ns();
	err = trace_features_start(&a->run, &what);
	if (err) {
		elog("cannot %s: %s", what, strerror(-err));
		return EXIT_FAIL;
	}
	describe_hooks(a, sum);
	report_init(&a->r, a->out.f, a->o.json, a->run.t0_ns, a->run.page_kb, &sum->avail, a->o.rows);
	a->report_ready = true;
	return 0;
}

/* Tracing stops: SIGTERM passed on to CMD, the live ones' last state read. */
static void stop_tracing(struct trace_app *a)
{
	trace_features_at_stop(&a->run);
	if (stop_signal == SIGTERM && a->launched && a->cmd_status < 0) {
		/* we were asked to end: so is the command. Trace its exit for up to
		 * a second, so its row ends as an exit with its status. */
		kill(a->l.pid, SIGTERM);
		stop_signal = 0;
		a->o.duration = 1;
		trace_loop(a, tracer_now_ns());
	}
	/* from here on the output is finished whatever comes (whole lines, a
	 * summary), unless a second signal insists */
	finishing = 1;
	/* What is still alive gets its current state as its row. */
	tracer_poll(&a->t, 0);
	if (tracer_refresh(&a->t))
		wlog("could not refresh the live processes' counters; their rows are as of their last change");
	snprintf(a->run.title, sizeof(a->run.title), "rsstrace: RSS of %s", a->target);
	if (trace_features_finish(&a->run, tracer_now_ns()))
		a->write_status = EXIT_OUTPUT_FAILED; /* said, one line per file */
	tracer_foreach_live(&a->t, add_detached, a);
	tracer_poll(&a->t, 0);
}

static void print_sections(void *ctx, FILE *out, bool json)
{
	struct trace_app *a = ctx;

	trace_features_print(&a->run, out, json, &a->end);
}

static void summary_fields(void *ctx, struct json_obj *j)
{
	struct trace_app *a = ctx;

	trace_features_summary_json(&a->run, j);
}

/* The end: what the maps hold, then the programs unloaded, the summary
 * printed. Returns the exit status. */
static int summarize(struct trace_app *a, struct summary *sum)
{
	bool over;
	int err;

	sum->end_ns = tracer_now_ns();
	tracer_tree(&a->t, &sum->tree);
	tracer_losses(&a->t, &sum->loss);
	tracer_inexact_reads(&a->t, &sum->approx_reads, &sum->unsettled_sums);
	tracer_shadows(&a->t, &sum->shadowed, &sum->shadows_full);
	trace_features_collect(&a->run);
	sum->mms_at_end = a->mms_at_end;
	sum->tasks_at_end = tracer_count_tasks(&a->t);
	tracer_stop(&a->t);
	sum->tracer_hwm_kb = own_hwm_kb();
	sum->tracer_cpu_ms = own_cpu_ms();

	/* CMD passed its exit tracepoint if nothing traced is left alive: it is
	 * a zombie now or in a moment, so this wait is short */
	reap_cmd(a, sum->tree.live_tgids <= 0 ? 0 : WNOHANG);
	sum->cmd_status = a->cmd_status;
	sum->max_rss_kb = a->o.max_rss / 1024;
	sum->target = a->target;
	sum->attach = attach_scope(&a->o);
	sum->found_at_attach = a->found_at_attach;
	sum->sections = print_sections;
	sum->fields = summary_fields;
	sum->sections_ctx = a;
	a->end = (struct trace_end){ .tree = sum->tree, .loss = sum->loss, .rows = a->o.rows };
	/* no summary after a failed write (`| head` went away, a full disk):
	 * it would be lost too */
	over = a->out.err ? false : report_summary(&a->r, sum);
	err = output_file_close(&a->out);
	if (err)
		output_failed(a, a->out.path, err);
	/* tracing stopped before CMD ended (-d, a signal): its status is still ours */
	if (a->launched && a->cmd_status < 0) {
		stop_signal = 0;
		reap_cmd(a, 0);
	}
	if (a->write_status)
		return a->write_status;
	if (over)
		return EXIT_OVER_BUDGET;
	if (a->launched)
		return a->cmd_status >= 0 ? status_to_code(a->cmd_status) : EXIT_FAIL;
	return 0;
}

/* Safe at any stage. */
static void cleanup(struct trace_app *a)
{
	tracer_stop(&a->t);
	if (a->report_ready)
		report_free(&a->r);
	trace_features_free(&a->run);
	output_file_close(&a->out);
}

static int run(struct trace_app *a)
{
	struct summary sum = { .cmd_status = -1 };
	const char *what;
	int ret;

	ret = open_outputs(a);
	if (ret)
		return ret;
	ret = preflight();
	if (ret)
		return ret;
	if (a->o.cgroup_path) {
		const char *why;

		if (cgroup_target_resolve(a->o.cgroup_path, &a->cg, &why)) {
			elog("--cgroup-path %s: %s", a->o.cgroup_path, why);
			return EXIT_USAGE;
		}
	}
	if (!a->o.list_hooks && (ret = preflight_pid_namespace()))
		return ret;
	if (setup_signals())
		return EXIT_FAIL;
	describe_target(a);
	if (hooks_choose(&a->hooks, a->o.causes || a->o.list_hooks, a->o.footprint || a->o.list_hooks,
			 a->o.stacks || a->o.list_hooks, a->o.cgroup_path || a->o.list_hooks, &what)) {
		elog("this kernel offers no way to see the '%s' event (rsstrace --hooks tells why)", what);
		return EXIT_FAIL;
	}
	if (a->o.cgroup_path && a->hooks.h[LH_CGROUP_ENTER].chosen < 0)
		wlog("this kernel offers no cgroup attach hook: processes moved into %s later are not traced "
		     "(rsstrace --hooks tells why)", a->o.cgroup_path);
	if (a->o.list_hooks) {
		int err;

		ret = commit_outputs(a);
		if (ret)
			return ret;
		hooks_print(&a->hooks, a->out.f, a->o.json);
		err = output_file_close(&a->out);
		if (err)
			output_failed(a, a->out.path, err);
		return a->write_status;
	}
	ret = start_tracing(a, &sum);
	if (ret)
		return ret;
	ret = a->o.cmd ? launch_cmd(a) : a->o.cgroup_path ? attach_cgroup(a) : attach_pids(a);
	if (!ret)
		ret = commit_outputs(a);
	if (ret)
		return ret;
	vlog("tracing started: %s", a->target);
	trace_loop(a, a->run.t0_ns);
	stop_tracing(a);
	return summarize(a, &sum);
}

int trace_main(int argc, char **argv)
{
	static struct trace_app a = { .cmd_status = -1, .found_at_attach = -1 }; /* large: keep it off the stack */
	int ret;

	ret = parse_options(argc, argv, &a.o);
	if (ret)
		return ret < 0 ? 0 : ret;
	log_verbose = a.o.verbose;
	ret = run(&a);
	cleanup(&a);
	return ret;
}
