// SPDX-License-Identifier: MIT
/*
 * `pvir decode`. The input is a command line, its words separated by NUL
 * or newline bytes and "decode" put in front: options, a format and values
 * as a user would paste them; the same bytes are its stdin, for "-".
 * Whatever the words, decode answers with exit 0 (decoded), 1 (decoded
 * with warnings, --strict) or 2 (usage, with a message), never anything
 * else and never a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 16

static FILE *sink(void)
{
	static FILE *null;

	if (!null)
		null = fopen("/dev/null", "w");
	if (!null)
		abort();
	return null;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char empty[1];
	char *text = malloc(size + 1);
	char *argv[MAX_WORDS + 1] = {"decode"};
	int argc = 1, rc;
	FILE *in;

	if (!text)
		return 0;
	in = size ? fmemopen((void *)data, size, "r") : fmemopen(empty, sizeof(empty), "r");
	if (!in) {
		free(text);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0, start = 0; i <= size && argc < MAX_WORDS; i++)
		if (i == size || text[i] == '\0' || text[i] == '\n') {
			text[i] = '\0';
			argv[argc++] = text + start;
			start = i + 1;
		}
	argv[argc] = NULL;
	rc = cli_decode_stream(argc, argv, in, sink(), sink());
	fclose(in);
	if (rc != CLI_EXIT_OK && rc != CLI_EXIT_VIOLATION && rc != CLI_EXIT_USAGE) {
		fprintf(stderr, "fuzz_decode: exit %d\n", rc);
		abort();
	}
	free(text);
	return 0;
}
