// SPDX-License-Identifier: MIT
/*
 * The three designs on the same work (DESIGN.md §3): exit counts for small
 * cases, computed by hand from what a Linux guest writes and what QEMU and
 * KVM do with it; the 4096-route limit; the cost model applied to the counts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "cli_helpers.h"
#include "pvir/cost.h"
#include "pvir/scenario.h"
#include "pvir/sim.h"
#include "pvir/vmm.h"
#include "sim_helpers.h"

#define HOST "duration: 2ms\nhost: {pcpus: 4}\n"
#define VM_A(extra)                                                                         \
	"vms:\n"                                                                            \
	"  - name: a\n"                                                                     \
	"    vcpus: 2\n"                                                                    \
	"    devices:\n"                                                                    \
	"      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 8}\n"            \
	"      - {name: d, bdf: \"03:00.1\", guest_bdf: \"00:05.0\", ims: 64}\n"            \
	"      - {name: m, bdf: \"03:00.2\", guest_bdf: \"00:06.0\", ims: 8, ims_storage: " \
	"memory}\n" extra
#define ONE_VECTOR "  - {at: 0ms, do: activate, dev: a/n, count: 1, affinity: [0]}\n"
#define MOVE_IT	   "  - {at: 1ms, do: set_affinity, irq: a/n/0, cpus: [1]}\n"
#define WORK(ops)  HOST VM_A("") "workload:\n" ops
#define TRAP	   SIM_DESIGN_TRAP
#define VIR_EMUL   SIM_DESIGN_VIR_EMUL
#define HCALL	   SIM_DESIGN_HCALL

/*
 * One MSI-X vector, activated. Linux writes a masked entry as address low,
 * high, data and a read-back, then request_irq() unmasks it and reads back
 * again: 6 accesses to the table, each trapped under `trap` and `vir-emul`,
 * none under `hcall`. Enabling MSI-X is one config-space write, an exit in
 * every design. The unmask makes the VMM add a GSI route (one VFIO vector
 * setup, one commit rebuilding the one route) and program the host IRTE.
 * `vir-emul` adds the guest's IEC flush: the queue-tail write and the fault
 * status read of qi_submit_sync, two more exits, and QEMU's commit on every
 * IEC flush, here with no route yet to translate.
 */
struct vector_row {
	enum sim_design d;
	uint64_t hypercalls, traps, commits, rebuilt, setups, device_writes;
};

static const struct vector_row vector_rows[] = {
    {TRAP, 0, 6, 1, 1, 1, 0},
    {VIR_EMUL, 0, 8, 2, 1, 1, 0},
    {HCALL, 1, 0, 0, 0, 0, 4},
};

static void one_vector_activated(void **state)
{
	const struct vector_row *row = *state;
	struct run run = run_design(WORK(ONE_VECTOR), row->d, NULL);
	const struct sim_op_result *o = op(&run, 0);

	assert_sound(&run);
	assert_int_equal(o->err, 0);
	assert_int_equal(o->hypercalls, row->hypercalls);
	assert_int_equal(o->mmio_traps, row->traps);
	assert_int_equal(o->cfg_exits, 1);
	assert_int_equal(o->route_commits, row->commits);
	assert_int_equal(o->routes_rebuilt, row->rebuilt);
	assert_int_equal(o->vfio_setups, row->setups);
	assert_int_equal(o->device_writes, row->device_writes);
	assert_int_equal(o->irte_writes, 1); /* the host IRTE, in every design */
	assert_int_equal(o->iec_invalidations, 1);
	assert_int_equal(o->vmm_refused, 0);
	run_free(&run);
}

/*
 * Moving it to vCPU 1. `trap`: the message names the vector, so Linux
 * rewrites the unmasked entry: mask, three dwords, unmask, read-back (6
 * exits), and the changed message on unmask is a route update and commit.
 * `vir-emul`: the IRTE changes, the handle does not: one IEC flush (2 exits),
 * after which QEMU translates every route again (1) and commits. `hcall`:
 * one SYNC, nothing written to the device.
 */
