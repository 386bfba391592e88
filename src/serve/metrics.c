// SPDX-License-Identifier: GPL-2.0
#include "serve/metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc/container_cgroup.h"

enum metrics_format metrics_negotiate(const char *accept)
{
	return accept && strstr(accept, "application/openmetrics-text") ? MF_OPENMETRICS : MF_PROMETHEUS;
}

const char *metrics_content_type(enum metrics_format f)
{
	return f == MF_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8" :
				     "text/plain; version=0.0.4; charset=utf-8";
}

struct out {
	FILE *f;
	enum metrics_format fmt;
	const struct container_cgroup *containers; /* one per snapshot cgroup, parsed once */
};

/*
 * A family's header. Counters are named without "_total" in OpenMetrics'
 * TYPE line and with it in the Prometheus text format (the sample names are
 * the same in both). unit: OpenMetrics' UNIT line, the name's last word.
 */
static void family(struct out *o, const char *name, const char *type, const char *unit, const char *help)
{
	bool counter = !strcmp(type, "counter");
	const char *total = counter && o->fmt == MF_PROMETHEUS ? "_total" : "";

	fprintf(o->f, "# HELP %s%s %s\n", name, total, help);
	fprintf(o->f, "# TYPE %s%s %s\n", name, total, type);
	if (unit && o->fmt == MF_OPENMETRICS)
		fprintf(o->f, "# UNIT %s %s\n", name, unit);
}

/* A label value: \, " and newline escaped as both formats require; bytes
 * outside printable ASCII (a comm or path is not necessarily UTF-8) become '?'
 * so that every response is valid UTF-8. */
