// SPDX-License-Identifier: GPL-2.0
#include "top/screen.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "core/units.h"
#include "top/cli.h"

#define KEY_WAIT_MS 100

int screen_open(void)
{
	if (!initscr())
		return -1;
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	if (has_colors()) {
		start_color();
		init_pair(1, COLOR_RED, COLOR_BLACK);
	}
	timeout(KEY_WAIT_MS);
	return 0;
}

void screen_close(void)
{
	endwin();
}

static void draw_help(void)
{
	erase();
	mvaddstr(0, 0, top_help);
	mvaddstr(LINES - 1, 0, "Press any key to go back.");
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

enum screen_event screen_key(struct top_controls *c)
{
	switch (getch()) {
	case 'q': case 'Q': return SCREEN_QUIT;
	case 'M': c->sort = SORT_RSS; break;
	case 'H': c->sort = SORT_HWM; break;
	case 'G': c->sort = SORT_GROWTH; break;
	case 'S': c->sort = SORT_SWAP; break;
	case 'P': c->sort = SORT_PID; break;
	case 't': c->tree = !c->tree; break;
	case ' ': c->paused = !c->paused; break;
	case 'c': prompt("cgroup contains", c->flt.cgroup, sizeof(c->flt.cgroup)); break;
	case 'u': prompt("user", c->flt.user, sizeof(c->flt.user)); break;
	case '/': prompt("command contains", c->flt.comm, sizeof(c->flt.comm)); break;
	case '?': draw_help(); timeout(-1); getch(); timeout(KEY_WAIT_MS); break;
	case KEY_RESIZE: break;
	default: return SCREEN_IDLE;
	}
	return SCREEN_CHANGED;
}

void screen_draw(const struct top_view *v, const struct top_controls *c)
{
	static const char *const sort_names[] = { "RSS", "HWM", "GROWTH", "SWAP", "PID" };
	const struct top_frame *f = v->f;
	const struct meminfo *m = &v->mem;
	bool wide = COLS >= 100;
	int header = 5, rows = LINES - header - 2;
	char s[8][24];

	erase();
	mvprintw(0, 0, "rsstrace top  %u address spaces  %llu events/s  sort %s%s%s", f->nrows,
		 (unsigned long long)f->events_per_s, sort_names[c->sort], c->tree ? "  tree" : "",
		 c->paused ? "  PAUSED" : "");
	move(0, COLS > 70 ? COLS - 14 : 60);
	if (v->lost)
		attron(A_BOLD | COLOR_PAIR(1));
	printw("lost %llu", (unsigned long long)v->lost);
	if (v->lost)
		attroff(A_BOLD | COLOR_PAIR(1));
	mvprintw(1, 0, "Mem: total %s avail %s   Swap: total %s free %s", fmt_kb(m->total, s[0], 16),
		 fmt_kb(m->avail, s[1], 16), fmt_kb(m->swap_total, s[2], 16), fmt_kb(m->swap_free, s[3], 16));
	mvprintw(2, 0, "RSS: anon %s  file %s  shmem %s  swap %s", fmt_kb(f->total_kb[RSS_ANON], s[0], 16),
		 fmt_kb(f->total_kb[RSS_FILE], s[1], 16), fmt_kb(f->total_kb[RSS_SHMEM], s[2], 16),
		 fmt_kb(f->total_kb[RSS_SWAP], s[3], 16));
	mvprintw(3, 0, "Filters: user=%s cgroup=%s command=%s", c->flt.user[0] ? c->flt.user : "*",
		 c->flt.cgroup[0] ? c->flt.cgroup : "*", c->flt.comm[0] ? c->flt.comm : "*");
	attron(A_REVERSE);
	mvprintw(4, 0, "%7s %-8s %-12s %6s %6s %6s %6s %6s %6s %7s%s", "PID", "USER", "COMMAND",
		 c->tree ? "SUBTRE" : "RSS", "ANON", "FILE", "SHMEM", "SWAP", "HWM", "GROW",
		 wide ? "  FLT/s CGROUP" : "");
	attroff(A_REVERSE);
	for (int i = 0; i < rows && i < (int)f->nrows; i++) {
		const struct top_row *r = &f->rows[i];
		int indent = r->depth < 6 ? r->depth : 6;

		top_growth_cell(r->growth_kb, s[6], 24);
		top_faults_cell(r, s[7], 24);
		if (r->exited)
			attron(A_DIM);
		mvprintw(header + i, 0, "%7u %-8.8s %*s%-*.*s %6s %6s %6s %6s %6s %6s %7s", r->st.tgid, r->user,
			 indent, "", 12 - indent, 12 - indent - (r->exited ? 1 : 0), r->st.comm,
			 fmt_kb(c->tree ? r->subtree_rss_kb : r->rss_kb, s[0], 16), fmt_kb(r->anon_kb, s[1], 16),
			 fmt_kb(r->file_kb, s[2], 16), fmt_kb(r->shmem_kb, s[3], 16), fmt_kb(r->swap_kb, s[4], 16),
			 fmt_kb(r->hwm_kb, s[5], 16), s[6]);
		if (r->exited)
			mvaddch(header + i, 8 + 9 + indent + (int)strnlen(r->st.comm, 12 - indent - 1), '*');
		if (wide)
			printw(" %6s %.*s", s[7], COLS - 89 > 0 ? COLS - 89 : 0, r->cgroup);
		if (r->exited)
			attroff(A_DIM);
	}
	move(LINES - 2, 0);
	printw("Recent peaks (60 s, *=exited):");
	for (int i = 0; i < f->npeaks && getcurx(stdscr) < COLS - 24; i++)
		printw(" %u %.*s%s %s", f->peaks[i].pid, 10, f->peaks[i].comm, f->peaks[i].exited ? "*" : "",
		       fmt_kb(f->peaks[i].peak_kb, s[0], 16));
	if (v->nooms) {
		char line[256];

		oom_print_short(line, sizeof(line), v->oom, f->at_ns, v->page_kb);
		mvprintw(3, 0, "%.*s", COLS > 0 ? COLS : 0, line);
	}
	mvprintw(LINES - 1, 0, "M/H/G/S/P sort  t tree  c/u// filter  space pause  ? help  q quit");
	refresh();
}
