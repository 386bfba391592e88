// SPDX-License-Identifier: GPL-2.0
#include "serve/listen_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "core/units.h"

int parse_listen_addr(const char *s, struct listen_addr *out)
{
	char host[64];
	const char *colon, *h = s;
	size_t hlen;
	uint64_t port;

	memset(out, 0, sizeof(*out));
	colon = strrchr(s, ':');
	if (!colon || parse_uint(colon + 1, 1, 65535, &port))
		return -1;
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') { /* [v6]:port */
		h = s + 1;
		hlen -= 2;
	}
	if (!hlen || hlen >= sizeof(host))
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = 0;
	if (h == s && strchr(host, ':'))
		return -1; /* an IPv6 address needs brackets: "[::1]:9464" */
	if (h == s) {
		struct sockaddr_in *in = (struct sockaddr_in *)&out->ss;

		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -1;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		out->len = sizeof(*in);
		out->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->ss;

		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*in6);
		out->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return 0;
}

int listen_addr_bind(const struct listen_addr *a)
{
	int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) || listen(fd, 128)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}
