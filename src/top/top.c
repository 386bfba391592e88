// SPDX-License-Identifier: GPL-2.0
/*
 * `rsstrace top`: every address space on the system, live, from the same
 * exact event-driven accounting as the tracer (tracing every process), in an
 * ncurses view (screen.c) or, with -b, as plain-text or JSON frames
 * (batch.c). This file starts the tracer and runs the loop of either mode.
 */
#define _GNU_SOURCE
#include "top/top.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/exit_status.h"
#include "core/hooks.h"
#include "core/live_view.h"
#include "core/log.h"
#include "core/preflight.h"
#include "core/stop_signal.h"
#include "core/tracer.h"
#include "output/oom_report.h"
#include "proc/meminfo.h"
#include "top/batch.h"
#include "top/cli.h"
#include "top/screen.h"
#include "top/sharing_cols.h"
#include "top/view.h"

struct top {
	struct top_opts o;
	struct tracer t;
	struct hooks hooks;
	struct top_state *ts;
	struct top_frame f;
	struct mm_state *live;
	uint32_t live_cap;
	struct top_controls ctl;	/* sort, tree, filters: the keys' (batch: the defaults) */
	uint64_t t0, page_kb;
	struct oom_note last_oom;	/* the latest OOM kill, shown under the table */
	uint64_t nooms, nooms_shown;	/* JSON: each kill once, with the next frame */
	struct top_sharing sharing;	/* the PSS/USS columns, when ctl.sharing */
};

static void on_record(void *ctx, const void *data, size_t len)
{
	struct top *tp = ctx;

	if (len >= sizeof(struct mm_end_record) && *(const uint32_t *)data == REC_MM_END)
		top_note_ended(tp->ts, &((const struct mm_end_record *)data)->st, tracer_now_ns());
	if (len >= sizeof(struct oom_kill_record) && *(const uint32_t *)data == REC_OOM_KILL) {
		oom_note_init(&tp->last_oom, data);
		tp->nooms++;
	}
}

static int next_frame(struct top *tp)
{
	int n;

	tracer_poll(&tp->t, 0);
	n = tracer_read_live(&tp->t, tp->live, tp->live_cap);
	if (n < 0)
		return n;
	if (top_build(tp->ts, tp->live, (uint32_t)n, tracer_now_ns(), &tp->f))
		return -ENOMEM;
	top_arrange(&tp->f, &tp->ctl.flt, tp->ctl.sort, tp->ctl.tree);
	return 0;
}

/* The frame just built, with the lines around it read now: the sharing
 * columns of the rows that are shown (all of them in batch mode), within
 * their budget (top/sharing_cols.h). Returns 0 or -ENOMEM. */
static int view_of(struct top *tp, struct top_view *v)
{
	struct loss_counters l;
	uint32_t visible = tp->o.batch ? tp->f.nrows : screen_rows();

	tracer_losses(&tp->t, &l);
	*v = (struct top_view){ .f = &tp->f, .t0 = tp->t0, .page_kb = tp->page_kb,
				.lost = l.ringbuf_full + l.mms_full + l.tasks_full,
				.oom = &tp->last_oom, .nooms = tp->nooms,
				.oom_is_new = tp->nooms > tp->nooms_shown };
	read_meminfo(&v->mem);
	tp->nooms_shown = tp->nooms;
	if (!tp->ctl.sharing)
		return 0;
	v->sharing = &tp->sharing;
	return top_sharing_refresh(&tp->sharing, &tp->f, visible, TOP_SHARING_BUDGET_MS * 1000000ULL);
}

static int run_batch(struct top *tp)
{
	void (*print)(FILE *, const struct top_view *) = tp->o.json ? top_print_json : top_print_text;
	struct top_view v;
	uint64_t frames = 0;
	int err;

	while (!stop_requested()) {
		usleep((useconds_t)(tp->o.delay * 1e6));
		if (stop_requested())
			break;
		if (next_frame(tp) || view_of(tp, &v))
			return EXIT_FAIL;
		print(stdout, &v);
		err = fflush(stdout) == EOF ? errno : ferror(stdout) ? EIO : 0;
		if (err == EPIPE) /* `top -b | head`: the reader has what it wanted */
			return EXIT_OUTPUT_CLOSED;
		if (err) { /* `>/dev/full` ended with 141 and not a word */
			elog("top: cannot write standard output: %s", strerror(err));
			return EXIT_OUTPUT_FAILED;
		}
		if (tp->o.count && ++frames >= tp->o.count)
			break;
	}
	return 0;
}

