// SPDX-License-Identifier: GPL-2.0
/* Unit tests: rows, exit statuses, /proc semantics of VmHWM/VmPeak, summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "output/report.h"

#define NS 1000000ULL /* 1 ms */

static struct mm_state mk(uint32_t tgid, int64_t anon, int64_t file, uint64_t hiwater_rss)
{
	struct mm_state st = { .tgid = tgid, .exit_code = -1, .end_reason = END_EXIT };

	st.cur[RSS_ANON] = anon;
	st.cur[RSS_FILE] = file;
	st.hiwater_rss = hiwater_rss;
	st.peak_rss = anon + file;
	st.start_ns = 10 * NS;
	st.end_ns = 20 * NS;
	memcpy(st.comm, "proc", 5);
	return st;
}

static struct cause_avail avail;

static uint64_t keep;

static char *render(struct report *r, bool json, void (*fill)(struct report *), struct summary *s,
		    bool *over)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	report_init(r, f, json, 0, 4, &avail, keep);
	fill(r);
	*over = report_summary(r, s);
	fclose(f);
	report_free(r);
	return buf;
}

static char *json_of(void (*steps)(struct report *))
{
	static struct report r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	report_init(&r, f, true, 0, 4, NULL, 0);
	steps(&r);
	report_flush(&r, true);
	fclose(f);
	report_free(&r);
	return buf;
}

static void exit_after_row(struct report *r)
{
	struct mm_state st = mk(100, 10, 5, 0);

	report_add_row(r, &st);			/* status not known yet: held back */
	report_add_exit(r, 99, 0, 30 * NS);	/* another process */
	report_add_exit(r, 100, 9, 5 * NS);	/* before this mm began: an old pid */
	assert_int_equal(r->npending, 1);
	report_add_exit(r, 100, 3 << 8, 21 * NS);
	assert_int_equal(r->npending, 0);
}

static void exit_before_row(struct report *r)
{
	struct mm_state st = mk(200, 10, 5, 0);

	report_add_exit(r, 200, SIGKILL, 25 * NS);
	report_add_row(r, &st);
	assert_int_equal(r->npending, 0);
}

static void exit_never_seen(struct report *r)
{
	struct mm_state st = mk(300, 10, 5, 0);

	report_add_row(r, &st);
}

static void exit_status_joined_by_pid_and_time(void **state)
{
	char *out = json_of(exit_after_row);

	assert_non_null(strstr(out, "\"pid\":100,"));
	assert_non_null(strstr(out, "\"exit_code\":3,"));
	free(out);
	out = json_of(exit_before_row);
	assert_non_null(strstr(out, "\"exit_code\":137,\"exit_signal\":9"));
	free(out);
	out = json_of(exit_never_seen); /* printed at the end, without a status */
	assert_non_null(strstr(out, "\"pid\":300,"));
	assert_non_null(strstr(out, "\"exit_code\":null"));
	free(out);
}

static void shell_style_codes(void **state)
{
	assert_int_equal(status_to_code(0), 0);
	assert_int_equal(status_to_code(7 << 8), 7);
	assert_int_equal(status_to_code(SIGKILL), 128 + 9);
	assert_int_equal(status_to_code(SIGSEGV | 0x80), 128 + 11); /* core dumped */
}

static void fill_two(struct report *r)
{
	struct mm_state a = mk(1, 100, 20, 500); /* kernel hiwater above current */
	struct mm_state b = mk(2, 1000, 30, 0);	 /* never lowered: hiwater 0 */

	a.total_vm = 900;
	a.hiwater_vm = 2000;
	a.exit_code = 0;
	b.total_vm = 3000;
	b.hiwater_vm = 1000;
	b.exit_code = SIGKILL;
	report_add_row(r, &a);
	report_add_row(r, &b);
}

