// SPDX-License-Identifier: MIT
/*
 * The three designs on the same work (docs/design.md §3): exit counts for small
 * cases, computed by hand from what a Linux guest writes and what QEMU and
 * KVM do with it; the 4096-route limit; the cost model applied to the counts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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
 * One MSI-X vector, activated as Linux does it in reservation mode. Enabling
 * MSI-X is one config-space write, an exit in every design.
 *
 * pci_alloc_irq_vectors() activates it parked on the shutdown vector and writes
 * its message into the masked entry: address low, high, data, a read-back (4
 * accesses). request_irq() activates it again with a real vector and writes the
 * message again (4), then unmasks and reads back (2): 10 accesses, each trapped
 * under `trap`. `vir-emul` adds two IRTE writes in the guest's table, each with
 * its IEC flush (queue-tail write, status read): 14. QEMU acts only on the
 * unmask, so the host IRTE is written twice in both: remapped by request_irq,
 * posted by IRQ bypass.
 *
 * `hcall`: no exit on the table (3 + 3 data writes and the unmask reach the
 * device directly), two SYNCs: the allocation's, whose IRTE is remapped and
 * posted to the shutdown vector (2 IRTE writes), and request_irq()'s, a route
 * update re-aiming it (1 more) and its commit.
 *
 * With the guest's `vectors: at_alloc` the vector is real at allocation: one
 * message write, one SYNC, one IEC flush: 6, 8 and 0 exits, 2 IRTE writes each.
 */
struct vector_row {
	enum sim_design d;
	uint64_t hypercalls, traps, device_writes, irte_writes;
	bool at_alloc;
};

static const struct vector_row vector_rows[] = {
    {TRAP, 0, 10, 0, 2, false}, {VIR_EMUL, 0, 14, 0, 2, false}, {HCALL, 2, 0, 7, 3, false},
    {TRAP, 0, 6, 0, 2, true},	{VIR_EMUL, 0, 8, 0, 2, true},	{HCALL, 1, 0, 4, 2, true},
};

#define VM_AT_ALLOC(extra)        \
	"vms:\n"                  \
	"  - name: a\n"           \
	"    vcpus: 2\n"          \
	"    vectors: at_alloc\n" \
	"    devices:\n"          \
	"      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 8}\n" extra

static void one_vector_activated(void **state)
{
	const struct vector_row *row = *state;
	struct run run = run_design(row->at_alloc ? HOST VM_AT_ALLOC("") "workload:\n" ONE_VECTOR
						  : WORK(ONE_VECTOR),
				    row->d, NULL);
	const struct sim_op_result *o = op(&run, 0);

	assert_sound(&run);
	assert_int_equal(o->err, 0);
	assert_int_equal(o->hypercalls, row->hypercalls);
	assert_int_equal(o->mmio_traps, row->traps);
	assert_int_equal(o->cfg_exits, 1);
	assert_int_equal(o->device_writes, row->device_writes);
	assert_int_equal(o->irte_writes, row->irte_writes);
	assert_int_equal(o->iec_invalidations, row->irte_writes);
	assert_int_equal(o->vmm_refused, 0);
	run_free(&run);
}

/*
 * Moving it to vCPU 1. `trap`: the message names the vector, so Linux
 * rewrites the unmasked entry: mask, three dwords, unmask, read-back (6
 * exits); QEMU turns the mask and the unmask into two SET_IRQS, each a
 * free_irq and a request_irq of the host interrupt: 6 IRTE writes.
 * `vir-emul`: the IRTE changes, the handle does not: one IEC flush (2
 * exits), after which QEMU translates every route again (1) and commits,
 * and KVM re-aims the one IRTE. `hcall`: one SYNC, a route update and its
 * commit, nothing written to the device. A commit in every design.
 */
struct move_row {
	enum sim_design d;
	uint64_t hypercalls, traps, retranslations, irte_writes;
	uint64_t cfg;	  /* config-space exits (MSI's message) */
	const char *text; /* the scenario: an activation, then the move */
};

static const struct move_row move_rows[] = {
    {TRAP, 0, 6, 0, 6, 0, WORK(ONE_VECTOR MOVE_IT)},
    {VIR_EMUL, 0, 2, 1, 1, 0, WORK(ONE_VECTOR MOVE_IT)},
    {HCALL, 1, 0, 0, 1, 0, WORK(ONE_VECTOR MOVE_IT)},
};

static void vector_moved(void **state)
{
	const struct move_row *row = *state;
	struct run run = run_design(row->text, row->d, NULL);
	const struct sim_op_result *o = op(&run, 1);

	assert_sound(&run);
	assert_string_equal(o->op, "set_affinity");
	assert_int_equal(o->err, 0);
	assert_int_equal(o->hypercalls, row->hypercalls);
	assert_int_equal(o->mmio_traps, row->traps);
	assert_int_equal(o->cfg_exits, row->cfg);
	assert_int_equal(o->route_commits, 1);
	assert_int_equal(o->retranslations, row->retranslations);
	assert_int_equal(o->irte_writes, row->irte_writes);
	assert_int_equal(o->device_writes, 0);
	run_free(&run);
}

/*
 * `vir-emul` with 8 MSI-X and 64 IMS routes: a move flushes one vIRTE, and
 * QEMU translates all 72 routes again (counted so), of which one changes:
 * one IRTE re-aimed, and the moved interrupt's traffic lands on its new vCPU.
 * The same move with every route redone would re-aim the same one IRTE.
 */
