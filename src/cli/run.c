// SPDX-License-Identifier: MIT
/*
 * pvir run [SCENARIO.yaml] [--design trap|vir-emul|hcall|all] [--kernel legacy|stock|tuned]
 *          [--seed N] [--json]
 *          [--trace FILE] [--quiet]
 *
 * Runs a scenario (the embedded default when none is given) under one design,
 * or all three one after the other, and prints the report of each. Exit status: 0 a sound run; 1 an invariant was violated (the report
 * says which); 2 bad usage or a bad scenario (file, line and key).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "progress.h"
#include "report.h"
#include "pvir/scenario.h"
#include "pvir/sim.h"

struct run_opts {
	const char *file;
	const char *trace;
	bool json;
	bool quiet;
	bool designs[SIM_DESIGN_COUNT];
	struct sim_options sim;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pvir run [SCENARIO.yaml] [--design trap|vir-emul|hcall|all] "
		   "[--kernel legacy|stock|tuned] [--seed N] "
		   "[--json] [--trace FILE] [--quiet]\n");
}

static int parse_design(const char *s, bool designs[SIM_DESIGN_COUNT], FILE *err)
{
	enum sim_design d;

	memset(designs, 0, SIM_DESIGN_COUNT * sizeof(*designs));
	if (!strcmp(s, "all")) {
		for (unsigned i = 0; i < SIM_DESIGN_COUNT; i++)
			designs[i] = true;
		return 0;
	}
	if (!sim_design_parse(s, &d)) {
		fprintf(err, "pvir run: unknown design '%s' (trap, vir-emul, hcall or all)\n", s);
		return -EINVAL;
	}
	designs[d] = true;
	return 0;
}

int cli_trace_open(const char *cmd, const char *path, struct sim_trace *t, FILE *err)
{
	int rc = path ? sim_trace_open(t, path) : 0;

	if (rc)
		fprintf(err, "pvir %s: --trace %s: %s\n", cmd, path, strerror(-rc));
	return rc;
}

int cli_trace_close(const char *cmd, const char *path, struct sim_trace *t, FILE *err)
{
	int rc = path ? sim_trace_close(t) : 0;

	if (rc)
		fprintf(err, "pvir %s: --trace %s: %s\n", cmd, path, strerror(-rc));
	return rc;
}

int cli_parse_kernel(const char *cmd, const char *s, enum host_kernel *ret, FILE *err)
{
	if (host_kernel_parse(s, ret))
		return 0;
	fprintf(err, "pvir %s: --kernel '%s' is not legacy, stock or tuned\n", cmd, s);
	return -EINVAL;
}

int cli_parse_seed(const char *cmd, const char *s, uint64_t *ret, FILE *err)
{
	char *end;

	errno = 0;
	*ret = strtoull(s, &end, 0);
	if (!*s || *end || errno || *s == '-') {
		fprintf(err, "pvir %s: --seed '%s' is not a whole number\n", cmd, s);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct run_opts *o, FILE *err)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;

		if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--quiet")) {
			o->quiet = true;
		} else if (!strcmp(a, "--trace") && has_value) {
			o->trace = argv[++i];
		} else if (!strcmp(a, "--design") && has_value) {
			if (parse_design(argv[++i], o->designs, err))
				return -EINVAL;
		} else if (!strcmp(a, "--seed") && has_value) {
			if (cli_parse_seed("run", argv[++i], &o->sim.seed, err))
				return -EINVAL;
			o->sim.seed_set = true;
		} else if (!strcmp(a, "--kernel") && has_value) {
			if (cli_parse_kernel("run", argv[++i], &o->sim.kernel, err))
				return -EINVAL;
			o->sim.kernel_set = true;
		} else if (a[0] == '-' || o->file) {
			fprintf(err, "pvir run: unexpected '%s'\n", a);
			usage(err);
			return -EINVAL;
		} else {
			o->file = a;
		}
	}
	return 0;
}

int cli_load_scenario(const char *cmd, const char *file, struct scenario **sc, FILE *err)
{
	char msg[SC_ERR_MAX];
	const char *text;
	int rc;

	if (file) {
		rc = scenario_load(file, sc, msg, sizeof(msg));
	} else {
		text = scenario_default_text();
		rc = scenario_parse(text, strlen(text), "default.yaml", sc, msg, sizeof(msg));
	}
	if (rc == -ENOMEM)
		fprintf(err, "pvir %s: out of memory\n", cmd);
	else if (rc)
		fprintf(err, "pvir %s: %s\n", cmd, msg);
	return rc;
}

int cli_run(int argc, char **argv, FILE *out, FILE *err)
{
	struct run_opts o = {.designs[SIM_DESIGN_HCALL] = true};
	struct sim_report r[SIM_DESIGN_COUNT];
	struct sim_trace trace = {0};
	struct progress progress;
	struct scenario *sc;
	unsigned n = 0;
	int rc = CLI_EXIT_OK;

	if (parse_args(argc, argv, &o, err) || cli_load_scenario("run", o.file, &sc, err))
		return CLI_EXIT_USAGE;
	if (cli_trace_open("run", o.trace, &trace, err)) {
		scenario_free(sc);
		return CLI_EXIT_USAGE;
	}
	o.sim.trace = o.trace ? &trace : NULL;
	progress_init(&progress, o.quiet, err);
	progress_attach(&progress, &o.sim);
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		if (!o.designs[d])
			continue;
		if (sim_run(sc, (enum sim_design)d, &o.sim, &r[n])) {
			fprintf(err, "pvir run: %s\n",
				r[n].nviolations ? r[n].violations[0] : "out of memory");
			sim_report_done(&r[n]);
			rc = CLI_EXIT_USAGE;
			break;
		}
		n++;
	}
	progress_done(&progress);
	if (cli_trace_close("run", o.trace, &trace, err))
		rc = CLI_EXIT_USAGE;
	if (rc == CLI_EXIT_OK && o.json)
		report_json(out, sc, r, n);
	for (unsigned i = 0; rc == CLI_EXIT_OK && !o.json && i < n; i++) {
		if (i)
			fputc('\n', out);
		report_text(out, sc, &r[i]);
	}
	for (unsigned i = 0; i < n; i++) {
		for (unsigned v = 0; v < r[i].nviolations; v++)
			fprintf(err, "pvir run: %s: invariant violated: %s\n",
				sim_design_name(r[i].design), r[i].violations[v]);
		if (rc == CLI_EXIT_OK && r[i].nviolations)
			rc = CLI_EXIT_VIOLATION;
		sim_report_done(&r[i]);
	}
	scenario_free(sc);
	return rc;
}
