/* SPDX-License-Identifier: MIT */
/*
 * An SVG plot on log-log axes, for `pvir compare --sweep --plot`: a series
 * per design, a point per x, and a mark (with why, in its title) where a
 * design failed. Standalone SVG 1.1 that any browser opens; the structure
 * is plain enough for tests to read back: each series is a <g
 * class="series" data-name="...">, each point a <circle class="point"> or a
 * <path class="fail"> carrying data-x.
 */
#ifndef PVIR_CLI_PLOT_H
#define PVIR_CLI_PLOT_H

#include <stdint.h>
#include <stdio.h>

#include "pvir/sim.h"

struct plot_point {
	uint64_t x;
	uint64_t y;	  /* 0 if there is no figure (the design failed outright) */
	const char *fail; /* NULL, or why this point failed */
};

struct plot_series {
	const char *name;
	const char *colour;
	const struct plot_point *pts;
	unsigned n;
};

struct plot {
	const char *title;
	const char *xlabel;
	const char *ylabel;
	const struct plot_series *series;
	unsigned nseries;
};

/* The colour of each design, the same in every plot. */
const char *plot_design_colour(enum sim_design d);
/** plot_svg() - draw @p; y values are nanoseconds, labelled with units */
void plot_svg(FILE *out, const struct plot *p);

#endif
