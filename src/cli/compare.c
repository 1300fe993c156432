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
 * operation, each design's modelled time under each. --iommu does the same
 * for the IOMMU: vtd, amdvi, or all (both).
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
#include "plot.h"
#include "progress.h"
#include "table.h"
#include "report.h"
#include "pvir/scenario.h"
#include "pvir/sim.h"

#define MAX_SWEEP	 16
#define SWEEP_PER_FUNC	 2048u
#define SWEEP_MAX	 60000u /* the host IR table holds 65535 */
#define VECTORS_PER_VCPU 190u	/* of Linux's 203, a little room */
#define COL		 "%16s"

/* One row of a side-by-side comparison: a host kernel, or an IOMMU. */
struct variant {
	const char *name;
	bool is_kernel;
	enum host_kernel kernel;
	enum host_iommu iommu;
};

#define MAX_VARIANTS 3

static const struct variant kernel_variants[] = {
    {"legacy", true, HOST_KERNEL_LEGACY, HOST_IOMMU_VTD},
    {"stock", true, HOST_KERNEL_STOCK, HOST_IOMMU_VTD},
    {"tuned", true, HOST_KERNEL_TUNED, HOST_IOMMU_VTD},
};

static const struct variant iommu_variants[] = {
    {"vtd", false, HOST_KERNEL_STOCK, HOST_IOMMU_VTD},
    {"amdvi", false, HOST_KERNEL_STOCK, HOST_IOMMU_AMDVI},
};

/* What is compared, for the messages: the option, the row label, the JSON key. */
struct across {
	const struct variant *v;
	unsigned n;
	const char *option;
	const char *what;
	const char *json_key;
};

static const struct across kernels_across = {kernel_variants, ARRAY_SIZE(kernel_variants),
					     "--kernel all", "kernel", "kernels"};
static const struct across iommus_across = {iommu_variants, ARRAY_SIZE(iommu_variants),
					    "--iommu all", "IOMMU", "iommus"};

struct compare_opts {
	struct cli_scenario_opts s;
	const char *plot;
	const struct across *across; /* --kernel all, --iommu all: side by side */
	unsigned sweep[MAX_SWEEP];
	unsigned nsweep;
};

#define OPT_SWEEP CLI_OPT_OWN
#define OPT_PLOT  (CLI_OPT_OWN + 1)

static const struct option compare_longopts[] = {
    CLI_SCENARIO_LONGOPTS,
    {"sweep", required_argument, NULL, OPT_SWEEP},
    {"plot", required_argument, NULL, OPT_PLOT},
    {0},
};

static const struct cli_command compare_command = {
    .name = "compare",
    .synopsis = "pvir compare [OPTIONS] [SCENARIO.yaml | -]\n"
		"       pvir compare --sweep=N,N,... [--kernel=KERNEL] [--json] [--plot=FILE.svg]\n"
		"                    [--quiet]",
    .help = "Runs one scenario (the embedded default when none is given; - reads it\n"
	    "from stdin) under trap, vir-emul and hcall, and prints one table with the\n"
	    "ratio of each design to hcall. With --sweep, sets up N MSI-X vectors in one\n"
	    "VM instead, for each N, and prints the setup cost of each design.\n"
	    "\n"
	    "  --kernel=KERNEL  the host kernel: legacy, stock, tuned, or all (each\n"
	    "                   operation under the three, side by side)\n"
	    "  --iommu=IOMMU    vtd, amdvi, or all (each operation on both, side by side),\n"
	    "                   instead of the scenario's host.iommu.kind\n"
	    "  --vectors=WHEN   at_request (Linux's reservation mode) or at_alloc, where\n"
	    "                   every guest takes MSI-X and MSI vectors, instead of each\n"
	    "                   VM's vectors:\n"
	    "  --seed=N         the random seed, instead of the scenario's\n"
	    "  --json           the report as one JSON object\n"
	    "  --sweep=N,N,...  up to 16 sizes from 1 to 60000\n"
	    "  --plot=FILE.svg  with --sweep: also draw setup cost against N, per design\n"
	    "                   (log-log), marking where a design fails; - is stdout,\n"
	    "                   and the table then goes to stderr\n"
	    "  --trace=FILE     a Chrome/Perfetto trace of the three runs; - writes it to\n"
	    "                   stdout, and the table then goes to stderr\n"
	    "  --trace-format=F json (the default) or text: one line per event, named\n"
	    "                   like QEMU's and KVM's tracepoints\n"
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
	if (opt == OPT_PLOT)
		return cli_once_string(&compare_command, "--plot", arg, &o->plot, err) ? 0
										       : -EINVAL;
	if ((opt == CLI_OPT_KERNEL || opt == CLI_OPT_IOMMU) && !strcmp(arg, "all")) {
		if (o->across) {
			fprintf(err,
				"pvir compare: %s and %s: one side-by-side comparison at a time\n",
				o->across->option,
				opt == CLI_OPT_KERNEL ? "--kernel all" : "--iommu all");
			return -EINVAL;
		}
		o->across = opt == CLI_OPT_KERNEL ? &kernels_across : &iommus_across;
		return 0;
	}
	return cli_scenario_option(&compare_command, opt, arg, &o->s, err);
}