static void json_rows_follow_proc_semantics(void **state)
{
	struct summary s = { .target = "t", .cmd_status = -1, .end_ns = 50 * NS };
	struct report r;
	bool over;
	char *out;

	s.tree.peak = 1200;
	out = render(&r, true, fill_two, &s, &over);
	/* pid 1: VmHWM = max(hiwater_rss, rss) = 500 pages; VmPeak = max(hiwater_vm, total_vm) */
	assert_non_null(strstr(out, "\"pid\":1,"));
	assert_non_null(strstr(out, "\"vm_rss_kb\":480,\"rss_anon_kb\":400,\"rss_file_kb\":80"));
	assert_non_null(strstr(out, "\"vm_hwm_kb\":2000,\"vm_peak_kb\":8000,\"vm_size_kb\":3600"));
	/* pid 2: VmHWM = current rss when hiwater was never set */
	assert_non_null(strstr(out, "\"vm_hwm_kb\":4120,\"vm_peak_kb\":12000,\"vm_size_kb\":12000"));
	assert_non_null(strstr(out, "\"exit_code\":137,\"exit_signal\":9"));
	assert_non_null(strstr(out, "\"type\":\"summary\""));
	assert_non_null(strstr(out, "\"tree_peak_kb\":4800"));
	assert_non_null(strstr(out, "\"address_spaces\":2"));
	assert_false(over);
	free(out);
}

static void human_table_sorted_by_peak_and_budget(void **state)
{
	struct summary s = { .target = "t", .cmd_status = -1, .end_ns = 50 * NS, .max_rss_kb = 4000 };
	struct report r;
	bool over;
	char *out, *p1, *p2;

	s.tree.peak = 1200; /* 4800 kB > 4000 kB */
	out = render(&r, false, fill_two, &s, &over);
	assert_true(over);
	p1 = strstr(out, "\n      1 proc");
	p2 = strstr(out, "\n      2 proc");
	assert_non_null(p1);
	assert_non_null(p2);
	assert_true(p2 < p1); /* pid 2 (peak 4120 kB) before pid 1 (peak 2000 kB) */
	assert_non_null(strstr(out, "sig9"));
	assert_non_null(strstr(out, "EXCEEDED"));
	assert_non_null(strstr(out, "Events lost: 0"));
	free(out);
}

static void losses_are_never_silent(void **state)
{
	struct summary s = { .target = "t", .cmd_status = -1, .end_ns = 50 * NS };
	struct report r;
	bool over;
	char *out;

	s.loss.ringbuf_full = 3;
	s.loss.mms_full = 2;
	out = render(&r, false, fill_two, &s, &over);
	assert_non_null(strstr(out, "WARNING: data lost: 3 records"));
	assert_non_null(strstr(out, "2 processes not traced"));
	free(out);
	out = render(&r, true, fill_two, &s, &over);
	assert_non_null(strstr(out, "\"lost_events\":5"));
	free(out);
}

static void rows_limit_says_what_is_hidden(void **state)
{
	struct summary s = { .target = "t", .cmd_status = -1, .end_ns = 50 * NS };
	struct report r;
	bool over;
	char *out;

	keep = 1;
	out = render(&r, false, fill_two, &s, &over);
	keep = 0;
	assert_non_null(strstr(out, "1 more rows not shown"));
	/* the one kept is the largest, and totals still count both */
	assert_non_null(strstr(out, "\n      2 proc"));
	assert_null(strstr(out, "\n      1 proc"));
	assert_non_null(strstr(out, "2 address spaces"));
	free(out);
}

static void unavailable_causes_are_null_not_zero(void **state)
{
	struct summary s = { .target = "t", .cmd_status = -1, .end_ns = 50 * NS };
	struct report r;
	bool over;
	char *out;

	avail = (struct cause_avail){ .faults = true, .munmap_requests = true };
	out = render(&r, true, fill_two, &s, &over);
	assert_non_null(strstr(out, "\"faults\":0,"));
	assert_non_null(strstr(out, "\"wp_faults\":null"));
	assert_non_null(strstr(out, "\"rmap_removed_pages\":null"));
	assert_non_null(strstr(out, "\"vmas_removed\":null,\"unmapped_vma_bytes\":null,\"munmap_request_bytes\":0"));
	assert_non_null(strstr(out, "\"swapin_faults\":null"));
	assert_non_null(strstr(out, "\"fork_inherited_pages\":0"));
	free(out);
	avail = (struct cause_avail){ 0 };
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exit_status_joined_by_pid_and_time),
		cmocka_unit_test(shell_style_codes),
		cmocka_unit_test(json_rows_follow_proc_semantics),
		cmocka_unit_test(human_table_sorted_by_peak_and_budget),
		cmocka_unit_test(losses_are_never_silent),
		cmocka_unit_test(rows_limit_says_what_is_hidden),
		cmocka_unit_test(unavailable_causes_are_null_not_zero),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
