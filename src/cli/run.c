// SPDX-License-Identifier: MIT
/*
 * pvir run [SCENARIO.yaml] [--design hcall] [--seed N] [--json]
 *
 * Runs a scenario (the embedded default when none is given) and prints its
 * report. Exit status: 0 a sound run; 1 an invariant was violated (the report
 * says which); 2 bad usage or a bad scenario (file, line and key).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "pvir/scenario.h"
#include "pvir/sim.h"

struct run_opts {
	const char *file;
	bool json;
	struct sim_options sim;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pvir run [SCENARIO.yaml] [--design hcall] [--seed N] [--json]\n");
}

static int parse_design(const char *s, FILE *err)
{
	if (!strcmp(s, "hcall"))
		return 0;
	if (!strcmp(s, "trap") || !strcmp(s, "vir-emul") || !strcmp(s, "all"))
		fprintf(err,
			"pvir run: design '%s' is not built yet: trap and vir-emul come with "
			"the comparison (pvir compare); hcall runs today\n",
			s);
	else
		fprintf(err, "pvir run: unknown design '%s' (trap, vir-emul, hcall or all)\n", s);
	return -EINVAL;
}

static int parse_seed(const char *s, uint64_t *ret, FILE *err)
{
	char *end;

	errno = 0;
	*ret = strtoull(s, &end, 0);
	if (!*s || *end || errno || *s == '-') {
		fprintf(err, "pvir run: --seed '%s' is not a whole number\n", s);
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
		} else if (!strcmp(a, "--design") && has_value) {
			if (parse_design(argv[++i], err))
				return -EINVAL;
		} else if (!strcmp(a, "--seed") && has_value) {
			if (parse_seed(argv[++i], &o->sim.seed, err))
				return -EINVAL;
			o->sim.seed_set = true;
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

static int load(const struct run_opts *o, struct scenario **sc, FILE *err)
{
	char msg[SC_ERR_MAX];
	const char *text;
	int rc;

	if (o->file) {
		rc = scenario_load(o->file, sc, msg, sizeof(msg));
	} else {
		text = scenario_default_text();
		rc = scenario_parse(text, strlen(text), "default.yaml", sc, msg, sizeof(msg));
	}
	if (rc == -ENOMEM)
		fprintf(err, "pvir run: out of memory\n");
	else if (rc)
		fprintf(err, "pvir run: %s\n", msg);
	return rc;
}

int cli_run(int argc, char **argv, FILE *out, FILE *err)
{
	struct run_opts o = {0};
	struct scenario *sc;
	struct sim_report r;
	int rc;

	if (parse_args(argc, argv, &o, err) || load(&o, &sc, err))
		return CLI_EXIT_USAGE;
	rc = sim_run(sc, SIM_DESIGN_HCALL, &o.sim, &r);
	if (rc) {
		fprintf(err, "pvir run: %s\n", r.nviolations ? r.violations[0] : "out of memory");
		sim_report_done(&r);
		scenario_free(sc);
		return CLI_EXIT_USAGE;
	}
	if (o.json)
		report_json(out, sc, &r, 1);
	else
		report_text(out, sc, &r);
	for (unsigned i = 0; i < r.nviolations; i++)
		fprintf(err, "pvir run: invariant violated: %s\n", r.violations[i]);
	rc = r.nviolations ? CLI_EXIT_VIOLATION : CLI_EXIT_OK;
	sim_report_done(&r);
	scenario_free(sc);
	return rc;
}