/* Options that cannot go together, each refused with what to do instead. */
static int check_combination(const struct compare_opts *o, FILE *err)
{
	const char *why = NULL;

	if (o->plot && !o->nsweep)
		why = "--plot draws a sweep; add --sweep=N,N,...";
	else if (o->s.file && o->nsweep)
		why = "--sweep builds its own scenarios; give no scenario file";
	else if (o->s.trace && o->nsweep)
		why = "--trace traces one scenario, not a sweep; drop one of them";
	else if (o->s.sim.seed_set && o->nsweep)
		why = "--sweep only sets interrupts up, which draws no random number: "
		      "--seed would change nothing; drop it";
	else if (o->across && o->nsweep)
		why = o->across == &kernels_across
			  ? "--kernel all compares one scenario; for a sweep, give one kernel"
			  : "--iommu all compares one scenario; for a sweep, give one IOMMU";
	else if (o->across && o->s.trace)
		why = o->across == &kernels_across
			  ? "--kernel all is not traced; give one kernel, or drop --trace"
			  : "--iommu all is not traced; give one IOMMU, or drop --trace";
	else if (o->across == &kernels_across && o->s.sim.kernel_set)
		why = "--kernel given twice; give it once";
	else if (o->across == &iommus_across && o->s.iommu_set)
		why = "--iommu given twice; give it once";
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

/* A row of the three designs' cells, formatted by @fmt from @v. */
static void row(struct table *t, const char *name, const uint64_t v[SIM_DESIGN_COUNT],
		void (*fmt)(char *, size_t, uint64_t))
{
	char cell[SIM_DESIGN_COUNT][TABLE_CELL];
	const char *cells[1 + SIM_DESIGN_COUNT] = {name};

	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		fmt(cell[d], sizeof(cell[d]), v[d]);
		cells[1 + d] = cell[d];
	}
	table_row(t, cells);
}

/* Ratios to hcall; @have[d] false: that design has no figure (failed, or no sample). */
static void ratio_row(struct table *t, const uint64_t v[SIM_DESIGN_COUNT],
		      const bool have[SIM_DESIGN_COUNT])
{
	char cell[SIM_DESIGN_COUNT][TABLE_CELL];
	const char *cells[1 + SIM_DESIGN_COUNT] = {"  ratio to hcall"};
	bool base = have[SIM_DESIGN_HCALL];

	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		fmt_ratio(cell[d], sizeof(cell[d]), v[d],
			  base && have[d] ? v[SIM_DESIGN_HCALL] : 0);
		cells[1 + d] = cell[d];
	}
	table_row(t, cells);
}

