/* SPDX-License-Identifier: MIT */
/*
 * Entry points of the pvir subcommands. Each takes its own argv (argv[0] is
 * the subcommand's name), writes results to @out and diagnostics to @err, and
 * returns the process exit status: 0 success, 1 a run violated an invariant,
 * 2 bad usage or malformed input.
 */
#ifndef PVIR_CLI_H
#define PVIR_CLI_H

#include <stdio.h>

#define CLI_EXIT_OK	   0
#define CLI_EXIT_VIOLATION 1
#define CLI_EXIT_USAGE	   2

int cli_decode(int argc, char **argv, FILE *out, FILE *err);
int cli_run(int argc, char **argv, FILE *out, FILE *err);

#endif
