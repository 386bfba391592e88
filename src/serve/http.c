// SPDX-License-Identifier: GPL-2.0
#include "serve/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "core/log.h"
#include "serve/header_deadline.h"

struct http_server {
	struct MHD_Daemon *d;
	struct header_deadline *deadline;
	http_scrape_fn scrape;
	void *ctx;
};

/* The methods served (RFC 9110: a 405 must say which, in Allow). */
#define ALLOWED_METHODS "GET, HEAD"

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int code, const char *type, char *body,
			     size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, ALLOWED_METHODS);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* Who is scraping: remote address and User-Agent (two Prometheus servers of an
 * HA pair differ by address; Prometheus and a curl by agent). */
static void scraper_key(struct MHD_Connection *c, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const char *agent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
	char addr[INET6_ADDRSTRLEN] = "?";

	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;

		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr, sizeof(addr));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr, sizeof(addr));
	}
	snprintf(buf, len, "%s %s", addr, agent ? agent : "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_len, void **req)
{
	static const char index_page[] = "rsstrace serve: metrics at /metrics\n";
	static const char not_found[] = "not found: try /metrics\n";
	static const char bad_method[] = "only GET and HEAD\n";
	const struct http_server *h = cls;
	enum metrics_format fmt;
	char who[192], *text;
	size_t len;
	int err;

	header_deadline_headers_in(h->deadline, c);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", (char *)bad_method,
			     sizeof(bad_method) - 1, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/plain", (char *)index_page, sizeof(index_page) - 1,
			     MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", (char *)not_found, sizeof(not_found) - 1,
			     MHD_RESPMEM_PERSISTENT);
	fmt = metrics_negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
	/* a HEAD (a health check) must not close anyone's peak window */
	if (!strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_OK, metrics_content_type(fmt), (char *)"", 0, MHD_RESPMEM_PERSISTENT);
	scraper_key(c, who, sizeof(who));
	err = h->scrape(h->ctx, fmt, who, &text, &len);
	if (err) {
		static const char failed[] = "rsstrace: cannot read the accounting maps\n";

		elog("serve: a scrape failed: %s", strerror(-err));
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", (char *)failed, sizeof(failed) - 1,
			     MHD_RESPMEM_PERSISTENT);
	}
	return reply(c, MHD_HTTP_OK, metrics_content_type(fmt), text, len, MHD_RESPMEM_MUST_FREE);
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	if (!log_verbose)
		return;
	fprintf(stderr, "rsstrace: http: ");
	vfprintf(stderr, fmt, ap);
}

/*
 * Slow and idle clients must not stall a scrape (a few hundred slowloris
 * connections did, at the old limit of 256). So: one epoll thread, for which
 * a connection costs a descriptor and a memory pool, not a thread; room for
 * many (the soft descriptor limit raised to the hard one: systemd's soft
 * default is 1024); a small pool each (a scrape request is well under 4 KiB);
 * an idle timeout, and a deadline for each request's headers that trickled
 * bytes do not extend (serve/header_deadline.h). A per-address limit would
 * not help: the real scraper is often on loopback too.
 */
#define CONN_MAX 16384U
#define CONN_POOL_BYTES (8U << 10)
#define CONN_IDLE_S 10U

static unsigned int connection_limit(void)
{
	struct rlimit r;

	if (getrlimit(RLIMIT_NOFILE, &r))
		return 256;
	if (r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
		getrlimit(RLIMIT_NOFILE, &r);
	}
	/* what the tracer's maps, links and the listening socket need */
	if (r.rlim_cur < 256 + 128)
		return 128;
	return r.rlim_cur - 256 > CONN_MAX ? CONN_MAX : (unsigned int)(r.rlim_cur - 256);
}

struct http_server *http_start(int fd, http_scrape_fn scrape, void *ctx)
{
	struct http_server *h = malloc(sizeof(*h));
	sigset_t block, old;

	if (!h)
		return NULL;
	*h = (struct http_server){ .scrape = scrape, .ctx = ctx };
	/* the server's threads inherit this mask: signals go to the main thread */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	h->deadline = header_deadline_start();
	if (h->deadline)
		h->d = MHD_start_daemon(
			MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
			h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
			MHD_OPTION_CONNECTION_LIMIT, connection_limit(), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
			(size_t)CONN_POOL_BYTES, MHD_OPTION_CONNECTION_TIMEOUT, CONN_IDLE_S,
			MHD_OPTION_NOTIFY_CONNECTION, header_deadline_on_connection, h->deadline,
			MHD_OPTION_NOTIFY_COMPLETED, header_deadline_on_completed, h->deadline, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->d) {
		if (h->deadline)
			header_deadline_stop(h->deadline);
		free(h);
		return NULL;
	}
	return h;
}

void http_stop(struct http_server *h)
{
	MHD_stop_daemon(h->d);
	header_deadline_stop(h->deadline);
	free(h);
}