/* Times with their units, NO_VALUE where a design has none, then their ratios to hcall. */
static void time_rows(struct table *t, const char *name, const uint64_t v[SIM_DESIGN_COUNT],
		      const bool have[SIM_DESIGN_COUNT], bool ratio)
{
	char cell[SIM_DESIGN_COUNT][TABLE_CELL];
	const char *cells[1 + SIM_DESIGN_COUNT] = {name};

	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		if (have[d])
			fmt_ns(cell[d], sizeof(cell[d]), v[d]);
		else
			snprintf(cell[d], sizeof(cell[d]), NO_VALUE);
		cells[1 + d] = cell[d];
	}
	table_row(t, cells);
	if (ratio)
		ratio_row(t, v, have);
}

static void fmt_signed(char *out, size_t len, uint64_t v)
{
	snprintf(out, len, "%+" PRId64, (int64_t)v);
}

static bool shown(const struct sim_op_result *o)
{
	return !strcmp(o->op, "activate") || !strcmp(o->op, "free") ||
	       !strcmp(o->op, "set_affinity") || !strcmp(o->op, "migrate_vm");
}

static void result_of(const struct sim_op_result *o, char *out, size_t len)
{
	if (o->err)
		snprintf(out, len, "%s", sim_errno_name(o->err));
	else if (o->vmm_refused)
		snprintf(out, len, "%" PRIu64 " refused", o->vmm_refused);
	else if (o->granted)
		snprintf(out, len, "%u granted", o->granted);
	else
		snprintf(out, len, "ok");
}

#define ROW(name, expr, fmt)                                    \
	do {                                                    \
		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) \
			v[d] = (expr);                          \
		row(t, name, v, fmt);                           \
	} while (0)

static void op_rows(struct table *t, const struct sim_report r[SIM_DESIGN_COUNT], size_t i)
{
	const struct sim_op_result *o[SIM_DESIGN_COUNT];
	char res[SIM_DESIGN_COUNT][TABLE_CELL], title[TABLE_CELL];
	const char *cells[1 + SIM_DESIGN_COUNT] = {"result"};
	uint64_t v[SIM_DESIGN_COUNT];
	bool ok[SIM_DESIGN_COUNT];

	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		o[d] = &r[d].ops[i];
		result_of(o[d], res[d], sizeof(res[d]));
		cells[1 + d] = res[d];
		ok[d] = !o[d]->err; /* a failed operation's time is not the operation's cost */
	}
	snprintf(title, sizeof(title), "%s %s", o[0]->op, o[0]->target);
	table_section(t, title);
	table_row(t, cells);
	ROW("exits: hypercall", o[d]->hypercalls, fmt_u64);
	ROW("       mmio_trap", o[d]->mmio_traps, fmt_u64);
	ROW("       cfg", o[d]->cfg_exits, fmt_u64);
	ROW("VFIO SET_IRQS", o[d]->set_irqs, fmt_u64);
	ROW("  triggers attached", o[d]->vfio_setups, fmt_u64);
	ROW("KVM irqfds", o[d]->irqfds, fmt_u64);
	ROW("route commits", o[d]->route_commits, fmt_u64);
	ROW("  irqfds walked", o[d]->routes_walked, fmt_u64);
	ROW("MSI irqfd updates", o[d]->msi_updates, fmt_u64);
	ROW("  IRTEs re-aimed", o[d]->pi_updates, fmt_u64);
	ROW("host IRTE writes", o[d]->irte_writes, fmt_u64);
	ROW("  posted<->remapped", o[d]->format_changes, fmt_u64);
	ROW("host vectors", (uint64_t)o[d]->host_vectors, fmt_signed);
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		v[d] = o[d]->cost_ns;
	time_rows(t, "modelled", v, ok, true);
}

/*
 * Each migrate_vm, design by design (docs/migration.md): its downtime, the entries the
 * stopped devices latched across it, and the handles the destination kept; each one it
 * could not keep is one SYNC the guest makes again after the remap event.
 */
