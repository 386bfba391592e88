// SPDX-License-Identifier: GPL-2.0
/* Unit tests: interning keys to dense ids (core/intern.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/intern.h"

static void ids_are_dense_in_first_seen_order(void **state)
{
	struct intern t = { 0 };
	bool added;

	assert_int_equal(intern(&t, "b", 1, &added), 1);
	assert_true(added);
	assert_int_equal(intern(&t, "a", 1, &added), 2);
	assert_int_equal(intern(&t, "b", 1, &added), 1);
	assert_false(added);
	/* "" is a key too (the pprof string table's first) */
	assert_int_equal(intern(&t, "", 0, &added), 3);
	assert_true(added);
	intern_free(&t);
}

static void keys_are_bytes_not_strings(void **state)
{
	struct intern t = { 0 };
	uint64_t k1[2] = { 1, 0 }, k2[2] = { 1, 2 };
	bool added;

	assert_int_equal(intern(&t, k1, sizeof(k1), &added), 1);
	assert_int_equal(intern(&t, k2, sizeof(k2), &added), 2);
	assert_int_equal(intern(&t, k1, sizeof(k1[0]), &added), 3); /* a prefix is another key */
	intern_free(&t);
}

static void growth_keeps_every_id(void **state)
{
	struct intern t = { 0 };
	char key[32];
	bool added;

	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(intern(&t, key, strlen(key), &added), i + 1);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(intern(&t, key, strlen(key), &added), i + 1);
		assert_false(added);
	}
	assert_int_equal(t.n, 5000);
	intern_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ids_are_dense_in_first_seen_order),
		cmocka_unit_test(keys_are_bytes_not_strings),
		cmocka_unit_test(growth_keeps_every_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
