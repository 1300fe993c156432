// SPDX-License-Identifier: MIT
/*
 * The designs on an AMD-Vi host: the default scenario with one key changed under each
 * design, with nothing lost or misdelivered; under hcall one hypercall per activation, no
 * device write for an affinity change, and delivery to a running vCPU with no exit;
 * blocked vCPUs woken through the GA log; a tenant naming another's indices reaching only
 * its own table.
 */
#include <stdlib.h>
#include <string.h>

#include "pvir/scenario.h"
#include "pvir/sim.h"
#include "sim_helpers.h"

/* The default scenario with host.iommu.kind changed, nothing else. */
static char *default_on_amdvi(void)
{
	const char *text = scenario_default_text();
	const char *at = strstr(text, "kind: vtd");
	char *s = malloc(strlen(text) + 8);

	assert_non_null(at);
	sprintf(s, "%.*skind: amdvi%s", (int)(at - text), text, at + strlen("kind: vtd"));
	return s;
}

static void default_runs_under_every_design(void **state)
{
	static const enum sim_design designs[] = {SIM_DESIGN_TRAP, SIM_DESIGN_VIR_EMUL,
						  SIM_DESIGN_HCALL};
	char *text = default_on_amdvi();

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		struct run run = run_design(text, designs[i], NULL);

		assert_sound(&run);
		assert_int_equal(run.r.iommu, HOST_IOMMU_AMDVI);
		assert_true(run.r.irq.delivered > 30000);
		assert_int_equal(run.r.irq.raised, run.r.irq.delivered + run.r.irq.coalesced +
						       run.r.irq.blocked + run.r.irq.pending);
		run_free(&run);
	}
	free(text);
}

static void hcall_on_amdvi(void **state)
{
	char *text = default_on_amdvi();
	struct run run = run_design(text, SIM_DESIGN_HCALL, NULL);

	(void)state;
	assert_sound(&run);
	/*
	 * 64 MSI-X vectors: one SYNC parks them, one per request_irq() (reservation
	 * mode); 2048 IMS entries with one hypercall
	 */
	assert_string_equal(op(&run, 0)->op, "activate");
	assert_int_equal(op(&run, 0)->hypercalls, 65);
	assert_int_equal(op(&run, 1)->hypercalls, 1);
	assert_int_equal(op(&run, 0)->err, 0);
	assert_int_equal(op(&run, 1)->err, 0);
	/* the affinity change: one SYNC, no device write */
	assert_string_equal(op(&run, 2)->op, "set_affinity");
	assert_int_equal(op(&run, 2)->hypercalls, 1);
	assert_int_equal(op(&run, 2)->device_writes, 0);
	/* every delivery posted: a doorbell, no external-interrupt exit */
	assert_int_equal(run.r.exits.ext_intr, 0);
	assert_int_equal(run.r.injected, 0);
	assert_int_equal(run.r.posted, run.r.irq.raised);
	run_free(&run);
	free(text);
}

#define BLOCKED                                                                                    \
	"duration: 4ms\nhost: {pcpus: 4, iommu: {kind: amdvi}}\nvms:\n  - name: a\n    vcpus: 2\n" \
	"    devices:\n      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 2}\n"     \
	"workload:\n"                                                                              \
	"  - {at: 0ms, do: activate, dev: a/n, count: 2, affinity: [0]}\n"                         \
	"  - {at: 1ms, do: block, vcpu: a/0, for: 2ms}\n"                                          \
	"  - {at: 0ms, do: traffic, dev: a/n, rate: 10K/s, until: 4ms}\n"

/* A post to a halted vCPU goes to the GA log; the host wakes it, and it takes the vector. */
static void blocked_vcpu_woken_through_the_ga_log(void **state)
{
	struct run run = run_design(BLOCKED, SIM_DESIGN_HCALL, NULL);

	(void)state;
	assert_sound(&run);
	assert_int_equal(run.r.exits.hlt, 1);
	assert_int_equal(run.r.exits.wakeup, 1);
	assert_true(run.r.irq.delivered > 20);
	assert_int_equal(run.r.exits.ext_intr, 0);
	run_free(&run);
}