static void migration_rows(struct table *t, const struct sim_report r[SIM_DESIGN_COUNT])
{
	unsigned n = 0;
	uint64_t v[SIM_DESIGN_COUNT];
	bool have[SIM_DESIGN_COUNT];

	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		n = r[d].nmigrations > n ? r[d].nmigrations : n;
	for (unsigned k = 0; k < n; k++) {
		const struct sim_migration *m[SIM_DESIGN_COUNT] = {NULL};
		char title[16 + 3 * SC_NAME_MAX]; /* "migrated VM FROM -> TO" */

		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
			m[d] = k < r[d].nmigrations ? &r[d].migrations[k] : NULL;
			have[d] = m[d] != NULL;
			v[d] = m[d] ? m[d]->downtime_ns : 0;
		}
		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
			if (m[d]) {
				snprintf(title, sizeof(title), "migrated %s %s -> %s", m[d]->vm,
					 m[d]->from, m[d]->to);
				break;
			}
		table_section(t, title);
		time_rows(t, "downtime", v, have, false);
		ROW("entries latched", m[d] ? m[d]->latched : 0, fmt_u64);
		ROW("  sent at resume", m[d] ? m[d]->sent_at_resume : 0, fmt_u64);
		ROW("  sent after re-SYNC", m[d] ? m[d]->sent_after_resync : 0, fmt_u64);
		ROW("handles kept", m[d] ? (uint64_t)(m[d]->handles - m[d]->moved) : 0, fmt_u64);
		ROW("handles moved, re-synced", m[d] ? m[d]->moved : 0, fmt_u64);
	}
}

/* Exits of delivery and scheduling: what the operations (and boot) do not make. */
static uint64_t delivery_exits(const struct sim_report *r)
{
	return r->exits.ext_intr + r->exits.wakeup + r->exits.hlt;
}

/* @n per 1,000 of @of, rounded; the caller shows NO_VALUE when @of is 0. */
static uint64_t per_1000(uint64_t n, uint64_t of)
{
	return of ? (n * 1000 + of / 2) / of : 0;
}

/* A row of @n[d] per 1,000 of @of[d], as a count or (@percent) a share with one decimal. */
static void per_1000_row(struct table *t, const char *name, const uint64_t n[SIM_DESIGN_COUNT],
			 const uint64_t of[SIM_DESIGN_COUNT], bool percent)
{
	char cell[SIM_DESIGN_COUNT][TABLE_CELL];
	const char *cells[1 + SIM_DESIGN_COUNT] = {name};

	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		uint64_t v = per_1000(n[d], of[d]);

		if (!of[d])
			snprintf(cell[d], sizeof(cell[d]), NO_VALUE);
		else if (percent)
			snprintf(cell[d], sizeof(cell[d]), "%" PRIu64 ".%" PRIu64 "%%", v / 10,
				 v % 10);
		else
			fmt_u64(cell[d], sizeof(cell[d]), v);
		cells[1 + d] = cell[d];
	}
	table_row(t, cells);
}

static void delivery_rows(struct table *t, const struct sim_report r[SIM_DESIGN_COUNT])
{
	uint64_t of[SIM_DESIGN_COUNT], n[SIM_DESIGN_COUNT];

#define PER_1000(name, expr)                                    \
	do {                                                    \
		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) \
			n[d] = (expr);                          \
		per_1000_row(t, name, n, of, false);            \
	} while (0)
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		of[d] = r[d].irq.delivered;
	table_section(t, "exits per 1,000 delivered interrupts");
	PER_1000("on the delivery path", delivery_exits(&r[d]));
	PER_1000("  ext_intr", r[d].exits.ext_intr);
	PER_1000("  wakeup", r[d].exits.wakeup);
	PER_1000("  hlt", r[d].exits.hlt);
	PER_1000("all, setup included", r[d].exits.total);
#undef PER_1000
}

