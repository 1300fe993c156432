/* SPDX-License-Identifier: MIT */
/*
 * A run's report: for people, a compact table; for programs, the JSON object
 * of docs/design.md §8 (docs/scenarios.md lists every key).
 */
#ifndef PVIR_CLI_REPORT_H
#define PVIR_CLI_REPORT_H

#include <stdio.h>

#include "pvir/json.h"
#include "pvir/sim.h"

void report_json(FILE *out, const struct scenario *sc, const struct sim_report *r, unsigned n);
/* The same object as the value of @key inside a document @j is writing. */
void report_json_value(struct json *j, const char *key, const struct scenario *sc,
		       const struct sim_report *r, unsigned n);
/* Return: 0, or -ENOMEM if a table could not be built (its rows are then missing) */
int report_text(FILE *out, const struct scenario *sc, const struct sim_report *r);
/* " vectors at_alloc" (or " vectors mixed") for a header; "" for Linux's default */
const char *report_vectors_note(const struct scenario *sc);

#endif
