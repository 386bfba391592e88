// SPDX-License-Identifier: GPL-2.0
#include "output/report.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/array.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/text_escape.h"
#include "proc/proc_status.h"
#include "core/units.h"
#include "rss_math.h"

static const char *const end_names[] = { "exit", "exec", "detach" };

void report_init(struct report *r, FILE *out, bool json, uint64_t t0_ns, uint64_t page_kb,
		 const struct cause_avail *avail, uint64_t keep)
{
	memset(r, 0, sizeof(*r));
	if (avail)
		r->avail = *avail;
	r->out = out;
	r->json = json;
	r->t0_ns = t0_ns;
	r->page_kb = page_kb;
	r->keep = keep;
}

void report_free(struct report *r)
{
	free(r->rows);
	free(r->pending);
	free(r->windows);
	r->windows = NULL;
	r->nwindows = 0;
	r->rows = r->pending = NULL;
	r->nrows = r->npending = 0;
}

static uint64_t vm_hwm_pages(const struct mm_state *st);
static void print_row_json(struct report *r, const struct mm_state *st);

/* Text mode keeps only the rows the table will show (the largest VmHWM),
 * so memory does not grow with the number of processes traced. */
static void keep_row(struct report *r, const struct mm_state *st)
{
	size_t min = 0;

	if (!r->keep || r->nrows < r->keep) {
		if (!array_grow((void **)&r->rows, &r->rows_cap, r->nrows, sizeof(*r->rows))) {
			r->oom = true;
			return;
		}
		r->rows[r->nrows++] = *st;
		return;
	}
	for (size_t i = 1; i < r->nrows; i++)
		if (vm_hwm_pages(&r->rows[i]) < vm_hwm_pages(&r->rows[min]))
			min = i;
	if (vm_hwm_pages(st) > vm_hwm_pages(&r->rows[min]))
		r->rows[min] = *st;
}

/* Rows that grew while exiting are few (the kernel's exit path seldom
 * faults): each is kept, for the summary's check of the tree peak. */
static void note_exit_growth(struct report *r, const struct mm_state *st)
{
	if (!st->exit_growth)
		return;
	r->exit_growth_pages += st->exit_growth;
	r->exit_growers++;
	if (!array_grow((void **)&r->windows, &r->windows_cap, r->nwindows, sizeof(*r->windows))) {
		r->oom = true;
		return;
	}
	r->windows[r->nwindows++] = (struct exit_window){
		.tgid = st->tgid, .from_ns = st->exit_growth_ns, .to_ns = st->end_ns, .pages = st->exit_growth
	};
}

/* The process that was growing while it exited when the tree peaked (its
 * exit growth made the peak, or came before it in its exit), or NULL. */
static const struct exit_window *peak_in_exit(const struct report *r, uint64_t peak_ns)
{
	for (size_t i = 0; i < r->nwindows; i++)
		if (r->windows[i].from_ns <= peak_ns && peak_ns <= r->windows[i].to_ns)
			return &r->windows[i];
	return NULL;
}

/* A row is complete: count it, then print it (JSON) or keep it (text). */
static void finish_row(struct report *r, const struct mm_state *st)
{
	r->total_rows++;
	r->sum_hwm_pages += vm_hwm_pages(st);
	note_exit_growth(r, st);
	if (r->json)
		print_row_json(r, st);
	else
		keep_row(r, st);
}

/* The latest exit of tgid after the address space began, from the recent ones. */
static int32_t recent_exit(const struct report *r, const struct mm_state *st)
{
	size_t n = r->nexits < EXIT_NOTES ? r->nexits : EXIT_NOTES;

	for (size_t k = 0; k < n; k++) {
		const struct exit_note *e = &r->exits[(r->nexits - 1 - k) % EXIT_NOTES];

		if (e->tgid == st->tgid && e->ns >= st->start_ns)
			return e->status;
	}
	return -1;
}

void report_add_row(struct report *r, const struct mm_state *st)
{
	struct mm_state s = *st;

	/* Since 6.18 the exit status is in the row; before, it comes in its own
	 * record, just before or just after the row: join them by tgid. */
	if (s.end_reason == END_EXIT && s.exit_code < 0)
		s.exit_code = recent_exit(r, &s);
	if (s.end_reason == END_EXIT && s.exit_code < 0) {
		if (!array_grow((void **)&r->pending, &r->pending_cap, r->npending, sizeof(*r->pending))) {
			r->oom = true;
			return;
		}
		r->pending[r->npending++] = s;
		return;
	}
	finish_row(r, &s);
}