static void vir_emul_flush_counts_every_route(void **state)
{
	struct run run =
	    run_design(WORK("  - {at: 0ms, do: activate, dev: a/n, count: 8, affinity: [0]}\n"
			    "  - {at: 0ms, do: activate, dev: a/d, count: 64, affinity: [0]}\n"
			    "  - {at: 1ms, do: set_affinity, irq: a/n/3, cpus: [1]}\n"
			    "  - {at: 1ms, do: traffic, dev: a/n, rate: 1M/s, until: 2ms, "
			    "entries: [3]}\n"),
		       VIR_EMUL, NULL);
	const struct sim_op_result *o = op(&run, 2);

	(void)state;
	assert_sound(&run);
	assert_string_equal(o->op, "set_affinity");
	assert_int_equal(o->err, 0);
	assert_int_equal(o->retranslations, 72);
	assert_int_equal(o->pi_updates, 1);
	assert_true(run.r.irq.delivered > 500);
	assert_int_equal(run.r.irq.spurious, 0); /* none came on the old vector once it went */
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

/*
 * A device with a 32-vector MSI capability (64-bit, maskable), all vectors on vCPU 0,
 * asked for with min 1. The capability is in config space: every access an exit in
 * every design. What a Linux guest does (msi_capability_init): MSI off, a read and a
 * write of Message Control (2); every vector masked (1); the message written by the
 * first vector: Message Control read and written with Multiple Message Enable, the
 * address low and high, the data, Message Control read back (6); MSI on (2). Maskable
 * MSI is in reservation mode: that activation parks the vectors on the shutdown
 * vector, and request_irq() activates each again, vector 0's message written again
 * (6), then unmasks it, a write of the mask bits (1 each).
 *
 * `trap`: no remapping, so 1 vector, as x86 Linux: 2 + 1 + 6 + 2 + 6 + 1 = 18 exits.
 * QEMU sees MSI enabled with the parked message: a route, an irqfd, a commit and one
 * SET_IRQS; VFIO's request_irq remaps the host IRTE and bypass posts it (2 IRTE
 * writes). The message written again changes the data: a route update, its commit,
 * the IRTE re-aimed (3).
 *
 * `vir-emul`: the guest's VT-d driver takes a block of 32 IRTEs (ECAP.MHMV is 15) and
 * installs each, parked, with an IEC flush, a queue-tail write and a status read: 64
 * MMIO exits; each flush has QEMU translate its routes again and commit (32), none
 * yet. MSI on: 32 routes, one commit, 32 irqfds, one SET_IRQS, 64 host IRTE writes.
 * Each request_irq() rewrites and flushes its IRTE (64 more exits), and QEMU
 * translates all 32 routes and commits (32), re-aiming the one IRTE that changed (32
 * more writes): 128 MMIO exits, 65 commits, 96 IRTE writes; 2 + 1 + 6 + 2 + 6 + 32 =
 * 49 config exits.
 *
 * `hcall`: one SYNC for the parked block, whose SET_IRQS enables MSI on the host with
 * a block of 32 IRTEs (one commit, 64 IRTE writes), then one SYNC per request_irq(),
 * a route update and its commit each (32 IRTEs re-aimed): 33 hypercalls, 33 commits,
 * 96 IRTE writes, the same 49 config exits, no MMIO.
 */
struct msi_row {
	enum sim_design d;
	unsigned granted;
	uint64_t hypercalls, traps, cfg, irte_writes, irqfds, commits;
};

static const struct msi_row msi_rows[] = {
    {TRAP, 1, 0, 0, 18, 3, 1, 2},
    {VIR_EMUL, 0, 0, 128, 49, 96, 32, 65},
    {HCALL, 0, 33, 0, 49, 96, 32, 33},
};

#define MSI_DEV	      "      - {name: s, bdf: \"03:00.3\", guest_bdf: \"00:07.0\", msi: 32}\n"
#define MSI_ALL	      "  - {at: 0ms, do: activate, dev: a/s, count: 32, min: 1, affinity: [0]}\n"
#define MSI_WORK(ops) HOST VM_A(MSI_DEV) "workload:\n" ops

static void msi_block_activated(void **state)
{
	const struct msi_row *row = *state;
	struct run run = run_design(MSI_WORK(MSI_ALL), row->d, NULL);
	const struct sim_op_result *o = op(&run, 0);

	assert_sound(&run);
	assert_int_equal(o->err, 0);
	assert_int_equal(o->granted, row->granted);
	assert_int_equal(o->hypercalls, row->hypercalls);
	assert_int_equal(o->mmio_traps, row->traps);
	assert_int_equal(o->cfg_exits, row->cfg);
	assert_int_equal(o->set_irqs, 1);
	assert_int_equal(o->irqfds, row->irqfds);
	assert_int_equal(o->route_commits, row->commits);
	assert_int_equal(o->irte_writes, row->irte_writes);
	assert_int_equal(o->device_writes, 0);
	run_free(&run);
}

/*
 * Vector 0 moved to vCPU 1. `trap`: Linux writes the new message (6 exits); only the
 * address changes (the new CPU has the same vector free), so QEMU updates one route
 * and commits, and KVM re-aims the one IRTE. `vir-emul`: the IRTE rewritten and
 * flushed (2 exits), QEMU translates all 32 routes again and commits. `hcall`: one
 * SYNC. In none is anything written to the device.
 */
#define MSI_MOVE MSI_WORK(MSI_ALL "  - {at: 1ms, do: set_affinity, irq: a/s/0, cpus: [1]}\n")

static const struct move_row msi_move_rows[] = {
    {TRAP, 0, 0, 0, 1, 6, MSI_MOVE},
    {VIR_EMUL, 0, 2, 32, 1, 0, MSI_MOVE},
    {HCALL, 1, 0, 0, 1, 0, MSI_MOVE},
};

/*
 * Traffic on every vector the guest got (32, or the one `trap` has), vector 0 moved
 * halfway: every interrupt lands on the irq and vCPU the guest set (the engine checks
 * each landing: misdelivered 0), none is lost or spurious.
 */
static void msi_traffic_arrives(void **state)
{
	const struct msi_row *row = *state;
	struct run run = run_design(
	    MSI_WORK(MSI_ALL "  - {at: 0ms, do: traffic, dev: a/s, rate: 2M/s, until: 2ms}\n"
			     "  - {at: 1ms, do: set_affinity, irq: a/s/0, cpus: [1]}\n"),
	    row->d, NULL);

	assert_sound(&run);
	assert_string_equal(op(&run, 1)->op, "set_affinity");
	assert_int_equal(op(&run, 1)->err, 0);
	assert_true(run.r.irq.delivered > 1000);
	assert_int_equal(run.r.irq.spurious, 0);
	assert_int_equal(run.r.irq.delivered + run.r.irq.coalesced + run.r.irq.pending,
			 run.r.irq.raised);
	run_free(&run);
}

/*
 * A managed vector shut down with its only vCPU, and started again with it (2 vCPUs,
 * 2 managed vectors, vCPU 1 offline then online). Linux's irq_shutdown_and_deactivate()
 * masks (the control dword and a read-back: 2 accesses), writes a zero message (3
 * dwords and a read-back: 4) and deactivates: the IR domain clears the IRTE and keeps
 * its index (intel_irq_remapping_deactivate()). Startup writes the message again (4)
 * and unmasks (2). Each access traps under `trap` and `vir-emul`: 6 exits each way;
 * `vir-emul` adds the IRTE's IEC flush each way (queue-tail write, status read: 2),
 * after which QEMU translates both routes again and commits once. `hcall`: nothing
 * traps; a SYNC tears the vIRTE down, another sets it up again.
 */
struct hotplug_row {
	enum sim_design d;
	uint64_t hypercalls, traps, commits, retranslations;
};

static const struct hotplug_row hotplug_rows[] = {
    {TRAP, 0, 6, 0, 0},
    {VIR_EMUL, 0, 8, 1, 2},
    {HCALL, 1, 0, 0, 0},
};

static void managed_vector_offline_online(void **state)
{
	const struct hotplug_row *row = *state;
	struct run run =
	    run_design(HOST "vms:\n  - name: a\n    vcpus: 2\n    devices:\n"
			    "      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 8}\n"
			    "workload:\n"
			    "  - {at: 0ms, do: activate, dev: a/n, count: 2, managed: true}\n"
			    "  - {at: 1ms, do: offline, vcpu: a/1}\n"
			    "  - {at: 1500us, do: online, vcpu: a/1}\n",
		       row->d, NULL);

	assert_sound(&run);
	for (size_t i = 1; i <= 2; i++) {
		const struct sim_op_result *o = op(&run, i);

		assert_int_equal(o->err, 0);
		assert_int_equal(o->hypercalls, row->hypercalls);
		assert_int_equal(o->mmio_traps, row->traps);
		assert_int_equal(o->retranslations, row->retranslations);
		assert_int_equal(o->device_writes, row->d == HCALL ? 4 : 0);
	}
	assert_int_equal(op(&run, 1)->route_commits, row->commits);
	assert_int_equal(op(&run, 1)->shut_down, 1);
	assert_int_equal(op(&run, 2)->restarted, 1);
	run_free(&run);
}

/*
 * A rogue write the emulation refuses (a remappable message with no
 * vIOMMU), then restored a word at a time while the entry is unmasked: the
 * half-restored message (the old address, the rogue data 0x45) is a valid
 * one, the VMM programs it, and the interrupt the device latched goes to
 * vector 0x45 of the guest's own vCPU — spurious, its own doing, not a
 * misdelivery. Under `hcall` the IOMMU blocks the rogue message.
 */
static void rogue_write_restored_word_by_word(void **state)
{
	static const char text[] = "duration: 2ms\nhost: {pcpus: 2}\n" VM_A(
	    "") "workload:\n"
		"  - {at: 0ms, do: activate, dev: a/n, count: 4}\n"
		"  - {at: 1ms, do: rogue_write, dev: a/n, entry: 1, addr: 0xfee00010, data: "
		"0x45}\n";
	struct run run = run_design(text, TRAP, NULL);

	(void)state;
	assert_sound(&run);
	assert_int_equal(run.r.irq.delivered, 1);
	assert_int_equal(run.r.irq.spurious, 1);
	run_free(&run);
	run = run_design(text, HCALL, NULL);
	assert_sound(&run);
	assert_int_equal(run.r.irq.blocked, 1);
	run_free(&run);
}

/*
 * Two VMs hold IMS interfaces of one function, told apart by PASID only:
 * one requester-id. b writes a's first handle (IRTE 1: 0xfee00038) into its
 * own slot and the device raises it. Source validation would let it into
 * a's vCPU; the VMM mediates both VMs' storage instead, holds b's slot
 * masked, and the latched raise reaches b once its own message is back.
 */
static void shared_rid_rogue_handle_stays_home(void **state)
{
	static const char text[] =
	    "duration: 2ms\nhost: {pcpus: 4}\nvms:\n"
	    "  - name: a\n    vcpus: 2\n    pin: [0, 1]\n    devices:\n"
	    "      - {name: d, bdf: \"6a:01.0\", pasid: 1, guest_bdf: \"00:04.0\", ims: 8}\n"
	    "  - name: b\n    vcpus: 2\n    pin: [2, 3]\n    devices:\n"
	    "      - {name: d, bdf: \"6a:01.0\", pasid: 2, guest_bdf: \"00:04.0\", ims: 8}\n"
	    "workload:\n"
	    "  - {at: 0ms, do: activate, dev: a/d, count: 1}\n"
	    "  - {at: 0ms, do: activate, dev: b/d, count: 1}\n"
	    "  - {at: 1ms, do: rogue_write, dev: b/d, entry: 0, addr: 0xfee00038, data: 0}\n";
	struct run run = run_design(text, HCALL, NULL);

	(void)state;
	assert_sound(&run);
	assert_int_equal(op(&run, 2)->vmm_refused, 1);
	assert_true(op(&run, 0)->mmio_traps > 0); /* mediated: the guest's writes exit */
	assert_int_equal(run.r.vms[0].irq.delivered, 0);
	assert_int_equal(run.r.vms[1].irq.delivered, 1);
	run_free(&run);
}

/*
 * The same interfaces, each enforcing a handle window (handle_window: true):
 * the host gave a's interface IRTEs 8..15 and b's 16..23, so both VMs
 * program their storage directly, and b's write of a's first handle (IRTE
 * 8: 0xfee00118) never leaves b's device: blocked there, not delivered to a.
 */
static void shared_rid_windows_keep_rogue_handle_home(void **state)
{
	static const char text[] =
	    "duration: 2ms\nhost: {pcpus: 4}\nvms:\n"
	    "  - name: a\n    vcpus: 2\n    pin: [0, 1]\n    devices:\n"
	    "      - {name: d, bdf: \"6a:01.0\", pasid: 1, guest_bdf: \"00:04.0\", ims: 8, "
	    "handle_window: true}\n"
	    "  - name: b\n    vcpus: 2\n    pin: [2, 3]\n    devices:\n"
	    "      - {name: d, bdf: \"6a:01.0\", pasid: 2, guest_bdf: \"00:04.0\", ims: 8, "
	    "handle_window: true}\n"
	    "workload:\n"
	    "  - {at: 0ms, do: activate, dev: a/d, count: 1}\n"
	    "  - {at: 0ms, do: activate, dev: b/d, count: 1}\n"
	    "  - {at: 1ms, do: rogue_write, dev: b/d, entry: 0, addr: 0xfee00118, data: 0}\n"
	    "  - {at: 1ms, do: traffic, dev: a/d, rate: 10K/s, until: 2ms}\n";
	struct run run = run_design(text, HCALL, NULL);

	(void)state;
	assert_sound(&run);
	assert_int_equal(op(&run, 0)->mmio_traps, 0); /* direct: windows make it safe */
	assert_int_equal(op(&run, 1)->mmio_traps, 0);
	assert_int_equal(op(&run, 2)->vmm_refused, 0);
	assert_int_equal(run.r.vms[1].irq.blocked, 1);
	assert_int_equal(run.r.vms[1].irq.delivered, 0);
	assert_true(run.r.vms[0].irq.delivered > 0); /* a's own traffic, and only that */
	assert_int_equal(run.r.vms[0].irq.delivered, run.r.vms[0].irq.raised);
	run_free(&run);
}

/*
 * KVM's default KVM_MAX_VCPUS on x86 is 1,024: a VM that size on a host of
 * 1,024 pCPUs, its interrupts aimed at vCPUs past 255 (whose APIC IDs need
 * the extended destination ID under trap, the x2APIC destination field
 * under hcall), and one moved: every design delivers all of them.
 */
static void vcpus_past_255_take_interrupts(void **state)
{
	static const char text[] =
	    "duration: 1ms\nhost: {pcpus: 1024}\nvms:\n"
	    "  - name: a\n    vcpus: 1024\n    devices:\n"
	    "      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 8}\n"
	    "workload:\n"
	    "  - {at: 0ms, do: activate, dev: a/n, count: 4, affinity: [255, 256, 767, 1023]}\n"
	    "  - {at: 0ms, do: set_affinity, irq: a/n/0, cpus: [512]}\n"
	    "  - {at: 0ms, do: traffic, dev: a/n, rate: 200K/s, until: 1ms}\n";

	(void)state;
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++) {
		struct run run = run_design(text, (enum sim_design)d, NULL);

		assert_sound(&run);
		assert_int_equal(op(&run, 0)->err, 0);
		assert_int_equal(op(&run, 1)->err, 0);
		assert_true(run.r.irq.delivered > 100);
		assert_int_equal(run.r.irq.delivered + run.r.irq.pending, run.r.irq.raised);
		run_free(&run);
	}
}