struct move_row {
	enum sim_design d;
	uint64_t hypercalls, traps, commits, retranslations;
};

static const struct move_row move_rows[] = {
    {TRAP, 0, 6, 1, 0},
    {VIR_EMUL, 0, 2, 1, 1},
    {HCALL, 1, 0, 0, 0},
};

static void one_vector_moved(void **state)
{
	const struct move_row *row = *state;
	struct run run = run_design(WORK(ONE_VECTOR MOVE_IT), row->d, NULL);
	const struct sim_op_result *o = op(&run, 1);

	assert_sound(&run);
	assert_string_equal(o->op, "set_affinity");
	assert_int_equal(o->err, 0);
	assert_int_equal(o->hypercalls, row->hypercalls);
	assert_int_equal(o->mmio_traps, row->traps);
	assert_int_equal(o->cfg_exits, 0);
	assert_int_equal(o->route_commits, row->commits);
	assert_int_equal(o->retranslations, row->retranslations);
	assert_int_equal(o->irte_writes, 1);
	assert_int_equal(o->device_writes, 0);
	run_free(&run);
}

/*
 * IMS: the device-resident slots are trapped and emulated by the VMM's
 * device-specific handler (address, high, data, read-back, unmask: 5 exits a
 * slot, plus `vir-emul`'s IEC flush); memory-resident IMS is refused at
 * activation, where the driver sees it.
 */
struct ims_row {
	enum sim_design d;
	uint64_t traps;
	int mem_err;
};

static const struct ims_row ims_rows[] = {
    {TRAP, 4 * 5, -EOPNOTSUPP},
    {VIR_EMUL, 4 * (5 + 2), -EOPNOTSUPP},
    {HCALL, 0, 0},
};

static void ims_per_design(void **state)
{
	const struct ims_row *row = *state;
	struct run run =
	    run_design(WORK("  - {at: 0ms, do: activate, dev: a/d, count: 4}\n"
			    "  - {at: 0ms, do: activate, dev: a/m, count: 4}\n"
			    "  - {at: 0ms, do: traffic, dev: a/d, rate: 1M/s, until: 1ms}\n"),
		       row->d, NULL);

	assert_sound(&run);
	assert_int_equal(op(&run, 0)->err, 0);
	assert_int_equal(op(&run, 0)->mmio_traps, row->traps);
	assert_int_equal(op(&run, 1)->err, row->mem_err);
	assert_true(run.r.irq.delivered > 500);
	assert_int_equal(run.r.irq.delivered + run.r.irq.coalesced + run.r.irq.pending,
			 run.r.irq.raised);
	run_free(&run);
}

/* The cost model turns exact counts into time; a scenario's override is what it uses. */
static void cost_overrides_apply(void **state)
{
	struct run run =
	    run_design(HOST VM_A("costs: {mmio_trap: 1us, cfg_exit: 0ns, irte_write: 0ns, "
				 "iec_inval: 0ns, "
				 "route_commit: 7ns, route_rebuild: 3ns, vfio_vector_setup: "
				 "100us}\n") "workload:\n" ONE_VECTOR,
		       TRAP, NULL);
	struct cost_model def = cost_model_default();

	(void)state;
	assert_int_equal(op(&run, 0)->cost_ns, 6 * 1000 + 7 + 1 * 3 + 100000);
	run_free(&run);
	run = run_design(WORK(ONE_VECTOR), TRAP, NULL);
	assert_int_equal(op(&run, 0)->cost_ns, 6 * def.mmio_trap + def.cfg_exit + def.irte_write +
						   def.iec_inval + def.route_commit +
						   def.route_rebuild + def.vfio_vector_setup);
	run_free(&run);
}

/*
 * Route commits rebuild the whole table: activating n vectors one by one
 * rebuilds 1 + 2 + ... + n routes, so setup cost grows faster than linearly.
 */
