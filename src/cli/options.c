// SPDX-License-Identifier: MIT
#include "options.h"

#include <string.h>

#define MAX_LONGOPTS 24

void cli_options_begin(void)
{
	optind = 0; /* glibc: 0 also resets its scanning and permutation state */
	opterr = 0; /* our messages, on the subcommand's stream */
}

void cli_usage(const struct cli_command *c, FILE *err)
{
	fprintf(err, "usage: %s\nTry 'pvir %s --help' for more.\n", c->synopsis, c->name);
}

static void help(const struct cli_command *c, FILE *out)
{
	fprintf(out, "usage: %s\n\n%s", c->synopsis, c->help);
}

/* @longopts and --help, for getopt_long. Return: false if there are too many. */
static bool with_help(const struct option *longopts, struct option *all)
{
	size_t n = 0;

	while (longopts[n].name) {
		if (n + 2 >= MAX_LONGOPTS)
			return false;
		all[n] = longopts[n];
		n++;
	}
	all[n++] = (struct option){"help", no_argument, NULL, 'h'};
	all[n] = (struct option){0};
	return true;
}

/* The option as the user wrote it, without any "=value". */
static void written(const char *arg, char *buf, size_t size)
{
	size_t len = strcspn(arg, "=");

	snprintf(buf, size, "%.*s", (int)(len < size ? len : size - 1), arg);
}

int cli_option(const struct cli_command *c, int argc, char **argv, FILE *out, FILE *err)
{
	struct option all[MAX_LONGOPTS];
	char name[64];
	int v;

	if (!with_help(c->longopts, all))
		return CLI_OPT_ERROR; /* a table too long for this file: a bug caught by tests */
	v = getopt_long(argc, argv, ":h", all, NULL);
	switch (v) {
	case -1:
		return CLI_OPT_END;
	case 'h':
		help(c, out);
		return CLI_OPT_HELP;
	case ':':
		written(argv[optind - 1], name, sizeof(name));
		fprintf(err, "pvir %s: option '%s' requires an argument\n", c->name, name);
		cli_usage(c, err);
		return CLI_OPT_ERROR;
	case '?':
		written(argv[optind - 1], name, sizeof(name));
		if (optopt && strchr(argv[optind - 1], '='))
			fprintf(err, "pvir %s: option '%s' takes no argument\n", c->name, name);
		else
			fprintf(err, "pvir %s: unknown option '%s'\n", c->name, name);
		cli_usage(c, err);
		return CLI_OPT_ERROR;
	default:
		return v;
	}
}

bool cli_once(const struct cli_command *c, const char *option, bool *seen, FILE *err)
{
	if (*seen) {
		fprintf(err, "pvir %s: %s given twice; give it once\n", c->name, option);
		return false;
	}
	*seen = true;
	return true;
}

bool cli_once_string(const struct cli_command *c, const char *option, const char *arg,
		     const char **slot, FILE *err)
{
	bool seen = *slot != NULL;

	if (!cli_once(c, option, &seen, err))
		return false;
	*slot = arg;
	return true;
}
