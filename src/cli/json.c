// SPDX-License-Identifier: MIT
#include "json.h"

#include <assert.h>
#include <inttypes.h>

void json_init(struct json *j, FILE *out)
{
	*j = (struct json){.out = out};
}

static void write_escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* Comma and key before a value at the current level. */
static void prefix(struct json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	j->need_comma[j->depth] = true;
	if (key) {
		write_escaped(j->out, key);
		fputc(':', j->out);
	}
}

static void container_open(struct json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->out);
	assert(j->depth + 1 < JSON_MAX_DEPTH);
	j->need_comma[++j->depth] = false;
}

static void container_close(struct json *j, char c)
{
	assert(j->depth > 0);
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

void json_string(struct json *j, const char *key, const char *s)
{
	prefix(j, key);
	write_escaped(j->out, s);
}

void json_finish(struct json *j)
{
	assert(j->depth == 0);
	fputc('\n', j->out);
}