static void route_rebuilds_grow_quadratically(void **state)
{
	struct run run =
	    run_design(WORK("  - {at: 0ms, do: activate, dev: a/n, count: 8}\n"), TRAP, NULL);

	(void)state;
	assert_int_equal(op(&run, 0)->route_commits, 8);
	assert_int_equal(op(&run, 0)->routes_rebuilt, 8 * 9 / 2);
	run_free(&run);
}

/* KVM_MAX_IRQ_ROUTES: three 2048-vector functions need 6144 routes. */
#define BIG_VM                                                                       \
	"duration: 1ms\nhost: {pcpus: 32}\nvms:\n"                                   \
	"  - name: a\n    vcpus: 32\n    irte_quota: 8192\n    devices:\n"           \
	"      - {name: f0, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 2048}\n" \
	"      - {name: f1, bdf: \"03:00.1\", guest_bdf: \"00:05.0\", msix: 2048}\n" \
	"      - {name: f2, bdf: \"03:00.2\", guest_bdf: \"00:06.0\", msix: 2048}\n" \
	"workload:\n"                                                                \
	"  - {at: 0ms, do: activate, dev: a/f0, count: 2048}\n"                      \
	"  - {at: 0ms, do: activate, dev: a/f1, count: 2048}\n"                      \
	"  - {at: 0ms, do: activate, dev: a/f2, count: 2048}\n"                      \
	"  - {at: 0ms, do: traffic, dev: a/f2, rate: 1M/s, until: 1ms}\n"

static void past_4096_routes_the_vmm_refuses(void **state)
{
	struct run run = run_design(BIG_VM, TRAP, NULL);

	(void)state;
	assert_sound(&run);
	assert_int_equal(op(&run, 1)->vmm_refused, 0);
	/* the guest was told nothing: its activation "worked", and no interrupt arrives */
	assert_int_equal(op(&run, 2)->err, 0);
	assert_int_equal(op(&run, 2)->vmm_refused, 2048);
	assert_int_equal(op(&run, 2)->route_commits, 0);
	assert_int_equal(run.r.vms[0].irtes, VM_MAX_ROUTES);
	assert_int_equal(run.r.irq.delivered, 0);
	assert_true(run.r.irq.raised > 500);
	assert_int_equal(run.r.irq.pending, run.r.irq.raised); /* latched in the PBA for good */
	run_free(&run);
	run = run_design(BIG_VM, HCALL, NULL);
	assert_sound(&run);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(op(&run, i)->vmm_refused, 0);
	assert_int_equal(run.r.vms[0].irtes, 6144);
	assert_true(run.r.irq.delivered > 500);
	run_free(&run);
}

/* ---- pvir compare ------------------------------------------------------------------------- */

static struct cli_out compare(int argc, char **argv)
{
	return cli_call(cli_compare, argc, argv);
}

/* The line of the table that starts with @label, after @after. */
static const char *row(const char *text, const char *after, const char *label)
{
	const char *at = strstr(text, after);

	assert_non_null(at);
	at = strstr(at, label);
	assert_non_null(at);
	return at + strlen(label);
}

static void compare_default_table(void **state)
{
	char *argv[] = {"compare"};
	struct cli_out r = compare(1, argv);
	uint64_t trap, vir, hcall;

	(void)state;
	assert_int_equal(r.rc, CLI_EXIT_OK);
	assert_string_equal(r.err, "");
	assert_non_null(strstr(r.out, "trap        vir-emul           hcall\n"));
	/* 64 vectors: 6 trapped accesses each; 8 with the vIOMMU flush; 1 SYNC */
	assert_int_equal(sscanf(row(r.out, "activate web/nic0", "mmio_trap"), "%lu %lu %lu", &trap,
				&vir, &hcall),
			 3);
	assert_int_equal(trap, 64 * 6);
	assert_int_equal(vir, 64 * 8);
	assert_int_equal(hcall, 0);
	assert_int_equal(sscanf(row(r.out, "activate web/dsa0", "mmio_trap"), "%lu %lu %lu", &trap,
				&vir, &hcall),
			 3);
	assert_int_equal(trap, 2048 * 5);
	assert_int_equal(
	    sscanf(row(r.out, "interrupts", "lost"), "%lu %lu %lu", &trap, &vir, &hcall), 3);
	assert_int_equal(trap + vir + hcall, 0);
	assert_int_equal(
	    sscanf(row(r.out, "interrupts", "misdelivered"), "%lu %lu %lu", &trap, &vir, &hcall),
	    3);
	assert_int_equal(trap + vir + hcall, 0);
	assert_non_null(strstr(row(r.out, "set_affinity web/nic0/3", "ratio to hcall"), "x"));
	cli_free(&r);
}

