/* SPDX-License-Identifier: MIT */
/*
 * A streaming JSON writer for the CLI's reports: objects, arrays, numbers and
 * strings, written as they come so nothing is held in memory. It tracks only
 * whether a comma is due at each nesting level.
 */
#ifndef PVIR_CLI_JSON_H
#define PVIR_CLI_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *out;
	unsigned depth;
	bool need_comma[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *out);
/* @key is NULL inside arrays and for the top-level value. */
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_uint(struct json *j, const char *key, uint64_t v);
void json_int(struct json *j, const char *key, int64_t v);
void json_string(struct json *j, const char *key, const char *s);
/* Ends the document with a newline. */
void json_finish(struct json *j);

#endif