static int run_interactive(struct top *tp)
{
	struct top_view v;
	uint64_t next = 0;

	if (screen_open()) {
		elog("top: cannot initialise the terminal");
		return EXIT_FAIL;
	}
	while (!stop_requested()) {
		enum screen_event ev = screen_key(&tp->ctl);
		bool redraw = ev == SCREEN_CHANGED;

		if (ev == SCREEN_QUIT)
			break;
		if (!tp->ctl.paused && tracer_now_ns() >= next) {
			if (next_frame(tp)) {
				screen_close();
				elog("top: cannot read the accounting maps");
				return EXIT_FAIL;
			}
			next = tracer_now_ns() + (uint64_t)(tp->o.delay * 1e9);
			redraw = true;
		} else if (redraw) {
			top_arrange(&tp->f, &tp->ctl.flt, tp->ctl.sort, tp->ctl.tree);
		}
		if (redraw && view_of(tp, &v)) {
			screen_close();
			elog("top: out of memory");
			return EXIT_FAIL;
		}
		if (redraw)
			screen_draw(&v, &tp->ctl);
	}
	screen_close();
	return 0;
}

int top_main(int argc, char **argv)
{
	static struct top tp;
	struct tracer_config cfg;
	const char *what;
	int ret, err;

	ret = top_parse_options(argc, argv, &tp.o);
	if (ret)
		return ret < 0 ? 0 : ret;
	log_verbose = tp.o.verbose;
	memcpy(tp.ctl.flt.cgroup, tp.o.cgroup, sizeof(tp.ctl.flt.cgroup));
	/* the screen needs a terminal both ways: without one, ncurses writes its
	 * escapes into a file and waits for keys that never come. Refused, as
	 * procps top does ("failed tty get"), before anything loads. */
	if (!tp.o.batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		elog("top: %s is not a terminal: use -b (batch mode) for frames on a pipe or file",
		     !isatty(STDIN_FILENO) ? "standard input" : "standard output");
		return EXIT_USAGE;
	}
	ret = preflight();
	if (!ret)
		ret = preflight_pid_namespace();
	if (ret)
		return ret;
	stop_on_signals();
	if (hooks_choose(&tp.hooks, tp.o.faults, false, false, false, &what)) {
		elog("this kernel offers no way to see the '%s' event (rsstrace --hooks tells why)", what);
		return EXIT_FAIL;
	}
	/* top needs only the fault and OOM-kill hooks of the optional ones */
	for (int h = LH_FAULT + 1; h < LH_COUNT; h++)
		if (h != LH_OOM)
			tp.hooks.h[h].chosen = -1;
	tp.page_kb = (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
	tp.ctl.sharing = tp.o.sharing;
	tp.ts = top_state_new(tp.page_kb, tp.hooks.h[LH_FAULT].chosen >= 0);
	tp.live_cap = (uint32_t)tp.o.map_entries;
	tp.live = calloc(tp.live_cap, sizeof(*tp.live));
	if (!tp.ts || !tp.live) {
		elog("top: out of memory");
		return EXIT_FAIL;
	}
	cfg = (struct tracer_config){ .map_entries = (uint32_t)tp.o.map_entries, .ringbuf_bytes = 4 << 20,
				      .users = true,
				      .hooks = &tp.hooks };
	err = tracer_start_all(&tp.t, &cfg, on_record, &tp, &what);
	if (err) {
		tracer_print_start_error(&tp.t, err, what);
		tracer_stop(&tp.t);
		return EXIT_FAIL;
	}
	tp.t0 = tracer_now_ns();
	next_frame(&tp); /* the baseline for growth and rates */
	ret = tp.o.batch ? run_batch(&tp) : run_interactive(&tp);
	tracer_stop(&tp.t);
	top_frame_free(&tp.f);
	top_sharing_free(&tp.sharing);
	top_state_free(tp.ts);
	free(tp.live);
	return ret;
}
