// SPDX-License-Identifier: GPL-2.0
/*
 * `rsstrace top`: every address space on the system, live, from the same
 * exact event-driven accounting as the tracer (tracing every process), in an
 * ncurses view or, with -b, as plain-text or JSON frames.
 */
#define _GNU_SOURCE
#include "top/top.h"

#include <bpf/libbpf.h>
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/hooks.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "output/oom_report.h"
#include "core/exit_status.h"
#include "core/preflight.h"
#include "core/stop_signal.h"
#include "proc/meminfo.h"
#include "core/live_view.h"
#include "core/tracer.h"
#include "core/units.h"

struct top_opts {
	double delay;	/* -d: seconds between frames */
	uint64_t count;	/* -n: frames, 0 = until q / Ctrl-C */
	bool batch, json, faults;
	uint64_t map_entries;
};

struct top {
	struct top_opts o;
	struct tracer t;
	struct hooks hooks;
	struct top_state *ts;
	struct top_frame f;
	struct mm_state *live;
	uint32_t live_cap;
	struct top_filter flt;
	enum top_sort sort;
	bool tree, paused, help;
	uint64_t t0;
	struct oom_note last_oom;	/* the latest OOM kill, shown under the table */
	uint64_t nooms, nooms_printed;	/* JSON: each kill once, with the next frame */
};

static const char usage[] =
	"Usage: rsstrace top [-d SECONDS] [-b [-n COUNT] [--json]] [--no-faults]\n"
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

static int parse(int argc, char **argv, struct top_opts *o)
{
	static const struct option lo[] = {
		{ "delay", required_argument, NULL, 'd' }, { "batch", no_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'J' },
		{ "no-faults", no_argument, NULL, 'F' }, { "max-procs", required_argument, NULL, 'M' },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	int c;

	*o = (struct top_opts){ .delay = 1, .faults = true, .map_entries = 65536 };
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+d:bn:vh", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (parse_seconds(optarg, &o->delay) || o->delay < 0.05) {
				fprintf(stderr, "rsstrace top: invalid delay '%s' (seconds >= 0.05)\n%s", optarg, usage);
				return EXIT_USAGE;
			}
			break;
		case 'b': o->batch = true; break;
		case 'n':
			if (parse_uint(optarg, 1, 1000000000, &o->count)) {
				fprintf(stderr, "rsstrace top: invalid count '%s'\n%s", optarg, usage);
				return EXIT_USAGE;
			}
			break;
		case 'J': o->json = true; break;
		case 'F': o->faults = false; break;
		case 'M':
			if (parse_uint(optarg, 1, 1 << 24, &o->map_entries)) {
				fprintf(stderr, "rsstrace top: invalid process limit '%s'\n%s", optarg, usage);
				return EXIT_USAGE;
			}
			break;
		case 'v': log_verbose = true; break;
		case 'h': fputs(usage, stdout); return -1;
		default:
			fprintf(stderr, "rsstrace top: unknown option or missing value: '%s'\n%s", argv[optind - 1], usage);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rsstrace top: unexpected argument '%s'\n%s", argv[optind], usage);
		return EXIT_USAGE;
	}
	if (o->json && !o->batch) {
		fprintf(stderr, "rsstrace top: --json needs -b (batch mode)\n%s", usage);
		return EXIT_USAGE;
	}
	return 0;
}

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

static uint64_t page_kb(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
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
	top_arrange(&tp->f, &tp->flt, tp->sort, tp->tree);
	return 0;
}

/* ---- header values ---------------------------------------------------------------- */

static uint64_t lost(struct top *tp)
{
	struct loss_counters l;

	tracer_losses(&tp->t, &l);
	return l.ringbuf_full + l.mms_full + l.tasks_full;
}

/* ---- plain text and JSON frames (-b) -------------------------------------------------- */

static void faults_str(const struct top_row *r, char *buf, size_t len)
{
	if (r->faults_per_s < 0)
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%.0f", r->faults_per_s);
}

static void growth_str(int64_t kb, char *buf, size_t len)
{
	char tmp[12];

	if (!kb) {
		snprintf(buf, len, "0");
		return;
	}
	fmt_kb(kb < 0 ? (uint64_t)-kb : (uint64_t)kb, tmp, sizeof(tmp));
	snprintf(buf, len, "%c%s", kb < 0 ? '-' : '+', tmp);
}