static void label(struct out *o, const char *key, const char *v, size_t max, bool first)
{
	fprintf(o->f, "%s%s=\"", first ? "" : ",", key);
	for (size_t i = 0; i < max && v[i]; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\\' || c == '"')
			fprintf(o->f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", o->f);
		else
			fputc(c >= 0x20 && c < 0x7f ? c : '?', o->f);
	}
	fputc('"', o->f);
}

/* The cgroup label, then what its path says of a container and a pod
 * (src/proc/container_cgroup.h). A label the path does not give is left
 * out, which Prometheus reads as empty. */
static void cgroup_labels(struct out *o, const char *path, const struct container_cgroup *c, bool first)
{
	label(o, "cgroup", path, SIZE_MAX, first);
	if (c->runtime)
		label(o, "container_runtime", c->runtime, SIZE_MAX, false);
	if (c->id[0])
		label(o, "container_id", c->id, SIZE_MAX, false);
	if (c->pod_uid[0])
		label(o, "pod_uid", c->pod_uid, SIZE_MAX, false);
	if (c->qos)
		label(o, "qos_class", c->qos, SIZE_MAX, false);
}

static void cg_sample(struct out *o, const char *name, const struct metrics_snapshot *s, uint32_t i,
		      const char *type, uint64_t v)
{
	fprintf(o->f, "%s{", name);
	cgroup_labels(o, s->cgroups[i].path, &o->containers[i], true);
	if (type)
		label(o, "type", type, SIZE_MAX, false);
	fprintf(o->f, "} %llu\n", (unsigned long long)v);
}

static void cgroup_families(struct out *o, const struct metrics_snapshot *s)
{
	static const struct {
		int member;
		const char *type;
	} rss[] = { { RSS_ANON, "anon" }, { RSS_FILE, "file" }, { RSS_SHMEM, "shmem" } };
	static const struct {
		const char *name, *unit, *help;
	} causes[MC_COUNT] = {
		[MC_FORK_BYTES] = { "rsstrace_cgroup_fork_inherited_bytes", "bytes",
				    "Resident and swapped memory new address spaces inherited at fork" },
		[MC_UNMAPPED_BYTES] = { "rsstrace_cgroup_unmapped_bytes", "bytes",
					"Resident memory that left address spaces before their teardown (munmap, MADV_DONTNEED, reclaim)" },
		[MC_SWAPOUT_BYTES] = { "rsstrace_cgroup_swapped_out_bytes", "bytes", "Memory swapped out" },
		[MC_FAULTS] = { "rsstrace_cgroup_page_faults", NULL, "User page faults" },
		[MC_COW_FAULTS] = { "rsstrace_cgroup_cow_faults", NULL, "Write-protect (copy-on-write) faults" },
		[MC_SWAPIN_FAULTS] = { "rsstrace_cgroup_swapin_faults", NULL, "Faults that read a page back from swap" },
	};
	char total[96];

	family(o, "rsstrace_cgroup_rss_bytes", "gauge", "bytes",
	       "Resident memory of the cgroup's processes by type (the sum of their VmRSS parts), exact");
	for (uint32_t i = 0; i < s->ncgroups; i++)
		for (size_t k = 0; k < sizeof(rss) / sizeof(rss[0]); k++)
			cg_sample(o, "rsstrace_cgroup_rss_bytes", s, i, rss[k].type,
				  s->cgroups[i].bytes[rss[k].member]);
	family(o, "rsstrace_cgroup_swap_bytes", "gauge", "bytes",
	       "Swapped-out memory of the cgroup's processes (VmSwap)");
	for (uint32_t i = 0; i < s->ncgroups; i++)
		cg_sample(o, "rsstrace_cgroup_swap_bytes", s, i, NULL, s->cgroups[i].bytes[RSS_SWAP]);
	family(o, "rsstrace_cgroup_rss_peak_bytes", "gauge", "bytes",
	       "Largest RSS of the cgroup since this scraper's previous scrape (same address and User-Agent), "
	       "from every RSS change");
	for (uint32_t i = 0; i < s->ncgroups; i++)
		cg_sample(o, "rsstrace_cgroup_rss_peak_bytes", s, i, NULL, s->cgroups[i].peak_bytes);
	family(o, "rsstrace_cgroup_processes", "gauge", NULL, "Address spaces (processes) accounted to the cgroup");
	for (uint32_t i = 0; i < s->ncgroups; i++)
		cg_sample(o, "rsstrace_cgroup_processes", s, i, NULL, s->cgroups[i].processes);
	if (s->footprint_on) {
		family(o, "rsstrace_cgroup_footprint_bytes", "gauge", "bytes",
		       "Sum of the PSS (smaps_rollup) of the cgroup's processes: the memory they really use, each "
		       "shared page counted once; read every --footprint-interval seconds, not at the scrape");
		for (uint32_t i = 0; i < s->ncgroups; i++)
			if (s->cgroups[i].has_footprint)
				cg_sample(o, "rsstrace_cgroup_footprint_bytes", s, i, NULL, s->cgroups[i].footprint_bytes);
	}
	for (int c = 0; c < MC_COUNT; c++) {
		if (!s->cause_available[c])
			continue; /* no hook: absent, not 0 (rsstrace_hook_info says why) */
		family(o, causes[c].name, "counter", causes[c].unit, causes[c].help);
		snprintf(total, sizeof(total), "%s_total", causes[c].name);
		for (uint32_t i = 0; i < s->ncgroups; i++)
			cg_sample(o, total, s, i, NULL, s->cgroups[i].causes[c]);
	}
}

static void proc_sample(struct out *o, const char *name, const struct metrics_process *p, uint64_t v)
{
	struct container_cgroup c;
	char pid[16];

	snprintf(pid, sizeof(pid), "%u", p->pid);
	container_cgroup_parse(p->cgroup, &c);
	fprintf(o->f, "%s{", name);
	label(o, "pid", pid, SIZE_MAX, true);
	label(o, "comm", p->comm, RSS_COMM_LEN, false);
	cgroup_labels(o, p->cgroup, &c, false);
	fprintf(o->f, "} %llu\n", (unsigned long long)v);
}

static void process_families(struct out *o, const struct metrics_snapshot *s)
{
	family(o, "rsstrace_process_rss_bytes", "gauge", "bytes",
	       "RSS of the processes with the largest RSS or peak (--top-processes; pids are unbounded)");
	for (uint32_t i = 0; i < s->nprocs; i++)
		proc_sample(o, "rsstrace_process_rss_bytes", &s->procs[i], s->procs[i].rss_bytes);
	family(o, "rsstrace_process_rss_peak_bytes", "gauge", "bytes",
	       "Largest RSS of the same processes since they started (VmHWM, or the exact peak if higher)");
	for (uint32_t i = 0; i < s->nprocs; i++)
		proc_sample(o, "rsstrace_process_rss_peak_bytes", &s->procs[i], s->procs[i].peak_bytes);
}

static void self_families(struct out *o, const struct metrics_snapshot *s)
{
	static const char *const loss[ML_COUNT] = { "ringbuf_full", "mms_map_full", "traced_map_full",
						    "cgroups_map_full" };
	static const char *const maps[MM_COUNT] = { "mms", "traced", "cgroups" };
	static const char *const inexact[MI_COUNT] = { "approximate", "unsettled_sum" };

	family(o, "rsstrace_build_info", "gauge", NULL, "rsstrace's version");
	fprintf(o->f, "rsstrace_build_info{");
	label(o, "version", s->version, SIZE_MAX, true);
	fprintf(o->f, "} 1\n");
	family(o, "rsstrace_hook_info", "gauge", NULL,
	       "Kernel attach point in use for each logical hook; a hook not listed is unavailable");
	for (uint32_t i = 0; i < s->nhooks; i++) {
		fprintf(o->f, "rsstrace_hook_info{");
		label(o, "hook", s->hooks[i].hook, SIZE_MAX, true);
		label(o, "attach", s->hooks[i].attach, SIZE_MAX, false);
		fprintf(o->f, "} 1\n");
	}
	family(o, "rsstrace_events", "counter", NULL, "RSS change events accounted");
	fprintf(o->f, "rsstrace_events_total %llu\n", (unsigned long long)s->events);
	family(o, "rsstrace_lost_events", "counter", NULL,
	       "Events or records the accounting could not keep, by reason; non-zero means numbers are incomplete");
	for (int i = 0; i < ML_COUNT; i++)
		fprintf(o->f, "rsstrace_lost_events_total{reason=\"%s\"} %llu\n", loss[i],
			(unsigned long long)s->lost[i]);
	family(o, "rsstrace_inexact_reads", "counter", NULL,
	       "Counter reads that may be inexact, by reason (rsstrace-serve(8)); 0 when every value was exact");
	for (int i = 0; i < MI_COUNT; i++)
		fprintf(o->f, "rsstrace_inexact_reads_total{reason=\"%s\"} %llu\n", inexact[i],
			(unsigned long long)s->inexact[i]);
	family(o, "rsstrace_bpf_map_entries", "gauge", NULL, "Entries in use in each BPF map");
	for (int i = 0; i < MM_COUNT; i++)
		fprintf(o->f, "rsstrace_bpf_map_entries{map=\"%s\"} %llu\n", maps[i],
			(unsigned long long)s->map_entries[i]);
	family(o, "rsstrace_bpf_map_max_entries", "gauge", NULL, "Capacity of each BPF map");
	for (int i = 0; i < MM_COUNT; i++)
		fprintf(o->f, "rsstrace_bpf_map_max_entries{map=\"%s\"} %llu\n", maps[i],
			(unsigned long long)s->map_capacity[i]);
	family(o, "rsstrace_address_spaces", "gauge", NULL, "Address spaces accounted now");
	fprintf(o->f, "rsstrace_address_spaces %llu\n", (unsigned long long)s->address_spaces);
	family(o, "rsstrace_peak_window_seconds", "gauge", "seconds",
	       "Time the peaks of this response cover (since this scraper's previous scrape)");
	fprintf(o->f, "rsstrace_peak_window_seconds %.6f\n", s->window_seconds);
	family(o, "rsstrace_scrapes", "counter", NULL, "Responses to /metrics, this one included");
	fprintf(o->f, "rsstrace_scrapes_total %llu\n", (unsigned long long)s->scrapes);
	if (!s->footprint_on)
		return;
	family(o, "rsstrace_footprint_pass_seconds", "gauge", "seconds",
	       "Time the latest footprint pass took to read every process's smaps_rollup");
	fprintf(o->f, "rsstrace_footprint_pass_seconds %.6f\n", s->footprint_pass_seconds);
	family(o, "rsstrace_footprint_age_seconds", "gauge", "seconds", "Time since the latest footprint pass ended");
	fprintf(o->f, "rsstrace_footprint_age_seconds %.6f\n", s->footprint_age_seconds);
	family(o, "rsstrace_footprint_unreadable_processes", "gauge", NULL,
	       "Processes the latest footprint pass could not read (gone since listed): not in the sums");
	fprintf(o->f, "rsstrace_footprint_unreadable_processes %llu\n", (unsigned long long)s->footprint_unreadable);
}

int metrics_render(const struct metrics_snapshot *s, enum metrics_format f, char **text, size_t *len)
{
	struct container_cgroup *containers = calloc(s->ncgroups ? s->ncgroups : 1, sizeof(*containers));
	struct out o = { .fmt = f, .containers = containers };

	*text = NULL;
	*len = 0;
	if (!containers)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->ncgroups; i++)
		container_cgroup_parse(s->cgroups[i].path, &containers[i]);
	o.f = open_memstream(text, len);
	if (!o.f) {
		free(containers);
		return -ENOMEM;
	}
	cgroup_families(&o, s);
	process_families(&o, s);
	self_families(&o, s);
	if (f == MF_OPENMETRICS)
		fputs("# EOF\n", o.f);
	free(containers);
	if (fclose(o.f) || !*text) { /* fclose flushes: ENOMEM shows here */
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}
