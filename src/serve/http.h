/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The HTTP side of `rsstrace serve` (libmicrohttpd): "/" says where the
 * metrics are, GET /metrics asks for one scrape, HEAD /metrics answers
 * without one (a health check must not close anyone's peak window).
 */
#ifndef SERVE_HTTP_H
#define SERVE_HTTP_H

#include <stddef.h>

#include "serve/metrics.h"

/* One scrape by the scraper `who` ("ADDRESS USER-AGENT"): the body, a
 * malloc'ed *text of *len bytes in format fmt. Returns 0 or -errno. Called
 * from the server's thread. */
typedef int (*http_scrape_fn)(void *ctx, enum metrics_format fmt, const char *who, char **text,
			      size_t *len);

struct http_server;

/* Serves on the listening socket fd, from a thread of the server's own that
 * runs with SIGINT and SIGTERM blocked (they stay the main thread's).
 * Returns NULL if it cannot start (fd is then still the caller's). */
struct http_server *http_start(int fd, http_scrape_fn scrape, void *ctx);

/* Waits for the requests in progress, then closes fd and frees s. */
void http_stop(struct http_server *s);

#endif