/* The cost model turns exact counts into time; a scenario's override is what it uses. */
static void cost_overrides_apply(void **state)
{
	struct run run =
	    run_design(HOST VM_A("costs: {mmio_trap: 1us, cfg_exit: 0ns, irte_write: 0ns, "
				 "iec_inval: 0ns, route_commit: 7ns, irqfd_walk: 3ns, pi_update: "
				 "5ns, vfio_vector_setup: 100us}\n") "workload:\n" ONE_VECTOR,
		       TRAP, NULL);
	struct cost_model def = cost_model_default();

	(void)state;
	/* 10 exits, one commit walking no irqfd, one IRTE re-aimed, one trigger attached */
	assert_int_equal(op(&run, 0)->cost_ns, 10 * 1000 + 7 + 0 * 3 + 5 + 100000);
	run_free(&run);
	run = run_design(WORK(ONE_VECTOR), TRAP, NULL);
	assert_int_equal(op(&run, 0)->cost_ns, 10 * def.mmio_trap + def.cfg_exit +
						   2 * def.irte_write + 2 * def.iec_inval +
						   def.route_commit + def.pi_update +
						   def.vfio_vector_setup);
	run_free(&run);
}

/*
 * A commit walks every irqfd: activating n vectors one by one, each with its
 * commit before its irqfd, walks 0 + 1 + ... + n-1 of them.
 */
