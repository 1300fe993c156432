// SPDX-License-Identifier: MIT
/*
 * pvir run: a scenario (the embedded default when none is given) under one
 * design, or all three one after the other, and the report of each. Exit
 * status: 0 a sound run; 1 an invariant was violated (the report says which);
 * 2 bad usage or a bad scenario (file, line and key).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "progress.h"
#include "report.h"
#include "pvir/scenario.h"
#include "pvir/sim.h"
#include "pvir/zmem.h"

struct run_opts {
	struct cli_scenario_opts s;
	bool design_set;
	bool designs[SIM_DESIGN_COUNT];
};

#define OPT_DESIGN CLI_OPT_OWN

static const struct option run_longopts[] = {
    CLI_SCENARIO_LONGOPTS,
    {"design", required_argument, NULL, OPT_DESIGN},
    {0},
};

static const struct cli_command run_command = {
    .name = "run",
    .synopsis = "pvir run [OPTIONS] [SCENARIO.yaml | -]",
    .help = "Runs a scenario, the embedded default when none is given (- reads it from\n"
	    "stdin), and prints the report.\n"
	    "\n"
	    "  --design=DESIGN  trap, vir-emul, hcall (the default) or all\n"
	    "  --kernel=KERNEL  the host kernel: legacy, stock or tuned (else the\n"
	    "                   scenario's host.kernel, stock by default)\n"
	    "  --iommu=IOMMU    vtd or amdvi, instead of the scenario's host.iommu.kind\n"
	    "  --vectors=WHEN   at_request (Linux's reservation mode) or at_alloc, where\n"
	    "                   every guest takes MSI-X and MSI vectors, instead of each\n"
	    "                   VM's vectors:\n"
	    "  --seed=N         the random seed, instead of the scenario's\n"
	    "  --json           the report as one JSON object\n"
	    "  --trace=FILE     a Chrome/Perfetto trace of the run; - writes it to stdout,\n"
	    "                   and the report then goes to stderr\n"
	    "  --trace-format=F json (the default) or text: one line per event, named\n"
	    "                   like QEMU's and KVM's tracepoints\n"
	    "  --quiet          no progress line\n"
	    "  -h, --help       this text\n"
	    "\n"
	    "Exit status: 0 a sound run, 1 an invariant was violated, 2 bad usage or a\n"
	    "bad scenario.\n",
    .longopts = run_longopts,
};

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

int cli_trace_open(const char *cmd, const struct cli_scenario_opts *o, struct sim_trace *t,
		   FILE *out, FILE *err)
{
	int rc = 0;

	if (o->trace_format_set && !o->trace) {
		fprintf(err, "pvir %s: --trace-format without --trace; add --trace=FILE\n", cmd);
		return -EINVAL;
	}
	if (o->trace && !strcmp(o->trace, "-"))
		sim_trace_open_stream(t, out, o->trace_format);
	else if (o->trace)
		rc = sim_trace_open(t, o->trace, o->trace_format);
	if (rc)
		fprintf(err, "pvir %s: --trace %s: %s\n", cmd, o->trace, strerror(-rc));
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

int cli_scenario_option(const struct cli_command *c, int opt, const char *arg,
			struct cli_scenario_opts *o, FILE *err)
{
	switch (opt) {
	case CLI_OPT_KERNEL:
		if (!cli_once(c, "--kernel", &o->sim.kernel_set, err))
			return -EINVAL;
		return cli_parse_kernel(c->name, arg, &o->sim.kernel, err);
	case CLI_OPT_SEED:
		if (!cli_once(c, "--seed", &o->sim.seed_set, err))
			return -EINVAL;
		return cli_parse_seed(c->name, arg, &o->sim.seed, err);
	case CLI_OPT_TRACE:
		return cli_once_string(c, "--trace", arg, &o->trace, err) ? 0 : -EINVAL;
	case CLI_OPT_TRACE_FORMAT:
		if (!cli_once(c, "--trace-format", &o->trace_format_set, err))
			return -EINVAL;
		if (!strcmp(arg, "json") || !strcmp(arg, "text")) {
			o->trace_format = !strcmp(arg, "text") ? SIM_TRACE_TEXT : SIM_TRACE_JSON;
			return 0;
		}
		fprintf(err, "pvir %s: --trace-format '%s' is not json or text\n", c->name, arg);
		return -EINVAL;
	case CLI_OPT_IOMMU:
		if (!cli_once(c, "--iommu", &o->iommu_set, err))
			return -EINVAL;
		return cli_parse_iommu(c->name, arg, &o->iommu, err);
	case CLI_OPT_VECTORS:
		if (!cli_once(c, "--vectors", &o->vectors_set, err))
			return -EINVAL;
		if (!strcmp(arg, "at_request") || !strcmp(arg, "at_alloc")) {
			o->vectors_at_alloc = !strcmp(arg, "at_alloc");
			return 0;
		}
		fprintf(err, "pvir %s: --vectors '%s' is not at_request or at_alloc\n", c->name,
			arg);
		return -EINVAL;
	case CLI_OPT_JSON:
		o->json = true;
		return 0;
	case CLI_OPT_QUIET:
		o->quiet = true;
		return 0;
	default:
		return -EINVAL;
	}
}

int cli_scenario_operand(const struct cli_command *c, int argc, char **argv,
			 struct cli_scenario_opts *o, FILE *err)
{
	if (argc - optind > 1) {
		fprintf(err, "pvir %s: one scenario at a time, not '%s' and '%s'\n", c->name,
			argv[optind], argv[optind + 1]);
		cli_usage(c, err);
		return -EINVAL;
	}
	o->file = optind < argc ? argv[optind] : NULL;
	return 0;
}

/* --design, once: one design or all. Return: 0, or -EINVAL having said why. */
static int design_option(const char *arg, struct run_opts *o, FILE *err)
{
	if (o->design_set) {
		fprintf(err, "pvir run: --design given twice; give it once "
			     "(--design=all runs the three)\n");
		return -EINVAL;
	}
	o->design_set = true;
	return parse_design(arg, o->designs, err);
}