static void latency_rows(struct table *t, const struct sim_report r[SIM_DESIGN_COUNT])
{
	static const unsigned pct[] = {50, 99, 100};
	static const char *const pname[] = {"p50", "p99", "max"};
	const char *kind[] = {"setup", "affinity", "delivery"};
	uint64_t v[SIM_DESIGN_COUNT];
	bool have[SIM_DESIGN_COUNT];
	char name[40];

	table_section(t, "latency (modelled)");
	for (unsigned k = 0; k < 3; k++)
		for (unsigned p = 0; p < 3; p++) {
			for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
				const struct latency *l[] = {&r[d].setup, &r[d].affinity,
							     &r[d].delivery};

				have[d] = l[k]->n > 0;
				v[d] = have[d] ? sim_percentile(l[k], pct[p]) : 0;
			}
			snprintf(name, sizeof(name), "%s %s", kind[k], pname[p]);
			time_rows(t, name, v, have, k < 2 || p == 0);
		}
}

/* Of the interrupts that reached a vCPU, the share posted (the rest the host injected). */
static void posted_row(struct table *t, const struct sim_report r[SIM_DESIGN_COUNT])
{
	uint64_t posted[SIM_DESIGN_COUNT], reached[SIM_DESIGN_COUNT];

	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		posted[d] = r[d].posted;
		reached[d] = r[d].posted + r[d].injected;
	}
	per_1000_row(t, "posted, of those reaching a vCPU", posted, reached, true);
}

static void irq_rows(struct table *t, const struct sim_report r[SIM_DESIGN_COUNT])
{
	uint64_t v[SIM_DESIGN_COUNT];

	table_section(t, "interrupts");
	ROW("raised", r[d].irq.raised, fmt_u64);
	ROW("delivered", r[d].irq.delivered, fmt_u64);
	ROW("coalesced", r[d].irq.coalesced, fmt_u64);
	ROW("blocked (IR fault)", r[d].irq.blocked, fmt_u64);
	ROW("pending at the end", r[d].irq.pending, fmt_u64);
	ROW("lost", r[d].irq.lost, fmt_u64);
	ROW("misdelivered", r[d].irq.misdelivered, fmt_u64);
	posted_row(t, r);
	ROW("VMM-refused writes", r[d].vmm_refused, fmt_u64);
	table_section(t, "uapi beyond stock Linux (docs/host-kernel.md)");
	ROW("VFIO IMS index SET_IRQS", r[d].ims_set_irqs, fmt_u64);
	ROW("guest-storage reads", r[d].msg_reads, fmt_u64);
	ROW("bypass-report commits", r[d].bypass_reports, fmt_u64);
	ROW("IRTE-hint sets", r[d].irte_hints, fmt_u64);
}
#undef ROW

static void header(struct table *t)
{
	const char *cells[1 + SIM_DESIGN_COUNT] = {""};

	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		cells[1 + d] = sim_design_name((enum sim_design)d);
	table_row(t, cells);
}

static int compare_text(FILE *out, const struct scenario *sc,
			const struct sim_report r[SIM_DESIGN_COUNT])
{
	struct table t;
	int rc;

	fprintf(out,
		"pvir compare: scenario %s, host kernel %s,%s%s seed %" PRIu64
		" (counts exact; time modelled, docs/cost-model.md)\n\n",
		sc->name, host_kernel_name(r[0].kernel), report_vectors_note(sc),
		*report_vectors_note(sc) ? "," : "", r[0].seed);
	table_init(&t, 1 + SIM_DESIGN_COUNT, "  ");
	header(&t);
	for (size_t i = 0; i < r[0].nops; i++)
		if (shown(&r[0].ops[i]))
			op_rows(&t, r, i);
	migration_rows(&t, r);
	delivery_rows(&t, r);
	latency_rows(&t, r);
	irq_rows(&t, r);
	rc = table_print(&t, out);
	table_free(&t);
	return rc;
}

/* ---- side by side: every kernel setting, or both IOMMUs ------------------------------------ */