static void irqfd_walks_grow_quadratically(void **state)
{
	struct run run =
	    run_design(WORK("  - {at: 0ms, do: activate, dev: a/n, count: 8}\n"), TRAP, NULL);

	(void)state;
	assert_int_equal(op(&run, 0)->route_commits, 8);
	assert_int_equal(op(&run, 0)->routes_walked, 8 * 7 / 2);
	run_free(&run);
}

/*
 * KVM_MAX_IRQ_ROUTES: three 2048-vector functions need 6144 routes, and a
 * VM holds 4096, 24 of them the IOAPIC's: 4072 for devices. The host has
 * the vectors (32 pCPUs x 202). On `stock` every design runs out at the same
 * route. `trap` cannot tell the guest: f1 loses its last 24 vectors, f2 all,
 * and their interrupts wait in the device for good. `hcall` returns
 * -ENOSPC to the driver of f1, which gets nothing and says so, and to f2's.
 * On `tuned` MSI irqfds need no routes (T1): all 6144 work in every design.
 */
#define BIG_VM(kernel)                                                               \
	"duration: 1ms\nhost: {pcpus: 32, kernel: " kernel "}\nvms:\n"               \
	"  - name: a\n    vcpus: 32\n    irte_quota: 8192\n    devices:\n"           \
	"      - {name: f0, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 2048}\n" \
	"      - {name: f1, bdf: \"03:00.1\", guest_bdf: \"00:05.0\", msix: 2048}\n" \
	"      - {name: f2, bdf: \"03:00.2\", guest_bdf: \"00:06.0\", msix: 2048}\n" \
	"workload:\n"                                                                \
	"  - {at: 0ms, do: activate, dev: a/f0, count: 2048}\n"                      \
	"  - {at: 0ms, do: activate, dev: a/f1, count: 2048}\n"                      \
	"  - {at: 0ms, do: activate, dev: a/f2, count: 2048}\n"                      \
	"  - {at: 0ms, do: traffic, dev: a/f2, rate: 1M/s, until: 1ms}\n"

