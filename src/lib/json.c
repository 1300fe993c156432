// SPDX-License-Identifier: MIT
#include "pvir/json.h"

#include <inttypes.h>

void json_init(struct json *j, FILE *out)
{
	*j = (struct json){.out = out};
}

void json_break_at(struct json *j, unsigned depth)
{
	j->break_depth = depth;
}

void json_escape(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out); /* UTF-8 passes through as it is */
	}
	fputc('"', out);
}

/* Comma, line break and key before a value at the current level. */
static void prefix(struct json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	if (j->break_depth && j->depth == j->break_depth)
		fputc('\n', j->out);
	j->need_comma[j->depth] = true;
	if (key) {
		json_escape(j->out, key);
		fputc(':', j->out);
	}
}

/* Nesting deeper than JSON_MAX_DEPTH is a caller's bug; the output then flattens. */
static void container_open(struct json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->out);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->need_comma[++j->depth] = false;
}

static void container_close(struct json *j, char c)
{
	if (j->break_depth && j->depth == j->break_depth && j->need_comma[j->depth])
		fputc('\n', j->out);
	if (j->depth > 0)
		j->depth--;
	fputc(c, j->out);
}

void json_object_begin(struct json *j, const char *key)
{
	container_open(j, key, '{');
}

void json_object_end(struct json *j)
{
	container_close(j, '}');
}

void json_array_begin(struct json *j, const char *key)
{
	container_open(j, key, '[');
}

void json_array_end(struct json *j)
{
	container_close(j, ']');
}

void json_uint(struct json *j, const char *key, uint64_t v)
{
	prefix(j, key);
	fprintf(j->out, "%" PRIu64, v);
}

void json_int(struct json *j, const char *key, int64_t v)
{
	prefix(j, key);
	fprintf(j->out, "%" PRId64, v);
}

void json_fixed(struct json *j, const char *key, uint64_t v, unsigned decimals)
{
	uint64_t scale = 1;

	for (unsigned i = 0; i < decimals && i < 19; i++)
		scale *= 10;
	prefix(j, key);
	if (scale == 1)
		fprintf(j->out, "%" PRIu64, v);
	else
		fprintf(j->out, "%" PRIu64 ".%0*" PRIu64, v / scale, (int)decimals, v % scale);
}

void json_bool(struct json *j, const char *key, bool v)
{
	prefix(j, key);
	fputs(v ? "true" : "false", j->out);
}

void json_null(struct json *j, const char *key)
{
	prefix(j, key);
	fputs("null", j->out);
}

void json_string(struct json *j, const char *key, const char *s)
{
	prefix(j, key);
	json_escape(j->out, s);
}

void json_finish(struct json *j)
{
	fputc('\n', j->out);
}
