/* SPDX-License-Identifier: GPL-2.0 */
/* `rsstrace serve`: the system-wide accounting as a Prometheus/OpenMetrics exporter. */
#ifndef SERVE_H
#define SERVE_H

/* argv[0] is "serve". Returns the exit status. */
int serve_main(int argc, char **argv);

#endif