#define DEVICE_ROUTES (VM_MAX_ROUTES - VM_IOAPIC_ROUTES)

static void past_4096_routes_stock_refuses(void **state)
{
	struct run run = run_design(BIG_VM("stock"), TRAP, NULL);

	(void)state;
	assert_sound(&run);
	assert_int_equal(op(&run, 0)->vmm_refused, 0);
	/* the guest was told nothing: its activations "worked" */
	assert_int_equal(op(&run, 1)->err, 0);
	assert_int_equal(op(&run, 1)->vmm_refused, 2 * 2048 - DEVICE_ROUTES);
	assert_int_equal(op(&run, 2)->err, 0);
	assert_int_equal(op(&run, 2)->vmm_refused, 2048);
	assert_int_equal(op(&run, 2)->route_commits, 0);
	/* the routed vectors' host interrupts, and each function's vector 0 from its enable */
	assert_int_equal(run.r.vms[0].irtes, DEVICE_ROUTES + 1);
	assert_int_equal(run.r.irq.delivered, 0);
	assert_true(run.r.irq.raised > 500);
	assert_int_equal(run.r.irq.pending, run.r.irq.raised); /* latched in the PBA for good */
	run_free(&run);
	run = run_design(BIG_VM("stock"), HCALL, NULL);
	assert_sound(&run);
	assert_int_equal(op(&run, 0)->err, 0);
	assert_int_equal(op(&run, 1)->err, -ENOSPC);
	assert_int_equal(op(&run, 2)->err, -ENOSPC);
	assert_int_equal(run.r.vms[0].irtes, 2048); /* f1's partial grant given back */
	assert_int_equal(run.r.irq.raised, 0);	    /* f2 never enabled a vector */
	run_free(&run);
}

