// SPDX-License-Identifier: MIT
/*
 * pvir compare: the same scenario and seed under trap, vir-emul and hcall, in
 * one table: what each interrupt operation cost (exits by reason, route
 * commits — exact counts — and modelled time with its ratio to hcall), exits
 * per 1,000 delivered interrupts, latency percentiles, and the accounting
 * that must hold in every design. --json gives the docs/design.md §8 report
 * with all three.
 *
 * --kernel runs the host kernel setting given instead of the scenario's
 * (host.kernel, stock by default); `all` runs the three and prints, for each
 * operation, each design's modelled time under each.
 *
 * --sweep runs one VM activating N MSI-X vectors (2048 per function, as many
 * functions as it takes) at each size, under all three designs, so that the
 * growth with N — and the 4096-route limit of the emulating designs — shows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "progress.h"
#include "report.h"
#include "pvir/scenario.h"
#include "pvir/sim.h"

#define MAX_SWEEP	 16
#define SWEEP_PER_FUNC	 2048u
#define SWEEP_MAX	 60000u /* the host IR table holds 65535 */
#define VECTORS_PER_VCPU 190u	/* of Linux's 203, a little room */
#define COL		 "%16s"

struct compare_opts {
	struct cli_scenario_opts s;
	bool all_kernels;
	unsigned sweep[MAX_SWEEP];
	unsigned nsweep;
};

#define OPT_SWEEP CLI_OPT_OWN

static const struct option compare_longopts[] = {
    CLI_SCENARIO_LONGOPTS,
    {"sweep", required_argument, NULL, OPT_SWEEP},
    {0},
};

static const struct cli_command compare_command = {
    .name = "compare",
    .synopsis = "pvir compare [OPTIONS] [SCENARIO.yaml | -]\n"
		"       pvir compare --sweep=N,N,... [--kernel=KERNEL] [--json] [--quiet]",
    .help = "Runs one scenario (the embedded default when none is given; - reads it\n"
	    "from stdin) under trap, vir-emul and hcall, and prints one table with the\n"
	    "ratio of each design to hcall. With --sweep, sets up N MSI-X vectors in one\n"
	    "VM instead, for each N, and prints the setup cost of each design.\n"
	    "\n"
	    "  --kernel=KERNEL  the host kernel: legacy, stock, tuned, or all (each\n"
	    "                   operation under the three, side by side)\n"
	    "  --seed=N         the random seed, instead of the scenario's\n"
	    "  --json           the report as one JSON object\n"
	    "  --sweep=N,N,...  up to 16 sizes from 1 to 60000\n"
	    "  --trace=FILE     a Chrome/Perfetto trace of the three runs; - writes it to\n"
	    "                   stdout, and the table then goes to stderr\n"
	    "  --quiet          no progress line\n"
	    "  -h, --help       this text\n"
	    "\n"
	    "Exit status: 0 sound runs, 1 an invariant was violated, 2 bad usage or a\n"
	    "bad scenario.\n",
    .longopts = compare_longopts,
};

static int parse_sweep(const char *s, struct compare_opts *o, FILE *err)
{
	const char *p = s;

	if (o->nsweep) {
		fprintf(err, "pvir compare: --sweep given twice; list every size in one\n");
		return -EINVAL;
	}
	do {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(p, &end, 10);
		if (end == p || *p == '-' || errno || !v || v > SWEEP_MAX ||
		    (*end && *end != ',') || o->nsweep == MAX_SWEEP) {
			fprintf(err,
				"pvir compare: --sweep '%s': expected up to %d sizes from 1 to %u, "
				"comma-separated, such as --sweep=64,256,1024\n",
				s, MAX_SWEEP, SWEEP_MAX);
			o->nsweep = 0;
			return -EINVAL;
		}
		o->sweep[o->nsweep++] = (unsigned)v;
		p = *end ? end + 1 : end;
	} while (*p || p[-1] == ',');
	return 0;
}