/* Return: 0 to run, CLI_OPT_HELP (help printed), or -EINVAL (said why). */
static int parse_args(int argc, char **argv, struct run_opts *o, FILE *out, FILE *err)
{
	int opt, rc;

	cli_options_begin();
	while ((opt = cli_option(&run_command, argc, argv, out, err)) != CLI_OPT_END) {
		if (opt == CLI_OPT_HELP || opt == CLI_OPT_ERROR)
			return opt == CLI_OPT_HELP ? CLI_OPT_HELP : -EINVAL;
		rc = opt == OPT_DESIGN ? design_option(optarg, o, err)
				       : cli_scenario_option(&run_command, opt, optarg, &o->s, err);
		if (rc)
			return rc;
	}
	return cli_scenario_operand(&run_command, argc, argv, &o->s, err);
}

/*
 * A machine of many interrupts takes its heap in transparent huge pages. At
 * some 850 bytes of host, KVM, VFIO, guest and device state an interrupt,
 * fleet.yaml's 65,535 take about 55 MiB: 13,000 faults of 4 KiB, some 7 to
 * 10 us each in a VM, where 2 MiB pages need under thirty. Below
 * HUGE_HEAP_VECTORS the heap is a few MiB, and a 2 MiB page would only round
 * the peak RSS up. The reserve is address space, paid for on touch; it is
 * asked for once a process.
 */
#define HUGE_HEAP_VECTORS 8192
#define HEAP_RESERVE	  ((size_t)256 << 20)

bool cli_heap_wants_huge_pages(const struct scenario *sc)
{
	unsigned vectors = 0;

	for (unsigned i = 0; i < sc->nvms; i++)
		for (unsigned d = 0; d < sc->vms[i].ndevs; d++)
			vectors += sc_device_vectors(&sc->vms[i].devs[d]);
	return vectors >= HUGE_HEAP_VECTORS;
}

