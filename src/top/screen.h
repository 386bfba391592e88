/* SPDX-License-Identifier: GPL-2.0 */
/* The interactive view of `rsstrace top` (ncurses): draws a frame, reads keys. */
#ifndef TOP_SCREEN_H
#define TOP_SCREEN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/live_view.h"
#include "top/view.h"

/* What the keys change. */
struct top_controls {
	enum top_sort sort;
	bool tree;	/* parents with subtree sums */
	bool paused;	/* no new frames */
	bool sharing;	/* PSS/USS columns */
	struct top_filter flt;
};

enum screen_event {
	SCREEN_IDLE,	/* no key, or one that changes nothing */
	SCREEN_CHANGED, /* the controls changed, or the terminal was resized */
	SCREEN_QUIT,
};

/* Takes over the terminal. Returns 0, or -1 if it cannot. */
int screen_open(void);
void screen_close(void);

/* Waits up to 100 ms for a key and applies it to c; '?' shows the help
 * until the next key, and c, u and / ask for a filter. */
enum screen_event screen_key(struct top_controls *c);

/* How many rows of the table fit on the screen. */
uint32_t screen_rows(void);

void screen_draw(const struct top_view *v, const struct top_controls *c);

#endif
