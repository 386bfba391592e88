// SPDX-License-Identifier: GPL-2.0
#include "output/oom_report.h"

#include <string.h>

#include "proc/cgroup_mem.h"
#include "core/json_writer.h"
#include "core/units.h"
#include "core/text_escape.h"
#include "rss_math.h"

static int64_t at_ms(uint64_t ns, uint64_t t0)
{
	return ns >= t0 ? (int64_t)((ns - t0) / 1000000) : 0;
}

void oom_print_json(FILE *out, const struct oom_note *n, uint64_t t0_ns, uint64_t page_kb)
{
	const struct oom_kill_record *r = &n->rec;
	struct json_obj j;
	static const struct {
		const char *key;
		int m;
	} parts[] = { { "anon", RSS_ANON }, { "file", RSS_FILE }, { "shmem", RSS_SHMEM }, { "swap", RSS_SWAP } };
	char key[48];

	json_begin(&j, out);
	json_str(&j, "type", "oom_kill");
	json_uint(&j, "pid", r->tgid);
	json_strn(&j, "comm", r->comm, sizeof(r->comm));
	json_int(&j, "at_ms", at_ms(r->ns, t0_ns));
	json_str(&j, "cgroup", n->cgroup);
	json_uint(&j, "cgroup_id", r->cgroup_id);
	if (r->oom_score_adj >= -1000)
		json_int(&j, "oom_score_adj", r->oom_score_adj);
	else
		json_null(&j, "oom_score_adj");
	/* rsstrace's own accounting of the victim */
	json_str(&j, "accounting", !r->has_acct ? "none" : n->acct_late ? "live row after the kill" : "at the kill");
	for (size_t i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "%s_kb", parts[i].key);
		if (r->has_acct)
			json_uint(&j, key, rss_clamp(r->acct[parts[i].m]) * page_kb);
		else
			json_null(&j, key);
	}
	if (r->has_acct) {
		json_uint(&j, "rss_kb", (rss_clamp(r->acct[RSS_ANON]) + rss_clamp(r->acct[RSS_FILE]) + rss_clamp(r->acct[RSS_SHMEM])) * page_kb);
		json_uint(&j, "peak_rss_kb", rss_clamp(r->acct_peak) * page_kb);
	} else {
		json_null(&j, "rss_kb");
		json_null(&j, "peak_rss_kb");
	}
	/* the kernel's own figures (what the tracepoint and the OOM report show) */
	for (size_t i = 0; i < 4; i++) {
		snprintf(key, sizeof(key), "kernel_%s_kb", parts[i].key);
		if (r->has_kernel)
			json_uint(&j, key, r->kernel[parts[i].m] * page_kb);
		else
			json_null(&j, key);
	}
	if (r->has_kernel)
		json_uint(&j, "kernel_total_vm_kb", r->kernel_total_vm * page_kb);
	else
		json_null(&j, "kernel_total_vm_kb");
	json_uint(&j, "tree_rss_kb", (rss_clamp(r->tree[RSS_ANON]) + rss_clamp(r->tree[RSS_FILE]) + rss_clamp(r->tree[RSS_SHMEM])) * page_kb);
	json_uint(&j, "tree_anon_kb", rss_clamp(r->tree[RSS_ANON]) * page_kb);
	json_uint(&j, "tree_file_kb", rss_clamp(r->tree[RSS_FILE]) * page_kb);
	json_uint(&j, "tree_shmem_kb", rss_clamp(r->tree[RSS_SHMEM]) * page_kb);
	json_uint(&j, "tree_swap_kb", rss_clamp(r->tree[RSS_SWAP]) * page_kb);
	json_end(&j);
}

