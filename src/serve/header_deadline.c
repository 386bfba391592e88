// SPDX-License-Identifier: GPL-2.0
#include "serve/header_deadline.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

/* A connection, linked in the watcher's list from accept to close. */
struct watched {
	struct watched *prev, *next;
	int fd;
	bool waiting;	  /* for a request's headers */
	bool shut;	  /* already shut down: wait for libmicrohttpd to close it */
	struct timespec since;
};

struct header_deadline {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool stopping;
	struct watched head; /* list sentinel */
};

static struct timespec now_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

static void start_waiting(struct watched *w)
{
	w->waiting = true;
	w->since = now_mono();
}

void header_deadline_on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
				   enum MHD_ConnectionNotificationCode code)
{
	struct header_deadline *hd = cls;
	struct watched *w = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		w = calloc(1, sizeof(*w));
		if (!w || !ci) {
			free(w); /* unwatched: the idle timeout still applies */
			return;
		}
		w->fd = ci->connect_fd;
		start_waiting(w);
		pthread_mutex_lock(&hd->lock);
		w->next = hd->head.next;
		w->prev = &hd->head;
		w->next->prev = w;
		hd->head.next = w;
		pthread_mutex_unlock(&hd->lock);
		*socket_context = w;
		return;
	}
	if (!w)
		return;
	/* libmicrohttpd closes the descriptor only after this returns: under the
	 * lock the watcher never shuts down a number that was reused meanwhile */
	pthread_mutex_lock(&hd->lock);
	w->prev->next = w->next;
	w->next->prev = w->prev;
	pthread_mutex_unlock(&hd->lock);
	free(w);
	*socket_context = NULL;
}

static struct watched *watched_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

void header_deadline_on_completed(void *cls, struct MHD_Connection *c, void **req,
				  enum MHD_RequestTerminationCode code)
{
	struct header_deadline *hd = cls;
	struct watched *w = watched_of(c);

	(void)req;
	(void)code;
	if (!w)
		return;
	pthread_mutex_lock(&hd->lock);
	start_waiting(w);
	pthread_mutex_unlock(&hd->lock);
}

void header_deadline_headers_in(struct header_deadline *hd, struct MHD_Connection *c)
{
	struct watched *w = watched_of(c);

	if (!w)
		return;
	pthread_mutex_lock(&hd->lock);
	w->waiting = false;
	pthread_mutex_unlock(&hd->lock);
}

static void shut_overdue(struct header_deadline *hd)
{
	struct timespec t = now_mono();

	for (struct watched *w = hd->head.next; w != &hd->head; w = w->next) {
		if (!w->waiting || w->shut || t.tv_sec - w->since.tv_sec < HEADER_DEADLINE_S)
			continue;
		/* libmicrohttpd sees end-of-file and closes it */
		shutdown(w->fd, SHUT_RDWR);
		w->shut = true;
	}
}

static void *watch(void *arg)
{
	struct header_deadline *hd = arg;

	pthread_mutex_lock(&hd->lock);
	while (!hd->stopping) {
		struct timespec next;

		clock_gettime(CLOCK_MONOTONIC, &next);
		next.tv_sec += 1;
		pthread_cond_timedwait(&hd->wake, &hd->lock, &next);
		shut_overdue(hd);
	}
	pthread_mutex_unlock(&hd->lock);
	return NULL;
}

struct header_deadline *header_deadline_start(void)
{
	struct header_deadline *hd = calloc(1, sizeof(*hd));
	pthread_condattr_t attr;

	if (!hd)
		return NULL;
	hd->head.next = hd->head.prev = &hd->head;
	pthread_mutex_init(&hd->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&hd->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&hd->thread, NULL, watch, hd)) {
		pthread_cond_destroy(&hd->wake);
		pthread_mutex_destroy(&hd->lock);
		free(hd);
		return NULL;
	}
	return hd;
}

/* After the server has stopped: every connection is closed and unlinked. */
void header_deadline_stop(struct header_deadline *hd)
{
	pthread_mutex_lock(&hd->lock);
	hd->stopping = true;
	pthread_cond_signal(&hd->wake);
	pthread_mutex_unlock(&hd->lock);
	pthread_join(hd->thread, NULL);
	pthread_cond_destroy(&hd->wake);
	pthread_mutex_destroy(&hd->lock);
	free(hd);
}
