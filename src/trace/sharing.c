// SPDX-License-Identifier: GPL-2.0
#include "trace/sharing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_writer.h"
#include "proc/proc_status.h"
#include "core/units.h"
#include "core/text_escape.h"

bool sharing_due(const struct sharing *s, const struct tree_state *t, uint64_t now_ns)
{
	uint64_t since = now_ns - s->last_ns;

	if (t->peak > s->read_peak)
		return !s->readings || since >= SHARING_MIN_GAP_MS * 1000000ULL;
	return t->peak > 0 && t->rss * 100 >= t->peak * SHARING_NEAR_PEAK_PCT &&
	       since >= SHARING_REFRESH_MS * 1000000ULL;
}

/* The name now (a process may have renamed itself since its mm began). */
static void read_comm(uint32_t tgid, char *out, const char *fallback)
{
	char buf[RSS_COMM_LEN + 2];
	long n = read_proc_file((int)tgid, "comm", buf, sizeof(buf));

	if (n <= 0) {
		memcpy(out, fallback, RSS_COMM_LEN);
		return;
	}
	if (buf[n - 1] == '\n')
		buf[--n] = 0;
	memset(out, 0, RSS_COMM_LEN);
	memcpy(out, buf, n < RSS_COMM_LEN ? (size_t)n : RSS_COMM_LEN);
}

static int cmp_pss(const void *pa, const void *pb)
{
	const struct sharing_proc *a = pa, *b = pb;

	if (a->s.pss != b->s.pss)
		return a->s.pss < b->s.pss ? 1 : -1;
	return a->tgid < b->tgid ? -1 : a->tgid > b->tgid;
}

int sharing_read(struct sharing_sample *out, const struct mm_state *live, size_t n,
		 const struct tree_state *t, uint64_t page_kb, uint64_t now_ns)
{
	struct sharing_proc *procs = calloc(n ? n : 1, sizeof(*procs));
	size_t k = 0;

	if (!procs)
		return -ENOMEM;
	free(out->procs);
	memset(out, 0, sizeof(*out));
	out->procs = procs;
	out->ns = now_ns;
	out->tree_rss_kb = (uint64_t)t->rss * page_kb;
	out->tree_peak_kb = (uint64_t)t->peak * page_kb;
	out->peak_ns = t->peak_ns;
	for (size_t i = 0; i < n; i++) {
		struct sharing_proc *p = &procs[k];

		/* a process gone since the map was read has no rollup: counted */
		if (read_smaps_rollup((int)live[i].tgid, &p->s)) {
			out->unreadable++;
			continue;
		}
		p->tgid = live[i].tgid;
		read_comm(p->tgid, p->comm, live[i].comm);
		smaps_rollup_add(&out->total, &p->s);
		k++;
	}
	out->nprocs = k;
	if (k)
		qsort(procs, k, sizeof(*procs), cmp_pss);
	return 0;
}

