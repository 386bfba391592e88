// SPDX-License-Identifier: GPL-2.0
#include "top/screen.h"

#define NCURSES_WIDECHAR 1 /* get_wstr: what is typed may be UTF-8 */
#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "core/text_escape.h"
#include "core/units.h"
#include "top/cli.h"

#define KEY_WAIT_MS 100

int screen_open(void)
{
	/* the terminal's encoding, for names shown and filters typed in UTF-8;
	 * numbers keep the C locale's decimal point */
	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");
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

/* A filter typed by the user: read as wide characters (so that a UTF-8
 * character is one character, erased whole by backspace), stored as the
 * locale's multibyte text (UTF-8), which the filter compares with the names'
 * bytes. What does not fit dst is dropped at a character boundary. */
static void prompt(const char *what, char *dst, size_t len)
{
	wint_t in[CG_PATH_LEN] = { 0 }; /* a whole 64-digit container id fits */
	wchar_t w[CG_PATH_LEN];
	size_t n, i;

	mvprintw(LINES - 1, 0, "%s (empty clears): ", what);
	clrtoeol();
	echo();
	curs_set(1);
	timeout(-1);
	if (getn_wstr(in, (int)(sizeof(in) / sizeof(in[0])) - 1) == ERR)
		in[0] = 0;
	noecho();
	curs_set(0);
	timeout(KEY_WAIT_MS);
	for (i = 0; in[i] && i < sizeof(w) / sizeof(w[0]) - 1; i++)
		w[i] = (wchar_t)in[i];
	w[i] = 0;
	n = wcstombs(dst, w, len - 1);
	dst[n == (size_t)-1 ? 0 : n] = 0;
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
	case 'c': prompt("cgroup contains, or container id / pod UID begins", c->flt.cgroup, sizeof(c->flt.cgroup)); break;
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
	char s[8][24], e[3][TEXT_ESC_LEN(64)], fcg[TEXT_ESC_LEN(CG_PATH_LEN)], cg[TOP_CGROUP_CELL_LEN];

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
	mvprintw(3, 0, "Filters: user=%s cgroup=%s command=%s",
		 c->flt.user[0] ? text_escape(e[0], sizeof(e[0]), c->flt.user, sizeof(c->flt.user)) : "*",
		 c->flt.cgroup[0] ? text_escape(fcg, sizeof(fcg), c->flt.cgroup, sizeof(c->flt.cgroup)) : "*",
		 c->flt.comm[0] ? text_escape(e[2], sizeof(e[2]), c->flt.comm, sizeof(c->flt.comm)) : "*");
	attron(A_REVERSE);
	mvprintw(4, 0, "%7s %-8s %-12s %6s %6s %6s %6s %6s %6s %7s%s", "PID", "USER", "COMMAND",
		 c->tree ? "SUBTRE" : "RSS", "ANON", "FILE", "SHMEM", "SWAP", "HWM", "GROW",
		 wide ? "  FLT/s CGROUP" : "");
	attroff(A_REVERSE);
	for (int i = 0; i < rows && i < (int)f->nrows; i++) {
		const struct top_row *r = &f->rows[i];
		int indent = r->depth < 6 ? r->depth : 6, shown = 12 - indent - (r->exited ? 1 : 0);
		size_t cols;

		top_growth_cell(r->growth_kb, s[6], 24);
		top_faults_cell(r, s[7], 24);
		if (r->exited)
			attron(A_DIM);
		/* names escaped (core/text_escape.h): in 12 columns, then '*' if exited */
		text_escape_cols(e[0], sizeof(e[0]), r->st.comm, RSS_COMM_LEN, shown);
		cols = text_cols(e[0]) + (r->exited ? 1 : 0);
		mvprintw(header + i, 0, "%7u %s %*s%s%s%*s %6s %6s %6s %6s %6s %6s %7s", r->st.tgid,
			 text_cell(e[1], sizeof(e[1]), r->user, sizeof(r->user), 8), indent, "", e[0],
			 r->exited ? "*" : "", (int)(12 - indent - cols), "",
			 fmt_kb(c->tree ? r->subtree_rss_kb : r->rss_kb, s[0], 16), fmt_kb(r->anon_kb, s[1], 16),
			 fmt_kb(r->file_kb, s[2], 16), fmt_kb(r->shmem_kb, s[3], 16), fmt_kb(r->swap_kb, s[4], 16),
			 fmt_kb(r->hwm_kb, s[5], 16), s[6]);
		if (wide) {
			top_cgroup_cell(r, cg, sizeof(cg), COLS > 89 ? (size_t)(COLS - 89) : 0);
			printw(" %6s %s", s[7], cg);
		}
		if (r->exited)
			attroff(A_DIM);
	}
	move(LINES - 2, 0);
	printw("Recent peaks (60 s, *=exited):");
	for (int i = 0; i < f->npeaks && getcurx(stdscr) < COLS - 24; i++) {
		text_escape_cols(e[0], sizeof(e[0]), f->peaks[i].comm, RSS_COMM_LEN, 10);
		printw(" %u %s%s %s", f->peaks[i].pid, e[0], f->peaks[i].exited ? "*" : "",
		       fmt_kb(f->peaks[i].peak_kb, s[0], 16));
	}
	if (v->nooms) {
		char line[256];

		oom_print_short(line, sizeof(line), v->oom, f->at_ns, v->page_kb);
		mvprintw(3, 0, "%.*s", COLS > 0 ? COLS : 0, line);
	}
	mvprintw(LINES - 1, 0, "M/H/G/S/P sort  t tree  c/u// filter  space pause  ? help  q quit");
	refresh();
}
