// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the --csv / --svg timeline (sampling, thinning, CSV quoting, SVG). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "output/svg_chart.h"
#include "trace/timeline.h"

#define T0 1000000000ULL
#define MS 1000000ULL

static char *capture_csv(void (*fn)(FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f);
	fclose(f);
	return buf;
}

static void quote_cases(FILE *f)
{
	csv_field(f, "plain", 16);
	fputc('|', f);
	csv_field(f, "a,b", 16);
	fputc('|', f);
	csv_field(f, "say \"hi\"", 16);
	fputc('|', f);
	csv_field(f, "line\nbreak", 16); /* escaped: one row a line (core/text_escape.h) */
	fputc('|', f);
	csv_field(f, "0123456789abcdefOVERFLOW", 16); /* a comm is at most 16 bytes */
}

static void csv_quoting(void **state)
{
	char *out = capture_csv(quote_cases);

	assert_string_equal(out, "plain|\"a,b\"|\"say \"\"hi\"\"\"|line\\x0abreak|0123456789abcdef");
	free(out);
}

static struct tree_state tree_at(int64_t anon, int64_t file, int64_t peak, uint64_t peak_ns)
{
	struct tree_state t = { 0 };

	t.cur[RSS_ANON] = anon;
	t.cur[RSS_FILE] = file;
	t.rss = anon + file;
	t.peak = peak;
	t.peak_part[RSS_ANON] = peak - file;
	t.peak_part[RSS_FILE] = file;
	t.peak_ns = peak_ns;
	t.live_mms = 1;
	t.peak_procs = 1;
	return t;
}

/* A spike between two samples shows as its own "tree_peak" row. */
static void peak_between_samples(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct timeline tl;
	struct mm_state live = { .tgid = 42, .comm = "job" };
	struct tree_state t;

	assert_int_equal(timeline_init(&tl, f, true, T0, 4, 0.1, 20), 0);
	live.cur[RSS_ANON] = 10;
	t = tree_at(10, 5, 15, T0 + 1 * MS);
	timeline_sample(&tl, &t, &live, 1, T0 + 2 * MS);
	/* a 1000-page spike came and went before the next sample */
	t = tree_at(10, 5, 1005, T0 + 50 * MS);
	assert_false(timeline_due(&tl, T0 + 99 * MS));
	assert_true(timeline_due(&tl, T0 + 102 * MS));
	timeline_sample(&tl, &t, &live, 1, T0 + 102 * MS);
	timeline_finish(&tl, &t); /* the peak did not move: no new row */
	fclose(f);
	assert_int_equal(tl.npts, 4); /* peak, sample, peak, sample */
	assert_true(tl.pts[2].peak);
	assert_int_equal(tl.pts[2].rss_kb, 1005 * 4);
	assert_int_equal(tl.npp, 2);
	assert_non_null(strstr(buf, "0.050000,tree_peak,,,4020,4000,20,0,0,1\n"));
	assert_non_null(strstr(buf, "0.102000,tree,,,60,40,20,0,0,1\n"));
	assert_non_null(strstr(buf, "0.102000,process,42,job,40,40,0,0,0,\n"));
	free(buf);
	timeline_free(&tl);
}

/* Past TIMELINE_MAX_POINTS the kept series halves; its maximum stays. */
static void thinning_keeps_the_maximum(void **state)
{
	struct timeline tl;
	struct mm_state live = { .tgid = 7, .comm = "x" };
	uint64_t max = 0;

	assert_int_equal(timeline_init(&tl, NULL, true, T0, 4, 0.01, 1), 0);
	for (int i = 0; i < TIMELINE_MAX_POINTS + 10; i++) {
		int64_t anon = i == 12345 ? 99999 : 100 + (i % 7);
		struct tree_state t = tree_at(anon, 0, 99999, T0 + 12345 * 10 * MS);

		live.cur[RSS_ANON] = anon;
		t.peak = i >= 12345 ? 99999 : 200; /* the peak point comes once */
		timeline_sample(&tl, &t, &live, 1, T0 + (uint64_t)i * 10 * MS);
	}
	assert_int_equal(tl.thinned, 1);
	assert_in_range(tl.npts, TIMELINE_MAX_POINTS / 2, TIMELINE_MAX_POINTS);
	assert_int_equal(tl.interval_ns, 20 * MS);
	for (size_t i = 0; i < tl.npts; i++)
		if (!tl.pts[i].peak && tl.pts[i].rss_kb > max)
			max = tl.pts[i].rss_kb;
	assert_int_equal(max, 99999 * 4);
	/* each kept process point belongs to a kept sample */
	for (size_t i = 0, k = 0; i < tl.npp; i++) {
		while (k < tl.npts && (tl.pts[k].ns != tl.pp[i].ns || tl.pts[k].peak))
			k++;
		assert_true(k < tl.npts);
	}
	timeline_free(&tl);
}

static void svg_is_escaped_and_marked(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct timeline tl;
	struct mm_state live = { .tgid = 9, .comm = "a<b\xff" };
	struct tree_state t = tree_at(256, 0, 300, T0 + 5 * MS);

	assert_int_equal(timeline_init(&tl, NULL, true, T0, 4, 0.1, 20), 0);
	live.cur[RSS_ANON] = 256;
	timeline_sample(&tl, &t, &live, 1, T0 + 10 * MS);
	timeline_sample(&tl, &t, &live, 1, T0 + 110 * MS);
	assert_int_equal(svg_chart_write(f, &tl, "job & \"co\" <x>"), 0);
	fclose(f);
	assert_non_null(strstr(buf, "<title>job &amp; &quot;co&quot; &lt;x&gt;</title>"));
	assert_non_null(strstr(buf, "id=\"peak-marker\""));
	assert_non_null(strstr(buf, "peak 1.17M at 0.005 s"));
	assert_non_null(strstr(buf, "9 a&lt;b\xef\xbf\xbd, max 1.00M")); /* invalid UTF-8 replaced */
	assert_null(strstr(buf, "\xff"));
	free(buf);
	timeline_free(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(csv_quoting),
		cmocka_unit_test(peak_between_samples),
		cmocka_unit_test(thinning_keeps_the_maximum),
		cmocka_unit_test(svg_is_escaped_and_marked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