static void print_text_frame(struct top *tp, FILE *out)
{
	struct top_frame *f = &tp->f;
	struct meminfo m;
	char v[8][24];

	read_meminfo(&m);
	fprintf(out, "rsstrace top: %.1f s, %u address spaces, %llu events/s, lost %llu\n",
		(f->at_ns - tp->t0) / 1e9, f->nrows, (unsigned long long)f->events_per_s,
		(unsigned long long)lost(tp));
	fprintf(out, "Mem: total %s avail %s  Swap: total %s free %s\n", fmt_kb(m.total, v[0], 16),
		fmt_kb(m.avail, v[1], 16), fmt_kb(m.swap_total, v[2], 16), fmt_kb(m.swap_free, v[3], 16));
	fprintf(out, "RSS: anon %s file %s shmem %s  swap %s\n", fmt_kb(f->total_kb[RSS_ANON], v[0], 16),
		fmt_kb(f->total_kb[RSS_FILE], v[1], 16), fmt_kb(f->total_kb[RSS_SHMEM], v[2], 16),
		fmt_kb(f->total_kb[RSS_SWAP], v[3], 16));
	fprintf(out, "%7s %-8s %-15s %6s %6s %6s %6s %6s %6s %7s %6s %s\n", "PID", "USER", "COMMAND", "RSS",
		"ANON", "FILE", "SHMEM", "SWAP", "HWM", "GROW", "FLT/s", "CGROUP");
	for (uint32_t i = 0; i < f->nrows; i++) {
		const struct top_row *r = &f->rows[i];

		growth_str(r->growth_kb, v[6], 24);
		faults_str(r, v[7], 24);
		fprintf(out, "%7u %-8.8s %*s%-*.*s%s %6s %6s %6s %6s %6s %6s %7s %6s %s\n", r->st.tgid, r->user,
			r->depth, "", 15 - (r->exited ? 1 : 0) - (r->depth < 8 ? r->depth : 8),
			15 - (r->exited ? 1 : 0) - (r->depth < 8 ? r->depth : 8), r->st.comm, r->exited ? "*" : "",
			fmt_kb(tp->tree ? r->subtree_rss_kb : r->rss_kb, v[0], 16), fmt_kb(r->anon_kb, v[1], 16),
			fmt_kb(r->file_kb, v[2], 16), fmt_kb(r->shmem_kb, v[3], 16), fmt_kb(r->swap_kb, v[4], 16),
			fmt_kb(r->hwm_kb, v[5], 16), v[6], v[7], r->cgroup);
	}
	fprintf(out, "Recent peaks (last 60 s, * = exited):");
	for (int i = 0; i < f->npeaks; i++)
		fprintf(out, " %u %.*s%s %s;", f->peaks[i].pid, RSS_COMM_LEN, f->peaks[i].comm,
			f->peaks[i].exited ? "*" : "", fmt_kb(f->peaks[i].peak_kb, v[0], 16));
	fprintf(out, "\n");
	if (tp->nooms) {
		char line[256];

		oom_print_short(line, sizeof(line), &tp->last_oom, f->at_ns, page_kb());
		fprintf(out, "%s (%llu in all)\n", line, (unsigned long long)tp->nooms);
	}
	fprintf(out, "\n");
	fflush(out);
}

