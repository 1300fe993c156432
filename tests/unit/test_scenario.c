// SPDX-License-Identifier: MIT
/*
 * Scenario loading: the default scenario as docs/design.md §8 gives it, units, and
 * a table of bad scenarios, each with the message it must get — file, line,
 * the key's path and what is wrong.
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/scenario.h"

/* Lines 1-7: a host and one VM with an 8-vector MSI-X device and an IMS device. */
#define BASE                                                                     \
	"duration: 10ms\n"                                                       \
	"host: {pcpus: 4}\n"                                                     \
	"vms:\n"                                                                 \
	"  - name: a\n"                                                          \
	"    vcpus: 2\n"                                                         \
	"    devices:\n"                                                         \
	"      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 8}\n" \
	"      - {name: d, bdf: \"03:00.1\", guest_bdf: \"00:05.0\", ims: 64}\n"
#define OP(x) BASE "workload:\n  - " x "\n" /* the operation is on line 10 */

static struct scenario *parse_ok(const char *text)
{
	struct scenario *sc = NULL;
	char err[SC_ERR_MAX] = "";

	if (scenario_parse(text, strlen(text), "t.yaml", &sc, err, sizeof(err)))
		fail_msg("%s", err);
	return sc;
}

static void default_scenario_is_designs(void **state)
{
	struct scenario *sc = parse_ok(scenario_default_text());
	const struct sc_op *t = &sc->ops[2];

	(void)state;
	assert_string_equal(sc->name, "default");
	assert_int_equal(sc->seed, 42);
	assert_int_equal(sc->duration, 20000000);
	assert_int_equal(sc->irte_entries, 65536);
	assert_int_equal(sc->nvms, 1);
	assert_int_equal(sc->vms[0].irte_quota, 4096);
	assert_int_equal(sc->vms[0].ndevs, 2);
	assert_int_equal(sc->vms[0].devs[0].bdf, 0x0300);
	assert_int_equal(sc->vms[0].devs[0].guest_bdf, 0x0020);
	assert_int_equal(sc->vms[0].devs[0].msix, 64);
	assert_int_equal(sc->vms[0].devs[1].bdf, 0x6a08);
	assert_int_equal(sc->vms[0].devs[1].ims, 2048);
	assert_int_equal(sc->vms[0].devs[1].ims_storage, IMS_DEVICE);
	assert_int_equal(t->kind, OP_TRAFFIC);
	assert_int_equal(t->at, 1000000);
	assert_int_equal(t->rate, 2000000);
	assert_int_equal(t->until, 19000000);
	assert_int_equal(sc->ops[3].kind, OP_SET_AFFINITY);
	assert_int_equal(sc->ops[3].index, 3);
	assert_true(cpumask_test(&sc->ops[3].cpus, 2));
	assert_false(cpumask_test(&sc->ops[3].cpus, 0));
	assert_int_equal(sc->ops[4].for_ns, 2000000);
	assert_int_equal(sc->ops[6].addr, 0xfee00010);
	scenario_free(sc);
}

static void units_and_overrides(void **state)
{
	struct scenario *sc = parse_ok(
	    "name: u\nseed: 7\nduration: 1s\nhost: {pcpus: 2, iommu: {kind: vtd, irte_entries: "
	    "256, "
	    "posting: false, x2apic: false}}\n"
	    "vms:\n  - {name: a, vcpus: 2, memory: 8M, irte_quota: 10, pvir: {guest: false},\n"
	    "     devices: [{name: m, bdf: \"0a:1f.7\", guest_bdf: \"00:03.0\", ims: 4, "
	    "ims_storage: memory}]}\n"
	    "costs: {hypercall: 1us, iec_inval: 250ns}\n"
	    "workload:\n"
	    "  - {at: 500us, do: traffic, dev: a/m, rate: 3K/s, until: 1s, entries: [0, 3]}\n"
	    "  - {at: 2ms, do: block, vcpu: a/1, for: 0.5ms}\n"
	    "  - {at: 3ms, do: hypercall, vm: a, vcpu: 1, regs: {rax: 0x5c, rbx: 1}}\n");
	const struct sc_op *t = &sc->ops[0];

	(void)state;
	assert_string_equal(sc->name, "u");
	assert_int_equal(sc->seed, 7);
	assert_int_equal(sc->duration, 1000000000);
	assert_int_equal(sc->irte_entries, 256);
	assert_false(sc->posting);
	assert_false(sc->x2apic);
	assert_int_equal(sc->vms[0].memory, 8u << 20);
	assert_int_equal(sc->vms[0].irte_quota, 10);
	assert_false(sc->vms[0].guest_pvir);
	assert_true(sc->vms[0].vmm_pvir);
	assert_int_equal(sc->vms[0].devs[0].bdf, 0x0aff);
	assert_int_equal(sc->vms[0].devs[0].ims_storage, IMS_MEMORY);
	assert_int_equal(sc->costs.hypercall, 1000);
	assert_int_equal(sc->costs.iec_inval, 250);
	assert_int_equal(sc->costs.mmio_trap, cost_model_default().mmio_trap);
	assert_int_equal(t->at, 500000);
	assert_int_equal(t->rate, 3000);
	assert_int_equal(t->nentries, 2);
	assert_int_equal(t->entries[1], 3);
	assert_int_equal(sc->ops[1].for_ns, 500000);
	assert_int_equal(sc->ops[2].regs.rax, 0x5c);
	assert_int_equal(sc->ops[2].regs.rbx, 1);
	scenario_free(sc);
}