static uint64_t distance(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

bool sharing_nearer(const struct sharing_sample *m, const struct sharing_sample *kept)
{
	/* m is the later reading: its peak is the tree's peak so far */
	uint64_t same = m->tree_peak_kb * SHARING_SAME_VALUE_PCT / 100;

	if (!kept->ns)
		return true;
	/* nearer in value: more of the tree was resident (a new peak can come
	 * from a few pages faulted in on the way out, when the processes are
	 * gone by the time they are read: such a reading loses here) */
	if (distance(m->tree_rss_kb, kept->tree_rss_kb) > same)
		return m->tree_rss_kb > kept->tree_rss_kb;
	/* as near in value: one that followed the peak over one taken before it
	 * (which cannot show what made the peak, e.g. the copy-on-write of a
	 * prefork's workers, done while no RSS counter moves), then the nearer
	 * in time */
	if ((m->ns >= m->peak_ns) != (kept->ns >= m->peak_ns))
		return m->ns >= m->peak_ns;
	return distance(m->ns, m->peak_ns) < distance(kept->ns, m->peak_ns);
}

int sharing_take(struct sharing *s, const struct mm_state *live, size_t n,
		    const struct tree_state *t, uint64_t page_kb, uint64_t now_ns)
{
	struct sharing_sample m = { 0 };
	int err;

	s->readings++;
	s->last_ns = now_ns;
	s->read_peak = t->peak;
	err = sharing_read(&m, live, n, t, page_kb, now_ns);
	if (err)
		return err;
	s->latest = m.total;
	if (sharing_nearer(&m, &s->at_peak)) {
		free(s->at_peak.procs);
		s->at_peak = m;
	} else {
		free(m.procs);
	}
	return 0;
}

void sharing_free(struct sharing *s)
{
	free(s->at_peak.procs);
	free(s->at_end.procs);
	memset(s, 0, sizeof(*s));
}

static double secs(uint64_t ns, uint64_t t0_ns)
{
	return ns > t0_ns ? (ns - t0_ns) / 1e9 : 0.0;
}

static void print_text(FILE *out, const char *when, const struct sharing_sample *m,
		       uint64_t t0_ns, uint64_t rows, const struct sharing_peak *peak, bool at_peak)
{
	const struct smaps_rollup *t = &m->total;
	char a[16], b[16], c[16], d[16];
	size_t shown = rows && rows < m->nprocs ? rows : m->nprocs;

	fprintf(out, "\nSharing %s (smaps_rollup of %zu live process%s at %.3f s):\n", when,
		m->nprocs, m->nprocs == 1 ? "" : "es", secs(m->ns, t0_ns));
	fprintf(out, "  sum of RSS %s, footprint (sum of PSS) %s, private (sum of USS) %s\n",
		fmt_kb(t->rss, a, 16), fmt_kb(t->pss, b, 16), fmt_kb(smaps_uss(t), c, 16));
	if (t->pss > 0)
		fprintf(out, "  the sum of RSS is %.2fx the footprint: shared pages count in every process\n",
			(double)t->rss / t->pss);
	/* the summary's peak, the same in every section */
	fprintf(out, "  tree RSS then %s; tree peak %s at %.3f s\n", fmt_kb(m->tree_rss_kb, a, 16),
		fmt_kb(peak->kb, b, 16), secs(peak->ns, t0_ns));
	if (at_peak && peak->kb * SHARING_NEAR_PEAK_PCT > m->tree_rss_kb * 100)
		fprintf(out, "  the reading saw less than %d%% of the peak: the processes were gone or\n"
			     "  shrinking before one could follow it (at most one per %d ms)\n",
			SHARING_NEAR_PEAK_PCT, SHARING_MIN_GAP_MS);
	if (m->unreadable)
		fprintf(out, "  %zu process%s exited while being read (not in the sums)\n",
			m->unreadable, m->unreadable == 1 ? "" : "es");
	if (!shown)
		return;
	fprintf(out, "%7s %-12s %7s %7s %7s %7s\n", "PID", "COMMAND", "RSS", "PSS", "USS", "SHARED");
	for (size_t i = 0; i < shown; i++) {
		const struct sharing_proc *p = &m->procs[i];

		char name[TEXT_ESC_LEN(RSS_COMM_LEN)];

		fprintf(out, "%7u %s %7s %7s %7s %7s\n", p->tgid,
			text_cell(name, sizeof(name), p->comm, RSS_COMM_LEN, 12),
			fmt_kb(p->s.rss, a, 16), fmt_kb(p->s.pss, b, 16), fmt_kb(smaps_uss(&p->s), c, 16),
			fmt_kb(smaps_shared(&p->s), d, 16));
	}
	if (shown < m->nprocs)
		fprintf(out, "... %zu more (--rows 0 shows all)\n", m->nprocs - shown);
}

static void rollup_json(struct json_obj *j, const struct smaps_rollup *s)
{
	json_int(j, "rss_kb", s->rss);
	json_int(j, "pss_kb", s->pss);
	json_int(j, "uss_kb", smaps_uss(s));
	json_int(j, "shared_kb", smaps_shared(s));
	json_int(j, "pss_anon_kb", s->pss_anon);
	json_int(j, "pss_file_kb", s->pss_file);
	json_int(j, "pss_shmem_kb", s->pss_shmem);
	json_int(j, "swap_kb", s->swap);
	json_int(j, "swap_pss_kb", s->swap_pss);
}

static int64_t ms(uint64_t ns, uint64_t t0_ns)
{
	return ((int64_t)ns - (int64_t)t0_ns) / 1000000;
}

static void print_json(FILE *out, const char *when, const struct sharing_sample *m, uint64_t t0_ns,
		       const struct sharing_peak *peak)
{
	struct json_obj j;

	for (size_t i = 0; i < m->nprocs; i++) {
		json_begin(&j, out);
		json_str(&j, "type", "sharing_process");
		json_str(&j, "at", when);
		json_uint(&j, "pid", m->procs[i].tgid);
		json_strn(&j, "comm", m->procs[i].comm, RSS_COMM_LEN);
		rollup_json(&j, &m->procs[i].s);
		json_end(&j);
	}
	json_begin(&j, out);
	json_str(&j, "type", "sharing");
	json_str(&j, "at", when);
	json_int(&j, "read_at_ms", ms(m->ns, t0_ns));
	json_uint(&j, "processes", m->nprocs);
	json_uint(&j, "unreadable", m->unreadable);
	rollup_json(&j, &m->total);
	json_int(&j, "footprint_kb", m->total.pss);
	json_uint(&j, "tree_rss_kb", m->tree_rss_kb);
	json_uint(&j, "tree_peak_kb", peak->kb);
	json_int(&j, "tree_peak_at_ms", ms(peak->ns, t0_ns));
	json_int(&j, "read_after_peak_ms", ms(m->ns, t0_ns) - ms(peak->ns, t0_ns)); /* < 0: before it */
	json_end(&j);
}

void sharing_print(FILE *out, bool json, const struct sharing *s, uint64_t t0_ns, uint64_t rows,
		   const struct sharing_peak *peak)
{
	const struct { const char *key, *text; const struct sharing_sample *m; } when[] = {
		{ "peak", "near the tree's peak", &s->at_peak },
		{ "end", "when tracing stopped", &s->at_end },
	};

	for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
		if (!when[i].m->ns)
			continue; /* no reading (nothing was alive) */
		if (json)
			print_json(out, when[i].key, when[i].m, t0_ns, peak);
		else
			print_text(out, when[i].text, when[i].m, t0_ns, rows, peak, i == 0);
	}
	if (!json && !s->at_peak.ns && !s->at_end.ns)
		fprintf(out, "\nSharing: no reading (no traced process was alive when one was due)\n");
}