void oom_print_text(FILE *out, const struct oom_note *n, uint64_t t0_ns, uint64_t page_kb)
{
	const struct oom_kill_record *r = &n->rec;
	char a[16], b[16], c[16], d[16], e[16];
	char name[TEXT_ESC_LEN(RSS_COMM_LEN)], cg[TEXT_ESC_LEN(sizeof(n->cgroup))];

	fprintf(out, "OOM kill at %.3f s: pid %u %s, memory cgroup %s", at_ms(r->ns, t0_ns) / 1e3,
		r->tgid, text_escape(name, sizeof(name), r->comm, RSS_COMM_LEN),
		n->cgroup[0] ? text_escape(cg, sizeof(cg), n->cgroup, sizeof(n->cgroup)) : "?");
	if (r->oom_score_adj >= -1000)
		fprintf(out, ", oom_score_adj %d", r->oom_score_adj);
	fputc('\n', out);
	if (r->has_acct)
		fprintf(out, "  traced%s: anon %s, file %s, shmem %s, swap %s (its peak RSS %s)\n",
			n->acct_late ? " (after the kill)" : "",
			fmt_kb(rss_clamp(r->acct[RSS_ANON]) * page_kb, a, sizeof(a)),
			fmt_kb(rss_clamp(r->acct[RSS_FILE]) * page_kb, b, sizeof(b)),
			fmt_kb(rss_clamp(r->acct[RSS_SHMEM]) * page_kb, c, sizeof(c)),
			fmt_kb(rss_clamp(r->acct[RSS_SWAP]) * page_kb, d, sizeof(d)),
			fmt_kb(rss_clamp(r->acct_peak) * page_kb, e, sizeof(e)));
	if (r->has_kernel)
		fprintf(out, "  kernel: total-vm %s, anon-rss %s, file-rss %s, shmem-rss %s\n",
			fmt_kb(r->kernel_total_vm * page_kb, a, sizeof(a)),
			fmt_kb(r->kernel[RSS_ANON] * page_kb, b, sizeof(b)),
			fmt_kb(r->kernel[RSS_FILE] * page_kb, c, sizeof(c)),
			fmt_kb(r->kernel[RSS_SHMEM] * page_kb, d, sizeof(d)));
	fprintf(out, "  tree then: anon %s, file %s, shmem %s, swap %s\n",
		fmt_kb(rss_clamp(r->tree[RSS_ANON]) * page_kb, a, sizeof(a)),
		fmt_kb(rss_clamp(r->tree[RSS_FILE]) * page_kb, b, sizeof(b)),
		fmt_kb(rss_clamp(r->tree[RSS_SHMEM]) * page_kb, c, sizeof(c)),
		fmt_kb(rss_clamp(r->tree[RSS_SWAP]) * page_kb, d, sizeof(d)));
}

void oom_note_init(struct oom_note *n, const struct oom_kill_record *rec)
{
	memset(n, 0, sizeof(*n));
	n->rec = *rec;
	if (!rec->cgroup_id || cgroup_path_by_id(rec->cgroup_id, n->cgroup, sizeof(n->cgroup)))
		snprintf(n->cgroup, sizeof(n->cgroup), "%.*s", RSS_CGROUP_NAME_LEN, rec->cgroup);
}

void oom_print_short(char *buf, size_t len, const struct oom_note *n, uint64_t now_ns, uint64_t page_kb)
{
	const struct oom_kill_record *r = &n->rec;
	char a[16], b[16], name[TEXT_ESC_LEN(RSS_COMM_LEN)], cg[TEXT_ESC_LEN(sizeof(n->cgroup))];

	snprintf(buf, len, "OOM kill %.0f s ago: pid %u %s (cgroup %s) anon %s file %s",
		 now_ns > r->ns ? (now_ns - r->ns) / 1e9 : 0.0, r->tgid,
		 text_escape(name, sizeof(name), r->comm, RSS_COMM_LEN),
		 text_escape(cg, sizeof(cg), n->cgroup, sizeof(n->cgroup)),
		 fmt_kb(rss_clamp(r->has_acct ? r->acct[RSS_ANON] : (int64_t)r->kernel[RSS_ANON]) * page_kb, a, sizeof(a)),
		 fmt_kb(rss_clamp(r->has_acct ? r->acct[RSS_FILE] : (int64_t)r->kernel[RSS_FILE]) * page_kb, b, sizeof(b)));
}
