/* SPDX-License-Identifier: MIT */
/* What the decoders of `pvir decode` share: the run's state and the output helpers. */
#ifndef PVIR_CLI_DECODE_H
#define PVIR_CLI_DECODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dumps.h"

#define HEX_DIGITS_PER_QWORD 16

struct decode_opts {
	bool json;
	bool xapic;
	bool no_posting;
	bool strict;
	bool memory_order; /* descriptors given low qword first */
};

/* One decode run: its options and streams, and what it found wrong. */
struct ctx {
	const struct decode_opts *o;
	FILE *in, *out, *err;
	unsigned warnings;
	unsigned entries;
	unsigned qwords; /* memory-dump qwords gathered towards the next entry */
	uint64_t q[DUMP_MAX_QWORDS];
};

void decode_warn(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** decode_next_entry() - between two entries' text, a blank line */
void decode_next_entry(struct ctx *c);
const char *decode_skip_0x(const char *s);
/** decode_parse_qwords() - @nwords qwords, high first, ':'-separated or one hex number */
bool decode_parse_qwords(const char *arg, unsigned nwords, uint64_t *ret);
void decode_field(FILE *out, const char *name, uint64_t v, const char *meaning);
struct json;
void decode_json_bits(struct json *j, const char *key, const uint64_t *mask, unsigned nwords);
void decode_text_bits(FILE *out, const uint64_t *mask, unsigned nwords);

/* AMD-Vi (decode_amd.c): arguments, and one line of a dump on stdin */
int decode_amd_irte(struct ctx *c, int argc, char **argv);
int decode_amd_event(struct ctx *c, int argc, char **argv);
/** decode_amd_line() - Return: false if @line is not an AMD-Vi debugfs line */
bool decode_amd_line(struct ctx *c, const char *line, unsigned n);
/** decode_amd_event_line() - Return: false if @line holds no event */
bool decode_amd_event_line(struct ctx *c, const char *line);

#endif