/* One design's cell: the modelled time and its ratio to hcall, or what went wrong. */
static void variant_cell(char *cell, size_t len, const struct sim_op_result *o,
			 const struct sim_op_result *hc)
{
	char t[24], x[16];

	if (o->err || o->vmm_refused) {
		result_of(o, cell, len);
		return;
	}
	fmt_ns(t, sizeof(t), o->cost_ns);
	fmt_ratio(x, sizeof(x), o->cost_ns, hc->err ? 0 : hc->cost_ns);
	snprintf(cell, len, "%s %6s", t, x);
}

static int across_text(FILE *out, const struct scenario *sc, const struct across *a,
		       struct sim_report r[MAX_VARIANTS][SIM_DESIGN_COUNT])
{
	char cell[SIM_DESIGN_COUNT][TABLE_CELL], title[TABLE_CELL];
	const char *cells[1 + SIM_DESIGN_COUNT];
	struct table t;
	int rc;

	fprintf(out,
		"pvir compare %s: scenario %s,%s%s seed %" PRIu64
		"\n(time modelled, docs/cost-model.md; ratio to hcall on the same %s)\n\n",
		a->option, sc->name, report_vectors_note(sc), *report_vectors_note(sc) ? "," : "",
		r[0][0].seed, a->what);
	table_init(&t, 1 + SIM_DESIGN_COUNT, "  ");
	header(&t);
	for (size_t i = 0; i < r[0][0].nops; i++) {
		if (!shown(&r[0][0].ops[i]))
			continue;
		snprintf(title, sizeof(title), "%s %s", r[0][0].ops[i].op, r[0][0].ops[i].target);
		table_section(&t, title);
		for (unsigned k = 0; k < a->n; k++) {
			cells[0] = a->v[k].name;
			for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
				variant_cell(cell[d], sizeof(cell[d]), &r[k][d].ops[i],
					     &r[k][SIM_DESIGN_HCALL].ops[i]);
				cells[1 + d] = cell[d];
			}
			table_row(&t, cells);
		}
	}
	rc = table_print(&t, out);
	table_free(&t);
	return rc;
}

/* @sc as variant @v runs it: its kernel in @opt, or its IOMMU in the copy @copy. */
static int variant_apply(const struct variant *v, const struct scenario *sc, struct scenario *copy,
			 struct sim_options *opt, FILE *err)
{
	char msg[SC_ERR_MAX];

	*copy = *sc;
	if (v->is_kernel) {
		opt->kernel_set = true;
		opt->kernel = v->kernel;
		return 0;
	}
	if (scenario_set_iommu(copy, v->iommu, msg, sizeof(msg))) {
		fprintf(err, "pvir compare: --iommu all: %s\n", msg);
		return -EINVAL;
	}
	return 0;
}

