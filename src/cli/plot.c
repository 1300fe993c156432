// SPDX-License-Identifier: MIT
#include "plot.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "table.h"

#define W	    720.0
#define H	    460.0
#define LEFT	    90.0
#define RIGHT	    30.0
#define TOP	    76.0
#define BOTTOM	    60.0
#define FAIL_SZ	    6.0
#define NO_FIGURE_Y 54.0 /* failures with no time to show: a band above the plot */

/* Colour-blind-safe (Okabe-Ito): vermillion, orange, blue. */
static const char *const colours[SIM_DESIGN_COUNT] = {
    [SIM_DESIGN_TRAP] = "#d55e00",
    [SIM_DESIGN_VIR_EMUL] = "#e69f00",
    [SIM_DESIGN_HCALL] = "#0072b2",
};

const char *plot_design_colour(enum sim_design d)
{
	return d < SIM_DESIGN_COUNT ? colours[d] : "#000000";
}

struct axes {
	double x0, x1; /* log10 of the x range */
	double y0, y1; /* log10 of the y range, whole decades */
};

static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else if (*s == '&')
			fputs("&amp;", out);
		else if (*s == '"')
			fputs("&quot;", out);
		else
			fputc(*s, out);
	}
}

static struct axes axes_of(const struct plot *p)
{
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;

	for (unsigned s = 0; s < p->nseries; s++)
		for (unsigned i = 0; i < p->series[s].n; i++) {
			const struct plot_point *pt = &p->series[s].pts[i];

			xmin = fmin(xmin, log10((double)pt->x));
			xmax = fmax(xmax, log10((double)pt->x));
			if (pt->y) {
				ymin = fmin(ymin, log10((double)pt->y));
				ymax = fmax(ymax, log10((double)pt->y));
			}
		}
	if (!isfinite(xmin))
		xmin = 0, xmax = 1;
	if (!isfinite(ymin))
		ymin = 3, ymax = 6;
	if (xmax - xmin < 1e-9)
		xmin -= 0.5, xmax += 0.5;
	return (struct axes){
	    .x0 = xmin - 0.1, .x1 = xmax + 0.1, .y0 = floor(ymin), .y1 = ceil(ymax + 1e-9)};
}

static double px(const struct axes *a, uint64_t x)
{
	return LEFT + (log10((double)x) - a->x0) / (a->x1 - a->x0) * (W - LEFT - RIGHT);
}

static double py(const struct axes *a, double log_y)
{
	return H - BOTTOM - (log_y - a->y0) / (a->y1 - a->y0) * (H - TOP - BOTTOM);
}

/* A decade of nanoseconds as the axis says it: "1 us", "10 ms", "100 s". */
static void decade_label(char *out, size_t len, double log_ns)
{
	static const char *const unit[] = {"ns", "us", "ms", "s"};
	int d = (int)llround(log_ns), u = d / 3 > 3 ? 3 : d / 3;
	uint64_t v = 1;

	for (int i = 0; i < d - 3 * u; i++)
		v *= 10;
	snprintf(out, len, "%" PRIu64 " %s", v, unit[u < 0 ? 0 : u]);
}

static void grid(FILE *out, const struct plot *p, const struct axes *a)
{
	char label[32];

	fputs("<g class=\"grid\" stroke=\"#dddddd\" font-size=\"12\" fill=\"#444444\">\n", out);
	for (double d = a->y0; d <= a->y1 + 1e-9; d += 1) {
		decade_label(label, sizeof(label), d);
		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", LEFT,
			py(a, d), W - RIGHT, py(a, d));
		fprintf(
		    out,
		    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" stroke=\"none\">%s</text>\n",
		    LEFT - 8, py(a, d) + 4, label);
	}
	for (unsigned i = 0; p->nseries && i < p->series[0].n; i++) {
		uint64_t x = p->series[0].pts[i].x;

		fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", px(a, x),
			TOP, px(a, x), H - BOTTOM);
		fprintf(
		    out,
		    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" stroke=\"none\">%" PRIu64
		    "</text>\n",
		    px(a, x), H - BOTTOM + 18, x);
	}
	fputs("</g>\n", out);
}

