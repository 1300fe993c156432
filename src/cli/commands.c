// SPDX-License-Identifier: MIT
/* pvir's command line: a table of subcommands, and what comes before one. */
#include <string.h>

#include "cli.h"
#include "pvir/compiler.h"

#ifndef PVIR_VERSION
#error "meson.build defines PVIR_VERSION from the project's version"
#endif

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

static void usage(FILE *f)
{
	fprintf(f, "usage: pvir COMMAND [OPTIONS] [ARGS]\n"
		   "       pvir COMMAND --help\n"
		   "       pvir --version\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* `pvir help [COMMAND]`: the command's --help, or the list. */
static int help(int argc, char **argv, FILE *out, FILE *err)
{
	const struct command *c = argc > 1 ? find(argv[1]) : NULL;
	char flag[] = "--help", *args[] = {argv[argc > 1], flag, NULL};

	if (argc > 2 || (argc > 1 && !c)) {
		fprintf(err, "pvir help: no command '%s'\n", argv[argc - 1]);
		usage(err);
		return CLI_EXIT_USAGE;
	}
	if (!c) {
		usage(out);
		return CLI_EXIT_OK;
	}
	return c->run(2, args, out, err);
}

int cli_main(int argc, char **argv, FILE *out, FILE *err)
{
	const struct command *c;

	if (argc < 2) {
		usage(err);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		fprintf(out, "pvir %s\n", PVIR_VERSION);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(out);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "help"))
		return help(argc - 1, argv + 1, out, err);
	c = find(argv[1]);
	if (c)
		return c->run(argc - 1, argv + 1, out, err);
	fprintf(err, "pvir: unknown command '%s'\n", argv[1]);
	usage(err);
	return CLI_EXIT_USAGE;
}
