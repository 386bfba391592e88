// SPDX-License-Identifier: GPL-2.0
#include "top/batch.h"

#include "core/json_writer.h"
#include "core/text_escape.h"
#include "core/units.h"
#include "output/container_json.h"

void top_print_text(FILE *out, const struct top_view *v)
{
	const struct top_frame *f = v->f;
	const struct meminfo *m = &v->mem;
	char c[8][24], name[TEXT_ESC_LEN(RSS_COMM_LEN)], user[TEXT_ESC_LEN(sizeof(f->rows->user))];
	char cg[TOP_CGROUP_CELL_LEN];

	fprintf(out, "rsstrace top: %.1f s, %u address spaces, %llu events/s, lost %llu\n",
		(f->at_ns - v->t0) / 1e9, f->nrows, (unsigned long long)f->events_per_s,
		(unsigned long long)v->lost);
	fprintf(out, "Mem: total %s avail %s  Swap: total %s free %s\n", fmt_kb(m->total, c[0], 16),
		fmt_kb(m->avail, c[1], 16), fmt_kb(m->swap_total, c[2], 16), fmt_kb(m->swap_free, c[3], 16));
	fprintf(out, "RSS: anon %s file %s shmem %s  swap %s\n", fmt_kb(f->total_kb[RSS_ANON], c[0], 16),
		fmt_kb(f->total_kb[RSS_FILE], c[1], 16), fmt_kb(f->total_kb[RSS_SHMEM], c[2], 16),
		fmt_kb(f->total_kb[RSS_SWAP], c[3], 16));
	fprintf(out, "%7s %-8s %-15s %6s %6s %6s %6s %6s %6s %7s %6s %s\n", "PID", "USER", "COMMAND", "RSS",
		"ANON", "FILE", "SHMEM", "SWAP", "HWM", "GROW", "FLT/s", "CGROUP");
	for (uint32_t i = 0; i < f->nrows; i++) {
		const struct top_row *r = &f->rows[i];
		/* the command, indented by depth and marked '*' if exited, in 15 columns */
		int width = 15 - (r->exited ? 1 : 0) - (r->depth < 8 ? r->depth : 8);

		top_growth_cell(r->growth_kb, c[6], 24);
		top_faults_cell(r, c[7], 24);
		/* names escaped (core/text_escape.h), cut and padded to their columns */
		fprintf(out, "%7u %s %*s%s%s %6s %6s %6s %6s %6s %6s %7s %6s %s\n", r->st.tgid,
			text_cell(user, sizeof(user), r->user, sizeof(r->user), 8), r->depth, "",
			text_cell(name, sizeof(name), r->st.comm, RSS_COMM_LEN, width), r->exited ? "*" : "",
			fmt_kb(r->rss_kb, c[0], 16), fmt_kb(r->anon_kb, c[1], 16), fmt_kb(r->file_kb, c[2], 16),
			fmt_kb(r->shmem_kb, c[3], 16), fmt_kb(r->swap_kb, c[4], 16), fmt_kb(r->hwm_kb, c[5], 16),
			c[6], c[7], (top_cgroup_cell(r, cg, sizeof(cg), SIZE_MAX), cg));
	}
	fprintf(out, "Recent peaks (last 60 s, * = exited):");
	for (int i = 0; i < f->npeaks; i++)
		fprintf(out, " %u %s%s %s;", f->peaks[i].pid,
			text_escape(name, sizeof(name), f->peaks[i].comm, RSS_COMM_LEN),
			f->peaks[i].exited ? "*" : "", fmt_kb(f->peaks[i].peak_kb, c[0], 16));
	fprintf(out, "\n");
	if (v->nooms) {
		char line[256];

		oom_print_short(line, sizeof(line), v->oom, f->at_ns, v->page_kb);
		fprintf(out, "%s (%llu in all)\n", line, (unsigned long long)v->nooms);
	}
	fprintf(out, "\n");
}

static int64_t ms_since(uint64_t t0, uint64_t ns)
{
	return ns > t0 ? (int64_t)((ns - t0) / 1000000) : 0;
}

void top_print_json(FILE *out, const struct top_view *v)
{
	const struct top_frame *f = v->f;
	struct json_obj j;

	/* one line: a flat header object, then one line per process and per peak */
	json_begin(&j, out);
	json_str(&j, "type", "frame");
	json_int(&j, "at_ms", ms_since(v->t0, f->at_ns));
	json_int(&j, "mem_total_kb", v->mem.total);
	json_int(&j, "mem_available_kb", v->mem.avail);
	json_int(&j, "swap_total_kb", v->mem.swap_total);
	json_int(&j, "swap_free_kb", v->mem.swap_free);
	json_uint(&j, "rss_anon_kb", f->total_kb[RSS_ANON]);
	json_uint(&j, "rss_file_kb", f->total_kb[RSS_FILE]);
	json_uint(&j, "rss_shmem_kb", f->total_kb[RSS_SHMEM]);
	json_uint(&j, "vm_swap_kb", f->total_kb[RSS_SWAP]);
	json_uint(&j, "events_per_s", f->events_per_s);
	json_uint(&j, "lost_events", v->lost);
	json_uint(&j, "processes", f->nrows);
	json_end(&j);
	for (uint32_t i = 0; i < f->nrows; i++) {
		const struct top_row *r = &f->rows[i];

		json_begin(&j, out);
		json_str(&j, "type", "process");
		json_int(&j, "at_ms", ms_since(v->t0, f->at_ns));
		json_uint(&j, "pid", r->st.tgid);
		json_uint(&j, "ppid", r->st.ppid);
		json_strn(&j, "comm", r->st.comm, sizeof(r->st.comm));
		json_str(&j, "user", r->user);
		json_uint(&j, "vm_rss_kb", r->rss_kb);
		json_uint(&j, "rss_anon_kb", r->anon_kb);
		json_uint(&j, "rss_file_kb", r->file_kb);
		json_uint(&j, "rss_shmem_kb", r->shmem_kb);
		json_uint(&j, "vm_swap_kb", r->swap_kb);
		json_uint(&j, "vm_hwm_kb", r->hwm_kb);
		json_int(&j, "growth_kb", r->growth_kb);
		if (r->faults_per_s < 0)
			json_null(&j, "faults_per_s");
		else
			json_int(&j, "faults_per_s", (int64_t)r->faults_per_s);
		json_str(&j, "cgroup", top_row_cgroup(r));
		if (r->cg)
			container_print_json(&j, &r->cg->container);
		json_bool(&j, "exited", r->exited);
		json_end(&j);
	}
	for (int i = 0; i < f->npeaks; i++) {
		json_begin(&j, out);
		json_str(&j, "type", "recent_peak");
		json_uint(&j, "pid", f->peaks[i].pid);
		json_strn(&j, "comm", f->peaks[i].comm, sizeof(f->peaks[i].comm));
		json_uint(&j, "peak_kb", f->peaks[i].peak_kb);
		json_int(&j, "at_ms", ms_since(v->t0, f->peaks[i].at_ns));
		json_bool(&j, "exited", f->peaks[i].exited);
		json_end(&j);
	}
	/* the latest kill (if several came between two frames, the others are counted) */
	if (v->oom_is_new)
		oom_print_json(out, v->oom, v->t0, v->page_kb);
}