static void print_json_frame(struct top *tp, FILE *out)
{
	struct top_frame *f = &tp->f;
	struct meminfo m;
	struct json_obj j;

	read_meminfo(&m);
	/* one line: a flat header object, then one line per process and per peak */
	json_begin(&j, out);
	json_str(&j, "type", "frame");
	json_int(&j, "at_ms", (int64_t)((f->at_ns - tp->t0) / 1000000));
	json_int(&j, "mem_total_kb", m.total);
	json_int(&j, "mem_available_kb", m.avail);
	json_int(&j, "swap_total_kb", m.swap_total);
	json_int(&j, "swap_free_kb", m.swap_free);
	json_uint(&j, "rss_anon_kb", f->total_kb[RSS_ANON]);
	json_uint(&j, "rss_file_kb", f->total_kb[RSS_FILE]);
	json_uint(&j, "rss_shmem_kb", f->total_kb[RSS_SHMEM]);
	json_uint(&j, "vm_swap_kb", f->total_kb[RSS_SWAP]);
	json_uint(&j, "events_per_s", f->events_per_s);
	json_uint(&j, "lost_events", lost(tp));
	json_uint(&j, "processes", f->nrows);
	json_end(&j);
	for (uint32_t i = 0; i < f->nrows; i++) {
		const struct top_row *r = &f->rows[i];

		json_begin(&j, out);
		json_str(&j, "type", "process");
		json_int(&j, "at_ms", (int64_t)((f->at_ns - tp->t0) / 1000000));
		json_uint(&j, "pid", r->st.tgid);
		json_uint(&j, "ppid", r->st.ppid);
		json_strn(&j, "comm", r->st.comm, sizeof(r->st.comm));
		json_str(&j, "user", r->user);
		json_uint(&j, "vm_rss_kb", r->rss_kb);
		json_uint(&j, "rss_anon_kb", r->anon_kb);
		json_uint(&j, "rss_file_kb", r->file_kb);
		json_uint(&j, "rss_shmem_kb", r->shmem_kb);
		json_uint(&j, "vm_swap_kb", r->swap_kb);
		json_uint(&j, "vm_hwm_kb", r->hwm_kb);
		json_int(&j, "growth_kb", r->growth_kb);
		if (r->faults_per_s < 0)
			json_null(&j, "faults_per_s");
		else
			json_int(&j, "faults_per_s", (int64_t)r->faults_per_s);
		json_str(&j, "cgroup", r->cgroup);
		json_bool(&j, "exited", r->exited);
		json_end(&j);
	}
	for (int i = 0; i < f->npeaks; i++) {
		json_begin(&j, out);
		json_str(&j, "type", "recent_peak");
		json_uint(&j, "pid", f->peaks[i].pid);
		json_strn(&j, "comm", f->peaks[i].comm, sizeof(f->peaks[i].comm));
		json_uint(&j, "peak_kb", f->peaks[i].peak_kb);
		json_int(&j, "at_ms", f->peaks[i].at_ns > tp->t0 ? (int64_t)((f->peaks[i].at_ns - tp->t0) / 1000000) : 0);
		json_bool(&j, "exited", f->peaks[i].exited);
		json_end(&j);
	}
	/* the latest kill (if several came between two frames, the others are counted) */
	if (tp->nooms > tp->nooms_printed) {
		oom_print_json(out, &tp->last_oom, tp->t0, page_kb());
		tp->nooms_printed = tp->nooms;
	}
	fflush(out);
}

static int run_batch(struct top *tp)
{
	uint64_t frames = 0;

	while (!stop_requested()) {
		usleep((useconds_t)(tp->o.delay * 1e6));
		if (stop_requested())
			break;
		if (next_frame(tp))
			return EXIT_FAIL;
		if (tp->o.json)
			print_json_frame(tp, stdout);
		else
			print_text_frame(tp, stdout);
		if (ferror(stdout))
			return EXIT_OUTPUT_CLOSED;
		if (tp->o.count && ++frames >= tp->o.count)
			break;
	}
	return 0;
}

/* ---- the interactive view ----------------------------------------------------------- */

static void draw_help(void)
{
	erase();
	mvaddstr(0, 0, usage);
	mvaddstr(LINES - 1, 0, "Press any key to go back.");
	refresh();
}

