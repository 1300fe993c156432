/* SPDX-License-Identifier: MIT */
/*
 * A progress line on stderr for runs that take more than a second of wall
 * time: off when stderr is not a terminal, or with --quiet.
 */
#ifndef PVIR_CLI_PROGRESS_H
#define PVIR_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "pvir/sim.h"

struct progress {
	FILE *err;
	bool on;
	bool shown;
	struct timespec start;
	char label[48];	 /* what is running, beside the design */
	unsigned point;	 /* of a sweep, from 1; 0 outside one */
	unsigned points; /* in the sweep */
};

void progress_init(struct progress *p, bool quiet, FILE *err);
/** progress_attach() - let the runs of @o report to @p */
void progress_attach(struct progress *p, struct sim_options *o);
/*
 * progress_point() - a sweep reached point @k of @n, which sets up @size
 * interrupts: setup takes no virtual time, so the line counts points and
 * designs instead.
 */
void progress_point(struct progress *p, unsigned k, unsigned n, unsigned size);
/** progress_done() - clear the line, if one was shown */
void progress_done(struct progress *p);

#endif
