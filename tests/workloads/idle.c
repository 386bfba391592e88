// SPDX-License-Identifier: GPL-2.0
/* Allocates MIB, says "ready" on stdout, then does nothing until SIGTERM or
 * until stdin closes; reports and exits. For -p attach tests.
 * usage: idle [MIB=24] */
#include "workload.h"
#include <signal.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_term };
	char c;

	wl_prefault();
	sigaction(SIGTERM, &sa, NULL);
	wl_anon(wl_arg_mib(argc, argv, 1, 24));
	if (write(1, "ready\n", 6) != 6)
		wl_die("write");
	while (!stop && read(0, &c, 1) > 0)
		;
	wl_report_exit("idle", 0);
}
