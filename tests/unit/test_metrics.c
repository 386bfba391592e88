// SPDX-License-Identifier: GPL-2.0
/* Unit tests: the exposition text of `rsstrace serve` (src/serve/metrics.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "serve/metrics.h"

static struct metrics_cgroup cgs[3];
#define POD_CG "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b4e28ba_2fa1_11d2_883f_0016d3cca427.slice/" \
	       "cri-containerd-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope"
#define POD_LABELS "cgroup=\"" POD_CG "\",container_runtime=\"containerd\"," \
		   "container_id=\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"," \
		   "pod_uid=\"1b4e28ba-2fa1-11d2-883f-0016d3cca427\",qos_class=\"Burstable\""
static struct metrics_process procs[2];
static struct metrics_hook hooks[1] = { { "fault", "tp_btf/page_fault_user" } };

static struct metrics_snapshot snapshot(void)
{
	struct metrics_snapshot s = { .version = "0.1" };

	memset(cgs, 0, sizeof(cgs));
	cgs[0].path = "/";
	cgs[0].bytes[RSS_ANON] = 4096;
	cgs[0].bytes[RSS_FILE] = 8192;
	cgs[0].bytes[RSS_SHMEM] = 0;
	cgs[0].bytes[RSS_SWAP] = 12288;
	cgs[0].peak_bytes = 1 << 20;
	cgs[0].processes = 3;
	cgs[0].causes[MC_FAULTS] = 77;
	cgs[0].causes[MC_SWAPIN_FAULTS] = 5;
	cgs[1].path = "/odd \"name\"\\with\nnewline\xc3";
	cgs[2].path = POD_CG;
	cgs[2].bytes[RSS_ANON] = 8192;
	procs[0] = (struct metrics_process){ .pid = 42, .cgroup = "/", .rss_bytes = 4096, .peak_bytes = 8192 };
	memcpy(procs[0].comm, "sixteen_chars_xx", 16); /* no NUL, as the kernel gives it */
	s.cgroups = cgs;
	procs[1] = (struct metrics_process){ .pid = 43, .cgroup = POD_CG, .rss_bytes = 8192, .peak_bytes = 8192 };
	memcpy(procs[1].comm, "app", 4);
	s.ncgroups = 3;
	s.procs = procs;
	s.nprocs = 2;
	s.hooks = hooks;
	s.nhooks = 1;
	s.cause_available[MC_FORK_BYTES] = s.cause_available[MC_FAULTS] = true;
	s.events = 123;
	s.lost[ML_RINGBUF] = 2;
	s.inexact[MI_UNSETTLED] = 3;
	s.window_seconds = 15.5;
	return s;
}