/* One option of `pvir compare` with its value; Return: 0, or -EINVAL having said why. */
static int compare_option(int opt, const char *arg, struct compare_opts *o, FILE *err)
{
	if (opt == OPT_SWEEP)
		return parse_sweep(arg, o, err);
	if (opt == CLI_OPT_KERNEL && (o->all_kernels || !strcmp(arg, "all"))) {
		if (o->all_kernels || o->s.sim.kernel_set) {
			fprintf(err, "pvir compare: --kernel given twice; give it once\n");
			return -EINVAL;
		}
		o->all_kernels = true; /* each operation under the three kernels */
		return 0;
	}
	return cli_scenario_option(&compare_command, opt, arg, &o->s, err);
}

/* Options that cannot go together, each refused with what to do instead. */
static int check_combination(const struct compare_opts *o, FILE *err)
{
	const char *why = NULL;

	if (o->s.file && o->nsweep)
		why = "--sweep builds its own scenarios; give no scenario file";
	else if (o->s.trace && o->nsweep)
		why = "--trace traces one scenario, not a sweep; drop one of them";
	else if (o->s.sim.seed_set && o->nsweep)
		why = "--sweep only sets interrupts up, which draws no random number: "
		      "--seed would change nothing; drop it";
	else if (o->all_kernels && o->nsweep)
		why = "--kernel all compares one scenario; for a sweep, give one kernel";
	else if (o->all_kernels && o->s.trace)
		why = "--kernel all is not traced; give one kernel, or drop --trace";
	if (why)
		fprintf(err, "pvir compare: %s\n", why);
	return why ? -EINVAL : 0;
}

/* Return: 0 to run, CLI_OPT_HELP (help printed), or -EINVAL (said why). */
static int parse_args(int argc, char **argv, struct compare_opts *o, FILE *out, FILE *err)
{
	int opt;

	cli_options_begin();
	while ((opt = cli_option(&compare_command, argc, argv, out, err)) != CLI_OPT_END) {
		if (opt == CLI_OPT_HELP || opt == CLI_OPT_ERROR)
			return opt == CLI_OPT_HELP ? CLI_OPT_HELP : -EINVAL;
		if (compare_option(opt, optarg, o, err))
			return -EINVAL;
	}
	if (cli_scenario_operand(&compare_command, argc, argv, &o->s, err))
		return -EINVAL;
	return check_combination(o, err);
}

/* ---- running ------------------------------------------------------------------------------ */

static int run_all(const struct scenario *sc, const struct sim_options *o,
		   struct sim_report r[SIM_DESIGN_COUNT], FILE *err)
{
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		if (sim_run(sc, (enum sim_design)d, o, &r[d])) {
			fprintf(err, "pvir compare: %s\n",
				r[d].nviolations ? r[d].violations[0] : "out of memory");
			for (unsigned k = 0; k <= d; k++)
				sim_report_done(&r[k]);
			return -EINVAL;
		}
	return 0;
}

/* Prints each design's violations; Return: whether there was any. */
static bool report_violations(const struct sim_report r[SIM_DESIGN_COUNT], FILE *err)
{
	bool any = false;

	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		for (unsigned v = 0; v < r[d].nviolations; v++) {
			fprintf(err, "pvir compare: %s: invariant violated: %s\n",
				sim_design_name(r[d].design), r[d].violations[v]);
			any = true;
		}
	return any;
}

/* ---- the table ------------------------------------------------------------------------------- */

static void fmt_ns(char *out, size_t len, uint64_t ns)
{
	if (ns >= 1000000000)
		snprintf(out, len, "%.2f s", (double)ns / 1e9);
	else if (ns >= 1000000)
		snprintf(out, len, "%.2f ms", (double)ns / 1e6);
	else if (ns >= 1000)
		snprintf(out, len, "%.2f us", (double)ns / 1e3);
	else
		snprintf(out, len, "%" PRIu64 " ns", ns);
}

