// SPDX-License-Identifier: GPL-2.0
/* Unit tests: which --sharing reading is kept as the one at the tree's peak,
 * and that the text quotes the summary's peak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "trace/sharing.h"

#define MS 1000000ULL

static struct sharing_sample reading(uint64_t at_ms, uint64_t tree_rss_kb, uint64_t peak_kb,
				     uint64_t peak_ms)
{
	return (struct sharing_sample){ .ns = at_ms * MS, .tree_rss_kb = tree_rss_kb,
					.tree_peak_kb = peak_kb, .peak_ns = peak_ms * MS };
}

/* The plateau: peak 370M at 0.305 s, read at 0.31 s, then every
 * second while the tree stays there: the first reading is kept, not the
 * one at 11.594 s. */
static void plateau_keeps_the_reading_nearest_in_time(void **state)
{
	struct sharing_sample kept = reading(310, 370 * 1024, 370 * 1024, 305);
	struct sharing_sample later = reading(11594, 370 * 1024 - 8, 370 * 1024, 305);

	assert_false(sharing_nearer(&later, &kept));
	/* and one a little fuller, within the same-value band, does not win either */
	later.tree_rss_kb = 370 * 1024 + 100;
	assert_false(sharing_nearer(&later, &kept));
}

/* Nearer in value wins: the tree rose to a new peak and was read there;
 * a reading of a tree mostly gone (an exit-time peak) loses. */
static void value_then_time(void **state)
{
	struct sharing_sample kept = reading(310, 370 * 1024, 370 * 1024, 305);
	struct sharing_sample higher = reading(5250, 400 * 1024, 402 * 1024, 5000);
	struct sharing_sample gone = reading(9000, 20 * 1024, 403 * 1024, 8990);
	struct sharing_sample empty = { 0 };

	assert_true(sharing_nearer(&kept, &empty));
	assert_true(sharing_nearer(&higher, &kept));
	assert_false(sharing_nearer(&gone, &higher));
	/* a slightly higher peak later (within the band): the reading after it
	 * is nearer in time to it */
	struct sharing_sample after_small_rise = reading(6300, 401 * 1024, 403 * 1024, 6000);

	assert_true(sharing_nearer(&after_small_rise, &higher));
}

/* As near in value: a reading after the peak beats a closer one before it
 * (it cannot show what made the peak). */
static void after_the_peak_beats_before(void **state)
{
	struct sharing_sample before = reading(5900, 401 * 1024, 401 * 1024, 5000);
	struct sharing_sample after = reading(6240, 403 * 1024, 403 * 1024, 6000);

	assert_true(sharing_nearer(&after, &before));
}

/* Every section quotes the summary's peak: the text shows the peak given,
 * not the one known when the reading was taken. */
static void text_quotes_the_summary_peak(void **state)
{
	struct sharing s = { 0 };
	struct sharing_peak peak = { 894 * 1024, 16869 * MS };
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	s.at_peak = reading(16600, 884 * 1024, 884 * 1024, 16567);
	sharing_print(out, false, &s, 0, 0, &peak);
	fclose(out);
	assert_non_null(strstr(buf, "tree peak 894M at 16.869 s"));
	assert_null(strstr(buf, "884M at 16.567"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plateau_keeps_the_reading_nearest_in_time),
		cmocka_unit_test(value_then_time),
		cmocka_unit_test(after_the_peak_beats_before),
		cmocka_unit_test(text_quotes_the_summary_peak),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