/* every design: tuned's MSI irqfds need no GSI route */
static void past_4096_routes_tuned_works(void **state)
{
	static const enum sim_design designs[] = {TRAP, VIR_EMUL, HCALL};

	for (unsigned k = 0; k < 3; k++) {
		struct run run = run_design(BIG_VM("tuned"), designs[k], NULL);

		(void)state;
		assert_sound(&run);
		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(op(&run, i)->err, 0);
			assert_int_equal(op(&run, i)->vmm_refused, 0);
			assert_int_equal(op(&run, i)->route_commits, 0);
		}
		assert_true(run.r.irq.delivered > 500);
		/* posted interrupts hold no host vector on `tuned` (T2) */
		assert_int_equal(run.r.host_vectors, 0);
		run_free(&run);
	}
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
	assert_non_null(strstr(r.out, "   trap   vir-emul      hcall\n"));
	/*
	 * 64 vectors: 10 trapped accesses each (the message written at allocation and
	 * again at request_irq, the unmask); 14 with the vIOMMU's two flushes; none
	 * under hcall, which makes 65 SYNCs instead
	 */
	assert_int_equal(sscanf(row(r.out, "activate web/nic0", "mmio_trap"), "%lu %lu %lu", &trap,
				&vir, &hcall),
			 3);
	assert_int_equal(trap, 64 * 10);
	assert_int_equal(vir, 64 * 14);
	assert_int_equal(hcall, 0);
	assert_int_equal(sscanf(row(r.out, "activate web/nic0", "hypercall"), "%lu %lu %lu", &trap,
				&vir, &hcall),
			 3);
	assert_int_equal(hcall, 65);
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
	/* what the README shows of `pvir compare` is what it prints */
	assert_readme_block("$ pvir compare", r.out);
	cli_free(&r);
}

/* The sweep's modelled setup of trap and hcall at 8 and at 16 vectors. */
static void sweep_8_16(const char *vectors, unsigned long long *t8, unsigned long long *t16,
		       unsigned long long *h8, unsigned long long *h16, const char *trap8)
{
	char *argv[] = {"compare", "--sweep", "8,16",	   "--kernel",
			"legacy",  "--json",  "--vectors", (char *)vectors};
	struct cli_out r = compare(8, argv);
	const char *p;

	assert_int_equal(r.rc, CLI_EXIT_OK);
	p = strstr(r.out, trap8);
	assert_non_null(p);
	assert_int_equal(sscanf(strstr(p, "modelled_ns") + 13, "%llu", t8), 1);
	assert_int_equal(sscanf(strstr(strstr(p, "\"hcall\""), "modelled_ns") + 13, "%llu", h8), 1);
	p = strstr(r.out, "{\"n\":16,");
	assert_non_null(p);
	assert_int_equal(sscanf(strstr(p, "modelled_ns") + 13, "%llu", t16), 1);
	assert_int_equal(sscanf(strstr(strstr(p, "\"hcall\""), "modelled_ns") + 13, "%llu", h16),
			 1);
	cli_free(&r);
}

/*
 * Sizes 8 and 16 on the `legacy` kernel, where every commit re-aims every IRTE:
 * trap's modelled setup more than doubles (a commit per unmask). So does hcall's
 * under Linux's reservation mode, a SYNC and a commit per request_irq(); with the
 * vectors taken at allocation (one SYNC, one commit) it does not.
 */
static void compare_sweep_grows(void **state)
{
	unsigned long long t8, t16, h8, h16;

	(void)state;
	sweep_8_16("at_alloc", &t8, &t16, &h8, &h16,
		   "{\"n\":8,\"designs\":{\"trap\":{\"setup_exits\":49,");
	assert_true(t16 > 2 * t8);
	assert_true(h16 <= 2 * h8);
	sweep_8_16("at_request", &t8, &t16, &h8, &h16,
		   "{\"n\":8,\"designs\":{\"trap\":{\"setup_exits\":81,");
	assert_true(t16 > 2 * t8);
	assert_true(h16 > 2 * h8);
}

/* The row of @kernel in the block that starts with @block: "refused" cells, "ENOSPC" cells. */
static void kernel_row(const char *text, const char *block, const char *kernel, unsigned *refused,
		       unsigned *enospc)
{
	char key[32], line[256];
	const char *at = strstr(text, block), *end;

	assert_non_null(at);
	snprintf(key, sizeof(key), "\n  %s ", kernel);
	at = strstr(at, key);
	assert_non_null(at);
	end = strchr(at + 1, '\n');
	assert_non_null(end);
	snprintf(line, sizeof(line), "%.*s", (int)(end - at), at);
	*refused = *enospc = 0;
	for (const char *p = line; (p = strstr(p, "refused")); p++)
		++*refused;
	for (const char *p = line; (p = strstr(p, "ENOSPC")); p++)
		++*enospc;
}

/*
 * --kernel all: each operation under legacy, stock and tuned, on a small VM
 * whose quota (6 host IRTEs) runs out in the NIC's activation: m holds 2,
 * so 4 of the NIC's 8 vectors find room and `trap` and `vir-emul` refuse the
 * other 4 without telling the guest; `hcall` returns EDQUOT.
 */
#define SMALL                                                                    \
	"duration: 1ms\nhost: {pcpus: 4}\nvms:\n"                                \
	"  - name: a\n    vcpus: 2\n    irte_quota: 6\n    devices:\n"           \
	"      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 8}\n" \
	"      - {name: m, bdf: \"03:00.1\", guest_bdf: \"00:05.0\", msix: 8}\n" \
	"workload:\n"                                                            \
	"  - {at: 0ms, do: activate, dev: a/m, count: 2}\n"                      \
	"  - {at: 0ms, do: set_affinity, irq: a/m/0, cpus: [1]}\n"               \
	"  - {at: 0ms, do: activate, dev: a/n, count: 8}\n"

