/* SPDX-License-Identifier: MIT */
/*
 * Entry points of the pvir subcommands. Each takes its own argv (argv[0] is
 * the subcommand's name), writes results to @out and diagnostics to @err, and
 * returns the process exit status: 0 success, 1 a run violated an invariant,
 * 2 bad usage or malformed input.
 */
#ifndef PVIR_CLI_H
#define PVIR_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "pvir/host.h"

#define CLI_EXIT_OK	   0
#define CLI_EXIT_VIOLATION 1
#define CLI_EXIT_USAGE	   2

int cli_decode(int argc, char **argv, FILE *out, FILE *err);
int cli_run(int argc, char **argv, FILE *out, FILE *err);
int cli_compare(int argc, char **argv, FILE *out, FILE *err);
int cli_bench(int argc, char **argv, FILE *out, FILE *err);

struct scenario;

/* Shared by the subcommands that run scenarios; messages start "pvir @cmd: ". */
int cli_load_scenario(const char *cmd, const char *file, struct scenario **ret, FILE *err);
/** cli_parse_kernel() - --kernel's value; Return: 0, or -EINVAL having said why on @err */
int cli_parse_kernel(const char *cmd, const char *s, enum host_kernel *ret, FILE *err);
int cli_parse_seed(const char *cmd, const char *s, uint64_t *ret, FILE *err);
struct sim_trace;
/* --trace: nothing to do when @path is NULL; Return: 0, or -errno (said on @err) */
int cli_trace_open(const char *cmd, const char *path, struct sim_trace *t, FILE *err);
int cli_trace_close(const char *cmd, const char *path, struct sim_trace *t, FILE *err);

#endif
