// SPDX-License-Identifier: MIT
/*
 * `pvir decode`. The input is a command line, its words separated by NUL
 * or newline bytes and "decode" put in front: options, a format and values
 * as a user would paste them. Whatever the words, decode answers with
 * exit 0 (decoded) or 2 (usage, with a message), never anything else and
 * never a crash; in JSON mode what it prints is one line.
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
	char *text = malloc(size + 1);
	char *argv[MAX_WORDS + 1] = {"decode"};
	int argc = 1, rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0, start = 0; i <= size && argc < MAX_WORDS; i++)
		if (i == size || text[i] == '\0' || text[i] == '\n') {
			text[i] = '\0';
			argv[argc++] = text + start;
			start = i + 1;
		}
	argv[argc] = NULL;
	rc = cli_decode(argc, argv, sink(), sink());
	if (rc != CLI_EXIT_OK && rc != CLI_EXIT_USAGE) {
		fprintf(stderr, "fuzz_decode: exit %d\n", rc);
		abort();
	}
	free(text);
	return 0;
}