static void compare_every_kernel(void **state)
{
	char path[] = "/tmp/pvir-kernels-XXXXXX";
	char *argv[] = {"compare", path, "--kernel", "all"};
	int fd = mkstemp(path);
	struct cli_out r;
	unsigned refused, enospc;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, SMALL, strlen(SMALL)), (ssize_t)strlen(SMALL));
	close(fd);
	r = compare(4, argv);
	unlink(path);
	assert_int_equal(r.rc, CLI_EXIT_OK);
	assert_string_equal(r.err, "");
	for (unsigned k = 0; k < 3; k++) {
		static const char *const kernels[] = {"legacy", "stock", "tuned"};

		kernel_row(r.out, "set_affinity a/m/0\n", kernels[k], &refused, &enospc);
		assert_int_equal(refused + enospc, 0);
		kernel_row(r.out, "activate a/n\n", kernels[k], &refused, &enospc);
		assert_int_equal(refused, 2);
		assert_int_equal(enospc, 0);
		assert_non_null(strstr(r.out, "4 refused"));
		assert_non_null(strstr(r.out, "EDQUOT"));
	}
	cli_free(&r);
}

/* The default scenario on every kernel: nothing refused, and it is what the README shows. */
static void compare_every_kernel_default(void **state)
{
	char *argv[] = {"compare", "--kernel", "all"};
	struct cli_out r = compare(3, argv);

	(void)state;
	assert_int_equal(r.rc, CLI_EXIT_OK);
	assert_string_equal(r.err, "");
	assert_null(strstr(r.out, "refused"));
	assert_null(strstr(r.out, "ENOSPC"));
	assert_readme_block("$ pvir compare --kernel all", r.out);
	cli_free(&r);
}

/* The default scenario on both IOMMUs, side by side; and a device AMD-Vi cannot hold. */
static void compare_both_iommus(void **state)
{
	char *argv[] = {"compare", "--iommu", "all", "--quiet"};
	char *json[] = {"compare", "--iommu=all", "--json", "--quiet"};
	static const char text[] =
	    "duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - name: v\n"
	    "    vcpus: 1\n    devices:\n      - {name: d, bdf: \"03:00.0\", "
	    "guest_bdf: \"00:04.0\", ims: 4096}\n";
	char path[] = "/tmp/pvir-iommu-XXXXXX";
	char *big[] = {"compare", "--iommu=amdvi", "--quiet", path};
	struct cli_out r = compare(4, argv);
	int fd;

	(void)state;
	assert_int_equal(r.rc, CLI_EXIT_OK);
	assert_string_equal(r.err, "");
	assert_non_null(strstr(r.out, "ratio to hcall on the same IOMMU"));
	assert_non_null(strstr(row(r.out, "activate web/dsa0\n", "  vtd "), "1.0x"));
	assert_non_null(strstr(row(r.out, "activate web/dsa0\n", "  amdvi "), "1.0x"));
	assert_readme_block("$ pvir compare --iommu all", r.out);
	cli_free(&r);
	r = compare(4, json);
	assert_int_equal(r.rc, CLI_EXIT_OK);
	assert_non_null(strstr(r.out, "{\"iommus\":{\"vtd\":{\"scenario\":\"default\",\"seed\":42,"
				      "\"iommu\":\"vtd\""));
	assert_non_null(strstr(r.out, "\"amdvi\":{\"scenario\":\"default\",\"seed\":42,"
				      "\"iommu\":\"amdvi\""));
	cli_free(&r);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	r = compare(4, big);
	unlink(path);
	assert_int_equal(r.rc, CLI_EXIT_USAGE);
	assert_non_null(strstr(r.err, "--iommu: v/d has 4096 interrupts: a device's AMD-Vi table "
				      "holds 2048"));
	cli_free(&r);
}

/*
 * Where a design has no figure, the table says so with "-": the cost and the
 * ratio of an operation that failed (here hcall's, past the VM's quota), the
 * ratios against it, and statistics with no sample (no move, no traffic).
 */
static void compare_marks_what_has_no_figure(void **state)
{
	static const char text[] =
	    "name: small\nduration: 1ms\nhost: { pcpus: 2 }\n"
	    "vms:\n  - name: vm\n    vcpus: 2\n    irte_quota: 8\n    devices:\n"
	    "      - { name: nic, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 16 }\n"
	    "workload:\n  - { at: 0ms, do: activate, dev: vm/nic, count: 16 }\n";
	char path[] = "/tmp/pvir-compare-XXXXXX";
	int fd = mkstemp(path);
	char *argv[] = {"compare", path};
	struct cli_out r;
	char a[16], b[16], c[16];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	r = compare(2, argv);
	unlink(path);
	assert_int_equal(r.rc, CLI_EXIT_OK);
	assert_int_equal(sscanf(row(r.out, "activate vm/nic", "result"), "%*s %*s %*s %*s %15s", c),
			 1);
	assert_string_equal(c, "EDQUOT");
	assert_int_equal(
	    sscanf(row(r.out, "activate vm/nic", "modelled"), "%*s %*s %*s %*s %15s", c), 1);
	assert_string_equal(c, "-"); /* hcall failed: no cost */
	assert_int_equal(
	    sscanf(row(r.out, "activate vm/nic", "ratio to hcall"), "%15s %15s %15s", a, b, c), 3);
	assert_string_equal(a, "-"); /* no ratio to a failed operation */
	assert_string_equal(c, "-");
	assert_int_equal(sscanf(row(r.out, "latency", "affinity p50"), "%15s %15s %15s", a, b, c),
			 3);
	assert_string_equal(a, "-"); /* no move, no sample */
	assert_int_equal(
	    sscanf(row(r.out, "interrupts", "posted, of those reaching a vCPU"), "%15s", a), 1);
	assert_string_equal(a, "-"); /* no traffic */
	assert_null(strstr(r.out, "0.0x"));
	cli_free(&r);
}

