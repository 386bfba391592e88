// SPDX-License-Identifier: GPL-2.0
/* Unit tests: escaping the names traced processes choose (core/text_escape.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/text_escape.h"

static const char *esc(const char *s)
{
	static char buf[256];

	return text_escape(buf, sizeof(buf), s, SIZE_MAX);
}

static void control_bytes(void **state)
{
	assert_string_equal(esc("\x1b[H\x1b[2J\x1b[3J"), "\\x1b[H\\x1b[2J\\x1b[3J");
	assert_string_equal(esc("a\nb"), "a\\x0ab");
	assert_string_equal(esc("\t\r\x7f"), "\\x09\\x0d\\x7f");
	for (int c = 1; c < 0x20; c++) {
		char in[2] = { (char)c, 0 };

		assert_int_equal(strlen(esc(in)), 4);
	}
}

static void quotes_and_backslash(void **state)
{
	assert_string_equal(esc("a\\x1b"), "a\\\\x1b"); /* cannot forge an escape */
	assert_string_equal(esc("\"'`$"), "\"'`$");
}

static void utf8(void **state)
{
	assert_string_equal(esc("caf\xc3\xa9"), "caf\xc3\xa9");		 /* é passes */
	assert_string_equal(esc("\xe2\x82\xac"), "\xe2\x82\xac");		 /* € */
	assert_string_equal(esc("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80"); /* emoji */
	assert_string_equal(esc("\xff"), "\\xff");
	assert_string_equal(esc("a\xe2\x82"), "a\\xe2\\x82");		   /* truncated sequence */
	assert_string_equal(esc("\xc0\xaf"), "\\xc0\\xaf");		   /* overlong */
	assert_string_equal(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80");	   /* surrogate */
	assert_string_equal(esc("\xc2\x9b"), "\\xc2\\x9b");		   /* C1 CSI */
	assert_string_equal(esc("\xc2\xa0"), "\xc2\xa0");		   /* no-break space is text */
}

static void bounded(void **state)
{
	char buf[6];

	/* never a split escape */
	assert_string_equal(text_escape(buf, sizeof(buf), "a\x1b", SIZE_MAX), "a\\x1b");
	assert_string_equal(text_escape(buf, sizeof(buf), "ab\x1b", SIZE_MAX), "ab");
	/* never a split UTF-8 sequence */
	assert_string_equal(text_escape(buf, sizeof(buf), "abc\xe2\x82\xac", SIZE_MAX), "abc");
	/* srclen: a comm is a fixed array, not always NUL-terminated */
	assert_string_equal(text_escape(buf, sizeof(buf), "abcdefgh", 3), "abc");
	assert_string_equal(text_escape(buf, 1, "abc", SIZE_MAX), "");
	assert_string_equal(text_escape(buf, sizeof(buf), NULL, 3), "");
}

static void cells(void **state)
{
	char buf[64];

	assert_string_equal(text_cell(buf, sizeof(buf), "bash", 16, 6), "bash  ");
	assert_string_equal(text_cell(buf, sizeof(buf), "longer-name", 16, 6), "longer");
	/* truncated after escaping, never inside an escape: padded instead */
	assert_string_equal(text_cell(buf, sizeof(buf), "ab\ncd", 16, 5), "ab   ");
	assert_string_equal(text_cell(buf, sizeof(buf), "ab\ncd", 16, 6), "ab\\x0a");
	/* a multi-byte character is one column */
	assert_string_equal(text_cell(buf, sizeof(buf), "\xc3\xa9t\xc3\xa9", 16, 4), "\xc3\xa9t\xc3\xa9 ");
	assert_int_equal(text_cols(buf), 4);
	/* cut without padding; what was consumed tells whether it was cut */
	assert_int_equal(text_escape_cols(buf, sizeof(buf), "a\x1b" "bc", SIZE_MAX, 5), 2);
	assert_string_equal(buf, "a\\x1b");
	assert_int_equal(text_escape_cols(buf, sizeof(buf), "abc", SIZE_MAX, 5), 3);
	assert_int_equal(text_cols("\\x1b"), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(control_bytes),
		cmocka_unit_test(quotes_and_backslash),
		cmocka_unit_test(utf8),
		cmocka_unit_test(bounded),
		cmocka_unit_test(cells),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
