// SPDX-License-Identifier: GPL-2.0
/* Unit tests: `rsstrace serve --listen` addresses (src/serve/listen_addr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "serve/listen_addr.h"

static void loopback_v4_and_v6(void **state)
{
	struct listen_addr a;

	assert_int_equal(parse_listen_addr("127.0.0.1:9464", &a), 0);
	assert_true(a.loopback);
	assert_int_equal(a.ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&a.ss)->sin_port), 9464);
	assert_int_equal(parse_listen_addr("127.1.2.3:1", &a), 0);
	assert_true(a.loopback);
	assert_int_equal(parse_listen_addr("[::1]:65535", &a), 0);
	assert_true(a.loopback);
	assert_int_equal(a.ss.ss_family, AF_INET6);
}

static void other_addresses_are_not_loopback(void **state)
{
	struct listen_addr a;

	assert_int_equal(parse_listen_addr("0.0.0.0:9464", &a), 0);
	assert_false(a.loopback);
	assert_int_equal(parse_listen_addr("10.0.0.1:80", &a), 0);
	assert_false(a.loopback);
	assert_int_equal(parse_listen_addr("[::]:9464", &a), 0);
	assert_false(a.loopback);
	/* mapped IPv4 loopback is treated as remote: refused unless allowed */
	assert_int_equal(parse_listen_addr("[::ffff:127.0.0.1]:9464", &a), 0);
	assert_false(a.loopback);
}

static void malformed(void **state)
{
	struct listen_addr a;
	const char *bad[] = { "", ":", "9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
			      "127.0.0.1:94x", "localhost:9464", "::1:9464", "[::1]", "[::1:9464", "[]:9464",
			      "1.2.3.4.5:80", "127.0.0.1:-1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_listen_addr(bad[i], &a), -1);
}

static void bind_listens_or_says_why(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	struct listen_addr a;
	char addr[32];
	int busy, fd;

	/* a port someone listens on: the error is the kernel's, as -errno */
	busy = listen_addr_bind(&(struct listen_addr){ .ss.ss_family = AF_INET, .len = sizeof(sin) });
	assert_true(busy >= 0); /* 0.0.0.0, any free port */
	assert_int_equal(getsockname(busy, (struct sockaddr *)&sin, &len), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	assert_int_equal(parse_listen_addr(addr, &a), 0);
	assert_int_equal(listen_addr_bind(&a), -EADDRINUSE);
	close(busy);
	fd = listen_addr_bind(&a);
	assert_true(fd >= 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loopback_v4_and_v6),
		cmocka_unit_test(other_addresses_are_not_loopback),
		cmocka_unit_test(malformed),
		cmocka_unit_test(bind_listens_or_says_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
