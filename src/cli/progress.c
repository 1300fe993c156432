// SPDX-License-Identifier: MIT
#include "progress.h"

#include <unistd.h>

#define SHOW_AFTER_NS 1000000000LL

static long long elapsed_ns(const struct progress *p)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - p->start.tv_sec) * 1000000000LL + (now.tv_nsec - p->start.tv_nsec);
}

void progress_init(struct progress *p, bool quiet, FILE *err)
{
	*p = (struct progress){.err = err, .on = !quiet && isatty(fileno(err))};
	clock_gettime(CLOCK_MONOTONIC, &p->start);
}

void progress_point(struct progress *p, unsigned k, unsigned n, unsigned size)
{
	p->point = k;
	p->points = n;
	snprintf(p->label, sizeof(p->label), "N=%u", size);
}

static void update(void *ctx, enum sim_design d, uint64_t now, uint64_t duration)
{
	struct progress *p = ctx;

	if (!p->on || elapsed_ns(p) < SHOW_AFTER_NS)
		return;
	if (p->points)
		fprintf(p->err, "\r\033[Kpvir: point %u of %u (%s), design %u of %u (%s), %.1f s",
			p->point, p->points, p->label, (unsigned)d + 1, (unsigned)SIM_DESIGN_COUNT,
			sim_design_name(d), (double)elapsed_ns(p) / 1e9);
	else
		fprintf(p->err, "\r\033[Kpvir: %s%s%s: %.3f of %.3f ms virtual, %.1f s", p->label,
			*p->label ? ", " : "", sim_design_name(d), (double)now / 1e6,
			(double)duration / 1e6, (double)elapsed_ns(p) / 1e9);
	fflush(p->err);
	p->shown = true;
}

void progress_attach(struct progress *p, struct sim_options *o)
{
	o->progress = update;
	o->progress_ctx = p;
}

void progress_done(struct progress *p)
{
	if (p->shown)
		fprintf(p->err, "\r\033[K");
	p->shown = false;
}