void cli_heap_for(const struct scenario *sc)
{
	static bool asked;

	if (!asked && cli_heap_wants_huge_pages(sc)) {
		asked = true;
		(void)heap_prefer_huge_pages(HEAP_RESERVE);
	}
}

int cli_load_scenario(const char *cmd, const char *file, struct scenario **sc, FILE *err)
{
	char msg[SC_ERR_MAX];
	const char *text;
	int rc;

	if (file && !strcmp(file, "-")) {
		rc = scenario_read(stdin, "<stdin>", sc, msg, sizeof(msg));
	} else if (file) {
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

int cli_parse_iommu(const char *cmd, const char *s, enum host_iommu *ret, FILE *err)
{
	if (!strcmp(s, "vtd") || !strcmp(s, "amdvi")) {
		*ret = !strcmp(s, "amdvi") ? HOST_IOMMU_AMDVI : HOST_IOMMU_VTD;
		return 0;
	}
	fprintf(err, "pvir %s: --iommu '%s' is not vtd or amdvi\n", cmd, s);
	return -EINVAL;
}

int cli_scenario_load(const char *cmd, const struct cli_scenario_opts *o, struct scenario **ret,
		      FILE *err)
{
	char msg[SC_ERR_MAX];
	int rc = cli_load_scenario(cmd, o->file, ret, err);

	if (!rc)
		cli_heap_for(*ret);
	if (!rc && o->vectors_set)
		scenario_set_vectors(*ret, o->vectors_at_alloc);
	if (rc || !o->iommu_set)
		return rc;
	rc = scenario_set_iommu(*ret, o->iommu, msg, sizeof(msg));
	if (rc) {
		fprintf(err, "pvir %s: --iommu: %s\n", cmd, msg);
		scenario_free(*ret);
	}
	return rc;
}

int cli_run(int argc, char **argv, FILE *out, FILE *err)
{
	struct run_opts o = {.designs[SIM_DESIGN_HCALL] = true};
	struct sim_report r[SIM_DESIGN_COUNT];
	struct sim_trace trace = {0};
	struct progress progress;
	struct scenario *sc;
	FILE *report = out;
	unsigned n = 0;
	int rc = parse_args(argc, argv, &o, out, err);

	if (rc)
		return rc == CLI_OPT_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (cli_scenario_load("run", &o.s, &sc, err))
		return CLI_EXIT_USAGE;
	if (cli_trace_open("run", &o.s, &trace, out, err)) {
		scenario_free(sc);
		return CLI_EXIT_USAGE;
	}
	if (o.s.trace && !strcmp(o.s.trace, "-"))
		report = err; /* stdout carries the trace */
	o.s.sim.trace = o.s.trace ? &trace : NULL;
	progress_init(&progress, o.s.quiet, err);
	progress_attach(&progress, &o.s.sim);
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		if (!o.designs[d])
			continue;
		if (sim_run(sc, (enum sim_design)d, &o.s.sim, &r[n])) {
			fprintf(err, "pvir run: %s\n",
				r[n].nviolations ? r[n].violations[0] : "out of memory");
			sim_report_done(&r[n]);
			rc = CLI_EXIT_USAGE;
			break;
		}
		n++;
	}
	progress_done(&progress);
	if (cli_trace_close("run", o.s.trace, &trace, err))
		rc = CLI_EXIT_USAGE;
	if (rc == CLI_EXIT_OK && o.s.json)
		report_json(report, sc, r, n);
	for (unsigned i = 0; rc == CLI_EXIT_OK && !o.s.json && i < n; i++) {
		if (i)
			fputc('\n', report);
		if (report_text(report, sc, &r[i])) {
			fprintf(err, "pvir run: out of memory\n");
			rc = CLI_EXIT_USAGE;
		}
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