static void compare_refuses_bad_usage(void **state)
{
	char *sweep[] = {"compare", "--sweep", "64,x"};
	char *both[] = {"compare", "a.yaml", "--sweep", "64"};
	char *kernel[] = {"compare", "--kernel", "mainline"};
	char *all_sweep[] = {"compare", "--kernel", "all", "--sweep", "64"};
	struct cli_out r = compare(3, kernel);

	(void)state;
	assert_int_equal(r.rc, CLI_EXIT_USAGE);
	assert_non_null(strstr(r.err, "--kernel 'mainline' is not legacy, stock or tuned"));
	cli_free(&r);
	r = compare(5, all_sweep);
	assert_int_equal(r.rc, CLI_EXIT_USAGE);
	assert_non_null(strstr(r.err, "--kernel all compares one scenario"));
	cli_free(&r);
	r = compare(3, sweep);

	(void)state;
	assert_int_equal(r.rc, CLI_EXIT_USAGE);
	assert_non_null(strstr(r.err, "--sweep '64,x': expected"));
	cli_free(&r);
	r = compare(4, both);
	assert_int_equal(r.rc, CLI_EXIT_USAGE);
	assert_non_null(strstr(r.err, "give no scenario file"));
	cli_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_ROW("one_vector_activated/trap", one_vector_activated, &vector_rows[0]),
	    TEST_ROW("one_vector_activated/vir-emul", one_vector_activated, &vector_rows[1]),
	    TEST_ROW("one_vector_activated/hcall", one_vector_activated, &vector_rows[2]),
	    TEST_ROW("one_vector_activated/trap/at_alloc", one_vector_activated, &vector_rows[3]),
	    TEST_ROW("one_vector_activated/vir-emul/at_alloc", one_vector_activated,
		     &vector_rows[4]),
	    TEST_ROW("one_vector_activated/hcall/at_alloc", one_vector_activated, &vector_rows[5]),
	    TEST_ROW("one_vector_moved/trap", vector_moved, &move_rows[0]),
	    TEST_ROW("one_vector_moved/vir-emul", vector_moved, &move_rows[1]),
	    TEST_ROW("one_vector_moved/hcall", vector_moved, &move_rows[2]),
	    cmocka_unit_test(vir_emul_flush_counts_every_route),
	    TEST_ROW("msi_block_activated/trap", msi_block_activated, &msi_rows[0]),
	    TEST_ROW("msi_block_activated/vir-emul", msi_block_activated, &msi_rows[1]),
	    TEST_ROW("msi_block_activated/hcall", msi_block_activated, &msi_rows[2]),
	    TEST_ROW("msi_vector_moved/trap", vector_moved, &msi_move_rows[0]),
	    TEST_ROW("msi_vector_moved/vir-emul", vector_moved, &msi_move_rows[1]),
	    TEST_ROW("msi_vector_moved/hcall", vector_moved, &msi_move_rows[2]),
	    TEST_ROW("msi_traffic_arrives/trap", msi_traffic_arrives, &msi_rows[0]),
	    TEST_ROW("msi_traffic_arrives/vir-emul", msi_traffic_arrives, &msi_rows[1]),
	    TEST_ROW("msi_traffic_arrives/hcall", msi_traffic_arrives, &msi_rows[2]),
	    TEST_ROW("managed_vector_offline_online/trap", managed_vector_offline_online,
		     &hotplug_rows[0]),
	    TEST_ROW("managed_vector_offline_online/vir-emul", managed_vector_offline_online,
		     &hotplug_rows[1]),
	    TEST_ROW("managed_vector_offline_online/hcall", managed_vector_offline_online,
		     &hotplug_rows[2]),
	    TEST_ROW("ims_per_design/trap", ims_per_design, &ims_rows[0]),
	    TEST_ROW("ims_per_design/vir-emul", ims_per_design, &ims_rows[1]),
	    TEST_ROW("ims_per_design/hcall", ims_per_design, &ims_rows[2]),
	    TEST(rogue_write_restored_word_by_word),
	    TEST(shared_rid_rogue_handle_stays_home),
	    TEST(shared_rid_windows_keep_rogue_handle_home),
	    TEST(vcpus_past_255_take_interrupts),
	    TEST(cost_overrides_apply),
	    TEST(irqfd_walks_grow_quadratically),
	    TEST(past_4096_routes_stock_refuses),
	    TEST(past_4096_routes_tuned_works),
	    TEST(compare_default_table),
	    TEST(compare_sweep_grows),
	    TEST(compare_every_kernel),
	    TEST(compare_every_kernel_default),
	    TEST(compare_both_iommus),
	    TEST(compare_refuses_bad_usage),
	    TEST(compare_marks_what_has_no_figure),
	};

	return cmocka_run_group_tests_name("designs", tests, NULL, NULL);
}