static void across_json(FILE *out, const struct across *a, const struct scenario *sc,
			struct sim_report r[MAX_VARIANTS][SIM_DESIGN_COUNT])
{
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_object_begin(&j, a->json_key);
	for (unsigned k = 0; k < a->n; k++) {
		struct scenario as = *sc;

		as.iommu = r[k][0].iommu;
		report_json_value(&j, a->v[k].name, &as, r[k], SIM_DESIGN_COUNT);
	}
	json_object_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

static int compare_across(struct compare_opts *o, const struct scenario *sc, const struct across *a,
			  FILE *out, FILE *err)
{
	struct sim_report r[MAX_VARIANTS][SIM_DESIGN_COUNT];
	struct scenario *copy = malloc(sizeof(*copy));
	struct progress pr;
	unsigned k, done = 0; /* variants whose reports are whole */
	int rc = copy ? 0 : -ENOMEM;
	bool violated = false;

	progress_init(&pr, o->s.quiet, err);
	progress_attach(&pr, &o->s.sim);
	for (k = 0; k < a->n && !rc; k++) {
		rc = variant_apply(&a->v[k], sc, copy, &o->s.sim, err);
		if (!rc)
			rc = run_all(copy, &o->s.sim, r[k], err); /* frees its own on failure */
		done += !rc;
	}
	progress_done(&pr);
	free(copy);
	if (rc) {
		for (k = 0; k < done; k++)
			for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
				sim_report_done(&r[k][d]);
		return CLI_EXIT_USAGE;
	}
	if (o->s.json) {
		across_json(out, a, sc, r);
	} else if (across_text(out, sc, a, r)) {
		fprintf(err, "pvir compare: out of memory\n");
		rc = -ENOMEM;
	}
	for (k = 0; k < a->n; k++) {
		violated |= report_violations(r[k], err);
		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
			sim_report_done(&r[k][d]);
	}
	return rc ? CLI_EXIT_USAGE : violated ? CLI_EXIT_VIOLATION : CLI_EXIT_OK;
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
	bool at_alloc; /* --vectors at_alloc */
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
	if (o->s.vectors_set)
		scenario_set_vectors(sc, o->s.vectors_at_alloc);
	rc = run_all(sc, &o->s.sim, r, err);
	if (!rc) {
		*p = (struct sweep_point){
		    .n = n, .kernel = r[0].kernel, .at_alloc = o->s.vectors_at_alloc};
		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
			sweep_sum(&r[d], p, d);
		rc = report_violations(r, err) ? 1 : 0;
		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
			sim_report_done(&r[d]);
	}
	scenario_free(sc);
	return rc;
}

/* One design's row of a sweep point: exits, modelled time, ratio to hcall, a failure. */
static void sweep_row(struct table *t, const struct sweep_point *p, unsigned d)
{
	char n[16], exits[24], time[32], ratio[16], note[TABLE_CELL];
	const char *cells[] = {n, exits, time, ratio, note};

	snprintf(n, sizeof(n), "%u", p->n);
	fmt_u64(exits, sizeof(exits), p->exits[d]);
	fmt_ns(time, sizeof(time), p->ns[d]);
	/* no ratio to an hcall run that failed: its time is not a setup's */
	fmt_ratio(ratio, sizeof(ratio), p->ns[d],
		  p->err[SIM_DESIGN_HCALL] ? 0 : p->ns[SIM_DESIGN_HCALL]);
	note[0] = '\0';
	if (p->err[d]) {
		snprintf(exits, sizeof(exits), NO_VALUE);
		snprintf(time, sizeof(time), "%s", sim_errno_name(p->err[d]));
		snprintf(ratio, sizeof(ratio), NO_VALUE);
	}
	if (p->refused[d])
		snprintf(note, sizeof(note), "FAILS: %" PRIu64 " not routed", p->refused[d]);
	table_row(t, cells);
}

static int sweep_text_out(FILE *out, const struct sweep_point *p, unsigned n)
{
	static const char *const head[] = {"N", "exits", "modelled", "ratio", ""};
	struct table t;
	int rc;

	fprintf(out,
		"pvir compare --sweep: one VM activates N MSI-X vectors (%u per function), "
		"host kernel %s%s\n"
		"(setup exits are exact; time is modelled and its ratio is to hcall)\n\n",
		SWEEP_PER_FUNC, host_kernel_name(p[0].kernel),
		p[0].at_alloc ? ", vectors at_alloc" : "");
	table_init(&t, 5, "");
	table_align(&t, "rrrrl");
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		if (d)
			table_section(&t, "");
		table_section(&t, sim_design_name((enum sim_design)d));
		table_row(&t, head);
		for (unsigned i = 0; i < n; i++)
			sweep_row(&t, &p[i], d);
	}
	rc = table_print(&t, out);
	table_free(&t);
	return rc;
}