struct bad_row {
	const char *text;
	const char *message;
};

static const struct bad_row bad_rows[] = {
    {BASE "colour: red\n", "t.yaml:9: colour: unknown key"},
    {"host: {pcpus: 4}\n", "t.yaml:1: duration: missing"},
    {"duration: 10 parsecs\n", "t.yaml:1: duration: '10 parsecs' is not a duration"},
    {"duration: 0ms\n", "t.yaml:1: duration: must be more than 0"},
    {"duration: [1ms]\n", "t.yaml:1: duration: expected a value, found a list"},
    {"duration: 1ms\nhost: {pcpus: 0}\n", "t.yaml:2: host.pcpus: 0 is out of range (1..1024)"},
    {"duration: 1ms\nhost: {pcpus: 2, iommu: {kind: amd}}\n",
     "t.yaml:2: host.iommu.kind: 'amd' is not vtd or amdvi"},
    {"duration: 1ms\nhost: {pcpus: 2, iommu: {irte_entries: 1000}}\n",
     "t.yaml:2: host.iommu.irte_entries: 1000 is not a power of two"},
    {"duration: 1ms\nhost: {pcpus: 2, slice: 50us}\n",
     "t.yaml:2: host.slice: must be 100us to 100ms"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - {name: a, vcpus: 2, pin: [0, 2]}\n",
     "t.yaml:4: vms[0].pin[1]: 2 is out of range (0..1)"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - {name: a/b, vcpus: 1}\n",
     "t.yaml:4: vms[0].name: 'a/b' is not a name"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - {name: a, vcpus: 1}\n  - {name: a, vcpus: 1}\n",
     "t.yaml:5: vms[1]: name 'a' used twice"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - name: a\n    vcpus: 1\n    devices:\n"
     "      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 2049}\n",
     "t.yaml:7: vms[0].devices[0].msix: 2049 is out of range (1..2048)"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - name: a\n    vcpus: 1\n    devices:\n"
     "      - {name: n, bdf: \"3:0\", guest_bdf: \"00:04.0\", msix: 1}\n",
     "t.yaml:7: vms[0].devices[0].bdf: '3:0' is not a BDF"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - name: a\n    vcpus: 1\n    devices:\n"
     "      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\"}\n",
     "t.yaml:7: vms[0].devices[0]: a device needs msix, msi or ims"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - name: a\n    vcpus: 1\n    devices:\n"
     "      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 1, ims: 1}\n",
     "t.yaml:7: vms[0].devices[0]: one kind of interrupt storage a function"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - name: a\n    vcpus: 1\n    devices:\n"
     "      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 1, ims_storage: device}\n",
     "t.yaml:7: vms[0].devices[0].ims_storage: given without ims"},
    {BASE "costs: {warp_drive: 1ns}\n", "t.yaml:9: costs.warp_drive: unknown cost"},
    {OP("{at: 0ms, do: dance}"), "t.yaml:10: workload[0].do: 'dance' is not an operation"},
    {OP("{at: 0ms, do: activate, dev: b/n, count: 1}"), "t.yaml:10: workload[0].dev: no VM 'b'"},
    {OP("{at: 0ms, do: activate, dev: a/x, count: 1}"),
     "t.yaml:10: workload[0].dev: no device 'x' in VM 'a'"},
    {OP("{at: 0ms, do: activate, dev: a/n, count: 9}"),
     "t.yaml:10: workload[0].count: 9 is out of range (1..8)"},
    {OP("{at: 0ms, do: activate, dev: a/n}"), "t.yaml:10: workload[0].count: missing"},
    {OP("{at: 0ms, do: activate, dev: a/n, count: 1, affinity: [5]}"),
     "t.yaml:10: workload[0].affinity[0]: 5 is out of range (0..1)"},
    {OP("{at: 0ms, do: activate, dev: a/n, count: 1, colour: red}"),
     "t.yaml:10: workload[0].colour: unknown key"},
    {OP("{at: 11ms, do: offline, vcpu: a/1}"),
     "t.yaml:10: workload[0].at: after the end of the run (duration)"},
    {OP("{at: 1ms, do: offline, vcpu: a/2}"),
     "t.yaml:10: workload[0].vcpu: '2' is not a vCPU of the VM (0..1)"},
    {OP("{at: 1ms, do: migrate, vcpu: a/1, pcpu: 4}"),
     "t.yaml:10: workload[0].pcpu: 4 is out of range (0..3)"},
    {OP("{at: 1ms, do: set_affinity, irq: a/n/8, cpus: [1]}"),
     "t.yaml:10: workload[0].irq: '8' is not an interrupt of the device (0..7)"},
    {OP("{at: 1ms, do: traffic, dev: a/n, rate: 5 per hour, until: 2ms}"),
     "t.yaml:10: workload[0].rate: '5 per hour' is not a rate"},
    {OP("{at: 2ms, do: traffic, dev: a/n, rate: 1M/s, until: 1ms}"),
     "t.yaml:10: workload[0].until: not after at"},
    {OP("{at: 1ms, do: traffic, dev: a/n, rate: 1M/s, until: 2ms, entries: [8]}"),
     "t.yaml:10: workload[0].entries[0]: 8 is out of range (0..7)"},
    {OP("{at: 1ms, do: rogue_write, dev: a/d, entry: 64, addr: 0, data: 0}"),
     "t.yaml:10: workload[0].entry: 64 is out of range (0..63)"},
    {OP("{at: 1ms, do: rogue_write, dev: a/d, entry: 1, addr: 0, data: 0x100000000}"),
     "t.yaml:10: workload[0].data: 4294967296 is out of range (0..4294967295)"},
    {OP("{at: 1ms, do: hypercall, vm: a, vcpu: 0, regs: {rax: 1, r8: 2}}"),
     "t.yaml:10: workload[0].regs.r8: unknown key"},
    {"duration: 1ms\nhost: {pcpus: [\n", "t.yaml:3: yaml:"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - name: a\n    vcpus: 1\n    devices:\n"
     "      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.1\", msix: 1}\n",
     "t.yaml:7: vms[0].devices[0].guest_bdf: 00:04.1 is not function 0 of a slot on bus 0"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - name: a\n    vcpus: 1\n    devices:\n"
     "      - {name: n, bdf: \"03:00.0\", guest_bdf: \"01:00.0\", msix: 1}\n",
     "t.yaml:7: vms[0].devices[0].guest_bdf: 01:00.0 is not function 0 of a slot on bus 0"},
    {"duration: 1ms\nhost: {pcpus: 2, kernel: mainline}\n",
     "t.yaml:2: host.kernel: 'mainline' is not a kernel setting (stock, legacy, tuned)"},
    {"duration: 1ms\nhost: {pcpus: 2, vfio_msix: static}\n",
     "t.yaml:2: host.vfio_msix: 'static' is neither dynamic nor noresize"},
    /* malformed and oversized input (issue 11, point 6) */
    {"duration: 1ms\nhost: {pcpus: 010}\n",
     "t.yaml:2: host.pcpus: '010' has a leading zero (write it in decimal, or 0x hex)"},
    {"duration: 0x10ms\n", "t.yaml:1: duration: '0x10ms' is not a duration (a decimal number"},
    {BASE "costs: {hypercall: 1e10s}\n",
     "t.yaml:9: costs.hypercall: '1e10s' is not a duration (a decimal number"},
    {BASE "costs: {hypercall: 2s}\n", "t.yaml:9: costs.hypercall: at most 1s"},
    {BASE "costs: {hypercall: 1us, hypercall: 2us}\n", "t.yaml:9: costs.hypercall: given twice"},
    {BASE "seed: 99999999999999999999999\n",
     "t.yaml:9: seed: '99999999999999999999999' is out of range"},
    {BASE "duration: 2ms\n", "t.yaml:9: duration: given twice"},
    {BASE "---\nduration: 1ms\n", "t.yaml:9: yaml: a second document; a file holds one scenario"},
    {"duration: 61s\n", "t.yaml:1: duration: at most 60s"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - {name: a, vcpus: 1, memory: 64G}\n",
     "t.yaml:4: vms[0].memory: at most 4G"},
    {"duration: 1ms\nx: [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]\n",
     "t.yaml:2: yaml: nested deeper than 16"},
    {"duration: 30s\nhost: {pcpus: 4}\nvms:\n  - name: a\n    vcpus: 2\n    devices:\n"
     "      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 8}\n"
     "workload:\n  - {at: 0ms, do: traffic, dev: a/n, rate: 1G/s, until: 21ms}\n",
     "t.yaml:9: workload[0].until: the traffic so far raises 21000000 interrupts, more than "
     "20000000 a run"},
    /* a requester-id shared by functions of different VMs (issue 11, point 1) */
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n"
     "  - {name: a, vcpus: 1, devices: [{name: d, bdf: \"6a:01.0\", guest_bdf: \"00:04.0\", "
     "ims: 8, pasid: 1}]}\n"
     "  - {name: b, vcpus: 1, devices: [{name: d, bdf: \"6a:01.0\", guest_bdf: \"00:04.0\", "
     "ims: 8}]}\n",
     "t.yaml:5: vms: bdf of b/d is also a/d's (a shared bdf needs a distinct pasid on each)"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n"
     "  - {name: a, vcpus: 1, devices: [{name: d, bdf: \"6a:01.0\", guest_bdf: \"00:04.0\", "
     "ims: 8, pasid: 0x100000}]}\n",
     "t.yaml:4: vms[0].devices[0].pasid: 1048576 is out of range (1..1048575)"},
    {"duration: 1ms\nhost: {pcpus: 2, iommu: {kind: amdvi, irte_entries: 4096}}\n",
     "t.yaml:2: host.iommu.irte_entries: the size of VT-d's one table; AMD-Vi gives each "
     "device its own (table)"},
    {"duration: 1ms\nhost: {pcpus: 2, iommu: {ga: false}}\n",
     "t.yaml:2: host.iommu.ga: AMD-Vi's; VT-d posts with posting"},
    {"duration: 1ms\nhost: {pcpus: 2, iommu: {kind: amdvi, table: 1024}}\n",
     "t.yaml:2: host.iommu.table: 1024 is not 512 or 2048"},
    {"duration: 1ms\nhost: {pcpus: 2, iommu: {kind: amdvi, table: 512}}\nvms:\n  - name: a\n"
     "    vcpus: 1\n    devices:\n      - {name: d, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", "
     "ims: 2048}\n",
     "t.yaml:7: vms[0].devices[0].ims: 2048 interrupts: a device's AMD-Vi table holds 512 "
     "(host.iommu.table)"},
    {"duration: 1ms\nhost: {pcpus: 2}\nhosts: [{name: a, pcpus: 2}]\n",
     "t.yaml:3: hosts: either host (one) or hosts (a list), not both"},
    {"duration: 1ms\nhosts: [{pcpus: 2}]\n", "t.yaml:2: hosts[0].name: missing"},
    {"duration: 1ms\nhosts: [{name: a, pcpus: 2}, {name: a, pcpus: 4}]\n",
     "t.yaml:2: hosts[1].name: name 'a' used twice"},
    {"duration: 1ms\nhosts: [{name: a, pcpus: 2}, {name: b, pcpus: 0}]\n",
     "t.yaml:2: hosts[1].pcpus: 0 is out of range (1..1024)"},
    {"duration: 1ms\nhosts: [{name: a, pcpus: 2}, {name: b, pcpus: 2, slice: 1ms}]\n",
     "t.yaml:2: hosts[1].slice: every host has the first one's slice"},
    {"duration: 1ms\nhosts:\n  - {name: a, pcpus: 2, iommu: {kind: amdvi, table: 512}}\n"
     "vms:\n  - name: v\n    host: a\n    vcpus: 1\n    devices:\n"
     "      - {name: d, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", ims: 1024}\n",
     "t.yaml:9: vms[0].devices[0].ims: 1024 interrupts: a device's AMD-Vi table holds 512"},
    {"duration: 1ms\nhosts: [{name: a, pcpus: 2}]\nvms:\n  - {name: v, host: c, vcpus: 1}\n",
     "t.yaml:4: vms[0].host: no host is named 'c'"},
    {"duration: 1ms\nhosts: [{name: a, pcpus: 2}, {name: b, pcpus: 2}]\nvms:\n"
     "  - name: v\n    host: b\n    vcpus: 1\n    devices:\n"
     "      - {name: d, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 2}\n"
     "  - name: w\n    host: b\n    vcpus: 1\n    devices:\n"
     "      - {name: d, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 2}\n",
     "t.yaml:9: vms: bdf of w/d is also v/d's"},
    {"duration: 2ms\nhosts: [{name: a, pcpus: 2}, {name: b, pcpus: 2}]\nvms:\n"
     "  - {name: v, vcpus: 1}\nworkload:\n"
     "  - {at: 1ms, do: migrate_vm, vm: v, to: c, downtime: 1ms}\n",
     "t.yaml:6: workload[0].to: no host is named 'c'"},
    {"duration: 2ms\nhosts: [{name: a, pcpus: 2}, {name: b, pcpus: 2}]\nvms:\n"
     "  - {name: v, vcpus: 1}\nworkload:\n"
     "  - {at: 1ms, do: migrate_vm, vm: v, to: b, downtime: 2ms}\n",
     "t.yaml:6: workload[0].downtime: ends after the run (duration)"},
    {"duration: 2ms\nhosts: [{name: a, pcpus: 2}, {name: b, pcpus: 2}]\nvms:\n"
     "  - {name: v, vcpus: 1}\nworkload:\n"
     "  - {at: 1ms, do: migrate_vm, vm: v, to: b}\n",
     "t.yaml:6: workload[0].downtime: missing"},
    {OP("{at: 0ms, do: activate, dev: a/n, count: 4, min: 5}"),
     "t.yaml:10: workload[0].min: 5 is out of range (1..4)"},
    {OP("{at: 0ms, do: activate, dev: a/n, count: 4, min: 0}"),
     "t.yaml:10: workload[0].min: 0 is out of range (1..4)"},
    {OP("{at: 0ms, do: activate, dev: a/d, count: 4, managed: true}"),
     "t.yaml:10: workload[0].managed: managed interrupts are MSI-X's here (PCI_IRQ_AFFINITY)"},
    {OP("{at: 0ms, do: activate, dev: a/n, count: 4, managed: true, affinity: [1]}"),
     "t.yaml:10: workload[0].affinity: a managed activate is spread by the kernel: no affinity"},
    {OP("{at: 0ms, do: online, vcpu: a/2}"),
     "t.yaml:10: workload[0].vcpu: '2' is not a vCPU of the VM (0..1)"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - name: a\n    vcpus: 1\n    devices:\n"
     "      - {name: m, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msi: 3}\n",
     "t.yaml:7: vms[0].devices[0].msi: 3 vectors: an MSI capability has 1, 2, 4, 8, 16 or 32"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - name: a\n    vcpus: 1\n    devices:\n"
     "      - {name: m, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msi: 64}\n",
     "t.yaml:7: vms[0].devices[0].msi: 64 is out of range (1..32)"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - name: a\n    vcpus: 1\n    devices:\n"
     "      - {name: m, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msi: 4, msix: 4}\n",
     "t.yaml:7: vms[0].devices[0]: one kind of interrupt storage a function"},
    {"duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - name: a\n    vcpus: 1\n    devices:\n"
     "      - {name: m, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msi: 4}\n"
     "workload:\n  - {at: 0ms, do: rogue_write, dev: a/m, entry: 0, addr: 0xfee00000, data: 0}\n",
     "t.yaml:9: workload[0]: a rogue write needs storage in a BAR or RAM; MSI's is in config "
     "space, the VMM's view"},
};

