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
	char label[48]; /* what is running, beside the design */
};

void progress_init(struct progress *p, bool quiet, FILE *err);
/** progress_attach() - let the runs of @o report to @p */
void progress_attach(struct progress *p, struct sim_options *o);
/** progress_done() - clear the line, if one was shown */
void progress_done(struct progress *p);

#endif