/* Sizes 8 and 16: trap's modelled setup more than doubles (route rebuilds), hcall's doubles. */
static void compare_sweep_grows(void **state)
{
	char *argv[] = {"compare", "--sweep", "8,16", "--json"};
	struct cli_out r = compare(4, argv);
	unsigned long long t8, t16, h8, h16;
	const char *p;

	(void)state;
	assert_int_equal(r.rc, CLI_EXIT_OK);
	p = strstr(r.out, "{\"n\": 8, \"designs\": {\"trap\": {\"setup_exits\": 49,");
	assert_non_null(p);
	assert_int_equal(sscanf(strstr(p, "modelled_ns") + 13, "%llu", &t8), 1);
	assert_int_equal(sscanf(strstr(strstr(p, "\"hcall\""), "modelled_ns") + 13, "%llu", &h8),
			 1);
	p = strstr(r.out, "{\"n\": 16, ");
	assert_non_null(p);
	assert_int_equal(sscanf(strstr(p, "modelled_ns") + 13, "%llu", &t16), 1);
	assert_int_equal(sscanf(strstr(strstr(p, "\"hcall\""), "modelled_ns") + 13, "%llu", &h16),
			 1);
	assert_true(t16 > 2 * t8);
	assert_true(h16 <= 2 * h8);
	cli_free(&r);
}

/* What the README shows of `pvir compare` is what it prints. */
static void readme_shows_the_comparison(void **state)
{
	char *argv[] = {"compare"};
	struct cli_out r = compare(1, argv);

	(void)state;
	assert_readme_block("$ pvir compare", r.out);
	cli_free(&r);
}

static void compare_refuses_bad_usage(void **state)
{
	char *sweep[] = {"compare", "--sweep", "64,x"};
	char *both[] = {"compare", "a.yaml", "--sweep", "64"};
	struct cli_out r = compare(3, sweep);

	(void)state;
	assert_int_equal(r.rc, CLI_EXIT_USAGE);
	assert_non_null(strstr(r.err, "--sweep '64,x': expected"));
	cli_free(&r);
	r = compare(4, both);
	assert_int_equal(r.rc, CLI_EXIT_USAGE);
	assert_non_null(strstr(r.err, "give no file"));
	cli_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_ROW("one_vector_activated/trap", one_vector_activated, &vector_rows[0]),
	    TEST_ROW("one_vector_activated/vir-emul", one_vector_activated, &vector_rows[1]),
	    TEST_ROW("one_vector_activated/hcall", one_vector_activated, &vector_rows[2]),
	    TEST_ROW("one_vector_moved/trap", one_vector_moved, &move_rows[0]),
	    TEST_ROW("one_vector_moved/vir-emul", one_vector_moved, &move_rows[1]),
	    TEST_ROW("one_vector_moved/hcall", one_vector_moved, &move_rows[2]),
	    TEST_ROW("ims_per_design/trap", ims_per_design, &ims_rows[0]),
	    TEST_ROW("ims_per_design/vir-emul", ims_per_design, &ims_rows[1]),
	    TEST_ROW("ims_per_design/hcall", ims_per_design, &ims_rows[2]),
	    TEST(cost_overrides_apply),
	    TEST(route_rebuilds_grow_quadratically),
	    TEST(past_4096_routes_the_vmm_refuses),
	    TEST(compare_default_table),
	    TEST(compare_sweep_grows),
	    TEST(compare_refuses_bad_usage),
	    TEST(readme_shows_the_comparison),
	};

	return cmocka_run_group_tests_name("designs", tests, NULL, NULL);
}
