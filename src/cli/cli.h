/* SPDX-License-Identifier: MIT */
/*
 * Entry points of the pvir subcommands. Each takes its own argv (argv[0] is
 * the subcommand's name), writes results to @out and diagnostics to @err, and
 * returns the process exit status: 0 success, 1 a run violated an invariant,
 * 2 bad usage or malformed input.
 */
#ifndef PVIR_CLI_H
#define PVIR_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pvir/host.h"
#include "pvir/sim.h"

#define CLI_EXIT_OK	   0
#define CLI_EXIT_VIOLATION 1
#define CLI_EXIT_USAGE	   2

/* The whole command line, argv[0] being the program: what main() runs. */
int cli_main(int argc, char **argv, FILE *out, FILE *err);
int cli_decode(int argc, char **argv, FILE *out, FILE *err);
/* The same, reading dumps given as "-" from @in instead of stdin. */
int cli_decode_stream(int argc, char **argv, FILE *in, FILE *out, FILE *err);
int cli_run(int argc, char **argv, FILE *out, FILE *err);
int cli_compare(int argc, char **argv, FILE *out, FILE *err);
int cli_bench(int argc, char **argv, FILE *out, FILE *err);

struct scenario;
struct cli_command;

/*
 * The options `pvir run` and `pvir compare` share, with their values. Their
 * getopt codes come first; a command numbers its own from CLI_OPT_OWN.
 */
enum cli_scenario_option {
	CLI_OPT_KERNEL = 256,
	CLI_OPT_SEED,
	CLI_OPT_JSON,
	CLI_OPT_TRACE,
	CLI_OPT_QUIET,
	CLI_OPT_TRACE_FORMAT,
	CLI_OPT_IOMMU,
	CLI_OPT_VECTORS,
	CLI_OPT_OWN,
};

/* Their entries of a struct option table (<getopt.h>). */
/* clang-format off */
#define CLI_SCENARIO_LONGOPTS                                \
	{"kernel", required_argument, NULL, CLI_OPT_KERNEL}, \
	{"seed", required_argument, NULL, CLI_OPT_SEED},     \
	{"json", no_argument, NULL, CLI_OPT_JSON},           \
	{"trace", required_argument, NULL, CLI_OPT_TRACE},   \
	{"quiet", no_argument, NULL, CLI_OPT_QUIET},         \
	{"trace-format", required_argument, NULL, CLI_OPT_TRACE_FORMAT}, \
	{"iommu", required_argument, NULL, CLI_OPT_IOMMU},   \
	{"vectors", required_argument, NULL, CLI_OPT_VECTORS}
/* clang-format on */

struct cli_scenario_opts {
	const char *file; /* NULL: the embedded default; "-": stdin */
	const char *trace;
	enum sim_trace_format trace_format;
	bool trace_format_set;
	bool json;
	bool quiet;
	bool iommu_set; /* --iommu: instead of the scenario's host.iommu.kind */
	enum host_iommu iommu;
	bool vectors_set; /* --vectors: instead of each VM's `vectors:` */
	bool vectors_at_alloc;
	struct sim_options sim;
};

/** cli_scenario_option() - take one shared option; Return: 0, or -EINVAL having said why */
int cli_scenario_option(const struct cli_command *c, int opt, const char *arg,
			struct cli_scenario_opts *o, FILE *err);
/** cli_scenario_operand() - at most one scenario after the options; -EINVAL if more */
int cli_scenario_operand(const struct cli_command *c, int argc, char **argv,
			 struct cli_scenario_opts *o, FILE *err);

/*
 * Shared by the subcommands that run scenarios; messages start "pvir @cmd: ".
 * @file NULL is the embedded default, "-" is stdin.
 */
int cli_load_scenario(const char *cmd, const char *file, struct scenario **ret, FILE *err);
/*
 * cli_heap_wants_huge_pages() - whether @sc's devices hold enough interrupts
 * for its machine to take its heap in huge pages
 */
bool cli_heap_wants_huge_pages(const struct scenario *sc);
/*
 * cli_heap_for() - if @sc wants them, asks for the heap in huge pages
 * (heap_prefer_huge_pages()), once a process: in the process that runs @sc,
 * before it builds
 */
void cli_heap_for(const struct scenario *sc);
/**
 * cli_scenario_load() - cli_load_scenario() of @o's file, on @o's --iommu if
 * given, then cli_heap_for() it
 */
int cli_scenario_load(const char *cmd, const struct cli_scenario_opts *o, struct scenario **ret,
		      FILE *err);
/** cli_parse_iommu() - --iommu's value; Return: 0, or -EINVAL having said why */
int cli_parse_iommu(const char *cmd, const char *s, enum host_iommu *ret, FILE *err);
/** cli_parse_kernel() - --kernel's value; Return: 0, or -EINVAL having said why on @err */
int cli_parse_kernel(const char *cmd, const char *s, enum host_kernel *ret, FILE *err);
int cli_parse_seed(const char *cmd, const char *s, uint64_t *ret, FILE *err);
struct sim_trace;
/*
 * --trace: nothing to do when @path is NULL; "-" is @out. Return: 0, or
 * -errno (said on @err).
 */
int cli_trace_open(const char *cmd, const struct cli_scenario_opts *o, struct sim_trace *t,
		   FILE *out, FILE *err);
int cli_trace_close(const char *cmd, const char *path, struct sim_trace *t, FILE *err);

#endif