#define TENANTS                                                                     \
	"duration: 2ms\nhost: {pcpus: 4, iommu: {kind: amdvi, table: 512}}\nvms:\n" \
	"  - name: alice\n    vcpus: 1\n    devices:\n"                             \
	"      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 8}\n"    \
	"  - name: mallory\n    vcpus: 1\n    devices:\n"                           \
	"      - {name: n, bdf: \"04:00.0\", guest_bdf: \"00:04.0\", msix: 8}\n"    \
	"workload:\n"                                                               \
	"  - {at: 0ms, do: activate, dev: alice/n, count: 8}\n"                     \
	"  - {at: 0ms, do: activate, dev: mallory/n, count: 2}\n"                   \
	"  - {at: 0ms, do: traffic, dev: alice/n, rate: 100K/s, until: 2ms}\n"      \
	"  - {at: 1ms, do: rogue_write, dev: mallory/n, entry: 0, addr: 0xfee00000, data: 5}\n"

/*
 * Mallory names index 5, which alice holds in her table: in mallory's own table it is
 * not allocated, so the unit blocks it with an IO_PAGE_FAULT; alice loses nothing.
 */
static void a_tenant_reaches_only_its_own_table(void **state)
{
	static const enum sim_design designs[] = {SIM_DESIGN_TRAP, SIM_DESIGN_VIR_EMUL,
						  SIM_DESIGN_HCALL};

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		struct run run = run_design(TENANTS, designs[i], NULL);

		assert_sound(&run);
		assert_int_equal(run.r.vms[0].irq.blocked, 0);
		assert_int_equal(run.r.vms[0].irq.raised, run.r.vms[0].irq.delivered);
		if (designs[i] == SIM_DESIGN_HCALL) { /* the guest owns its table: raw pair */
			assert_int_equal(run.r.vms[1].irq.blocked, 1);
			assert_int_equal(run.r.amd_faults[AMDVI_BLOCK_REMAP_EN], 1);
		}
		run_free(&run);
	}
}

#define ONE_VECTOR                                                                                 \
	"duration: 1ms\nhost: {pcpus: 4, iommu: {kind: amdvi}}\nvms:\n  - name: a\n    vcpus: 2\n" \
	"    devices:\n      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 8}\n"     \
	"workload:\n  - {at: 0ms, do: activate, dev: a/n, count: 1, affinity: [0]}\n"              \
	"  - {at: 0ms, do: set_affinity, irq: a/n/0, cpus: [1]}\n"

/*
 * vir-emul on an AMD-Vi host: the guest drives an emulated AMD-Vi unit. One vector: the ten
 * trapped MSI-X accesses of Linux's two activations (the message written parked, then
 * again with the real vector, and the unmask), and the guest driver's three command-tail
 * writes (INVALIDATE_DEVTAB_ENTRY for the device's new table, INVALIDATE_INTERRUPT_TABLE
 * for its entry at each activation, each with a completion wait it polls in its own
 * memory). Moving it: the entry rewritten, one tail write, the device's message unchanged
 * (no storage write).
 */
static void vir_emul_drives_an_amdvi_viommu(void **state)
{
	struct run run = run_design(ONE_VECTOR, SIM_DESIGN_VIR_EMUL, NULL);

	(void)state;
	assert_sound(&run);
	assert_int_equal(op(&run, 0)->err, 0);
	assert_int_equal(op(&run, 0)->mmio_traps, 13);
	assert_int_equal(op(&run, 1)->err, 0);
	assert_int_equal(op(&run, 1)->mmio_traps, 1);
	assert_int_equal(op(&run, 1)->retranslations, 1);
	run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(default_runs_under_every_design),	 TEST(hcall_on_amdvi),
	    TEST(blocked_vcpu_woken_through_the_ga_log), TEST(a_tenant_reaches_only_its_own_table),
	    TEST(vir_emul_drives_an_amdvi_viommu),
	};

	return cmocka_run_group_tests_name("amdvi_designs", tests, NULL, NULL);
}
