// SPDX-License-Identifier: GPL-2.0
#include "output/cgroup_report.h"

#include "core/json_writer.h"
#include "core/units.h"
#include "core/text_escape.h"
#include "output/container_json.h"
#include "proc/container_cgroup.h"
#include "rss_math.h"

void cgroup_explain(const struct cg_sample *s, uint64_t page_kb, struct cg_diff *d)
{
	const struct cgroup_mem *m = &s->mem;
	int64_t tree_file = (int64_t)(rss_clamp(s->tree[RSS_FILE]) + rss_clamp(s->tree[RSS_SHMEM])) * page_kb;
	int64_t tree_anon = (int64_t)rss_clamp(s->tree[RSS_ANON]) * page_kb;

	d->file_kb = (int64_t)(m->file / 1024) - tree_file;
	/*
	 * The page cache nobody maps is the cgroup's own file - file_mapped, not
	 * file - the tree's RssFile: that RSS also holds pages charged to another
	 * cgroup (libraries a process in the parent read first: 10.1M in one
	 * PostgreSQL run), which subtracted there made the cache look smaller.
	 */
	d->unmapped_kb = (int64_t)(m->file / 1024) - (int64_t)(m->file_mapped / 1024);
	d->mapped_kb = tree_file - (int64_t)(m->file_mapped / 1024);
	d->anon_kb = tree_anon - (int64_t)(m->anon / 1024);
	d->kernel_kb = m->has_kernel ? (int64_t)(m->kernel / 1024) : -1;
	/* short enough for an 80-column line after "    mapped file +1.23M in RSS: " */
	d->why_file = d->unmapped_kb > 0 ? "page cache the cgroup counts but no process maps" : NULL;
	d->why_mapped = d->mapped_kb > 0 ? "shared, or charged to another cgroup" :
			d->mapped_kb < 0 ? "charged here, mapped by untraced processes" :
					   NULL;
	d->why_anon = d->anon_kb > 0 ? "shared (copy-on-write) pages: in every RSS, once in the cgroup" :
		      d->anon_kb < 0 ? "anon memory the traced processes do not map (others', swap cache)" :
				       NULL;
	d->why_kernel = d->kernel_kb > 0 ? "kernel memory (page tables, slab, sockets): never in RSS" : NULL;
}

static void print_sample_text(FILE *out, const struct cg_sample *s, const char *when, uint64_t t0_ns,
			      uint64_t page_kb)
{
	const struct cgroup_mem *m = &s->mem;
	char a[16], b[16], c[16], e[16], f[16];
	struct cg_diff d;

	if (!s->taken)
		return;
	fprintf(out, "  %s (%.3f s): ", when, s->ns > t0_ns ? (s->ns - t0_ns) / 1e9 : 0.0);
	if (s->read_failed) {
		fprintf(out, "its files could not be read (cgroup removed?)\n");
		return;
	}
	fprintf(out, "cgroup %s (anon %s file %s kernel %s), peak %s\n",
		fmt_kb(m->current / 1024, a, sizeof(a)), fmt_kb(m->anon / 1024, b, sizeof(b)),
		fmt_kb(m->file / 1024, c, sizeof(c)), m->has_kernel ? fmt_kb(m->kernel / 1024, e, sizeof(e)) : "n/a",
		m->has_peak ? fmt_kb(m->peak / 1024, f, sizeof(f)) : "n/a");
	fprintf(out, "    its %u traced: RSS %s (anon %s file %s shmem %s)", s->procs,
		fmt_kb((rss_pages(s->tree)) * page_kb, a, sizeof(a)),
		fmt_kb(rss_clamp(s->tree[RSS_ANON]) * page_kb, b, sizeof(b)),
		fmt_kb(rss_clamp(s->tree[RSS_FILE]) * page_kb, c, sizeof(c)),
		fmt_kb(rss_clamp(s->tree[RSS_SHMEM]) * page_kb, e, sizeof(e)));
	if (s->has_footprint)
		fprintf(out, ", footprint %s", fmt_kb(s->footprint_kb, f, sizeof(f)));
	fputc('\n', out);
	cgroup_explain(s, page_kb, &d);
	if (d.why_file)
		fprintf(out, "    file +%s: %s\n", fmt_kb((uint64_t)d.unmapped_kb, a, sizeof(a)), d.why_file);
	if (d.why_mapped)
		fprintf(out, "    mapped file %s%s in RSS: %s\n", d.mapped_kb > 0 ? "+" : "-",
			fmt_kb((uint64_t)(d.mapped_kb > 0 ? d.mapped_kb : -d.mapped_kb), a, sizeof(a)),
			d.why_mapped);
	if (d.why_anon)
		fprintf(out, "    anon %s%s in RSS: %s\n", d.anon_kb > 0 ? "+" : "-",
			fmt_kb((uint64_t)(d.anon_kb > 0 ? d.anon_kb : -d.anon_kb), a, sizeof(a)), d.why_anon);
	if (d.why_kernel)
		fprintf(out, "    kernel +%s: %s\n", fmt_kb((uint64_t)d.kernel_kb, a, sizeof(a)), d.why_kernel);
}

