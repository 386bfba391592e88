// SPDX-License-Identifier: GPL-2.0
#include "output/svg_chart.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/json_writer.h" /* utf8_seq_len */
#include "core/units.h"

/* Layout, in SVG user units (pixels at 100%). */
#define W 1000
#define H 560
#define PLOT_X 80
#define PLOT_Y 60
#define PLOT_W 660
#define PLOT_H 420
#define LEGEND_X (PLOT_X + PLOT_W + 20)

static const char *const proc_colors[SVG_CHART_PROCS] = { "#d62728", "#9467bd", "#8c564b",
							  "#e377c2", "#17becf" };

void xml_text(FILE *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len && u[i];) {
		size_t adv = 1;

		switch (u[i]) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default:
			if (u[i] < 0x20 || u[i] == 0x7f) {
				fputc('?', out); /* not allowed in XML 1.0 */
			} else if (u[i] < 0x80) {
				fputc(u[i], out);
			} else {
				adv = utf8_seq_len(u + i, len - i);
				if (adv)
					fwrite(u + i, 1, adv, out);
				else
					fputs("\xef\xbf\xbd", out); /* U+FFFD */
				adv = adv ? adv : 1;
			}
		}
		i += adv;
	}
}

struct scale {
	double t_max;	/* seconds */
	double kb_max;	/* top of the y axis */
	double kb_step;	/* y tick step */
	double t_step;
};

/* 1, 2 or 5 times a power of `base`, at least raw. */
static double nice_step(double raw, double base)
{
	double p = 1;

	while (p * base <= raw)
		p *= base;
	while (p > raw && p > 1e-9)
		p /= base;
	for (;;) {
		if (p >= raw)
			return p;
		if (2 * p >= raw)
			return 2 * p;
		if (5 * p >= raw)
			return 5 * p;
		p *= 10;
	}
}

static double px_x(const struct scale *s, double t)
{
	return PLOT_X + (s->t_max > 0 ? t / s->t_max : 0) * PLOT_W;
}

static double px_y(const struct scale *s, double kb)
{
	return PLOT_Y + PLOT_H - (s->kb_max > 0 ? kb / s->kb_max : 0) * PLOT_H;
}

static double secs(const struct timeline *tl, uint64_t ns)
{
	return ns > tl->t0_ns ? (ns - tl->t0_ns) / 1e9 : 0;
}

static int cmp_ns(const void *pa, const void *pb)
{
	const struct timeline_point *a = pa, *b = pb;

	return a->ns < b->ns ? -1 : a->ns > b->ns;
}

/* The largest processes: up to SVG_CHART_PROCS distinct (tgid, exec_seq) by
 * their largest kept RSS. Returns how many; peak_kb[i] is each one's max. */
static int pick_procs(const struct timeline *tl, struct timeline_proc_point *pick, uint64_t *peak_kb)
{
	int n = 0;

	for (size_t i = 0; i < tl->npp; i++) {
		const struct timeline_proc_point *p = &tl->pp[i];
		int j;

		for (j = 0; j < n; j++)
			if (pick[j].tgid == p->tgid && pick[j].exec_seq == p->exec_seq)
				break;
		if (j < n) {
			if (p->rss_kb > peak_kb[j])
				peak_kb[j] = p->rss_kb;
		} else if (n < SVG_CHART_PROCS) {
			pick[n] = *p;
			peak_kb[n++] = p->rss_kb;
			continue;
		} else {
			/* replace the smallest pick if this one is larger */
			int min = 0;

			for (j = 1; j < n; j++)
				if (peak_kb[j] < peak_kb[min])
					min = j;
			if (p->rss_kb <= peak_kb[min])
				continue;
			pick[min] = *p;
			peak_kb[min] = p->rss_kb;
			j = min;
		}
		/* the latest comm (after exec) names the line */
		memcpy(pick[j].comm, p->comm, sizeof(p->comm));
	}
	/* largest first, for the legend (insertion sort of at most 5) */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && peak_kb[j] > peak_kb[j - 1]; j--) {
			struct timeline_proc_point tp = pick[j];
			uint64_t tk = peak_kb[j];

			pick[j] = pick[j - 1];
			peak_kb[j] = peak_kb[j - 1];
			pick[j - 1] = tp;
			peak_kb[j - 1] = tk;
		}
	return n;
}

/* One unit for every label of the y axis, so they line up: "200M", "400M". */
static void axis_label(char *buf, size_t len, double kb, double kb_max)
{
	static const char units[] = "KMGT";
	double div = 1;
	int u = 0;

	while (u < 3 && kb_max / div >= 4 * 1024) {
		div *= 1024;
		u++;
	}
	snprintf(buf, len, "%g%c", kb / div, units[u]);
}

