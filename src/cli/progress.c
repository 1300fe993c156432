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

static void update(void *ctx, enum sim_design d, uint64_t now, uint64_t duration)
{
	struct progress *p = ctx;

	if (!p->on || elapsed_ns(p) < SHOW_AFTER_NS)
		return;
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
