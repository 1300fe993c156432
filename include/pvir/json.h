/* SPDX-License-Identifier: MIT */
/*
 * The one JSON writer of the project: reports, sweeps, benchmarks, decodes
 * and traces all go through it. It streams (nothing is held in memory),
 * escapes every string it writes, keys included, and tracks only whether a
 * comma is due at each nesting level. Numbers are integers, or fixed-point
 * decimals written from integers, so the output is exact and the same on
 * every machine.
 */
#ifndef PVIR_JSON_H
#define PVIR_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *out;
	unsigned depth;
	unsigned break_depth; /* values at this depth start a line; 0: never */
	bool need_comma[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *out);
/* Each value at @depth (1: the top-level container's members) on its own line. */
void json_break_at(struct json *j, unsigned depth);
/* @key is NULL inside arrays and for the top-level value. */
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_uint(struct json *j, const char *key, uint64_t v);
void json_int(struct json *j, const char *key, int64_t v);
/* @v / 10^@decimals, exactly: json_fixed(j, "ts", 12345, 3) writes 12.345 */
void json_fixed(struct json *j, const char *key, uint64_t v, unsigned decimals);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
void json_string(struct json *j, const char *key, const char *s);
/* Ends the document with a newline. */
void json_finish(struct json *j);
/** json_escape() - @s as a JSON string literal, quotes included, on @out */
void json_escape(FILE *out, const char *s);

#endif
