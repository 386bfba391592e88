// SPDX-License-Identifier: GPL-2.0
#include "core/stop_signal.h"

#include <signal.h>
#include <stddef.h>

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

void stop_on_signals(void)
{
	/*
	 * SA_RESTART only lets a write of a frame to a slow pipe finish rather
	 * than fail with EINTR; the waits of the main loops (poll, epoll_wait,
	 * usleep, ncurses' getch timeout) return at once all the same, because
	 * they are never restarted (signal(7)).
	 */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int stop_requested(void)
{
	return stop_sig;
}