static void fmt_ratio(char *out, size_t len, uint64_t v, uint64_t base)
{
	if (!base)
		snprintf(out, len, "%s", v ? "-" : "1x");
	else if ((double)v / (double)base >= 100)
		snprintf(out, len, "%.0fx", (double)v / (double)base);
	else
		snprintf(out, len, "%.1fx", (double)v / (double)base);
}

static void row_u64(FILE *out, const char *name, const uint64_t v[SIM_DESIGN_COUNT])
{
	fprintf(out, "  %-24s", name);
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		fprintf(out, " %15" PRIu64, v[d]);
	fputc('\n', out);
}

static void row_i64(FILE *out, const char *name, const int64_t v[SIM_DESIGN_COUNT])
{
	fprintf(out, "  %-24s", name);
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		fprintf(out, " %+15" PRId64, v[d]);
	fputc('\n', out);
}

static void row_time(FILE *out, const char *name, const uint64_t v[SIM_DESIGN_COUNT])
{
	char b[32];

	fprintf(out, "  %-24s", name);
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		fmt_ns(b, sizeof(b), v[d]);
		fprintf(out, " %15s", b);
	}
	fputc('\n', out);
}

static void row_ratio(FILE *out, const char *name, const uint64_t v[SIM_DESIGN_COUNT])
{
	char b[32];

	fprintf(out, "  %-24s", name);
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		fmt_ratio(b, sizeof(b), v[d], v[SIM_DESIGN_HCALL]);
		fprintf(out, " %15s", b);
	}
	fputc('\n', out);
}

static bool shown(const struct sim_op_result *o)
{
	return !strcmp(o->op, "activate") || !strcmp(o->op, "free") ||
	       !strcmp(o->op, "set_affinity");
}

static void result_of(const struct sim_op_result *o, char *out, size_t len)
{
	if (o->err)
		snprintf(out, len, "%s", sim_errno_name(o->err));
	else if (o->vmm_refused)
		snprintf(out, len, "%" PRIu64 " refused", o->vmm_refused);
	else
		snprintf(out, len, "ok");
}

static void op_rows(FILE *out, const struct sim_report r[SIM_DESIGN_COUNT], size_t i)
{
	const struct sim_op_result *o[SIM_DESIGN_COUNT];
	uint64_t v[SIM_DESIGN_COUNT];
	int64_t hv[SIM_DESIGN_COUNT];
	char b[40];

	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		o[d] = &r[d].ops[i];
	fprintf(out, "%s %s\n", o[0]->op, o[0]->target);
	fprintf(out, "  %-24s", "result");
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		result_of(o[d], b, sizeof(b));
		fprintf(out, " %15s", b);
	}
	fputc('\n', out);
#define ROW(name, expr)                                         \
	do {                                                    \
		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) \
			v[d] = (expr);                          \
		row_u64(out, name, v);                          \
	} while (0)
	ROW("exits: hypercall", o[d]->hypercalls);
	ROW("       mmio_trap", o[d]->mmio_traps);
	ROW("       cfg", o[d]->cfg_exits);
	ROW("VFIO SET_IRQS", o[d]->set_irqs);
	ROW("  triggers attached", o[d]->vfio_setups);
	ROW("KVM irqfds", o[d]->irqfds);
	ROW("route commits", o[d]->route_commits);
	ROW("  irqfds walked", o[d]->routes_walked);
	ROW("MSI irqfd updates", o[d]->msi_updates);
	ROW("  IRTEs re-aimed", o[d]->pi_updates);
	ROW("host IRTE writes", o[d]->irte_writes);
	ROW("  posted<->remapped", o[d]->format_changes);
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		hv[d] = o[d]->host_vectors;
	row_i64(out, "host vectors", hv);
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		v[d] = o[d]->cost_ns;
	row_time(out, "modelled", v);
	row_ratio(out, "  ratio to hcall", v);
}

/* Exits of delivery and scheduling: what the operations (and boot) do not make. */
static uint64_t delivery_exits(const struct sim_report *r)
{
	return r->exits.ext_intr + r->exits.wakeup + r->exits.hlt;
}