static void axes(FILE *out, const struct scale *s)
{
	char buf[24];

	fprintf(out, "<g id=\"axes\" font-size=\"12\" fill=\"#333\">\n");
	for (double kb = 0; kb <= s->kb_max * 1.0001; kb += s->kb_step) {
		double y = px_y(s, kb);

		fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
			PLOT_X, y, PLOT_X + PLOT_W, y);
		axis_label(buf, sizeof(buf), kb, s->kb_max);
		fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", PLOT_X - 6,
			y + 4, buf);
	}
	for (double t = 0; t <= s->t_max * 1.0001; t += s->t_step) {
		double x = px_x(s, t);

		fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>\n", x,
			PLOT_Y, x, PLOT_Y + PLOT_H);
		fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", x,
			PLOT_Y + PLOT_H + 16, t);
	}
	fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n",
		PLOT_X, PLOT_Y, PLOT_W, PLOT_H);
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since start (s)</text>\n",
		PLOT_X + PLOT_W / 2, PLOT_Y + PLOT_H + 36);
	fprintf(out, "<text transform=\"translate(18 %d) rotate(-90)\" text-anchor=\"middle\">"
		     "resident memory (K/M/G = KiB/MiB/GiB)</text>\n</g>\n", PLOT_Y + PLOT_H / 2);
}

/* One stacked band: the area between the sum of the members below and that
 * sum plus this member. */
static void band(FILE *out, const struct scale *s, const struct timeline *tl,
		 const struct timeline_point *pts, size_t n, const int *below, int nbelow, int member,
		 const char *id, const char *color)
{
	fprintf(out, "<path id=\"%s\" fill=\"%s\" fill-opacity=\"0.85\" stroke=\"none\" d=\"", id, color);
	for (size_t i = 0; i < n; i++) {
		double base = 0;

		for (int b = 0; b < nbelow; b++)
			base += pts[i].kb[below[b]];
		fprintf(out, "%c%.1f %.1f ", i ? 'L' : 'M', px_x(s, secs(tl, pts[i].ns)),
			px_y(s, base + pts[i].kb[member]));
	}
	for (size_t i = n; i-- > 0;) {
		double base = 0;

		for (int b = 0; b < nbelow; b++)
			base += pts[i].kb[below[b]];
		fprintf(out, "L%.1f %.1f ", px_x(s, secs(tl, pts[i].ns)), px_y(s, base));
	}
	fprintf(out, "Z\"/>\n");
}

static void swap_line(FILE *out, const struct scale *s, const struct timeline *tl,
		      const struct timeline_point *pts, size_t n)
{
	fprintf(out, "<path id=\"swap\" fill=\"none\" stroke=\"#555\" stroke-dasharray=\"6 4\" "
		     "stroke-width=\"1.5\" d=\"");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%c%.1f %.1f ", i ? 'L' : 'M', px_x(s, secs(tl, pts[i].ns)),
			px_y(s, pts[i].kb[RSS_SWAP]));
	fprintf(out, "\"/>\n");
}

/* A process's line; broken where it was not among the sampled top processes
 * (or not alive) for more than two sampling intervals. */
static void proc_line(FILE *out, const struct scale *s, const struct timeline *tl,
		      const struct timeline_proc_point *who, int idx)
{
	uint64_t gap = 3 * (tl->interval_ns ? tl->interval_ns : 100000000ULL);
	uint64_t last = 0;
	bool open = false;

	fprintf(out, "<path id=\"proc-%u\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\" d=\"",
		who->tgid, proc_colors[idx]);
	for (size_t i = 0; i < tl->npp; i++) {
		const struct timeline_proc_point *p = &tl->pp[i];

		if (p->tgid != who->tgid || p->exec_seq != who->exec_seq)
			continue;
		fprintf(out, "%c%.1f %.1f ", open && p->ns - last <= gap ? 'L' : 'M',
			px_x(s, secs(tl, p->ns)), px_y(s, p->rss_kb));
		open = true;
		last = p->ns;
	}
	fprintf(out, "\"/>\n");
}

static void peak_marker(FILE *out, const struct scale *s, const struct timeline *tl,
			const struct timeline_point *pk)
{
	char buf[16];
	double x = px_x(s, secs(tl, pk->ns)), y = px_y(s, pk->rss_kb);
	bool right = x < PLOT_X + PLOT_W * 0.7;

	fprintf(out, "<g id=\"peak-marker\">\n");
	fprintf(out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#c00\" "
		     "stroke-dasharray=\"3 3\"/>\n", x, PLOT_Y, x, PLOT_Y + PLOT_H);
	fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"#c00\"/>\n", x, y);
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" font-weight=\"bold\" fill=\"#c00\" "
		     "text-anchor=\"%s\">peak %s at %.3f s</text>\n</g>\n",
		x + (right ? 8 : -8), y < PLOT_Y + 20 ? PLOT_Y + 16 : y - 8, right ? "start" : "end",
		fmt_kb(pk->rss_kb, buf, sizeof(buf)), secs(tl, pk->ns));
}

static void legend_entry(FILE *out, int row, const char *color, bool line, bool dashed,
			 const char *label, size_t label_len)
{
	int y = PLOT_Y + 10 + row * 20;

	if (line)
		fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
			LEGEND_X, y, LEGEND_X + 18, y, color, dashed ? " stroke-dasharray=\"6 4\"" : "");
	else
		fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"18\" height=\"12\" fill=\"%s\"/>\n", LEGEND_X,
			y - 6, color);
	fprintf(out, "<text x=\"%d\" y=\"%d\">", LEGEND_X + 24, y + 4);
	xml_text(out, label, label_len);
	fprintf(out, "</text>\n");
}