static void draw(struct top *tp)
{
	struct top_frame *f = &tp->f;
	bool wide = COLS >= 100;
	int header = 5, rows = LINES - header - 2;
	static const char *const sort_names[] = { "RSS", "HWM", "GROWTH", "SWAP", "PID" };
	struct meminfo m;
	char v[8][24];
	uint64_t l = lost(tp);

	read_meminfo(&m);
	erase();
	mvprintw(0, 0, "rsstrace top  %u address spaces  %llu events/s  sort %s%s%s", f->nrows,
		 (unsigned long long)f->events_per_s, sort_names[tp->sort], tp->tree ? "  tree" : "",
		 tp->paused ? "  PAUSED" : "");
	move(0, COLS > 70 ? COLS - 14 : 60);
	if (l)
		attron(A_BOLD | COLOR_PAIR(1));
	printw("lost %llu", (unsigned long long)l);
	if (l)
		attroff(A_BOLD | COLOR_PAIR(1));
	mvprintw(1, 0, "Mem: total %s avail %s   Swap: total %s free %s", fmt_kb(m.total, v[0], 16),
		 fmt_kb(m.avail, v[1], 16), fmt_kb(m.swap_total, v[2], 16), fmt_kb(m.swap_free, v[3], 16));
	mvprintw(2, 0, "RSS: anon %s  file %s  shmem %s  swap %s", fmt_kb(f->total_kb[RSS_ANON], v[0], 16),
		 fmt_kb(f->total_kb[RSS_FILE], v[1], 16), fmt_kb(f->total_kb[RSS_SHMEM], v[2], 16),
		 fmt_kb(f->total_kb[RSS_SWAP], v[3], 16));
	mvprintw(3, 0, "Filters: user=%s cgroup=%s command=%s", tp->flt.user[0] ? tp->flt.user : "*",
		 tp->flt.cgroup[0] ? tp->flt.cgroup : "*", tp->flt.comm[0] ? tp->flt.comm : "*");
	attron(A_REVERSE);
	mvprintw(4, 0, "%7s %-8s %-12s %6s %6s %6s %6s %6s %6s %7s%s", "PID", "USER", "COMMAND",
		 tp->tree ? "SUBTRE" : "RSS", "ANON", "FILE", "SHMEM", "SWAP", "HWM", "GROW",
		 wide ? "  FLT/s CGROUP" : "");
	attroff(A_REVERSE);
	for (int i = 0; i < rows && i < (int)f->nrows; i++) {
		const struct top_row *r = &f->rows[i];
		int indent = r->depth < 6 ? r->depth : 6;

		growth_str(r->growth_kb, v[6], 24);
		faults_str(r, v[7], 24);
		if (r->exited)
			attron(A_DIM);
		mvprintw(header + i, 0, "%7u %-8.8s %*s%-*.*s %6s %6s %6s %6s %6s %6s %7s", r->st.tgid, r->user,
			 indent, "", 12 - indent, 12 - indent - (r->exited ? 1 : 0), r->st.comm,
			 fmt_kb(tp->tree ? r->subtree_rss_kb : r->rss_kb, v[0], 16), fmt_kb(r->anon_kb, v[1], 16),
			 fmt_kb(r->file_kb, v[2], 16), fmt_kb(r->shmem_kb, v[3], 16), fmt_kb(r->swap_kb, v[4], 16),
			 fmt_kb(r->hwm_kb, v[5], 16), v[6]);
		if (r->exited)
			mvaddch(header + i, 8 + 9 + indent + (int)strnlen(r->st.comm, 12 - indent - 1), '*');
		if (wide)
			printw(" %6s %.*s", v[7], COLS - 89 > 0 ? COLS - 89 : 0, r->cgroup);
		if (r->exited)
			attroff(A_DIM);
	}
	move(LINES - 2, 0);
	printw("Recent peaks (60 s, *=exited):");
	for (int i = 0; i < f->npeaks && getcurx(stdscr) < COLS - 24; i++)
		printw(" %u %.*s%s %s", f->peaks[i].pid, 10, f->peaks[i].comm, f->peaks[i].exited ? "*" : "",
		       fmt_kb(f->peaks[i].peak_kb, v[0], 16));
	if (tp->nooms) {
		char line[256];

		oom_print_short(line, sizeof(line), &tp->last_oom, f->at_ns, page_kb());
		mvprintw(3, 0, "%.*s", COLS > 0 ? COLS : 0, line);
	}
	mvprintw(LINES - 1, 0, "M/H/G/S/P sort  t tree  c/u// filter  space pause  ? help  q quit");
	refresh();
}

static void prompt(const char *what, char *dst, size_t len)
{
	char buf[64] = "";

	mvprintw(LINES - 1, 0, "%s (empty clears): ", what);
	clrtoeol();
	echo();
	curs_set(1);
	nodelay(stdscr, FALSE);
	getnstr(buf, (int)sizeof(buf) - 1);
	noecho();
	curs_set(0);
	snprintf(dst, len, "%s", buf);
}

