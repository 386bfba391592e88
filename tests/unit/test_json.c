// SPDX-License-Identifier: GPL-2.0
/* Unit tests: JSON escaping and the line writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/json_writer.h"

static const char *esc(const char *s, size_t len)
{
	static char buf[512];

	json_escape(buf, sizeof(buf), s, len);
	return buf;
}

static void escapes_specials(void **state)
{
	assert_string_equal(esc("a\"b", 3), "a\\\"b");
	assert_string_equal(esc("a\\b", 3), "a\\\\b");
	assert_string_equal(esc("\n\t\r\b\f", 5), "\\n\\t\\r\\b\\f");
	assert_string_equal(esc("\x01\x1f\x7f", 3), "\\u0001\\u001f\\u007f");
	assert_string_equal(esc("plain", 5), "plain");
}

static void utf8_kept_invalid_replaced(void **state)
{
	assert_string_equal(esc("caf\xc3\xa9", 5), "caf\xc3\xa9");	/* valid: kept */
	assert_string_equal(esc("\xe2\x82\xac", 3), "\xe2\x82\xac");	/* euro sign */
	assert_string_equal(esc("a\xff" "b", 3), "a\\ufffdb");	/* invalid byte */
	assert_string_equal(esc("\xc3", 1), "\\ufffd");		/* truncated sequence */
	assert_string_equal(esc("\xc0\xaf", 2), "\\ufffd\\ufffd");	/* overlong */
	assert_string_equal(esc("\xed\xa0\x80", 3), "\\ufffd\\ufffd\\ufffd"); /* surrogate */
}

static void stops_at_len_and_nul(void **state)
{
	assert_string_equal(esc("abcdef", 3), "abc");
	assert_string_equal(esc("ab\0cd", 5), "ab");
}

static void never_overflows_or_splits_escapes(void **state)
{
	char small[8];

	json_escape(small, sizeof(small), "\"\"\"\"\"", 5);
	assert_string_equal(small, "\\\"\\\"\\\""); /* 3 complete escapes fit in 7 bytes */
}

static void writes_one_object_per_line(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json_obj j;
	char comm[16];

	memcpy(comm, "0123456789abcdef", 16); /* not NUL-terminated, like a full comm */
	json_begin(&j, f);
	json_str(&j, "type", "process");
	json_uint(&j, "pid", 42);
	json_int(&j, "n", -3);
	json_strn(&j, "comm", comm, sizeof(comm));
	json_null(&j, "exit_code");
	json_bool(&j, "attached", 1);
	json_end(&j);
	fclose(f);
	assert_string_equal(buf, "{\"type\":\"process\",\"pid\":42,\"n\":-3,\"comm\":\"0123456789abcdef\","
				 "\"exit_code\":null,\"attached\":true}\n");
	free(buf);
}

static void long_strings_in_pieces(void **state)
{
	char *buf = NULL, in[1000];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json_obj j;

	/* 999 bytes of 2-byte UTF-8 characters and quotes: chunking must not cut them */
	for (int i = 0; i < 999; i += 3) {
		in[i] = '\xc3';
		in[i + 1] = '\xa9';
		in[i + 2] = '"';
	}
	in[999] = 0;
	json_begin(&j, f);
	json_str(&j, "s", in);
	json_end(&j);
	fclose(f);
	assert_null(strstr(buf, "ufffd"));
	assert_int_equal(len, strlen("{\"s\":\"\"}\n") + 333 * 4);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escapes_specials),
		cmocka_unit_test(utf8_kept_invalid_replaced),
		cmocka_unit_test(stops_at_len_and_nul),
		cmocka_unit_test(never_overflows_or_splits_escapes),
		cmocka_unit_test(writes_one_object_per_line),
		cmocka_unit_test(long_strings_in_pieces),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