static uint64_t per_1000(uint64_t n, uint64_t delivered)
{
	return delivered ? (n * 1000 + delivered / 2) / delivered : 0;
}

static void delivery_rows(FILE *out, const struct sim_report r[SIM_DESIGN_COUNT])
{
	uint64_t v[SIM_DESIGN_COUNT];

	fprintf(out, "per 1,000 delivered interrupts\n");
	ROW("exits: all", per_1000(delivery_exits(&r[d]), r[d].irq.delivered));
	ROW("       ext_intr", per_1000(r[d].exits.ext_intr, r[d].irq.delivered));
	ROW("       wakeup", per_1000(r[d].exits.wakeup, r[d].irq.delivered));
	ROW("posted", per_1000(r[d].posted, r[d].irq.delivered));
}

static void latency_rows(FILE *out, const struct sim_report r[SIM_DESIGN_COUNT])
{
	static const unsigned pct[] = {50, 99, 100};
	static const char *const pname[] = {"p50", "p99", "max"};
	const char *kind[] = {"setup", "affinity", "delivery"};
	uint64_t v[SIM_DESIGN_COUNT];
	char name[40];

	fprintf(out, "latency (modelled)\n");
	for (unsigned k = 0; k < 3; k++)
		for (unsigned p = 0; p < 3; p++) {
			for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
				const struct latency *l[] = {&r[d].setup, &r[d].affinity,
							     &r[d].delivery};

				v[d] = sim_percentile(l[k], pct[p]);
			}
			snprintf(name, sizeof(name), "%s %s", kind[k], pname[p]);
			row_time(out, name, v);
			if (k < 2 || p == 0)
				row_ratio(out, "  ratio to hcall", v);
		}
}

static void irq_rows(FILE *out, const struct sim_report r[SIM_DESIGN_COUNT])
{
	uint64_t v[SIM_DESIGN_COUNT];

	fprintf(out, "interrupts\n");
	ROW("raised", r[d].irq.raised);
	ROW("delivered", r[d].irq.delivered);
	ROW("blocked (IR fault)", r[d].irq.blocked);
	ROW("pending at the end", r[d].irq.pending);
	ROW("lost", r[d].irq.lost);
	ROW("misdelivered", r[d].irq.misdelivered);
	ROW("VMM-refused writes", r[d].vmm_refused);
	fprintf(out, "uapi beyond stock Linux (docs/host-kernel.md)\n");
	ROW("VFIO IMS index SET_IRQS", r[d].ims_set_irqs);
	ROW("guest-storage reads", r[d].msg_reads);
	ROW("bypass-report commits", r[d].bypass_reports);
#undef ROW
}

static void header(FILE *out)
{
	fprintf(out, "%-26s", "");
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		fprintf(out, " %15s", sim_design_name((enum sim_design)d));
	fputc('\n', out);
}

static void compare_text(FILE *out, const struct scenario *sc,
			 const struct sim_report r[SIM_DESIGN_COUNT])
{
	fprintf(out,
		"pvir compare: scenario %s, host kernel %s, seed %" PRIu64
		" (counts exact; time modelled, docs/cost-model.md)\n\n",
		sc->name, host_kernel_name(r[0].kernel), r[0].seed);
	header(out);
	for (size_t i = 0; i < r[0].nops; i++)
		if (shown(&r[0].ops[i]))
			op_rows(out, r, i);
	delivery_rows(out, r);
	latency_rows(out, r);
	irq_rows(out, r);
}

/* ---- every kernel setting ------------------------------------------------------------------- */

static const enum host_kernel kernel_order[HOST_KERNEL_COUNT] = {
    HOST_KERNEL_LEGACY, HOST_KERNEL_STOCK, HOST_KERNEL_TUNED};