static void bad_scenario(void **state)
{
	const struct bad_row *row = *state;
	struct scenario *sc = NULL;
	char err[SC_ERR_MAX] = "";

	assert_int_equal(
	    scenario_parse(row->text, strlen(row->text), "t.yaml", &sc, err, sizeof(err)), -EINVAL);
	assert_null(sc);
	if (strncmp(err, row->message, strlen(row->message)))
		fail_msg("got \"%s\", want \"%s...\"", err, row->message);
}

/* hosts: each with its own IOMMU and pCPUs; VMs placed by name; a bdf is per host. */
static void hosts_each_with_its_vms(void **state)
{
	static const char text[] =
	    "duration: 1ms\nhosts:\n"
	    "  - {name: a, pcpus: 8}\n"
	    "  - {name: b, pcpus: 4, iommu: {kind: amdvi, table: 512}}\n"
	    "vms:\n"
	    "  - name: v\n    vcpus: 1\n    devices:\n"
	    "      - {name: d, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 2}\n"
	    "  - name: w\n    host: b\n    vcpus: 1\n    devices:\n"
	    "      - {name: d, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 2}\n";
	struct scenario *sc = NULL;
	char err[SC_ERR_MAX] = "";

	(void)state;
	assert_int_equal(scenario_parse(text, strlen(text), "t.yaml", &sc, err, sizeof(err)), 0);
	assert_int_equal(sc->nhosts, 2);
	assert_string_equal(sc->hosts[1].name, "b");
	assert_int_equal(sc->hosts[0].pcpus, 8);
	assert_int_equal(sc->hosts[1].iommu, HOST_IOMMU_AMDVI);
	assert_int_equal(sc->hosts[1].amd_table, 512);
	assert_int_equal(sc->hosts[0].iommu, HOST_IOMMU_VTD);
	assert_int_equal(sc->pcpus, 8); /* the first host's, where one host is read */
	assert_int_equal(sc->vms[0].host, 0);
	assert_int_equal(sc->vms[1].host, 1);
	/* --iommu: every host */
	assert_int_equal(scenario_set_iommu(sc, HOST_IOMMU_VTD, err, sizeof(err)), 0);
	assert_int_equal(sc->hosts[1].iommu, HOST_IOMMU_VTD);
	scenario_free(sc);
}

