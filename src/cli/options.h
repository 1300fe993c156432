/* SPDX-License-Identifier: MIT */
/*
 * Command-line options the way users expect them, for every subcommand:
 * getopt_long underneath, so options go anywhere among the operands,
 * `--opt=value` and `--opt value` both work, `--` ends the options, and a
 * unique prefix of a long option is that option. Messages are our own and
 * go to the subcommand's @err: they name the option and what to do.
 */
#ifndef PVIR_CLI_OPTIONS_H
#define PVIR_CLI_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

/* What cli_option() returns besides an option's value. */
#define CLI_OPT_END   (-1) /* no more options: the operands are argv[optind..] */
#define CLI_OPT_HELP  (-2) /* -h or --help: printed on @out */
#define CLI_OPT_ERROR (-3) /* bad usage: said on @err */

struct cli_command {
	const char *name;	       /* "run": messages start "pvir run: " */
	const char *synopsis;	       /* usage lines, each after "usage: " or aligned under it */
	const char *help;	       /* what it does and its options, for --help */
	const struct option *longopts; /* ends with {0}; -h/--help is added */
};

/* Before the first cli_option() of a command line: getopt_long starts afresh. */
void cli_options_begin(void);
/** cli_option() - the next option of @argv, whose argv[0] is the subcommand */
int cli_option(const struct cli_command *c, int argc, char **argv, FILE *out, FILE *err);
/* "usage: ..." and where to find more, after an error. */
void cli_usage(const struct cli_command *c, FILE *err);
/* An option given a second time is an error, not a silent override. */
bool cli_once(const struct cli_command *c, const char *option, bool *seen, FILE *err);
/* The same for an option whose value is kept in *@slot (NULL until given). */
bool cli_once_string(const struct cli_command *c, const char *option, const char *arg,
		     const char **slot, FILE *err);

#endif