/* One design's cell: the modelled time and its ratio to hcall, or what went wrong. */
static void kernel_cell(FILE *out, const struct sim_op_result *o, const struct sim_op_result *hc)
{
	char t[24], x[16], b[48];

	if (o->err || o->vmm_refused) {
		result_of(o, b, sizeof(b));
		fprintf(out, " %21s", b);
		return;
	}
	fmt_ns(t, sizeof(t), o->cost_ns);
	fmt_ratio(x, sizeof(x), o->cost_ns, hc->err ? 0 : hc->cost_ns);
	snprintf(b, sizeof(b), "%s %6s", t, x);
	fprintf(out, " %21s", b);
}

static void kernels_text(FILE *out, const struct scenario *sc,
			 struct sim_report r[HOST_KERNEL_COUNT][SIM_DESIGN_COUNT])
{
	fprintf(out,
		"pvir compare --kernel all: scenario %s, seed %" PRIu64
		"\n(time modelled, docs/cost-model.md; ratio to hcall on the same kernel)\n\n",
		sc->name, r[0][0].seed);
	fprintf(out, "%-14s", "");
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		fprintf(out, " %21s", sim_design_name((enum sim_design)d));
	fputc('\n', out);
	for (size_t i = 0; i < r[0][0].nops; i++) {
		if (!shown(&r[0][0].ops[i]))
			continue;
		fprintf(out, "%s %s\n", r[0][0].ops[i].op, r[0][0].ops[i].target);
		for (unsigned k = 0; k < HOST_KERNEL_COUNT; k++) {
			fprintf(out, "  %-12s", host_kernel_name(kernel_order[k]));
			for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
				kernel_cell(out, &r[k][d].ops[i], &r[k][SIM_DESIGN_HCALL].ops[i]);
			fputc('\n', out);
		}
	}
}

static int compare_kernels(struct compare_opts *o, const struct scenario *sc, FILE *out, FILE *err)
{
	struct sim_report r[HOST_KERNEL_COUNT][SIM_DESIGN_COUNT];
	struct progress pr;
	unsigned k;
	int rc = 0;
	bool violated = false;

	progress_init(&pr, o->s.quiet, err);
	progress_attach(&pr, &o->s.sim);
	for (k = 0; k < HOST_KERNEL_COUNT && !rc; k++) {
		o->s.sim.kernel_set = true;
		o->s.sim.kernel = kernel_order[k];
		rc = run_all(sc, &o->s.sim, r[k], err);
	}
	progress_done(&pr);
	if (rc) {
		for (unsigned j = 0; j + 1 < k; j++)
			for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
				sim_report_done(&r[j][d]);
		return CLI_EXIT_USAGE;
	}
	if (o->s.json) {
		fprintf(out, "{\"kernels\": {");
		for (k = 0; k < HOST_KERNEL_COUNT; k++) {
			fprintf(out, "%s\n\"%s\": ", k ? "," : "",
				host_kernel_name(kernel_order[k]));
			report_json(out, sc, r[k], SIM_DESIGN_COUNT);
		}
		fprintf(out, "}}\n");
	} else {
		kernels_text(out, sc, r);
	}
	for (k = 0; k < HOST_KERNEL_COUNT; k++) {
		violated |= report_violations(r[k], err);
		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
			sim_report_done(&r[k][d]);
	}
	return violated ? CLI_EXIT_VIOLATION : CLI_EXIT_OK;
}

/* ---- the sweep ------------------------------------------------------------------------------ */