static void legend(FILE *out, const struct timeline_proc_point *procs, const uint64_t *peak_kb,
		   int nprocs)
{
	char label[80], buf[16];
	int row = 0;

	fprintf(out, "<g id=\"legend\" font-size=\"12\" fill=\"#333\">\n");
	legend_entry(out, row++, "#1f77b4", false, false, "anon", 4);
	legend_entry(out, row++, "#2ca02c", false, false, "shmem", 5);
	legend_entry(out, row++, "#ff7f0e", false, false, "file", 4);
	legend_entry(out, row++, "#555", true, true, "swap (not resident)", 19);
	if (nprocs)
		fprintf(out, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">largest processes</text>\n",
			LEGEND_X, PLOT_Y + 14 + row++ * 20);
	for (int i = 0; i < nprocs; i++) {
		int n = snprintf(label, sizeof(label), "%u %.*s, max %s", procs[i].tgid, RSS_COMM_LEN,
				 procs[i].comm, fmt_kb(peak_kb[i], buf, sizeof(buf)));

		legend_entry(out, row++, proc_colors[i], true, false, label,
			     n < (int)sizeof(label) ? (size_t)n : sizeof(label) - 1);
	}
	fprintf(out, "</g>\n");
}

static void choose_scale(struct scale *s, const struct timeline *tl,
			 const struct timeline_point *pts, size_t n)
{
	double top = 0;

	for (size_t i = 0; i < n; i++) {
		top = fmax(top, (double)pts[i].rss_kb);
		top = fmax(top, (double)pts[i].kb[RSS_SWAP]);
	}
	s->t_max = n ? secs(tl, pts[n - 1].ns) : 0;
	if (s->t_max <= 0)
		s->t_max = 1;
	s->t_step = nice_step(s->t_max / 8, 10);
	s->t_max = ceil(s->t_max / s->t_step) * s->t_step;
	if (top < 64)
		top = 64;
	/* kB ticks on power-of-two-friendly steps: 1, 2, 5 x 1024^k */
	s->kb_step = nice_step(top / 6, 10);
	for (double unit = 1; unit <= 1024.0 * 1024 * 1024; unit *= 1024)
		if (top / 6 >= unit)
			s->kb_step = nice_step(top / 6 / unit, 10) * unit;
	s->kb_max = ceil(top * 1.05 / s->kb_step) * s->kb_step;
}

int svg_chart_write(FILE *out, const struct timeline *tl, const char *title)
{
	static const int below_shmem[] = { RSS_ANON }, below_file[] = { RSS_ANON, RSS_SHMEM };
	struct timeline_proc_point procs[SVG_CHART_PROCS];
	uint64_t peak_kb[SVG_CHART_PROCS];
	struct timeline_point *pts = NULL, *pk = NULL;
	size_t n = tl->npts;
	struct scale s;
	int nprocs;

	if (n) {
		pts = malloc(n * sizeof(*pts));
		if (!pts)
			return -ENOMEM;
		memcpy(pts, tl->pts, n * sizeof(*pts));
		qsort(pts, n, sizeof(*pts), cmp_ns); /* a peak point may precede a sample */
	}
	for (size_t i = 0; i < n; i++)
		if (pts[i].peak && (!pk || pts[i].rss_kb >= pk->rss_kb))
			pk = &pts[i];
	choose_scale(&s, tl, pts, n);
	nprocs = pick_procs(tl, procs, peak_kb);

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		     "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
		W, H, W, H);
	fprintf(out, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n<title>", W, H);
	xml_text(out, title, strlen(title));
	fprintf(out, "</title>\n<text x=\"%d\" y=\"30\" font-size=\"17\" font-weight=\"bold\" fill=\"#222\">",
		PLOT_X);
	xml_text(out, title, strlen(title) > 90 ? 90 : strlen(title));
	fprintf(out, "</text>\n");
	axes(out, &s);
	if (n) {
		band(out, &s, tl, pts, n, NULL, 0, RSS_ANON, "anon", "#1f77b4");
		band(out, &s, tl, pts, n, below_shmem, 1, RSS_SHMEM, "shmem", "#2ca02c");
		band(out, &s, tl, pts, n, below_file, 2, RSS_FILE, "file", "#ff7f0e");
		swap_line(out, &s, tl, pts, n);
	}
	for (int i = 0; i < nprocs; i++)
		proc_line(out, &s, tl, &procs[i], i);
	if (pk)
		peak_marker(out, &s, tl, pk);
	legend(out, procs, peak_kb, nprocs);
	if (tl->thinned)
		fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#666\">samples merged %u "
			     "time(s) to fit; peaks kept</text>\n", PLOT_X, H - 8, tl->thinned);
	fprintf(out, "</svg>\n");
	free(pts);
	return ferror(out) ? -EIO : 0;
}