static void series(FILE *out, const struct plot_series *s, const struct axes *a)
{
	bool pen = false;

	fputs("<g class=\"series\" data-name=\"", out);
	xml_text(out, s->name);
	fprintf(out, "\" stroke=\"%s\" fill=\"%s\">\n<path fill=\"none\" stroke-width=\"2\" d=\"",
		s->colour, s->colour);
	for (unsigned i = 0; i < s->n; i++) {
		if (!s->pts[i].y || s->pts[i].fail) {
			pen = false; /* no line through a failure */
			continue;
		}
		fprintf(out, "%s%.1f %.1f", pen ? " L" : " M", px(a, s->pts[i].x),
			py(a, log10((double)s->pts[i].y)));
		pen = true;
	}
	fputs("\"/>\n", out);
	for (unsigned i = 0; i < s->n; i++) {
		const struct plot_point *pt = &s->pts[i];
		double x = px(a, pt->x), y = pt->y ? py(a, log10((double)pt->y)) : NO_FIGURE_Y;
		char t[32];

		fmt_ns(t, sizeof(t), pt->y);
		if (pt->fail) {
			fprintf(out,
				"<path class=\"fail\" data-x=\"%" PRIu64 "\" stroke-width=\"3\" "
				"d=\"M%.1f %.1f L%.1f %.1f M%.1f %.1f L%.1f %.1f\"><title>",
				pt->x, x - FAIL_SZ, y - FAIL_SZ, x + FAIL_SZ, y + FAIL_SZ,
				x - FAIL_SZ, y + FAIL_SZ, x + FAIL_SZ, y - FAIL_SZ);
			xml_text(out, s->name);
			fprintf(out, " at %" PRIu64 ": ", pt->x);
			xml_text(out, pt->fail);
			/* the reason beside the mark: failures with no time share a band, one row each */
			fprintf(out,
				"</title></path>\n<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" "
				"stroke=\"none\" text-anchor=\"end\">",
				x - FAIL_SZ - 3, y + 4);
			xml_text(out, pt->y ? "fails" : pt->fail);
			fputs("</text>\n", out);
			continue;
		}
		fprintf(out,
			"<circle class=\"point\" data-x=\"%" PRIu64 "\" cx=\"%.1f\" cy=\"%.1f\" "
			"r=\"4\"><title>",
			pt->x, x, y);
		xml_text(out, s->name);
		fprintf(out, " at %" PRIu64 ": %s</title></circle>\n", pt->x, t);
	}
	fputs("</g>\n", out);
}

static void legend(FILE *out, const struct plot *p)
{
	fputs("<g class=\"legend\" font-size=\"13\">\n", out);
	for (unsigned s = 0; s < p->nseries; s++) {
		double y = TOP + 10 + 18.0 * s;

		fprintf(out,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
			"stroke-width=\"3\"/>\n<text x=\"%.1f\" y=\"%.1f\">",
			LEFT + 12, y, LEFT + 36, y, p->series[s].colour, LEFT + 42, y + 4);
		xml_text(out, p->series[s].name);
		fputs("</text>\n", out);
	}
	fputs("</g>\n", out);
}

void plot_svg(FILE *out, const struct plot *p)
{
	struct axes a = axes_of(p);

	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" "
		"height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n"
		"<text x=\"%.1f\" y=\"28\" font-size=\"15\">",
		W, H, W, H, LEFT);
	xml_text(out, p->title);
	fputs("</text>\n", out);
	grid(out, p, &a);
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\">",
		(LEFT + W - RIGHT) / 2, H - 16);
	xml_text(out, p->xlabel);
	fprintf(out,
		"</text>\n<text transform=\"translate(18 %.1f) rotate(-90)\" font-size=\"13\" "
		"text-anchor=\"middle\">",
		(TOP + H - BOTTOM) / 2);
	xml_text(out, p->ylabel);
	fputs("</text>\n", out);
	for (unsigned s = 0; s < p->nseries; s++)
		series(out, &p->series[s], &a);
	legend(out, p);
	fputs("</svg>\n", out);
}