static char *sweep_text(unsigned n, uint64_t seed)
{
	unsigned funcs = (n + SWEEP_PER_FUNC - 1) / SWEEP_PER_FUNC;
	unsigned vcpus = (n + VECTORS_PER_VCPU - 1) / VECTORS_PER_VCPU;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	vcpus = vcpus < 2 ? 2 : vcpus;
	fprintf(f,
		"name: sweep-%u\nseed: %" PRIu64 "\nduration: 1ms\nhost: {pcpus: %u}\nvms:\n"
		"  - name: vm\n    vcpus: %u\n    irte_quota: %u\n    memory: 256M\n"
		"    devices:\n",
		n, seed, vcpus, vcpus, n);
	for (unsigned i = 0; i < funcs; i++)
		fprintf(f,
			"      - {name: f%u, bdf: \"%02x:%02x.0\", guest_bdf: \"00:%02x.0\", msix: "
			"%u}\n",
			i, 3 + i / 32, i % 32, 4 + i, SWEEP_PER_FUNC);
	fprintf(f, "workload:\n");
	for (unsigned i = 0, left = n; i < funcs; i++, left -= SWEEP_PER_FUNC)
		fprintf(f, "  - {at: 0ms, do: activate, dev: vm/f%u, count: %u}\n", i,
			left < SWEEP_PER_FUNC ? left : SWEEP_PER_FUNC);
	fclose(f);
	return buf;
}

struct sweep_point {
	unsigned n;
	enum host_kernel kernel;
	uint64_t exits[SIM_DESIGN_COUNT];
	uint64_t ns[SIM_DESIGN_COUNT];
	uint64_t refused[SIM_DESIGN_COUNT];
	int err[SIM_DESIGN_COUNT];
};

static void sweep_sum(const struct sim_report *r, struct sweep_point *p, unsigned d)
{
	for (size_t i = 0; i < r->nops; i++) {
		const struct sim_op_result *o = &r->ops[i];

		p->exits[d] += o->hypercalls + o->mmio_traps + o->cfg_exits;
		p->ns[d] += o->cost_ns;
		p->refused[d] += o->vmm_refused;
		if (o->err && !p->err[d])
			p->err[d] = o->err;
	}
}

static int sweep_one(unsigned k, const struct compare_opts *o, struct sweep_point *p, FILE *err,
		     struct progress *pr)
{
	unsigned n = o->sweep[k];
	struct sim_report r[SIM_DESIGN_COUNT];
	struct scenario *sc;
	char msg[SC_ERR_MAX];
	char *text = sweep_text(n, o->s.sim.seed_set ? o->s.sim.seed : 42);
	int rc =
	    text ? scenario_parse(text, strlen(text), "sweep", &sc, msg, sizeof(msg)) : -ENOMEM;

	free(text);
	progress_point(pr, k + 1, o->nsweep, n);
	if (rc) {
		fprintf(err, "pvir compare: sweep %u: %s\n", n,
			rc == -ENOMEM ? "out of memory" : msg);
		return rc;
	}
	rc = run_all(sc, &o->s.sim, r, err);
	if (!rc) {
		*p = (struct sweep_point){.n = n, .kernel = r[0].kernel};
		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
			sweep_sum(&r[d], p, d);
		rc = report_violations(r, err) ? 1 : 0;
		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
			sim_report_done(&r[d]);
	}
	scenario_free(sc);
	return rc;
}

static void sweep_cell(FILE *out, const struct sweep_point *p, unsigned d)
{
	char t[32], x[16];

	fmt_ns(t, sizeof(t), p->ns[d]);
	/* no ratio to an hcall run that failed: its time is not a setup's */
	fmt_ratio(x, sizeof(x), p->ns[d], p->err[SIM_DESIGN_HCALL] ? 0 : p->ns[SIM_DESIGN_HCALL]);
	if (p->err[d])
		fprintf(out, " %9s %10s %7s", "-", sim_errno_name(p->err[d]), "");
	else
		fprintf(out, " %9" PRIu64 " %10s %7s", p->exits[d], t, x);
	if (p->refused[d])
		fprintf(out, " FAILS: %" PRIu64 " not routed", p->refused[d]);
}

static void sweep_text_out(FILE *out, const struct sweep_point *p, unsigned n)
{
	fprintf(out,
		"pvir compare --sweep: one VM activates N MSI-X vectors (%u per function), "
		"host kernel %s\n"
		"(setup exits are exact; time is modelled and its ratio is to hcall)\n\n",
		SWEEP_PER_FUNC, host_kernel_name(p[0].kernel));
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		fprintf(out, "%s\n%8s %9s %10s %7s\n", sim_design_name((enum sim_design)d), "N",
			"exits", "modelled", "ratio");
		for (unsigned i = 0; i < n; i++) {
			fprintf(out, "%8u", p[i].n);
			sweep_cell(out, &p[i], d);
			fputc('\n', out);
		}
		if (d + 1 < SIM_DESIGN_COUNT)
			fputc('\n', out);
	}
}