static char *render(enum metrics_format f)
{
	struct metrics_snapshot s = snapshot();
	char *text;
	size_t len;

	assert_int_equal(metrics_render(&s, f, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	return text;
}

static void values_in_base_units_with_labels(void **state)
{
	char *t = render(MF_PROMETHEUS);

	assert_non_null(strstr(t, "rsstrace_cgroup_rss_bytes{cgroup=\"/\",type=\"anon\"} 4096\n"));
	assert_non_null(strstr(t, "rsstrace_cgroup_rss_bytes{cgroup=\"/\",type=\"file\"} 8192\n"));
	assert_non_null(strstr(t, "rsstrace_cgroup_swap_bytes{cgroup=\"/\"} 12288\n"));
	assert_non_null(strstr(t, "rsstrace_cgroup_rss_peak_bytes{cgroup=\"/\"} 1048576\n"));
	assert_non_null(strstr(t, "rsstrace_cgroup_page_faults_total{cgroup=\"/\"} 77\n"));
	assert_non_null(strstr(t, "rsstrace_process_rss_bytes{pid=\"42\",comm=\"sixteen_chars_xx\",cgroup=\"/\"} 4096\n"));
	assert_non_null(strstr(t, "rsstrace_hook_info{hook=\"fault\",attach=\"tp_btf/page_fault_user\"} 1\n"));
	assert_non_null(strstr(t, "rsstrace_lost_events_total{reason=\"ringbuf_full\"} 2\n"));
	assert_non_null(strstr(t, "rsstrace_inexact_reads_total{reason=\"approximate\"} 0\n"));
	assert_non_null(strstr(t, "rsstrace_inexact_reads_total{reason=\"unsettled_sum\"} 3\n"));
	assert_non_null(strstr(t, "rsstrace_peak_window_seconds 15.500000\n"));
	free(t);
}

static void container_and_pod_labels_from_the_path(void **state)
{
	char *t = render(MF_OPENMETRICS);

	assert_non_null(strstr(t, "rsstrace_cgroup_rss_bytes{" POD_LABELS ",type=\"anon\"} 8192\n"));
	assert_non_null(strstr(t, "rsstrace_cgroup_processes{" POD_LABELS "} 0\n"));
	assert_non_null(strstr(t, "rsstrace_process_rss_bytes{pid=\"43\",comm=\"app\"," POD_LABELS "} 8192\n"));
	/* a path that names no container gets no empty labels */
	assert_non_null(strstr(t, "rsstrace_cgroup_processes{cgroup=\"/\"} 3\n"));
	free(t);
}

static void unavailable_causes_are_absent_not_zero(void **state)
{
	char *t = render(MF_PROMETHEUS);

	/* the swap-in hook is not available: no family, even though a value is set */
	assert_null(strstr(t, "swapin_faults"));
	assert_null(strstr(t, "cow_faults"));
	assert_non_null(strstr(t, "# TYPE rsstrace_cgroup_fork_inherited_bytes_total counter\n"));
	free(t);
}

static void label_values_are_escaped_and_ascii(void **state)
{
	char *t = render(MF_OPENMETRICS);

	assert_non_null(strstr(t, "{cgroup=\"/odd \\\"name\\\"\\\\with\\nnewline?\""));
	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		assert_true(*p == '\n' || (*p >= 0x20 && *p < 0x7f));
	free(t);
}

/* Every family has HELP then TYPE before its samples, and each sample's name
 * belongs to the family declared last. */
static void check_structure(const char *t, enum metrics_format f)
{
	char family[128] = "", type[32] = "";
	const char *line = t;

	while (*line) {
		const char *nl = strchr(line, '\n');
		char buf[512];
		size_t n;

		assert_non_null(nl);
		n = (size_t)(nl - line);
		assert_true(n < sizeof(buf));
		memcpy(buf, line, n);
		buf[n] = 0;
		if (!strncmp(buf, "# HELP ", 7)) {
			sscanf(buf + 7, "%127s", family);
			type[0] = 0;
		} else if (!strncmp(buf, "# TYPE ", 7)) {
			char name[128];

			assert_int_equal(sscanf(buf + 7, "%127s %31s", name, type), 2);
			assert_string_equal(name, family);
			if (!strcmp(type, "counter"))
				assert_int_equal(!!strstr(name, "_total"), f == MF_PROMETHEUS);
		} else if (!strncmp(buf, "# UNIT ", 7)) {
			assert_int_equal(f, MF_OPENMETRICS);
			assert_non_null(strstr(buf + 7, family));
		} else if (!strcmp(buf, "# EOF")) {
			assert_int_equal(f, MF_OPENMETRICS);
			assert_int_equal(nl[1], 0); /* last */
		} else {
			size_t fl = strlen(family);

			assert_true(type[0]);
			assert_int_equal(strncmp(buf, family, fl), 0);
			assert_true(buf[fl] == '{' || buf[fl] == ' ' || !strncmp(buf + fl, "_total", 6));
		}
		line = nl + 1;
	}
}

static void both_formats_are_well_formed(void **state)
{
	char *p = render(MF_PROMETHEUS), *o = render(MF_OPENMETRICS);

	check_structure(p, MF_PROMETHEUS);
	check_structure(o, MF_OPENMETRICS);
	assert_null(strstr(p, "# EOF"));
	assert_non_null(strstr(o, "# TYPE rsstrace_events counter\nrsstrace_events_total 123\n"));
	assert_non_null(strstr(o, "# UNIT rsstrace_cgroup_rss_bytes bytes\n"));
	free(p);
	free(o);
}

static void negotiation_follows_accept(void **state)
{
	assert_int_equal(metrics_negotiate(NULL), MF_PROMETHEUS);
	assert_int_equal(metrics_negotiate("*/*"), MF_PROMETHEUS);
	assert_int_equal(metrics_negotiate("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
			 MF_OPENMETRICS);
	assert_non_null(strstr(metrics_content_type(MF_PROMETHEUS), "version=0.0.4"));
	assert_non_null(strstr(metrics_content_type(MF_OPENMETRICS), "openmetrics-text"));
}

static void empty_snapshot_still_declares_families(void **state)
{
	struct metrics_snapshot s = { .version = "x" };
	char *t;
	size_t len;

	assert_int_equal(metrics_render(&s, MF_OPENMETRICS, &t, &len), 0);
	assert_non_null(strstr(t, "# TYPE rsstrace_cgroup_rss_bytes gauge\n"));
	assert_null(strstr(t, "fork_inherited")); /* not declared available */
	check_structure(t, MF_OPENMETRICS);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values_in_base_units_with_labels),
		cmocka_unit_test(container_and_pod_labels_from_the_path),
		cmocka_unit_test(unavailable_causes_are_absent_not_zero),
		cmocka_unit_test(label_values_are_escaped_and_ascii),
		cmocka_unit_test(both_formats_are_well_formed),
		cmocka_unit_test(negotiation_follows_accept),
		cmocka_unit_test(empty_snapshot_still_declares_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
