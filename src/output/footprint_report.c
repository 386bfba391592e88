// SPDX-License-Identifier: GPL-2.0
#include "output/footprint_report.h"

#include "core/json_writer.h"
#include "trace/sharing.h"
#include "core/units.h"
#include "core/text_escape.h"
#include "rss_math.h"

static uint64_t total(const __s64 *v)
{
	return rss_clamp(v[FP_ANON]) + rss_clamp(v[FP_FILE]) + rss_clamp(v[FP_SHMEM]);
}

static double secs(uint64_t ns, uint64_t t0)
{
	return ns > t0 ? (ns - t0) / 1e9 : 0.0;
}

void footprint_print_text(FILE *out, const struct fp_result *r, const struct fp_report_ctx *c)
{
	uint64_t kb = c->page_kb;
	char a[16], b[16], d[16], e[16];
	uint64_t shown = c->rows && c->rows < r->nowners ? c->rows : r->nowners;

	fprintf(out, "\nFootprint: each page once, charged to the process that mapped it first\n");
	fprintf(out, "  peak %s at %.3f s: anon %s, file %s, shmem %s\n", fmt_kb(rss_clamp(r->peak.peak) * kb, a, 16),
		secs(r->peak.ns, c->t0_ns), fmt_kb(rss_clamp(r->peak.part[FP_ANON]) * kb, b, 16),
		fmt_kb(rss_clamp(r->peak.part[FP_FILE]) * kb, d, 16), fmt_kb(rss_clamp(r->peak.part[FP_SHMEM]) * kb, e, 16));
	fprintf(out, "  at the end %s: anon %s, file %s, shmem %s\n", fmt_kb(total(r->cur) * kb, a, 16),
		fmt_kb(rss_clamp(r->cur[FP_ANON]) * kb, b, 16), fmt_kb(rss_clamp(r->cur[FP_FILE]) * kb, d, 16),
		fmt_kb(rss_clamp(r->cur[FP_SHMEM]) * kb, e, 16));
	fprintf(out, "  sum of RSS: peak %s, at the end %s (shared pages in every process)\n",
		fmt_kb(c->tree_peak_rss_kb, a, 16), fmt_kb(c->tree_rss_kb, b, 16));
	fprintf(out, "%7s %-12s %9s %9s %8s %8s %8s\n", "PID", "COMMAND", "FIRST-NOW", "FIRST-PK", "ANON",
		"FILE", "SHMEM");
	for (uint64_t i = 0; i < shown; i++) {
		const struct fp_owner *o = &r->owners[i];
		char v[5][16], name[TEXT_ESC_LEN(RSS_COMM_LEN)];

		fprintf(out, "%7u %s %9s %9s %8s %8s %8s\n", o->tgid,
			text_cell(name, sizeof(name), o->comm, sizeof(o->comm), 12),
			fmt_kb(total(o->cur) * kb, v[0], 16), fmt_kb(rss_clamp(o->peak) * kb, v[1], 16),
			fmt_kb(rss_clamp(o->cur[FP_ANON]) * kb, v[2], 16), fmt_kb(rss_clamp(o->cur[FP_FILE]) * kb, v[3], 16),
			fmt_kb(rss_clamp(o->cur[FP_SHMEM]) * kb, v[4], 16));
	}
	if (shown < r->nowners)
		fprintf(out, "... %u more processes (--rows 0 shows all)\n", r->nowners - (uint32_t)shown);
	fprintf(out, "FIRST-NOW: pages it mapped first, still mapped by some traced process;\n"
		     "FIRST-PK: its peak. Pages mapped first by untraced processes are not counted.\n");
	if (r->loss.pages_full)
		fprintf(out, "WARNING: %llu pages not counted: the per-page map (%llu) was full "
			     "(see --footprint-pages)\n",
			(unsigned long long)r->loss.pages_full, (unsigned long long)r->max_pages);
	if (r->loss.owners_full)
		fprintf(out, "WARNING: %llu processes' pages counted in the tree only (owner map full, "
			     "see --max-procs)\n", (unsigned long long)r->loss.owners_full);
}