static void unreadable_file(void **state)
{
	struct scenario *sc = NULL;
	char err[SC_ERR_MAX] = "";

	(void)state;
	assert_int_equal(scenario_load("/nonexistent/x.yaml", &sc, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.yaml: cannot open"));
	/* a directory opens and cannot be read; /dev/zero reads for ever */
	assert_int_equal(scenario_load("/", &sc, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "/: cannot read: Is a directory"));
	assert_int_equal(scenario_load("/dev/zero", &sc, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "/dev/zero: larger than 1048576 bytes"));
	assert_null(sc);
}

/* 100,000 levels of flow nesting: refused at once, not after libyaml's quadratic minutes. */
static void deep_nesting_is_refused_quickly(void **state)
{
	enum { DEPTH = 100000 };
	size_t len = strlen("duration: 1ms\nx: ") + 2 * DEPTH + 1;
	char *text = malloc(len + 1), err[SC_ERR_MAX] = "";
	struct scenario *sc = NULL;
	size_t at = (size_t)sprintf(text, "duration: 1ms\nx: ");

	(void)state;
	memset(text + at, '[', DEPTH);
	memset(text + at + DEPTH, ']', DEPTH);
	text[at + 2 * DEPTH] = '\n';
	assert_int_equal(scenario_parse(text, len, "t.yaml", &sc, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "t.yaml:2: yaml: nested deeper than 16");
	free(text);
}

/* 5 VMs of 13 functions: the 65th does not fit the host, and the loader says where. */
static void more_functions_than_the_host_holds(void **state)
{
	char text[16384], err[SC_ERR_MAX] = "";
	struct scenario *sc = NULL;
	size_t at = (size_t)snprintf(text, sizeof(text), "duration: 1ms\nhost: {pcpus: 2}\nvms:\n");

	(void)state;
	for (unsigned v = 0; v < 5; v++) {
		at += (size_t)snprintf(text + at, sizeof(text) - at,
				       "  - name: v%u\n    vcpus: 1\n    devices:\n", v);
		for (unsigned d = 0; d < 13; d++)
			at +=
			    (size_t)snprintf(text + at, sizeof(text) - at,
					     "      - {name: d%u, bdf: \"%02x:%02x.0\", guest_bdf: "
					     "\"00:%02x.0\", msix: 1}\n",
					     d, v + 1, d, d + 1);
	}
	assert_int_equal(scenario_parse(text, at, "t.yaml", &sc, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "t.yaml:68: vms: more than the host's 64 functions, with those of v4");
}

#define BAD(name, i) TEST_ROW("scenario/bad/" name, bad_scenario, &bad_rows[i])

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(default_scenario_is_designs),
	    TEST(units_and_overrides),
	    TEST(unreadable_file),
	    BAD("unknown-root-key", 0),
	    BAD("no-duration", 1),
	    BAD("duration-unit", 2),
	    BAD("duration-zero", 3),
	    BAD("duration-type", 4),
	    BAD("no-pcpus", 5),
	    BAD("iommu-kind", 6),
	    BAD("irte-entries-pow2", 7),
	    BAD("slice-range", 8),
	    BAD("pin-out-of-range", 9),
	    BAD("vm-name", 10),
	    BAD("vm-name-twice", 11),
	    BAD("msix-over-2048", 12),
	    BAD("bdf", 13),
	    BAD("device-without-irqs", 14),
	    BAD("msix-and-ims", 15),
	    BAD("ims-storage-alone", 16),
	    BAD("unknown-cost", 17),
	    BAD("unknown-op", 18),
	    BAD("no-such-vm", 19),
	    BAD("no-such-device", 20),
	    BAD("count-over-device", 21),
	    BAD("count-missing", 22),
	    BAD("affinity-no-such-vcpu", 23),
	    BAD("op-unknown-key", 24),
	    BAD("at-after-end", 25),
	    BAD("no-such-vcpu", 26),
	    BAD("pcpu-out-of-range", 27),
	    BAD("no-such-irq", 28),
	    BAD("rate-unit", 29),
	    BAD("until-before-at", 30),
	    BAD("entries-out-of-range", 31),
	    BAD("rogue-entry", 32),
	    BAD("rogue-data", 33),
	    BAD("regs-unknown", 34),
	    BAD("yaml-syntax", 35),
	    BAD("guest-bdf-function", 36),
	    BAD("guest-bdf-bus", 37),
	    BAD("host-kernel", 38),
	    BAD("host-vfio-msix", 39),
	    BAD("leading-zero", 40),
	    BAD("hex-duration", 41),
	    BAD("exponent-cost", 42),
	    BAD("cost-over-1s", 43),
	    BAD("cost-twice", 44),
	    BAD("huge-integer", 45),
	    BAD("key-twice", 46),
	    BAD("second-document", 47),
	    BAD("duration-over-60s", 48),
	    BAD("memory-over-4g", 49),
	    BAD("nested-deep", 50),
	    BAD("too-many-raises", 51),
	    BAD("shared-bdf-without-pasid", 52),
	    BAD("pasid-out-of-range", 53),
	    BAD("irte-entries-on-amdvi", 54),
	    BAD("ga-on-vtd", 55),
	    BAD("amdvi-table", 56),
	    BAD("amdvi-table-too-small", 57),
	    BAD("host-and-hosts", 58),
	    BAD("hosts-name-missing", 59),
	    BAD("hosts-name-twice", 60),
	    BAD("hosts-pcpus", 61),
	    BAD("hosts-slice", 62),
	    BAD("hosts-amdvi-table", 63),
	    BAD("vm-no-such-host", 64),
	    BAD("same-bdf-same-host", 65),
	    BAD("migrate-vm-no-such-host", 66),
	    BAD("migrate-vm-downtime-past-end", 67),
	    BAD("migrate-vm-no-downtime", 68),
	    BAD("min-over-count", 69),
	    BAD("min-zero", 70),
	    BAD("managed-on-ims", 71),
	    BAD("managed-with-affinity", 72),
	    BAD("online-no-such-vcpu", 73),
	    BAD("msi-not-pow2", 74),
	    BAD("msi-over-32", 75),
	    BAD("msi-and-msix", 76),
	    BAD("rogue-write-on-msi", 77),
	    TEST(hosts_each_with_its_vms),
	    TEST(deep_nesting_is_refused_quickly),
	    TEST(more_functions_than_the_host_holds),
	};
	size_t named = 0;

	/* a row of the table with no BAD() line would never run */
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		named += !strncmp(tests[i].name, "scenario/bad/", 13);
	if (named != sizeof(bad_rows) / sizeof(bad_rows[0])) {
		fprintf(stderr, "%zu bad rows, %zu named\n", sizeof(bad_rows) / sizeof(bad_rows[0]),
			named);
		return 1;
	}
	return cmocka_run_group_tests_name("scenario", tests, NULL, NULL);
}
