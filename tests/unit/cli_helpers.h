/* SPDX-License-Identifier: MIT */
/* Calling a subcommand in a test, with its output and diagnostics captured. */
#ifndef PVIR_TEST_CLI_HELPERS_H
#define PVIR_TEST_CLI_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "test.h"

struct cli_out {
	int rc;
	char *out;
	char *err;
};

static inline struct cli_out cli_call(int (*cmd)(int, char **, FILE *, FILE *), int argc,
				      char **argv)
{
	struct cli_out r = {0};
	size_t ol, el;
	FILE *out = open_memstream(&r.out, &ol), *err = open_memstream(&r.err, &el);

	r.rc = cmd(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static inline void cli_free(struct cli_out *r)
{
	free(r->out);
	free(r->err);
}

static inline char *read_source_file(const char *name)
{
	const char *dir = getenv("PVIR_SCENARIOS");
	char path[512], *buf;
	FILE *f;
	long len;

	if (!dir)
		fail_msg("PVIR_SCENARIOS is not set (meson test sets it)");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

/* @text in a new file at @path, a mkstemp() template: a scenario for a command to read. */
static inline void temp_scenario(char *path, const char *text)
{
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* The README's code block that starts with the line @cmd holds exactly @out. */
static inline void assert_readme_block(const char *cmd, const char *out)
{
	char *readme = read_source_file("../README.md"), *start, *end;
	char head[64];

	snprintf(head, sizeof(head), "\n%s\n", cmd);
	start = strstr(readme, head);
	assert_non_null(start);
	start += strlen(head);
	end = strstr(start, "```");
	assert_non_null(end);
	*end = '\0';
	assert_string_equal(start, out);
	free(readme);
}

#endif