static void sweep_json(FILE *out, const struct sweep_point *p, unsigned n)
{
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_string(&j, "vectors", n && p[0].at_alloc ? "at_alloc" : "at_request");
	json_array_begin(&j, "sweep");
	for (unsigned i = 0; i < n; i++) {
		json_object_begin(&j, NULL);
		json_uint(&j, "n", p[i].n);
		json_object_begin(&j, "designs");
		for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
			json_object_begin(&j, sim_design_name((enum sim_design)d));
			json_uint(&j, "setup_exits", p[i].exits[d]);
			json_uint(&j, "modelled_ns", p[i].ns[d]);
			json_uint(&j, "vmm_refused", p[i].refused[d]);
			if (p[i].err[d])
				json_string(&j, "errno", sim_errno_name(p[i].err[d]));
			else
				json_null(&j, "errno");
			json_object_end(&j);
		}
		json_object_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_object_end(&j);
	json_finish(&j);
}

/* The sweep's setup cost against N, a series per design, failures marked. */
static int sweep_plot(const struct compare_opts *o, const struct sweep_point *p, FILE *out,
		      FILE *err)
{
	struct plot_point pts[SIM_DESIGN_COUNT][MAX_SWEEP];
	char why[SIM_DESIGN_COUNT][MAX_SWEEP][48], title[160];
	struct plot_series series[SIM_DESIGN_COUNT];
	struct plot pl = {.title = title,
			  .xlabel = "N, MSI-X vectors set up in one VM",
			  .ylabel = "setup, modelled time",
			  .series = series,
			  .nseries = SIM_DESIGN_COUNT};
	FILE *f = strcmp(o->plot, "-") ? fopen(o->plot, "w") : out;
	int rc;

	if (!f) {
		fprintf(err, "pvir compare: --plot %s: %s\n", o->plot, strerror(errno));
		return -errno;
	}
	snprintf(title, sizeof(title),
		 "pvir compare --sweep: setup cost against N, host kernel %s%s",
		 host_kernel_name(p[0].kernel), p[0].at_alloc ? ", vectors at_alloc" : "");
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		for (unsigned i = 0; i < o->nsweep; i++) {
			pts[d][i] =
			    (struct plot_point){.x = p[i].n, .y = p[i].err[d] ? 0 : p[i].ns[d]};
			if (p[i].err[d])
				snprintf(why[d][i], sizeof(why[d][i]), "%s",
					 sim_errno_name(p[i].err[d]));
			else if (p[i].refused[d])
				snprintf(why[d][i], sizeof(why[d][i]),
					 "%" PRIu64 " vectors not routed", p[i].refused[d]);
			pts[d][i].fail = p[i].err[d] || p[i].refused[d] ? why[d][i] : NULL;
		}
		series[d] = (struct plot_series){.name = sim_design_name((enum sim_design)d),
						 .colour = plot_design_colour((enum sim_design)d),
						 .pts = pts[d],
						 .n = o->nsweep};
	}
	plot_svg(f, &pl);
	rc = fflush(f) ? -errno : ferror(f) ? -EIO : 0;
	if (f != out && fclose(f) && !rc)
		rc = -errno;
	if (rc)
		fprintf(err, "pvir compare: --plot %s: %s\n", o->plot, strerror(-rc));
	return rc;
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
	if (o->plot && sweep_plot(o, p, out, err))
		return CLI_EXIT_USAGE;
	if (o->plot && !strcmp(o->plot, "-"))
		out = err; /* stdout carries the plot */
	if (o->s.json)
		sweep_json(out, p, o->nsweep);
	else if (sweep_text_out(out, p, o->nsweep)) {
		fprintf(err, "pvir compare: out of memory\n");
		return CLI_EXIT_USAGE;
	}
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
	if (cli_scenario_load("compare", &o.s, &sc, err))
		return CLI_EXIT_USAGE;
	if (o.across) {
		rc = compare_across(&o, sc, o.across, out, err);
		scenario_free(sc);
		return rc;
	}
	if (cli_trace_open("compare", &o.s, &trace, out, err)) {
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
	else if (compare_text(table, sc, r))
		fprintf(err, "pvir compare: out of memory\n");
	rc = report_violations(r, err) ? CLI_EXIT_VIOLATION : CLI_EXIT_OK;
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		sim_report_done(&r[d]);
	scenario_free(sc);
	return rc;
}