void footprint_print_json(FILE *out, const struct fp_result *r, const struct fp_report_ctx *c)
{
	uint64_t kb = c->page_kb;
	struct json_obj j;

	json_begin(&j, out);
	json_str(&j, "type", "footprint");
	json_str(&j, "method", "rmap first-toucher");
	json_uint(&j, "peak_kb", rss_clamp(r->peak.peak) * kb);
	json_int(&j, "peak_at_ms", (int64_t)(secs(r->peak.ns, c->t0_ns) * 1000));
	json_uint(&j, "peak_anon_kb", rss_clamp(r->peak.part[FP_ANON]) * kb);
	json_uint(&j, "peak_file_kb", rss_clamp(r->peak.part[FP_FILE]) * kb);
	json_uint(&j, "peak_shmem_kb", rss_clamp(r->peak.part[FP_SHMEM]) * kb);
	json_uint(&j, "footprint_kb", total(r->cur) * kb);
	json_uint(&j, "anon_kb", rss_clamp(r->cur[FP_ANON]) * kb);
	json_uint(&j, "file_kb", rss_clamp(r->cur[FP_FILE]) * kb);
	json_uint(&j, "shmem_kb", rss_clamp(r->cur[FP_SHMEM]) * kb);
	json_uint(&j, "tree_peak_rss_kb", c->tree_peak_rss_kb);
	json_uint(&j, "tree_rss_kb", c->tree_rss_kb);
	json_uint(&j, "max_pages", r->max_pages);
	json_uint(&j, "pages_not_counted", r->loss.pages_full);
	json_uint(&j, "processes_not_itemized", r->loss.owners_full);
	json_end(&j);
	for (uint32_t i = 0; i < r->nowners; i++) {
		const struct fp_owner *o = &r->owners[i];

		json_begin(&j, out);
		json_str(&j, "type", "footprint_process");
		json_uint(&j, "pid", o->tgid);
		json_strn(&j, "comm", o->comm, sizeof(o->comm));
		json_uint(&j, "first_touched_kb", total(o->cur) * kb);
		json_uint(&j, "anon_kb", rss_clamp(o->cur[FP_ANON]) * kb);
		json_uint(&j, "file_kb", rss_clamp(o->cur[FP_FILE]) * kb);
		json_uint(&j, "shmem_kb", rss_clamp(o->cur[FP_SHMEM]) * kb);
		json_uint(&j, "peak_kb", rss_clamp(o->peak) * kb);
		json_int(&j, "peak_at_ms", (int64_t)(secs(o->peak_ns, c->t0_ns) * 1000));
		json_end(&j);
	}
}

#define PSS_METHOD "pss (smaps_rollup) fallback"

static void pss_sample_text(FILE *out, const char *when, const struct sharing_sample *m, uint64_t t0)
{
	char a[16], b[16], d[16], e[16];

	if (!m->ns || !m->nprocs) {
		fprintf(out, "  %s: no reading (nothing traced was alive)\n", when);
		return;
	}
	fprintf(out, "  %s (%.3f s): %s: anon %s, file %s, shmem %s\n", when, secs(m->ns, t0),
		fmt_kb((uint64_t)m->total.pss, a, 16), fmt_kb((uint64_t)m->total.pss_anon, b, 16),
		fmt_kb((uint64_t)m->total.pss_file, d, 16), fmt_kb((uint64_t)m->total.pss_shmem, e, 16));
}

void footprint_print_pss_text(FILE *out, const struct sharing *sh, const char *why,
			      const struct fp_report_ctx *c)
{
	char a[16], b[16];

	fprintf(out, "\nFootprint: %s: sum of PSS of the live traced processes\n", PSS_METHOD);
	fprintf(out, "  (not first-toucher: %s)\n", why);
	if (!sh)
		return;
	pss_sample_text(out, "near the tree's peak", &sh->at_peak, c->t0_ns);
	pss_sample_text(out, "at the end", &sh->at_end, c->t0_ns);
	fprintf(out, "  sum of RSS: peak %s, at the end %s (shared pages in every process)\n",
		fmt_kb(c->tree_peak_rss_kb, a, 16), fmt_kb(c->tree_rss_kb, b, 16));
}

static void pss_sample_json(struct json_obj *j, const char *prefix, const struct sharing_sample *m,
			    uint64_t t0)
{
	static const char *const parts[] = { "", "_anon", "_file", "_shmem" };
	char key[48];

	for (int i = 0; i < 4; i++) {
		long long v = i == 0 ? m->total.pss : i == 1 ? m->total.pss_anon :
			      i == 2 ? m->total.pss_file : m->total.pss_shmem;

		snprintf(key, sizeof(key), "%s%s_kb", prefix, parts[i]);
		if (m->ns && m->nprocs)
			json_uint(j, key, v > 0 ? (uint64_t)v : 0);
		else
			json_null(j, key);
	}
	snprintf(key, sizeof(key), "%s_at_ms", prefix);
	if (m->ns && m->nprocs)
		json_int(j, key, (int64_t)(secs(m->ns, t0) * 1000));
	else
		json_null(j, key);
}

void footprint_print_pss_json(FILE *out, const struct sharing *sh, const char *why,
			      const struct fp_report_ctx *c)
{
	static const struct sharing_sample none;
	struct json_obj j;

	json_begin(&j, out);
	json_str(&j, "type", "footprint");
	json_str(&j, "method", PSS_METHOD);
	json_str(&j, "reason", why);
	/* "footprint" at the end, "peak" near the tree's peak, as for the rmap method */
	pss_sample_json(&j, "footprint", sh ? &sh->at_end : &none, c->t0_ns);
	pss_sample_json(&j, "peak", sh ? &sh->at_peak : &none, c->t0_ns);
	json_uint(&j, "tree_peak_rss_kb", c->tree_peak_rss_kb);
	json_uint(&j, "tree_rss_kb", c->tree_rss_kb);
	json_end(&j);
}