static int run_interactive(struct top *tp)
{
	uint64_t next = 0;
	bool redraw = true;

	if (!initscr()) {
		elog("top: cannot initialise the terminal");
		return EXIT_FAIL;
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	if (has_colors()) {
		start_color();
		init_pair(1, COLOR_RED, COLOR_BLACK);
	}
	timeout(100);
	while (!stop_requested()) {
		int ch = getch();

		if (ch == 'q' || ch == 'Q')
			break;
		switch (ch) {
		case 'M': tp->sort = SORT_RSS; redraw = true; break;
		case 'H': tp->sort = SORT_HWM; redraw = true; break;
		case 'G': tp->sort = SORT_GROWTH; redraw = true; break;
		case 'S': tp->sort = SORT_SWAP; redraw = true; break;
		case 'P': tp->sort = SORT_PID; redraw = true; break;
		case 't': tp->tree = !tp->tree; redraw = true; break;
		case ' ': tp->paused = !tp->paused; redraw = true; break;
		case 'c': prompt("cgroup contains", tp->flt.cgroup, sizeof(tp->flt.cgroup)); redraw = true; break;
		case 'u': prompt("user", tp->flt.user, sizeof(tp->flt.user)); redraw = true; break;
		case '/': prompt("command contains", tp->flt.comm, sizeof(tp->flt.comm)); redraw = true; break;
		case '?': draw_help(); timeout(-1); getch(); timeout(100); redraw = true; break;
		case KEY_RESIZE: redraw = true; break;
		}
		if (!tp->paused && tracer_now_ns() >= next) {
			if (next_frame(tp)) {
				endwin();
				elog("top: cannot read the accounting maps");
				return EXIT_FAIL;
			}
			next = tracer_now_ns() + (uint64_t)(tp->o.delay * 1e9);
			redraw = true;
		} else if (redraw && ch != ERR) {
			top_arrange(&tp->f, &tp->flt, tp->sort, tp->tree);
		}
		if (redraw)
			draw(tp);
		redraw = false;
	}
	endwin();
	return 0;
}

int top_main(int argc, char **argv)
{
	static struct top tp;
	struct tracer_config cfg;
	const char *what;
	int ret, err;

	ret = parse(argc, argv, &tp.o);
	if (ret)
		return ret < 0 ? 0 : ret;
	ret = preflight();
	if (ret)
		return ret;
	stop_on_signals();
	if (hooks_choose(&tp.hooks, tp.o.faults, false, &what)) {
		elog("this kernel offers no way to see the '%s' event (rsstrace --hooks tells why)", what);
		return EXIT_FAIL;
	}
	/* top needs only the fault and OOM-kill hooks of the optional ones */
	for (int h = LH_FAULT + 1; h < LH_COUNT; h++)
		if (h != LH_OOM)
			tp.hooks.h[h].chosen = -1;
	tp.ts = top_state_new((uint64_t)sysconf(_SC_PAGESIZE) / 1024, tp.hooks.h[LH_FAULT].chosen >= 0);
	tp.live_cap = (uint32_t)tp.o.map_entries;
	tp.live = calloc(tp.live_cap, sizeof(*tp.live));
	if (!tp.ts || !tp.live) {
		elog("top: out of memory");
		return EXIT_FAIL;
	}
	cfg = (struct tracer_config){ .map_entries = (uint32_t)tp.o.map_entries, .ringbuf_bytes = 4 << 20,
				      .hooks = &tp.hooks };
	err = tracer_start_all(&tp.t, &cfg, on_record, &tp, &what);
	if (err) {
		elog("cannot %s: %s", what, strerror(-err));
		tracer_stop(&tp.t);
		return EXIT_FAIL;
	}
	tp.t0 = tracer_now_ns();
	next_frame(&tp); /* the baseline for growth and rates */
	ret = tp.o.batch ? run_batch(&tp) : run_interactive(&tp);
	tracer_stop(&tp.t);
	top_frame_free(&tp.f);
	top_state_free(tp.ts);
	free(tp.live);
	return ret;
}