void report_add_exit(struct report *r, uint32_t tgid, int32_t status, uint64_t ns)
{
	r->exits[r->nexits++ % EXIT_NOTES] = (struct exit_note){ .tgid = tgid, .status = status, .ns = ns };
	for (size_t i = r->npending; i-- > 0;) {
		struct mm_state s = r->pending[i];

		if (s.tgid != tgid || s.start_ns > ns)
			continue;
		s.exit_code = status;
		r->pending[i] = r->pending[--r->npending];
		finish_row(r, &s);
		break;
	}
}

void report_add_oom(struct report *r, const struct oom_note *n)
{
	if (r->json)
		oom_print_json(r->out, n, r->t0_ns, r->page_kb);
	else if (r->nkills < MAX_OOM_NOTES)
		r->kills[r->nkills] = *n;
	r->nkills++;
}

void report_flush(struct report *r, bool final)
{
	/* at the end, rows still waiting for an exit status go out without it */
	while (final && r->npending)
		finish_row(r, &r->pending[--r->npending]);
	fflush(r->out);
}

int status_to_code(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* VmHWM exactly as /proc computes it: max(hiwater_rss, current RSS). */
static uint64_t vm_hwm_pages(const struct mm_state *st)
{
	uint64_t rss = rss_pages(st->cur);

	return st->hiwater_rss > rss ? st->hiwater_rss : rss;
}

/* VmPeak as /proc computes it: max(hiwater_vm, total_vm). */
static uint64_t vm_peak_pages(const struct mm_state *st)
{
	return st->hiwater_vm > st->total_vm ? st->hiwater_vm : st->total_vm;
}

static int64_t ms_since(const struct report *r, uint64_t ns)
{
	return ns >= r->t0_ns ? (int64_t)((ns - r->t0_ns) / 1000000) : 0;
}

static void json_opt(struct json_obj *j, const char *key, bool have, uint64_t v)
{
	if (have)
		json_uint(j, key, v);
	else
		json_null(j, key);
}

/* Cause counters: exact ones from rss_stat always; hook-based ones null when
 * the kernel gave no hook for them (never a silent 0). */
static void print_causes_json(struct report *r, struct json_obj *j, const struct mm_causes *c)
{
	const struct cause_avail *a = &r->avail;

	json_uint(j, "fork_inherited_pages", c->fork_pages);
	json_uint(j, "unmapped_pages", c->unmapped_pages);
	json_uint(j, "swapout_pages", c->swapout_pages);
	json_uint(j, "swap_released_pages", c->swap_released);
	json_uint(j, "teardown_pages", c->teardown_pages);
	json_opt(j, "faults", a->faults, c->faults);
	json_opt(j, "wp_faults", a->wp_faults, c->wp_faults);
	json_opt(j, "rmap_removed_pages", a->rmap_pages, c->rmap_pages);
	json_opt(j, "vmas_removed", a->vmas_removed, c->vmas_removed);
	json_opt(j, "unmapped_vma_bytes", a->vmas_removed, c->unmapped_bytes);
	json_opt(j, "munmap_request_bytes", a->munmap_requests, c->unmapped_bytes);
	json_opt(j, "swapin_faults", a->swapin_faults, c->swapin_faults);
}

static void print_row_json(struct report *r, const struct mm_state *st)
{
	uint64_t kb = r->page_kb;
	struct json_obj j;
	int status = st->end_reason == END_EXIT ? st->exit_code : -1;

	json_begin(&j, r->out);
	json_str(&j, "type", "process");
	json_uint(&j, "pid", st->tgid);
	json_uint(&j, "ppid", st->ppid);
	json_strn(&j, "comm", st->comm, sizeof(st->comm));
	json_uint(&j, "exec_seq", st->exec_seq);
	json_int(&j, "start_ms", ms_since(r, st->start_ns));
	json_int(&j, "end_ms", ms_since(r, st->end_ns));
	json_str(&j, "end_reason", end_names[st->end_reason % 3]);
	if (status >= 0) {
		json_int(&j, "exit_code", status_to_code(status));
		if (WIFSIGNALED(status))
			json_int(&j, "exit_signal", WTERMSIG(status));
	} else {
		json_null(&j, "exit_code");
	}
	json_uint(&j, "vm_rss_kb", rss_pages(st->cur) * kb);
	json_uint(&j, "rss_anon_kb", rss_clamp(st->cur[RSS_ANON]) * kb);
	json_uint(&j, "rss_file_kb", rss_clamp(st->cur[RSS_FILE]) * kb);
	json_uint(&j, "rss_shmem_kb", rss_clamp(st->cur[RSS_SHMEM]) * kb);
	json_uint(&j, "vm_swap_kb", rss_clamp(st->cur[RSS_SWAP]) * kb);
	json_uint(&j, "vm_hwm_kb", vm_hwm_pages(st) * kb);
	json_uint(&j, "vm_peak_kb", vm_peak_pages(st) * kb);
	json_uint(&j, "vm_size_kb", st->total_vm * kb);
	json_int(&j, "hwm_at_ms", ms_since(r, st->peak_ns));
	json_uint(&j, "hwm_anon_kb", rss_clamp(st->peak_part[RSS_ANON]) * kb);
	json_uint(&j, "hwm_file_kb", rss_clamp(st->peak_part[RSS_FILE]) * kb);
	json_uint(&j, "hwm_shmem_kb", rss_clamp(st->peak_part[RSS_SHMEM]) * kb);
	json_uint(&j, "hwm_swap_kb", rss_clamp(st->peak_part[RSS_SWAP]) * kb);
	json_uint(&j, "traced_peak_kb", st->peak_rss * kb);
	json_uint(&j, "exit_growth_kb", st->exit_growth * kb);
	json_bool(&j, "attached", st->seeded);
	json_uint(&j, "rss_events", st->events);
	print_causes_json(r, &j, &st->causes);
	json_end(&j);
}

/* rsstrace's own VmRSS now (the soak benchmark follows it over time). */
static uint64_t own_rss_kb(void)
{
	char buf[4096];
	long long v = 0;

	if (read_proc_file(getpid(), "status", buf, sizeof(buf)) < 0 || parse_status_field(buf, "VmRSS", &v))
		return 0;
	return (uint64_t)v;
}

void report_live(struct report *r, const struct tree_state *t, const struct mm_state *largest,
		 uint64_t now_ns, uint64_t lost, const struct live_sharing *sh)
{
	uint64_t kb = r->page_kb;
	char a[16], b[16], c[16], d[16], e[16], f[16];
	struct json_obj j;

	if (r->json) {
		json_begin(&j, r->out);
		json_str(&j, "type", "interval");
		json_int(&j, "at_ms", ms_since(r, now_ns));
		json_uint(&j, "tree_rss_kb", t->rss * kb);
		json_uint(&j, "tree_anon_kb", rss_clamp(t->cur[RSS_ANON]) * kb);
		json_uint(&j, "tree_file_kb", rss_clamp(t->cur[RSS_FILE]) * kb);
		json_uint(&j, "tree_shmem_kb", rss_clamp(t->cur[RSS_SHMEM]) * kb);
		json_uint(&j, "tree_swap_kb", rss_clamp(t->cur[RSS_SWAP]) * kb);
		json_uint(&j, "tree_peak_kb", t->peak * kb);
		json_int(&j, "processes", t->live_mms);
		json_uint(&j, "tracer_rss_kb", own_rss_kb());
		json_uint(&j, "lost_events", lost);
		if (largest) {
			json_uint(&j, "largest_pid", largest->tgid);
			json_strn(&j, "largest_comm", largest->comm, sizeof(largest->comm));
			json_uint(&j, "largest_rss_kb", rss_pages(largest->cur) * kb);
		}
		if (sh && sh->readings) {
			json_uint(&j, "sharing_readings", sh->readings);
			json_uint(&j, "sharing_rss_sum_kb", sh->rss_sum_kb);
			json_uint(&j, "sharing_footprint_kb", sh->footprint_kb);
			json_uint(&j, "sharing_after_peak_kb", sh->after_peak_kb);
		}
		json_end(&j);
	} else {
		fprintf(r->out, "[%8.2fs] tree %s (anon %s file %s shmem %s swap %s) %lld procs, peak %s",
			(now_ns - r->t0_ns) / 1e9, fmt_kb(t->rss * kb, a, sizeof(a)),
			fmt_kb(rss_clamp(t->cur[RSS_ANON]) * kb, b, sizeof(b)),
			fmt_kb(rss_clamp(t->cur[RSS_FILE]) * kb, c, sizeof(c)),
			fmt_kb(rss_clamp(t->cur[RSS_SHMEM]) * kb, d, sizeof(d)),
			fmt_kb(rss_clamp(t->cur[RSS_SWAP]) * kb, e, sizeof(e)), (long long)t->live_mms,
			fmt_kb(t->peak * kb, f, sizeof(f)));
		if (largest) {
			char name[TEXT_ESC_LEN(RSS_COMM_LEN)];

			fprintf(r->out, "; top %u %s %s", largest->tgid,
				text_escape(name, sizeof(name), largest->comm, RSS_COMM_LEN),
				fmt_kb(rss_pages(largest->cur) * kb, a, sizeof(a)));
		}
		if (sh && sh->readings)
			fprintf(r->out, "; footprint %s of RSS sum %s", fmt_kb(sh->footprint_kb, a, sizeof(a)),
				fmt_kb(sh->rss_sum_kb, b, sizeof(b)));
		if (lost)
			fprintf(r->out, "; LOST %llu", (unsigned long long)lost);
		fputc('\n', r->out);
	}
	fflush(r->out);
}

static int cmp_rows(const void *pa, const void *pb)
{
	const struct mm_state *a = pa, *b = pb;
	uint64_t ha = vm_hwm_pages(a), hb = vm_hwm_pages(b);

	if (ha != hb)
		return ha < hb ? 1 : -1;
	return a->start_ns < b->start_ns ? -1 : a->start_ns > b->start_ns;
}

static const char *end_label(const struct mm_state *st, char *buf, size_t len)
{
	int status;

	switch (st->end_reason) {
	case END_EXEC:
		return "exec";
	case END_DETACH:
		return "live";
	}
	status = st->exit_code;
	if (status < 0)
		return "exit";
	if (WIFSIGNALED(status))
		snprintf(buf, len, "sig%d", WTERMSIG(status));
	else
		snprintf(buf, len, "%d", WEXITSTATUS(status));
	return buf;
}

static void print_table(struct report *r, const struct summary *s)
{
	uint64_t kb = r->page_kb;
	size_t shown = r->nrows;
	char v[7][16], e[16], name[TEXT_ESC_LEN(RSS_COMM_LEN)];

	fprintf(r->out, "\n%7s %-12s %6s %6s %7s %7s %8s %6s %6s %s\n", "PID", "COMMAND", "VmHWM",
		"VmRSS", "RssAnon", "RssFile", "RssShmem", "VmSwap", "VmPeak", "END");
	for (size_t i = 0; i < shown; i++) {
		const struct mm_state *st = &r->rows[i];

		fprintf(r->out, "%7u %s %6s %6s %7s %7s %8s %6s %6s %s\n", st->tgid,
			text_cell(name, sizeof(name), st->comm, RSS_COMM_LEN, 12),
			fmt_kb(vm_hwm_pages(st) * kb, v[0], 16), fmt_kb(rss_pages(st->cur) * kb, v[1], 16),
			fmt_kb(rss_clamp(st->cur[RSS_ANON]) * kb, v[2], 16),
			fmt_kb(rss_clamp(st->cur[RSS_FILE]) * kb, v[3], 16),
			fmt_kb(rss_clamp(st->cur[RSS_SHMEM]) * kb, v[4], 16),
			fmt_kb(rss_clamp(st->cur[RSS_SWAP]) * kb, v[5], 16),
			fmt_kb(vm_peak_pages(st) * kb, v[6], 16), end_label(st, e, sizeof(e)));
	}
	if (shown < r->total_rows)
		fprintf(r->out, "... %llu more rows not shown (--rows 0 shows all, --json gives every row)\n",
			(unsigned long long)(r->total_rows - shown));
	fprintf(r->out,
		"Values are the kernel's /proc/PID/status counters just before the process\n"
		"exited or exec'd (END: exit status, sigN = killed by signal N, exec = replaced\n"
		"by execve, live = still running when tracing stopped). K/M/G = KiB/MiB/GiB.\n");
}

static const char *opt_num(bool have, uint64_t v, char *buf, size_t len)
{
	if (!have)
		return "n/a";
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

/* The last --causes column: VMAs removed where a function hook counts them;
 * where the fallback on munmap() requests measured instead, their size under
 * the fallback's name (not n/a: the figure exists). */
static const char *unmap_cell(const struct cause_avail *a, const struct mm_causes *c, char *buf,
			      size_t len)
{
	if (a->munmap_requests && !a->vmas_removed)
		return fmt_kb(c->unmapped_bytes / 1024, buf, len);
	return opt_num(a->vmas_removed, c->vmas_removed, buf, len);
}

/* --causes: why RSS moved, for the rows of the main table. */
static void print_causes_table(struct report *r, const struct summary *s)
{
	const struct cause_avail *a = &r->avail;
	size_t shown = r->nrows;
	bool munmap = a->munmap_requests && !a->vmas_removed;
	char v[5][24], name[TEXT_ESC_LEN(RSS_COMM_LEN)];

	fprintf(r->out, "\nWhy RSS moved (pages; n/a: this kernel offers no hook for it)\n");
	fprintf(r->out, "%7s %-12s %8s %7s %7s %8s %7s %8s %6s\n", "PID", "COMMAND", "FAULTS", "COW/WP",
		"FORKED", "UNMAPPED", "SWAPOUT", "RMAP-RM", munmap ? "MUNMAP" : "VMA-RM");
	for (size_t i = 0; i < shown; i++) {
		const struct mm_state *st = &r->rows[i];
		const struct mm_causes *c = &st->causes;

		fprintf(r->out, "%7u %s %8s %7s %7llu %8llu %7llu %8s %6s\n", st->tgid,
			text_cell(name, sizeof(name), st->comm, RSS_COMM_LEN, 12),
			opt_num(a->faults, c->faults, v[0], 24), opt_num(a->wp_faults, c->wp_faults, v[1], 24),
			(unsigned long long)c->fork_pages, (unsigned long long)c->unmapped_pages,
			(unsigned long long)c->swapout_pages, opt_num(a->rmap_pages, c->rmap_pages, v[2], 24),
			unmap_cell(a, c, v[3], 24));
	}
	if (munmap)
		fprintf(r->out, "MUNMAP: the size munmap() was asked to unmap (K/M/G), from the vma_removal\n"
				"fallback below, not a count of VMAs removed\n");
	fprintf(r->out, "Hooks (rsstrace --hooks tells why):\n");
	for (int i = 0; i < s->nhooks; i++)
		if (s->hooks[i].optional)
			fprintf(r->out, "  %-13s %s\n", s->hooks[i].key,
				s->hooks[i].use ? s->hooks[i].use : "none: n/a above");
}

/* -p, --cgroup-path: what was attached to and how many processes that found. */
static void print_attach_text(struct report *r, const struct summary *s)
{
	static const struct {
		const char *key, *text;
	} scopes[] = {
		{ "pids_and_descendants", "the named PIDs and their descendants" },
		{ "pids", "the named PIDs only (--no-children)" },
		{ "cgroup", "the cgroup and those below it (and whoever enters)" },
	};

	if (!s->attach)
		return;
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++)
		if (!strcmp(s->attach, scopes[i].key))
			fprintf(r->out, "Attached:        %lld process%s at attach: %s\n",
				(long long)s->found_at_attach, s->found_at_attach == 1 ? "" : "es",
				scopes[i].text);
}

/* Faults of the kernel's exit path (after the last thread was counted out
 * of the process): said only when there were some. */
static void print_exit_growth_text(const struct report *r, const struct tree_state *t)
{
	const struct exit_window *w = peak_in_exit(r, t->peak_ns);
	char a[32], b[32];

	if (!r->exit_growers)
		return;
	fprintf(r->out, "Grown in exit:   %s by %llu process%s after exiting began (JSON exit_growth_kb)\n",
		fmt_kb(r->exit_growth_pages * r->page_kb, a, sizeof(a)), (unsigned long long)r->exit_growers,
		r->exit_growers == 1 ? "" : "es");
	if (w)
		fprintf(r->out, "  the tree peak came while pid %u was exiting (it grew %s then)\n", w->tgid,
			fmt_kb(w->pages * r->page_kb, b, sizeof(b)));
}

static void print_summary_json(struct report *r, const struct summary *s, size_t procs,
			       uint64_t sum_hwm, bool over)
{
	const struct tree_state *t = &s->tree;
	const struct exit_window *exiting = peak_in_exit(r, t->peak_ns);
	uint64_t kb = r->page_kb;
	struct json_obj j;

	json_begin(&j, r->out);
	json_str(&j, "type", "summary");
	json_str(&j, "target", s->target);
	json_uint(&j, "tree_peak_kb", t->peak * kb);
	json_int(&j, "tree_peak_at_ms", ms_since(r, t->peak_ns));
	json_uint(&j, "tree_peak_anon_kb", rss_clamp(t->peak_part[RSS_ANON]) * kb);
	json_uint(&j, "tree_peak_file_kb", rss_clamp(t->peak_part[RSS_FILE]) * kb);
	json_uint(&j, "tree_peak_shmem_kb", rss_clamp(t->peak_part[RSS_SHMEM]) * kb);
	json_uint(&j, "tree_peak_swap_kb", rss_clamp(t->peak_part[RSS_SWAP]) * kb);
	json_int(&j, "tree_peak_procs", t->peak_procs);
	json_uint(&j, "processes", procs);
	if (s->attach) {
		json_str(&j, "attached_to", s->attach);
		json_int(&j, "processes_at_attach", s->found_at_attach);
	}
	json_uint(&j, "address_spaces", r->total_rows);
	json_uint(&j, "sum_vm_hwm_kb", sum_hwm * kb);
	json_uint(&j, "exit_growth_kb", r->exit_growth_pages * kb);
	json_uint(&j, "processes_grown_while_exiting", r->exit_growers);
	if (exiting)
		json_uint(&j, "tree_peak_while_exiting_pid", exiting->tgid);
	else
		json_null(&j, "tree_peak_while_exiting_pid");
	json_uint(&j, "lost_events",
		  s->loss.ringbuf_full + s->loss.mms_full + s->loss.tasks_full + r->oom);
	json_uint(&j, "lost_ringbuf", s->loss.ringbuf_full);
	json_uint(&j, "lost_map_full", s->loss.mms_full + s->loss.tasks_full);
	json_uint(&j, "stale_address_spaces", s->loss.stale_mms);
	json_uint(&j, "approximate_reads", s->approx_reads);
	json_uint(&j, "unsettled_sums", s->unsettled_sums);
	json_uint(&j, "address_spaces_read_from_shadows", s->shadowed);
	json_uint(&j, "address_spaces_past_the_shadow_map", s->shadows_full);
	json_uint(&j, "oom_kills", r->nkills);
	if (s->fields)
		s->fields(s->sections_ctx, &j);
	json_int(&j, "duration_ms", ms_since(r, s->end_ns));
	json_uint(&j, "live_address_spaces_at_end", s->mms_at_end);
	json_uint(&j, "live_processes_at_end", s->tasks_at_end);
	json_uint(&j, "tracer_max_rss_kb", s->tracer_hwm_kb);
	json_uint(&j, "tracer_cpu_ms", s->tracer_cpu_ms);
	if (s->cmd_status >= 0)
		json_int(&j, "exit_code", status_to_code(s->cmd_status));
	if (s->max_rss_kb) {
		json_uint(&j, "max_rss_kb", s->max_rss_kb);
		json_bool(&j, "over_budget", over);
	}
	for (int i = 0; i < s->nhooks; i++) {
		char key[48];

		snprintf(key, sizeof(key), "hook_%s", s->hooks[i].key);
		if (s->hooks[i].use)
			json_str(&j, key, s->hooks[i].use);
		else
			json_null(&j, key);
	}
	json_end(&j);
}

bool report_summary(struct report *r, const struct summary *s)
{
	const struct tree_state *t = &s->tree;
	uint64_t kb = r->page_kb, sum_hwm = 0, lost;
	size_t procs = (size_t)t->tgids_seen;
	char a[16], b[16], c[16], d[16], e[16], target[TEXT_ESC_LEN(66)];
	bool cut, over = s->max_rss_kb && (uint64_t)t->peak * kb > s->max_rss_kb;

	report_flush(r, true);
	if (r->nrows) /* qsort(NULL, 0, ...) is undefined */
		qsort(r->rows, r->nrows, sizeof(*r->rows), cmp_rows);
	sum_hwm = r->sum_hwm_pages;
	lost = s->loss.ringbuf_full + s->loss.mms_full + s->loss.tasks_full;
	if (r->json) {
		if (s->sections)
			s->sections(s->sections_ctx, r->out, true);
		print_summary_json(r, s, procs, sum_hwm, over);
		fflush(r->out);
		return over;
	}
	/* the command line, escaped, in 66 columns */
	cut = text_escape_cols(target, sizeof(target), s->target, SIZE_MAX, 66) < strlen(s->target);
	fprintf(r->out, "\nrsstrace: %s%s\n", target, cut ? "..." : "");
	fprintf(r->out, "Traced:          %zu process%s, %zu address space%s, %.3f s\n", procs,
		procs == 1 ? "" : "es", (size_t)r->total_rows, r->total_rows == 1 ? "" : "s", (s->end_ns - r->t0_ns) / 1e9);
	print_attach_text(r, s);
	fprintf(r->out, "Tree peak RSS:   %s at %.3f s, %lld process%s alive\n",
		fmt_kb(t->peak * kb, a, sizeof(a)),
		t->peak_ns > r->t0_ns ? (t->peak_ns - r->t0_ns) / 1e9 : 0.0, (long long)t->peak_procs,
		t->peak_procs == 1 ? "" : "es");
	fprintf(r->out, "  at that moment: anon %s, file %s, shmem %s, swap %s\n",
		fmt_kb(rss_clamp(t->peak_part[RSS_ANON]) * kb, b, sizeof(b)),
		fmt_kb(rss_clamp(t->peak_part[RSS_FILE]) * kb, c, sizeof(c)),
		fmt_kb(rss_clamp(t->peak_part[RSS_SHMEM]) * kb, d, sizeof(d)),
		fmt_kb(rss_clamp(t->peak_part[RSS_SWAP]) * kb, e, sizeof(e)));
	if (r->nrows) {
		/* only CMD's own tree is what `time -v CMD` would have measured */
		fprintf(r->out, "Largest process: %s, pid %u %s%s\n",
			fmt_kb(vm_hwm_pages(&r->rows[0]) * kb, a, sizeof(a)), r->rows[0].tgid,
			text_escape(target, sizeof(target), r->rows[0].comm, RSS_COMM_LEN),
			s->attach ? " (its VmHWM)" : " (time -v's max resident set)");
		fprintf(r->out, "Sum of VmHWM:    %s (each process's own peak, not at one moment)\n",
			fmt_kb(sum_hwm * kb, b, sizeof(b)));
	}
	print_exit_growth_text(r, t);
	print_table(r, s);
	if (r->avail.shown)
		print_causes_table(r, s);
	if (s->sections)
		s->sections(s->sections_ctx, r->out, false);
	for (uint64_t i = 0; i < r->nkills && i < MAX_OOM_NOTES; i++)
		oom_print_text(r->out, &r->kills[i], r->t0_ns, r->page_kb);
	if (r->nkills > MAX_OOM_NOTES)
		fprintf(r->out, "... %llu more OOM kills (--json gives each)\n",
			(unsigned long long)(r->nkills - MAX_OOM_NOTES));
	if (lost || r->oom)
		fprintf(r->out,
			"WARNING: data lost: %llu records (ring buffer full), %llu processes not traced (maps full, see --max-procs)%s\n",
			(unsigned long long)s->loss.ringbuf_full,
			(unsigned long long)(s->loss.mms_full + s->loss.tasks_full),
			r->oom ? ", rows dropped (out of memory)" : "");
	else
		fprintf(r->out, "Events lost: 0\n");
	if (s->loss.stale_mms)
		fprintf(r->out, "WARNING: %llu address spaces ended unseen (their rows are approximate)\n",
			(unsigned long long)s->loss.stale_mms);
	if (s->approx_reads)
		fprintf(r->out, "WARNING: %llu counter reads were approximate (no per-CPU access on this kernel)\n",
			(unsigned long long)s->approx_reads);
	if (s->unsettled_sums)
		fprintf(r->out,
			"Note: %llu counter sums were taken while the counter's lock stayed held: each may count up to a batch of pages twice\n",
			(unsigned long long)s->unsettled_sums);
	if (s->max_rss_kb)
		fprintf(r->out, "Budget --max-rss %s: %s\n", fmt_kb(s->max_rss_kb, a, sizeof(a)),
			over ? "EXCEEDED by the tree peak (exit status 99)" : "held");
	fflush(r->out);
	return over;
}