/* What the path says of a container and a pod, as `top` and serve's labels
 * say it (proc/container_cgroup.h); nothing if it says neither. */
static void print_container_text(FILE *out, const char *path)
{
	char what[CONTAINER_DESCRIBE_LEN];
	struct container_cgroup c;

	if (container_cgroup_parse(path, &c))
		fprintf(out, "  its path names: %s\n", container_cgroup_describe(&c, what, sizeof(what)));
}

void cgroup_print_text(FILE *out, const struct cgroup_watch *w, uint64_t t0_ns, uint64_t page_kb)
{
	if (!w->n) {
		fprintf(out, "Memory cgroups: none found for the traced processes\n");
		return;
	}
	for (int i = 0; i < w->n; i++) {
		const struct cg_watched *c = &w->cg[i];
		char path[TEXT_ESC_LEN(sizeof(c->path))];

		fprintf(out, "Memory cgroup %s (v%d%s), its own counters vs the traced processes in it:\n",
			text_escape(path, sizeof(path), c->path, sizeof(c->path)), c->v1 ? 1 : 2, c->path[1] ? "" : ", the root: the whole system");
		print_container_text(out, c->path);
		print_sample_text(out, &c->at_peak, "near the tree's peak", t0_ns, page_kb);
		print_sample_text(out, &c->at_end, "at the end", t0_ns, page_kb);
	}
	if (w->not_shown)
		fprintf(out, "... %llu traced processes in further cgroups not shown\n",
			(unsigned long long)w->not_shown);
}

static void json_maybe(struct json_obj *j, const char *key, bool have, uint64_t v)
{
	if (have)
		json_uint(j, key, v);
	else
		json_null(j, key);
}

static void print_sample_json(FILE *out, const struct cg_watched *c, const struct cg_sample *s,
			      const char *when, uint64_t t0_ns, uint64_t page_kb)
{
	const struct cgroup_mem *m = &s->mem;
	struct container_cgroup container;
	struct json_obj j;
	struct cg_diff d;

	if (!s->taken)
		return;
	cgroup_explain(s, page_kb, &d);
	container_cgroup_parse(c->path, &container);
	json_begin(&j, out);
	json_str(&j, "type", "cgroup");
	json_str(&j, "when", when);
	json_int(&j, "at_ms", s->ns > t0_ns ? (int64_t)((s->ns - t0_ns) / 1000000) : 0);
	json_str(&j, "path", c->path);
	container_print_json(&j, &container);
	json_int(&j, "version", c->v1 ? 1 : 2);
	json_bool(&j, "readable", !s->read_failed);
	json_maybe(&j, "current_kb", !s->read_failed, m->current / 1024);
	json_maybe(&j, "peak_kb", !s->read_failed && m->has_peak, m->peak / 1024);
	json_maybe(&j, "anon_kb", !s->read_failed, m->anon / 1024);
	json_maybe(&j, "file_kb", !s->read_failed, m->file / 1024);
	json_maybe(&j, "file_mapped_kb", !s->read_failed, m->file_mapped / 1024);
	json_maybe(&j, "shmem_kb", !s->read_failed, m->shmem / 1024);
	json_maybe(&j, "kernel_kb", !s->read_failed && m->has_kernel, m->kernel / 1024);
	json_uint(&j, "traced_processes", s->procs);
	json_uint(&j, "tree_rss_kb", (rss_pages(s->tree)) * page_kb);
	json_uint(&j, "tree_anon_kb", rss_clamp(s->tree[RSS_ANON]) * page_kb);
	json_uint(&j, "tree_file_kb", rss_clamp(s->tree[RSS_FILE]) * page_kb);
	json_uint(&j, "tree_shmem_kb", rss_clamp(s->tree[RSS_SHMEM]) * page_kb);
	json_maybe(&j, "tree_footprint_kb", s->has_footprint, s->footprint_kb);
	if (!s->read_failed) {
		json_int(&j, "file_minus_tree_kb", d.file_kb);
		json_int(&j, "unmapped_cache_kb", d.unmapped_kb);
		json_int(&j, "tree_file_minus_mapped_kb", d.mapped_kb);
		json_int(&j, "tree_anon_minus_cgroup_kb", d.anon_kb);
		if (d.why_file)
			json_str(&j, "why_file", d.why_file);
		if (d.why_mapped)
			json_str(&j, "why_mapped_file", d.why_mapped);
		if (d.why_anon)
			json_str(&j, "why_anon", d.why_anon);
		if (d.why_kernel)
			json_str(&j, "why_kernel", d.why_kernel);
	}
	json_end(&j);
}

void cgroup_print_json(FILE *out, const struct cgroup_watch *w, uint64_t t0_ns, uint64_t page_kb)
{
	for (int i = 0; i < w->n; i++) {
		print_sample_json(out, &w->cg[i], &w->cg[i].at_peak, "peak", t0_ns, page_kb);
		print_sample_json(out, &w->cg[i], &w->cg[i].at_end, "end", t0_ns, page_kb);
	}
}
