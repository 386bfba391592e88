/* SPDX-License-Identifier: GPL-2.0 */
/* `rsstrace serve --listen`: "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464". */
#ifndef LISTEN_ADDR_H
#define LISTEN_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

struct listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	bool loopback; /* 127.0.0.0/8 or ::1: reachable from this machine only */
};

/* Numeric host and port 1-65535 (IPv6 in brackets); no name lookups, so what
 * is checked for loopback is what gets bound. Returns 0 or -1. */
int parse_listen_addr(const char *s, struct listen_addr *out);

/* A listening TCP socket on the address (SO_REUSEADDR, close-on-exec), made
 * here rather than by the HTTP library so that a failure says exactly why.
 * Returns the descriptor, or -errno. */
int listen_addr_bind(const struct listen_addr *a);

#endif
