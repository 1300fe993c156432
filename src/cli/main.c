// SPDX-License-Identifier: MIT
/* The pvir program: a table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pvir/compiler.h"

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv, FILE *out, FILE *err);
};

static const struct command commands[] = {
    {"run", "run a scenario (the default one when none is given) and report", cli_run},
    {"compare", "the same scenario under trap, vir-emul and hcall, one table with ratios",
     cli_compare},
    {"decode", "decode an IRTE, an MSI message or a posted-interrupt descriptor", cli_decode},
    {"bench", "what the simulator costs per interrupt, as ratios to calibration loops", cli_bench},
};

static int usage(FILE *f)
{
	fprintf(f, "usage: pvir COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1, stdout, stderr);
	fprintf(stderr, "pvir: unknown command '%s'\n", argv[1]);
	return usage(stderr);
}
