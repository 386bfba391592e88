/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A deadline for each HTTP request's headers that incoming bytes do not
 * extend (issue 15, item 10). libmicrohttpd's connection timeout is an idle
 * timeout: a client that trickles one header byte every few seconds keeps
 * its connection forever, so enough of them fill the server. Here a
 * connection that has waited HEADER_DEADLINE_S for a request's headers —
 * since it was accepted, or since its previous request was answered — is
 * shut down, however many bytes it sent meanwhile.
 */
#ifndef SERVE_HEADER_DEADLINE_H
#define SERVE_HEADER_DEADLINE_H

#include <microhttpd.h>

#define HEADER_DEADLINE_S 10

struct header_deadline;

/* The watcher and its thread (started with the caller's signal mask).
 * NULL if it cannot start. */
struct header_deadline *header_deadline_start(void);
void header_deadline_stop(struct header_deadline *hd);

/* libmicrohttpd callbacks, each given hd as its closure:
 * MHD_OPTION_NOTIFY_CONNECTION (accepted / closed) and
 * MHD_OPTION_NOTIFY_COMPLETED (a request answered: the wait for the next
 * one's headers begins). */
void header_deadline_on_connection(void *hd, struct MHD_Connection *c, void **socket_context,
				   enum MHD_ConnectionNotificationCode code);
void header_deadline_on_completed(void *hd, struct MHD_Connection *c, void **req,
				  enum MHD_RequestTerminationCode code);

/* From the access handler: this connection's request headers are all in. */
void header_deadline_headers_in(struct header_deadline *hd, struct MHD_Connection *c);

#endif