static void sweep_json(FILE *out, const struct sweep_point *p, unsigned n)
{
	fprintf(out, "{\"sweep\": [");
	for (unsigned i = 0; i < n; i++) {
		fprintf(out, "%s\n  {\"n\": %u, \"designs\": {", i ? "," : "", p[i].n);
		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
			fprintf(out,
				"%s\"%s\": {\"setup_exits\": %" PRIu64 ", \"modelled_ns\": %" PRIu64
				", \"vmm_refused\": %" PRIu64 ", \"errno\": %s%s%s}",
				d ? ", " : "", sim_design_name((enum sim_design)d), p[i].exits[d],
				p[i].ns[d], p[i].refused[d], p[i].err[d] ? "\"" : "",
				p[i].err[d] ? sim_errno_name(p[i].err[d]) : "null",
				p[i].err[d] ? "\"" : "");
		fprintf(out, "}}");
	}
	fprintf(out, "\n]}\n");
}

static int sweep(struct compare_opts *o, FILE *out, FILE *err)
{
	struct sweep_point p[MAX_SWEEP];
	struct progress pr;
	int violated = 0;

	progress_init(&pr, o->s.quiet, err);
	progress_attach(&pr, &o->s.sim);
	for (unsigned i = 0; i < o->nsweep; i++) {
		int rc = sweep_one(i, o, &p[i], err, &pr);

		if (rc < 0) {
			progress_done(&pr);
			return CLI_EXIT_USAGE;
		}
		violated |= rc;
	}
	progress_done(&pr);
	if (o->s.json)
		sweep_json(out, p, o->nsweep);
	else
		sweep_text_out(out, p, o->nsweep);
	return violated ? CLI_EXIT_VIOLATION : CLI_EXIT_OK;
}

int cli_compare(int argc, char **argv, FILE *out, FILE *err)
{
	struct compare_opts o = {0};
	struct sim_report r[SIM_DESIGN_COUNT];
	struct sim_trace trace = {0};
	struct progress pr;
	struct scenario *sc;
	FILE *table = out;
	int rc = parse_args(argc, argv, &o, out, err);

	if (rc)
		return rc == CLI_OPT_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	if (o.nsweep)
		return sweep(&o, out, err);
	if (cli_load_scenario("compare", o.s.file, &sc, err))
		return CLI_EXIT_USAGE;
	if (o.all_kernels) {
		rc = compare_kernels(&o, sc, out, err);
		scenario_free(sc);
		return rc;
	}
	if (cli_trace_open("compare", o.s.trace, &trace, out, err)) {
		scenario_free(sc);
		return CLI_EXIT_USAGE;
	}
	if (o.s.trace && !strcmp(o.s.trace, "-"))
		table = err; /* stdout carries the trace */
	o.s.sim.trace = o.s.trace ? &trace : NULL;
	progress_init(&pr, o.s.quiet, err);
	progress_attach(&pr, &o.s.sim);
	rc = run_all(sc, &o.s.sim, r, err);
	progress_done(&pr);
	if (cli_trace_close("compare", o.s.trace, &trace, err) && !rc) {
		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
			sim_report_done(&r[d]);
		rc = -EIO;
	}
	if (rc) {
		scenario_free(sc);
		return CLI_EXIT_USAGE;
	}
	if (o.s.json)
		report_json(table, sc, r, SIM_DESIGN_COUNT);
	else
		compare_text(table, sc, r);
	rc = report_violations(r, err) ? CLI_EXIT_VIOLATION : CLI_EXIT_OK;
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		sim_report_done(&r[d]);
	scenario_free(sc);
	return rc;
}
