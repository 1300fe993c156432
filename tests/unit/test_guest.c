// SPDX-License-Identifier: MIT
/*
 * The whole stack under the hcall design: a host with an IOMMU, a VM with an
 * assigned MSI-X NIC and IMS accelerators, and the guest kernel with its
 * drivers. The test plays the scheduler: it raises device interrupts, moves
 * vCPUs between states and lets vCPUs take their interrupts.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "pvir/guest.h"
#include "pvir/guest_drivers.h"
#include "pvir/hcall_abi.h"
#include "pvir/host.h"
#include "pvir/ir_driver.h"
#include "pvir/ir_unit.h"
#include "pvir/physmem.h"
#include "pvir/vm.h"
#include "pvir/vmm.h"

#define NIC_BDF	   0x0020 /* 00:04.0 */
#define DSA_BDF	   0x0028 /* 00:05.0 */
#define MEMDSA_BDF 0x0030 /* 00:06.0 */
#define DSA_IMS	   0x8000

struct world {
	struct host *h;
	struct pci_func *nic, *dsa, *memdsa;
	struct vm *vm;
	struct guest *g;
	struct nic_driver nic_drv;
	struct accel_driver dsa_drv;
	unsigned pin[VM_MAX_VCPUS];
};

struct world_opts {
	bool old_vmm;
	bool old_guest;
	unsigned vcpus;
	uint32_t quota;
	uint32_t irte_entries;
	bool no_posting;
	unsigned pcpus;
	bool vectors_at_alloc; /* no reservation mode (guest_config) */
	bool vir_emul;	       /* no pvir: the guest's VT-d driver on an emulated vIOMMU */
	bool amd;	       /* an AMD-Vi host, and so an AMD-Vi vIOMMU */
	enum host_kernel kernel;
};

static const struct guest_ims_layout dsa_layout = {IMS_DEVICE, 0, DSA_IMS, 2048};
static const struct guest_ims_layout memdsa_layout = {IMS_MEMORY, 0, 0, 4096};

static struct world *world_new(struct world_opts o)
{
	struct host_config hc = host_default_config();
	unsigned vcpus = o.vcpus ? o.vcpus : 4;
	struct vm_config vc = {.name = "web",
			       .vcpus = vcpus,
			       .mem_size = 64u << 20,
			       .irte_quota = o.quota ? o.quota : 8192,
			       .pvir_service = !o.old_vmm && !o.vir_emul,
			       .viommu = o.vir_emul};
	struct pci_func_config nic = {.rid = 0x0300,
				      .bars = {[0] = {.size = 0x4000}},
				      .msix_vectors = 64,
				      .msix_pba_offset = 0x2000};
	struct pci_func_config dsa = {.rid = 0x6a08,
				      .bars = {[0] = {.size = 0x10000}},
				      .ims_storage = IMS_DEVICE,
				      .ims_entries = 2048,
				      .ims_offset = DSA_IMS};
	struct pci_func_config memdsa = {.rid = 0x6a10,
					 .bars = {[0] = {.size = 0x1000}},
					 .ims_storage = IMS_MEMORY,
					 .ims_entries = 4096};
	struct guest_config gc = {.pvir_driver = !o.old_guest && !o.vir_emul,
				  .vtd_driver = o.vir_emul,
				  .vectors_at_alloc = o.vectors_at_alloc};
	struct world *w = calloc(1, sizeof(*w));

	hc.pcpus = o.pcpus ? o.pcpus : 8;
	hc.iommu = o.amd ? HOST_IOMMU_AMDVI : HOST_IOMMU_VTD;
	gc.amd_iommu = o.amd;
	hc.posting = !o.no_posting;
	hc.kernel = o.kernel;
	if (vcpus > hc.pcpus) { /* overcommitted: vCPU i on pCPU i mod pcpus */
		for (unsigned i = 0; i < vcpus; i++)
			w->pin[i] = i % hc.pcpus;
		vc.pin = w->pin;
	}
	if (o.irte_entries)
		hc.irte_entries = o.irte_entries;
	assert_int_equal(host_create(&hc, &w->h), 0);
	assert_int_equal(host_add_device(w->h, &nic, &w->nic), 0);
	assert_int_equal(host_add_device(w->h, &dsa, &w->dsa), 0);
	assert_int_equal(host_add_device(w->h, &memdsa, &w->memdsa), 0);
	assert_int_equal(vm_create(w->h, &vc, &w->vm), 0);
	assert_int_equal(vm_assign_device(w->vm, w->nic, NIC_BDF, NULL), 0);
	assert_int_equal(vm_assign_device(w->vm, w->dsa, DSA_BDF, NULL), 0);
	assert_int_equal(vm_assign_device(w->vm, w->memdsa, MEMDSA_BDF, NULL), 0);
	assert_int_equal(guest_boot(w->vm, &gc, &w->g), 0);
	return w;
}

static void world_free(struct world *w)
{
	if (w->nic_drv.handled)
		nic_remove(&w->nic_drv);
	if (w->dsa_drv.handled)
		accel_remove(&w->dsa_drv);
	guest_free(w->g);
	vm_free(w->vm);
	host_free(w->h);
	free(w);
}

static int setup(void **state)
{
	*state = world_new((struct world_opts){0});
	return 0;
}

static int teardown(void **state)
{
	world_free(*state);
	return 0;
}

static void raise_msix(struct world *w, unsigned n)
{
	enum pci_irq_result r;

	assert_int_equal(pci_func_raise_msix(w->nic, n, &r), 0);
	assert_int_equal(r, PCI_IRQ_SENT);
}

static void raise_ims(struct pci_func *dev, unsigned n)
{
	enum pci_irq_result r;

	assert_int_equal(pci_func_raise_ims(dev, n, &r), 0);
	assert_int_equal(r, PCI_IRQ_SENT);
}

static unsigned run_all(struct world *w)
{
	unsigned n = 0;

	for (unsigned c = 0; c < guest_cpus(w->g); c++)
		n += guest_handle_interrupts(w->g, c);
	return n;
}

static void tick_all(struct world *w)
{
	for (unsigned c = 0; c < guest_cpus(w->g); c++)
		guest_timer_tick(w->g, c);
}

static unsigned qirq(struct world *w, unsigned q)
{
	return (unsigned)nic_queue_irq(&w->nic_drv, q);
}

/* Everything the setup holds: to compare before and after a failure. */
struct holdings {
	unsigned vectors;
	unsigned virtes;
	uint32_t irtes;
	uint32_t quota_used;
};

static struct holdings holdings(struct world *w)
{
	return (struct holdings){guest_vectors_in_use(w->g), guest_virtes_in_use(w->g),
				 ir_driver_in_use(host_ir_driver(w->h)), vm_irte_used(w->vm)};
}

static void assert_holdings(struct world *w, struct holdings h)
{
	struct holdings now = holdings(w);

	assert_int_equal(now.vectors, h.vectors);
	assert_int_equal(now.virtes, h.virtes);
	assert_int_equal(now.irtes, h.irtes);
	assert_int_equal(now.quota_used, h.quota_used);
	assert_true(guest_check(w->g));
}

/* ---- activation at scale, delivery ------------------------------------------ */

/*
 * 64 + 2048 interrupts need as many vectors: 203 per vCPU (0x20..0xeb less
 * 0x80), so 11 vCPUs at least. The test uses 16.
 */
static int setup_16(void **state)
{
	*state = world_new((struct world_opts){.vcpus = 16, .pcpus = 16});
	return 0;
}

static void activate_64_msix_and_2048_ims(void **state)
{
	struct world *w = *state;
	uint64_t exits, hcalls;

	assert_true(guest_pvir(w->g));
	hcalls = vm_exits(w->vm)->hypercall;
	assert_int_equal(hcalls, 2); /* QUERY, SET_TABLE */
	assert_int_equal(nic_probe(w->g, NIC_BDF, 64, 64, &w->nic_drv), 0);
	assert_int_equal(accel_probe(w->g, DSA_BDF, &dsa_layout, 2048, &w->dsa_drv), 0);
	/*
	 * One SYNC for the 64 vectors, parked (reservation mode), one per request_irq()
	 * for its real vector, one for the 2048 entries (IMS has no reservation mode); no
	 * trapped MMIO.
	 */
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, 1 + 64 + 1);
	assert_int_equal(vm_exits(w->vm)->mmio_trap, 0);
	assert_int_equal(ir_driver_in_use(host_ir_driver(w->h)), 64 + 2048);
	assert_int_equal(vm_irte_used(w->vm), 64 + 2048);
	assert_int_equal(guest_virtes_in_use(w->g), 64 + 2048);
	for (unsigned q = 0; q < 64; q++)
		assert_int_equal(irq_effective_cpu(w->g, qirq(w, q)), q % 16); /* spread */
	exits = vm_exits(w->vm)->total;
	for (unsigned q = 0; q < 64; q++)
		raise_msix(w, q);
	for (unsigned e = 0; e < 2048; e++)
		raise_ims(w->dsa, e);
	assert_int_equal(vm_exits(w->vm)->total, exits); /* posted to running vCPUs */
	assert_int_equal(run_all(w), 64 + 2048);
	for (unsigned q = 0; q < 64; q++) {
		assert_int_equal(w->nic_drv.handled[q], 1);
		assert_int_equal(irq_count(w->g, qirq(w, q), q % 16), 1); /* right vCPU */
	}
	for (unsigned e = 0; e < 2048; e++)
		assert_int_equal(w->dsa_drv.handled[e], 1);
	assert_int_equal(host_stats(w->h)->posted, 64 + 2048);
	assert_int_equal(guest_stats(w->g)->spurious, 0);
	assert_true(guest_check(w->g));
}

static void memory_resident_ims(void **state)
{
	struct world *w = *state;
	struct accel_driver a;
	uint64_t traps = vm_exits(w->vm)->mmio_trap;

	assert_int_equal(accel_probe(w->g, MEMDSA_BDF, &memdsa_layout, 800, &a), 0);
	assert_int_equal(vm_exits(w->vm)->mmio_trap, traps);
	for (unsigned e = 0; e < 800; e += 97)
		raise_ims(w->memdsa, e);
	run_all(w);
	for (unsigned e = 0; e < 800; e++)
		assert_int_equal(a.handled[e], e % 97 == 0);
	accel_remove(&a);
	assert_int_equal(ir_driver_in_use(host_ir_driver(w->h)), 0);
}

static void remove_returns_everything(void **state)
{
	struct world *w = *state;
	struct holdings empty = holdings(w);

	assert_int_equal(nic_probe(w->g, NIC_BDF, 16, 16, &w->nic_drv), 0);
	assert_int_equal(accel_probe(w->g, DSA_BDF, &dsa_layout, 100, &w->dsa_drv), 0);
	nic_remove(&w->nic_drv);
	accel_remove(&w->dsa_drv);
	assert_holdings(w, empty);
	/* MSI-X is off on the device: it sends nothing */
	assert_int_equal(pci_func_raise_msix(w->nic, 0, &(enum pci_irq_result){0}), 0);
	assert_int_equal(run_all(w), 0);
	assert_int_equal(host_stats(w->h)->messages, 0);
}

/* ---- affinity ------------------------------------------------------------------ */

static void affinity_change_one_hypercall_no_device_write(void **state)
{
	struct world *w = *state;
	struct cpumask to1 = cpumask_of(1);
	uint64_t hcalls, writes, exits;

	assert_int_equal(nic_probe(w->g, NIC_BDF, 8, 8, &w->nic_drv), 0);
	assert_int_equal(irq_effective_cpu(w->g, qirq(w, 3)), 3);
	hcalls = vm_exits(w->vm)->hypercall;
	writes = vm_vmm_stats(w->vm)->device_writes;
	exits = vm_exits(w->vm)->total;
	assert_int_equal(irq_set_affinity(w->g, qirq(w, 3), &to1), 0);
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, 1);
	assert_int_equal(vm_exits(w->vm)->total - exits, 1);
	assert_int_equal(vm_vmm_stats(w->vm)->device_writes, writes); /* same handle */
	assert_int_equal(irq_effective_cpu(w->g, qirq(w, 3)), 1);
	raise_msix(w, 3);
	run_all(w);
	assert_int_equal(irq_count(w->g, qirq(w, 3), 1), 1);
	assert_true(irq_move_pending(w->g, qirq(w, 3)));
	tick_all(w);
	assert_false(irq_move_pending(w->g, qirq(w, 3)));
	assert_int_equal(guest_stats(w->g)->cleaned, 1);
	assert_true(guest_check(w->g));
}

/*
 * vir-emul on a `tuned` host. Queue 3 moves to vCPU 1 while the host's
 * invalidation queue is broken, so its IRTE cannot follow: KVM logs it and
 * keeps the irqfd on the old MSI. With the queue working again, queue 2's
 * move flushes another vIRTE, and QEMU's pass pushes every route again: queue
 * 2's changed, queue 3's the same message as before, which KVM now takes, so
 * its IRTE follows and its next interrupt reaches vCPU 1. (Had that push only
 * been counted, the IRTE would still post to vCPU 3.)
 */
static void tuned_irte_that_could_not_follow_follows_at_the_next_flush(void **state)
{
	struct world *w =
	    world_new((struct world_opts){.vir_emul = true, .kernel = HOST_KERNEL_TUNED});
	struct ir_unit *ir = host_ir_unit(w->h);
	uint64_t iqa = ir_unit_read(ir, DMAR_IQA_REG, 8), pi, msi;
	struct cpumask to1 = cpumask_of(1);

	(void)state;
	assert_int_equal(nic_probe(w->g, NIC_BDF, 8, 8, &w->nic_drv), 0);
	ir_unit_write(ir, DMAR_IQA_REG, 8, iqa | UINT64_C(1) << 11); /* IQA.DW: refused */
	pi = vm_vmm_stats(w->vm)->pi_updates;
	msi = vm_vmm_stats(w->vm)->msi_updates;
	assert_int_equal(irq_set_affinity(w->g, qirq(w, 3), &to1), 0);
	assert_int_equal(vm_vmm_stats(w->vm)->pi_updates - pi, 1); /* tried, and failed */
	assert_int_equal(vm_vmm_stats(w->vm)->msi_updates - msi, 8);
	ir_unit_write(ir, DMAR_IQA_REG, 8, iqa);
	pi = vm_vmm_stats(w->vm)->pi_updates;
	msi = vm_vmm_stats(w->vm)->msi_updates;
	assert_int_equal(irq_set_affinity(w->g, qirq(w, 2), &to1), 0);
	assert_int_equal(vm_vmm_stats(w->vm)->pi_updates - pi, 2); /* queue 2, queue 3 again */
	assert_int_equal(vm_vmm_stats(w->vm)->msi_updates - msi, 8);
	raise_msix(w, 3);
	run_all(w);
	assert_int_equal(irq_count(w->g, qirq(w, 3), 1), 1);
	assert_int_equal(guest_stats(w->g)->spurious, 0);
	world_free(w);
}

/*
 * An interrupt already in the old vCPU's IRR when the IRTE moves is handled on
 * the old vector, which is freed only after: none is lost, none is spurious.
 */
static void in_flight_interrupt_survives_move(void **state)
{
	struct world *w = *state;
	struct cpumask to2 = cpumask_of(2);
	unsigned irq;
	int old_vector;

	assert_int_equal(nic_probe(w->g, NIC_BDF, 4, 4, &w->nic_drv), 0);
	irq = qirq(w, 0);
	old_vector = irq_effective_vector(w->g, irq);
	raise_msix(w, 0); /* in vCPU 0's IRR, not yet taken */
	assert_true(vm_vcpu_irr_test(vm_vcpu(w->vm, 0), (uint8_t)old_vector));
	assert_int_equal(irq_set_affinity(w->g, irq, &to2), 0);
	tick_all(w); /* the old vector is still pending: kept */
	assert_true(irq_move_pending(w->g, irq));
	assert_int_equal(guest_stats(w->g)->cleanup_deferred, 1);
	raise_msix(w, 0); /* this one goes to the new place */
	assert_int_equal(run_all(w), 2);
	assert_int_equal(irq_count(w->g, irq, 0), 1);
	assert_int_equal(irq_count(w->g, irq, 2), 1);
	assert_int_equal(w->nic_drv.handled[0], 2);
	assert_int_equal(guest_stats(w->g)->spurious, 0);
	tick_all(w);
	assert_false(irq_move_pending(w->g, irq));
	assert_true(guest_check(w->g));
}

/* Raise queue 0 @n times, each handled before the next, so none coalesces. */
static void raise_and_run(struct world *w, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		raise_msix(w, 0);
		assert_int_equal(run_all(w), 1);
	}
}

/* Per-CPU counts stay exact as an irq moves away and back, and start at 0 for a new irq. */
static void counts_follow_moves(void **state)
{
	static const struct {
		unsigned cpu, raises;
	} steps[] = {{0, 3}, {2, 2}, {0, 1}};
	struct world *w = *state;
	unsigned irq;

	assert_int_equal(nic_probe(w->g, NIC_BDF, 4, 4, &w->nic_drv), 0);
	irq = qirq(w, 0);
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct cpumask to = cpumask_of(steps[i].cpu);

		assert_int_equal(irq_set_affinity(w->g, irq, &to), 0);
		tick_all(w); /* the move completes */
		raise_and_run(w, steps[i].raises);
	}
	assert_int_equal(irq_count(w->g, irq, 0), 4);
	assert_int_equal(irq_count(w->g, irq, 2), 2);
	assert_int_equal(irq_count(w->g, irq, 1), 0);
	nic_remove(&w->nic_drv);
	assert_int_equal(nic_probe(w->g, NIC_BDF, 4, 4, &w->nic_drv), 0);
	assert_int_equal(qirq(w, 0), irq); /* the lowest free descriptor again */
	for (unsigned c = 0; c < guest_cpus(w->g); c++)
		assert_int_equal(irq_count(w->g, irq, c), 0);
	assert_true(guest_check(w->g));
}

static void move_while_vcpu_preempted(void **state)
{
	struct world *w = *state;
	struct cpumask to2 = cpumask_of(2), to3 = cpumask_of(3);
	unsigned irq;

	assert_int_equal(nic_probe(w->g, NIC_BDF, 4, 4, &w->nic_drv), 0);
	irq = qirq(w, 0);
	host_vcpu_preempt(w->h, vm_vcpu(w->vm, 0));
	raise_msix(w, 0); /* waits in vCPU 0's PIR */
	assert_int_equal(irq_set_affinity(w->g, irq, &to2), 0);
	/* a second move before the first is done: refused, as Linux does */
	assert_int_equal(irq_set_affinity(w->g, irq, &to3), -EBUSY);
	raise_msix(w, 0);
	host_vcpu_run(w->h, vm_vcpu(w->vm, 0)); /* takes the PIR on entry */
	assert_int_equal(run_all(w), 2);
	assert_int_equal(w->nic_drv.handled[0], 2);
	tick_all(w);
	assert_false(irq_move_pending(w->g, irq));
	assert_int_equal(irq_set_affinity(w->g, irq, &to3), 0);
	assert_true(guest_check(w->g));
}

static void delivery_to_blocked_and_migrated_vcpus(void **state)
{
	struct world *w = *state;
	struct vcpu *v2 = vm_vcpu(w->vm, 2), *v1 = vm_vcpu(w->vm, 1);

	assert_int_equal(nic_probe(w->g, NIC_BDF, 4, 4, &w->nic_drv), 0);
	assert_true(host_vcpu_block(w->h, v2));
	raise_msix(w, 2); /* the wakeup vector wakes it */
	assert_int_equal(v2->state, VCPU_RUNNING);
	assert_int_equal(host_vcpu_migrate(w->h, v1, 6), 0);
	raise_msix(w, 1); /* posted to pCPU 6 now */
	assert_int_equal(run_all(w), 2);
	assert_int_equal(irq_count(w->g, qirq(w, 2), 2), 1);
	assert_int_equal(irq_count(w->g, qirq(w, 1), 1), 1);
	assert_int_equal(vm_exits(w->vm)->wakeup, 1);
}

/* Moved off a vCPU that had halted (its interrupt woke it), onto one that migrated. */
static void move_between_blocked_and_migrated(void **state)
{
	struct world *w = *state;
	struct cpumask to2 = cpumask_of(2);
	unsigned irq;

	assert_int_equal(nic_probe(w->g, NIC_BDF, 4, 4, &w->nic_drv), 0);
	irq = qirq(w, 0);
	assert_true(host_vcpu_block(w->h, vm_vcpu(w->vm, 0)));
	assert_int_equal(host_vcpu_migrate(w->h, vm_vcpu(w->vm, 2), 7), 0);
	raise_msix(w, 0); /* wakes vCPU 0, pending in its IRR */
	assert_int_equal(irq_set_affinity(w->g, irq, &to2), 0);
	raise_msix(w, 0); /* posted to vCPU 2 on pCPU 7 */
	tick_all(w);
	assert_true(irq_move_pending(w->g, irq)); /* vCPU 0 has not taken it yet */
	assert_int_equal(run_all(w), 2);
	assert_int_equal(irq_count(w->g, irq, 0), 1);
	assert_int_equal(irq_count(w->g, irq, 2), 1);
	tick_all(w);
	assert_false(irq_move_pending(w->g, irq));
	assert_int_equal(guest_stats(w->g)->spurious, 0);
	assert_true(guest_check(w->g));
}

/* ---- failures propagate and roll back -------------------------------------------- */

static void vector_space_full(void **state)
{
	struct world *w = world_new((struct world_opts){.vcpus = 1});
	struct holdings before = holdings(w);
	uint64_t hcalls = vm_exits(w->vm)->hypercall;

	(void)state;
	/* 203 vectors on one CPU: 2048 entries cannot all have one */
	assert_int_equal(accel_probe(w->g, DSA_BDF, &dsa_layout, 2048, &w->dsa_drv), -ENOSPC);
	assert_holdings(w, before);
	assert_int_equal(vm_exits(w->vm)->hypercall, hcalls); /* failed before asking */
	assert_int_equal(accel_probe(w->g, DSA_BDF, &dsa_layout, 203, &w->dsa_drv), 0);
	world_free(w);
}

/*
 * The host's vectors run out first: 12 vCPUs have the guest vectors for
 * 2048 entries, the 4 pCPUs under them hold 4 x 202 host vectors, one per
 * interrupt VFIO requests. The SYNC stops at the first entry with none; the
 * driver gets -ENOSPC and everything is given back.
 */
static void host_vectors_run_out(void **state)
{
	struct world *w = world_new((struct world_opts){.vcpus = 12, .pcpus = 4});
	struct holdings before = holdings(w);
	uint64_t hcalls = vm_exits(w->vm)->hypercall;

	(void)state;
	assert_int_equal(accel_probe(w->g, DSA_BDF, &dsa_layout, 2048, &w->dsa_drv), -ENOSPC);
	assert_holdings(w, before);
	assert_int_equal(host_stats(w->h)->vectors_held, 0);
	assert_true(vm_exits(w->vm)->hypercall > hcalls); /* the host said no */
	assert_int_equal(
	    accel_probe(w->g, DSA_BDF, &dsa_layout, 4 * HOST_DEVICE_VECTORS, &w->dsa_drv), 0);
	world_free(w);
}

static void quota_grants_fewer(void **state)
{
	struct world *w = world_new((struct world_opts){.quota = 10});
	struct holdings before = holdings(w);

	(void)state;
	/* all 64 or nothing: refused, everything given back */
	assert_int_equal(nic_probe(w->g, NIC_BDF, 64, 64, &w->nic_drv), -EDQUOT);
	assert_holdings(w, before);
	/* 4 to 64: the host grants what the quota allows */
	assert_int_equal(nic_probe(w->g, NIC_BDF, 4, 64, &w->nic_drv), 0);
	assert_int_equal(w->nic_drv.queues, 10);
	assert_int_equal(vm_irte_used(w->vm), 10);
	raise_msix(w, 9);
	run_all(w);
	assert_int_equal(w->nic_drv.handled[9], 1);
	world_free(w);
}

static void nop_handler(struct guest *g, unsigned irq, void *dev_id)
{
	(void)g;
	(void)irq;
	(void)dev_id;
}

/* What a handler saw: which handler it was, for which irq. */
struct took_by {
	char by;
	unsigned irq;
	unsigned calls;
};

static void handler_a(struct guest *g, unsigned irq, void *dev_id)
{
	struct took_by *t = dev_id;

	(void)g;
	*t = (struct took_by){'a', irq, t->calls + 1};
}

static void handler_b(struct guest *g, unsigned irq, void *dev_id)
{
	struct took_by *t = dev_id;

	(void)g;
	*t = (struct took_by){'b', irq, t->calls + 1};
}

/*
 * An irq keeps its handler by an index into the handlers the guest has been given
 * (irq_hot): each irq still calls the one it asked for, with its own dev_id, as
 * handlers come, are shared, and are freed and asked for again.
 */
static void each_irq_calls_its_own_handler(void **state)
{
	struct world *w = *state;
	struct guest_pci_dev *dsa = guest_pci_find(w->g, DSA_BDF);
	irq_handler_t asked[4] = {handler_a, handler_b, handler_a, handler_b};
	struct took_by t[4] = {{0}};
	unsigned irq[4];

	assert_int_equal(guest_ims_alloc(w->g, dsa, &dsa_layout, 4, 4, NULL), 4);
	for (unsigned n = 0; n < 4; n++) {
		irq[n] = (unsigned)guest_ims_irq(dsa, n);
		assert_int_equal(request_irq(w->g, irq[n], asked[n], &t[n]), 0);
	}
	assert_int_equal(request_irq(w->g, irq[0], handler_b, &t[0]), -EBUSY);
	free_irq(w->g, irq[1]);
	assert_int_equal(request_irq(w->g, irq[1], handler_a, &t[1]), 0);
	asked[1] = handler_a;
	for (unsigned n = 0; n < 4; n++)
		raise_ims(w->dsa, n);
	assert_int_equal(run_all(w), 4);
	for (unsigned n = 0; n < 4; n++) {
		assert_int_equal(t[n].by, asked[n] == handler_a ? 'a' : 'b');
		assert_int_equal(t[n].irq, irq[n]);
		assert_int_equal(t[n].calls, 1);
	}
	assert_true(guest_check(w->g));
}

/*
 * IMS asks as pci_alloc_irq_vectors() does: all of 64 or nothing is refused with
 * nothing kept; 8 to 64 gets what the quota leaves, after the 4 entries it has, and
 * the entries it got are the ones that work.
 */
static void quota_grants_fewer_ims(void **state)
{
	struct world *w = world_new((struct world_opts){.quota = 20});
	struct guest_pci_dev *dsa = guest_pci_find(w->g, DSA_BDF);
	struct holdings before;
	unsigned irq;

	(void)state;
	assert_int_equal(guest_ims_alloc(w->g, dsa, &dsa_layout, 4, 4, NULL), 4);
	before = holdings(w);
	assert_int_equal(guest_ims_alloc(w->g, dsa, &dsa_layout, 64, 64, NULL), -EDQUOT);
	assert_holdings(w, before);
	assert_int_equal(guest_ims_alloc(w->g, dsa, &dsa_layout, 17, 64, NULL), -EDQUOT);
	assert_holdings(w, before); /* 16 left: fewer than the least it takes */
	assert_int_equal(guest_ims_alloc(w->g, dsa, &dsa_layout, 8, 64, NULL), 16);
	assert_int_equal(guest_ims_count(dsa), 20);
	assert_int_equal(vm_irte_used(w->vm), 20);
	assert_int_equal(guest_ims_irq(dsa, 20), -EINVAL);
	irq = (unsigned)guest_ims_irq(dsa, 19);
	assert_int_equal(request_irq(w->g, irq, nop_handler, NULL), 0);
	raise_ims(w->dsa, 19);
	run_all(w);
	assert_int_equal(irq_count(w->g, irq, (unsigned)irq_effective_cpu(w->g, irq)), 1);
	assert_true(guest_check(w->g));
	world_free(w);
}

static void host_table_full(void **state)
{
	struct world *w = world_new((struct world_opts){.irte_entries = 32});
	struct holdings before = holdings(w);

	(void)state;
	assert_int_equal(nic_probe(w->g, NIC_BDF, 64, 64, &w->nic_drv), -ENOSPC);
	assert_holdings(w, before);
	/* 32 entries, entry 0 reserved by the host */
	assert_int_equal(nic_probe(w->g, NIC_BDF, 32, 32, &w->nic_drv), -ENOSPC);
	assert_int_equal(nic_probe(w->g, NIC_BDF, 31, 31, &w->nic_drv), 0);
	world_free(w);
}

static void affinity_to_full_cpu_fails_cleanly(void **state)
{
	struct world *w = *state;
	struct cpumask only1 = cpumask_of(1);
	struct guest_pci_dev *dsa = guest_pci_find(w->g, DSA_BDF);
	struct holdings before;
	unsigned irq, n;

	assert_int_equal(nic_probe(w->g, NIC_BDF, 4, 4, &w->nic_drv), 0);
	irq = qirq(w, 0);
	/* fill CPU 1's vector space */
	n = guest_cpu_vectors_free(w->g, 1);
	assert_int_equal(guest_ims_alloc(w->g, dsa, &dsa_layout, n, n, &only1), (int)n);
	before = holdings(w);
	assert_int_equal(irq_set_affinity(w->g, irq, &only1), -ENOSPC);
	assert_holdings(w, before);
	assert_int_equal(irq_effective_cpu(w->g, irq), 0);
	raise_msix(w, 0);
	run_all(w);
	assert_int_equal(irq_count(w->g, irq, 0), 1);
}

static void affinity_to_no_such_cpu(void **state)
{
	struct world *w = *state;
	struct cpumask seven = cpumask_of(7);

	assert_int_equal(nic_probe(w->g, NIC_BDF, 4, 4, &w->nic_drv), 0);
	assert_int_equal(irq_set_affinity(w->g, qirq(w, 0), &seven), -EINVAL);
	assert_int_equal(irq_effective_cpu(w->g, qirq(w, 0)), 0);
}

/*
 * Without posting, a moved interrupt's host vector follows the new vCPU's
 * pCPU where one is free there (docs/design.md §7). Where none is, the move still
 * succeeds: the host interrupt stays on its pCPU and its handler signals
 * the eventfd, whose irqfd injects into the new vCPU.
 */
static void affinity_without_posting_to_a_full_pcpu(void **state)
{
	struct world *w = world_new((struct world_opts){.no_posting = true, .pcpus = 4});
	struct cpumask only1 = cpumask_of(1);
	struct guest_pci_dev *dsa = guest_pci_find(w->g, DSA_BDF);
	uint64_t injected;
	unsigned irq;

	(void)state;
	assert_int_equal(nic_probe(w->g, NIC_BDF, 4, 4, &w->nic_drv), 0);
	irq = qirq(w, 0);
	/* pCPU 1 full: the NIC's queue 1 and 201 IMS entries aimed at vCPU 1 */
	assert_int_equal(guest_ims_alloc(w->g, dsa, &dsa_layout, HOST_DEVICE_VECTORS - 1,
					 HOST_DEVICE_VECTORS - 1, &only1),
			 HOST_DEVICE_VECTORS - 1);
	assert_int_equal(host_stats(w->h)->vectors_held, 4 + HOST_DEVICE_VECTORS - 1);
	assert_int_equal(irq_set_affinity(w->g, irq, &only1), 0);
	assert_int_equal(irq_effective_cpu(w->g, irq), 1);
	injected = host_stats(w->h)->injected;
	raise_msix(w, 0);
	run_all(w);
	assert_int_equal(irq_count(w->g, irq, 1), 1);
	assert_int_equal(host_stats(w->h)->injected - injected, 1);
	assert_true(guest_check(w->g));
	world_free(w);
}

/* ---- what reaches the guest ------------------------------------------------------- */

/*
 * Rogue guest code, not a driver: a raw SYNC of vIRTE @idx (unused by any
 * irq) for device @bdf, vCPU @dest, @vector; returns the granted message.
 */
static struct msi_msg raw_grant(struct world *w, uint32_t idx, uint16_t bdf, uint32_t dest,
				uint8_t vector)
{
	uint64_t at = guest_pvir_table(w->g) + (uint64_t)idx * PVIR_VIRTE_SIZE;
	uint8_t e[PVIR_VIRTE_SIZE] = {
	    (uint8_t)bdf, (uint8_t)(bdf >> 8), PVIR_VIRTE_PRESENT, 0, (uint8_t)dest, 0, 0, 0,
	    vector};
	struct vcpu_regs r = {.rax = PVIR_HC_SYNC, .rbx = idx, .rcx = 1};
	uint32_t m[3];

	assert_int_equal(physmem_write(vm_memory(w->vm), at, e, PVIR_VIRTE_GUEST_SIZE), 0);
	vm_hypercall(w->vm, vm_vcpu(w->vm, 0), &r);
	assert_int_equal(r.rax, 0);
	assert_int_equal(physmem_read(vm_memory(w->vm), at + PVIR_VIRTE_ADDR_LO, m, sizeof(m)), 0);
	return (struct msi_msg){m[0], m[1], m[2]};
}

/* The memory-kind IMS context base, as the device has it. */
static uint64_t ims_context(struct world *w, uint16_t bdf)
{
	uint64_t v = 0;

	assert_int_equal(
	    vm_mmio_read(w->vm, vm_vcpu(w->vm, 0),
			 assigned_dev_bar_gpa(vm_device_by_bdf(w->vm, bdf), 0) + IMS_REG_CTX_BASE,
			 8, &v),
	    0);
	return v;
}

struct taken {
	unsigned n;
	unsigned cpu;
	uint8_t vector;
	int irq;
};

static void took(void *ctx, unsigned cpu, uint8_t vector, int irq)
{
	struct taken *t = ctx;

	*t = (struct taken){t->n + 1, cpu, vector, irq};
}

static void observer_and_ownership(void **state)
{
	struct world *w = *state;
	struct taken t = {0};
	unsigned irq;
	int vector;

	assert_int_equal(nic_probe(w->g, NIC_BDF, 4, 4, &w->nic_drv), 0);
	irq = qirq(w, 2);
	vector = irq_effective_vector(w->g, irq);
	assert_int_equal(guest_irq_at(w->g, 2, (uint8_t)vector), (int)irq);
	assert_int_equal(guest_irq_at(w->g, 1, 0xe0), -1); /* nobody has 0xe0 */
	assert_int_equal(guest_irq_bdf(w->g, irq), NIC_BDF);
	guest_set_observer(w->g, took, &t);
	raise_msix(w, 2);
	run_all(w);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.cpu, 2);
	assert_int_equal(t.vector, vector);
	assert_int_equal(t.irq, (int)irq);
}

static void interrupt_on_unknown_vector_is_spurious(void **state)
{
	struct world *w = *state;
	struct msi_msg m;
	uint64_t e63 =
	    assigned_dev_bar_gpa(vm_device_by_bdf(w->vm, NIC_BDF), 0) + 63 * PCI_MSIX_ENTRY_SIZE;

	assert_int_equal(nic_probe(w->g, NIC_BDF, 4, 4, &w->nic_drv), 0);
	/* bypassing the drivers: a granted message for a vector nobody owns */
	m = raw_grant(w, 4095, NIC_BDF, 0, 0x99);
	assert_int_equal(vm_mmio_write(w->vm, vm_vcpu(w->vm, 0), e63, 4, m.address_lo), 0);
	assert_int_equal(vm_mmio_write(w->vm, vm_vcpu(w->vm, 0), e63 + 8, 4, m.data), 0);
	assert_int_equal(vm_mmio_write(w->vm, vm_vcpu(w->vm, 0), e63 + 12, 4, 0), 0);
	raise_msix(w, 63);
	assert_int_equal(run_all(w), 1);
	assert_int_equal(guest_stats(w->g)->spurious, 1);
	assert_int_equal(guest_stats(w->g)->handled, 0);
}

static void rogue_compat_message_in_memory_ims(void **state)
{
	struct world *w = *state;
	struct accel_driver a;
	uint8_t slot[16] = {0x00, 0x10, 0xe0, 0xfe, 0, 0, 0, 0, 0x41, 0, 0, 0, 0, 0, 0, 0};
	uint64_t ctx;

	assert_int_equal(accel_probe(w->g, MEMDSA_BDF, &memdsa_layout, 8, &a), 0);
	ctx = ims_context(w, MEMDSA_BDF);
	/* the guest writes (APIC ID 1, vector 0x41) straight into slot 100's memory */
	assert_int_equal(
	    physmem_write(vm_memory(w->vm), ctx + 100 * IMS_SLOT_SIZE, slot, sizeof(slot)), 0);
	raise_ims(w->memdsa, 100);
	assert_int_equal(
	    ir_unit_stats(host_ir_unit(w->h))->faults[IR_FAULT_COMPAT - IR_FAULT_FIRST], 1);
	assert_int_equal(run_all(w), 0);
	accel_remove(&a);
}

/* ---- old and new, guest and VMM ----------------------------------------------------- */

struct pair_row {
	bool old_guest;
	bool old_vmm;
	int probe; /* what the guest learnt at boot */
	bool pv;
	int mem_ims; /* accel_probe's answer for memory-resident IMS */
	bool traps;  /* MSI-X programmed through trapped table accesses */
};

/* Device-resident IMS works either way: the VMM traps and emulates its slots. */
static const struct pair_row pair_rows[] = {
    {false, false, 0, true, 0, false},
    {false, true, -PVIR_KVM_ENOSYS, false, -EOPNOTSUPP, true},
    {true, false, -ENOSYS, false, -EOPNOTSUPP, true},
    {true, true, -ENOSYS, false, -EOPNOTSUPP, true},
};

static void guest_vmm_pair(void **state)
{
	const struct pair_row *row = *state;
	struct world *w =
	    world_new((struct world_opts){.old_guest = row->old_guest, .old_vmm = row->old_vmm});
	struct accel_driver a, m;

	assert_int_equal(guest_pvir_probe_result(w->g), row->probe);
	assert_int_equal(guest_pvir(w->g), row->pv);
	assert_int_equal(nic_probe(w->g, NIC_BDF, 8, 8, &w->nic_drv), 0);
	assert_int_equal(vm_exits(w->vm)->mmio_trap > 0, row->traps);
	assert_int_equal(accel_probe(w->g, DSA_BDF, &dsa_layout, 16, &a), 0);
	assert_int_equal(accel_probe(w->g, MEMDSA_BDF, &memdsa_layout, 16, &m), row->mem_ims);
	for (unsigned q = 0; q < 8; q++)
		raise_msix(w, q);
	assert_int_equal(run_all(w), 8);
	for (unsigned q = 0; q < 8; q++)
		assert_int_equal(w->nic_drv.handled[q], 1);
	/* an affinity change works either way */
	assert_int_equal(irq_set_affinity(w->g, qirq(w, 0), &(struct cpumask[]){cpumask_of(3)}[0]),
			 0);
	raise_msix(w, 0);
	run_all(w);
	assert_int_equal(irq_count(w->g, qirq(w, 0), 3), 1);
	for (unsigned e = 0; e < 16; e++)
		raise_ims(w->dsa, e);
	assert_int_equal(run_all(w), 16);
	accel_remove(&a);
	if (!row->mem_ims)
		accel_remove(&m);
	nic_remove(&w->nic_drv);
	assert_int_equal(ir_driver_in_use(host_ir_driver(w->h)), 0);
	assert_true(guest_check(w->g));
	world_free(w);
}

/* ---- CPU offline --------------------------------------------------------------------- */

static void cpu_offline_moves_interrupts(void **state)
{
	struct world *w = *state;

	assert_int_equal(nic_probe(w->g, NIC_BDF, 8, 8, &w->nic_drv), 0);
	assert_int_equal(guest_cpu_offline(w->g, 3), 0);
	for (unsigned q = 0; q < 8; q++) {
		assert_int_not_equal(irq_effective_cpu(w->g, qirq(w, q)), 3);
		raise_msix(w, q);
	}
	assert_int_equal(run_all(w), 8);
	for (unsigned q = 0; q < 8; q++)
		assert_int_equal(w->nic_drv.handled[q], 1);
	assert_int_equal(guest_cpu_offline(w->g, 3), -EINVAL); /* already */
	assert_true(guest_check(w->g));
}

/*
 * As Linux's lapic_can_unplug_cpu(): with no room on the other CPUs for what this one
 * holds, the offline is refused before anything moves.
 */
static void cpu_offline_without_room_is_refused(void **state)
{
	struct world *w = *state;
	struct guest_pci_dev *memdsa = guest_pci_find(w->g, MEMDSA_BDF);
	struct holdings before;

	for (unsigned c = 0; c < 3; c++) {
		struct cpumask only = cpumask_of(c);
		unsigned n = guest_cpu_vectors_free(w->g, c);

		assert_int_equal(guest_ims_alloc(w->g, memdsa, &memdsa_layout, n, n, &only),
				 (int)n);
	}
	assert_int_equal(nic_probe(w->g, NIC_BDF, 4, 4, &w->nic_drv), 0);
	for (unsigned q = 0; q < 4; q++)
		assert_int_equal(irq_effective_cpu(w->g, qirq(w, q)), 3); /* the only room */
	before = holdings(w);
	assert_int_equal(guest_cpu_offline(w->g, 3), -ENOSPC);
	assert_holdings(w, before);
	assert_int_equal(guest_cpu_vectors_free(w->g, 3), 203 - 4); /* still online, as it was */
	for (unsigned q = 0; q < 4; q++) {
		assert_int_equal(irq_effective_cpu(w->g, qirq(w, q)), 3);
		raise_msix(w, q);
	}
	assert_int_equal(run_all(w), 4);
	guest_ims_free_last(w->g, memdsa, 8); /* room for four: now it may go */
	assert_int_equal(guest_cpu_offline(w->g, 3), 0);
	/* queue q wanted CPU q (full, or going): affinity broken, onto the room left */
	for (unsigned q = 0; q < 4; q++) {
		assert_int_equal(irq_effective_cpu(w->g, qirq(w, q)), 2);
		raise_msix(w, q);
	}
	assert_int_equal(run_all(w), 4);
	for (unsigned q = 0; q < 4; q++)
		assert_int_equal(w->nic_drv.handled[q], 2);
	assert_true(guest_check(w->g));
}

static void raise_msix_latched(struct world *w, unsigned n)
{
	enum pci_irq_result r;

	assert_int_equal(pci_func_raise_msix(w->nic, n, &r), 0);
	assert_int_equal(r, PCI_IRQ_PENDING);
}

/*
 * Managed vectors (PCI_IRQ_AFFINITY) over 6 CPUs: 4 vectors, group_cpus_evenly()
 * gives {0,1} {2,3} {4} {5}. Taking CPU 4 offline shuts vector 2 down (one SYNC tears
 * its IRTE down); its raises latch in the device; bringing CPU 4 back starts it again
 * there (one SYNC) and the latched one is delivered once. Taking CPU 1 offline moves
 * vector 0 within its mask, to CPU 0.
 */
static void managed_vectors_shut_down_and_restart(void **state)
{
	struct world *w = world_new((struct world_opts){.vcpus = 6});
	struct guest_pci_dev *nic = guest_pci_find(w->g, NIC_BDF);
	struct cpumask any = cpumask_first_n(6);
	unsigned irq[4];
	uint64_t hcalls;

	(void)state;
	assert_int_equal(pci_alloc_irq_vectors_managed(w->g, nic, 1, 64), 6); /* one per CPU */
	pci_free_irq_vectors(w->g, nic);
	assert_int_equal(pci_alloc_irq_vectors_managed(w->g, nic, 1, 4), 4);
	for (unsigned v = 0; v < 4; v++) {
		irq[v] = (unsigned)pci_irq_vector(nic, v);
		assert_int_equal(request_irq(w->g, irq[v], nop_handler, NULL), 0);
	}
	/* the fewest managed allocated in the mask, the highest CPU on a tie */
	assert_int_equal(irq_effective_cpu(w->g, irq[0]), 1);
	assert_int_equal(irq_effective_cpu(w->g, irq[1]), 3);
	assert_int_equal(irq_effective_cpu(w->g, irq[2]), 4);
	assert_int_equal(irq_effective_cpu(w->g, irq[3]), 5);
	assert_int_equal(irq_set_affinity(w->g, irq[2], &any), -EINVAL); /* managed: kept */

	hcalls = vm_exits(w->vm)->hypercall;
	assert_int_equal(vm_hcall_entries(w->vm), 4);
	assert_int_equal(guest_cpu_offline(w->g, 4), 0);
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, 1); /* the teardown SYNC */
	/* the host side goes: irqfd, trigger, route; VFIO keeps the vector and its IRTE */
	assert_int_equal(vm_hcall_entries(w->vm), 3);
	assert_int_equal(vm_vmm_stats(w->vm)->irqfds_held, 3);
	assert_int_equal(vm_irte_used(w->vm), 4);
	assert_int_equal(irq_effective_cpu(w->g, irq[2]), -1);
	assert_int_equal(guest_stats(w->g)->managed_shutdown, 1);
	raise_msix_latched(w, 2);
	raise_msix_latched(w, 2); /* the pending bit is set already: coalesced */
	assert_int_equal(run_all(w), 0);

	hcalls = vm_exits(w->vm)->hypercall;
	assert_int_equal(guest_cpu_offline(w->g, 1), 0); /* vector 0 moves within {0,1} */
	assert_int_equal(irq_effective_cpu(w->g, irq[0]), 0);
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, 1);
	raise_msix(w, 0);
	assert_int_equal(run_all(w), 1);
	assert_int_equal(irq_count(w->g, irq[0], 0), 1);

	hcalls = vm_exits(w->vm)->hypercall;
	assert_int_equal(guest_cpu_online(w->g, 4), 0);
	assert_int_equal(guest_cpu_online(w->g, 4), -EINVAL);	  /* online already */
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, 1); /* the start's SYNC */
	assert_int_equal(vm_hcall_entries(w->vm), 4);
	assert_int_equal(vm_irte_used(w->vm), 4); /* the vector VFIO kept, used again */
	assert_int_equal(irq_effective_cpu(w->g, irq[2]), 4);
	assert_int_equal(guest_stats(w->g)->managed_restarted, 1);
	assert_int_equal(run_all(w), 1); /* the latched one, once */
	assert_int_equal(irq_count(w->g, irq[2], 4), 1);
	raise_msix(w, 2);
	assert_int_equal(run_all(w), 1);
	assert_true(guest_check(w->g));
	world_free(w);
}

/*
 * Managed vectors allocated while a CPU of the spread is offline, without reservation
 * mode: CPU 1 of 4 is, so vector 1 (mask {1}) is left shut down, as Linux's
 * msi_init_virq() leaves it, and the rest start in two runs, {0} and {2, 3}: two SYNCs.
 * Its request_irq() succeeds and leaves it masked; a raise latches; CPU 1 coming online
 * starts it and delivers that.
 */
static void managed_vector_of_an_offline_cpu_starts_shut_down(void **state)
{
	struct world *w = world_new((struct world_opts){.vectors_at_alloc = true});
	struct guest_pci_dev *nic = guest_pci_find(w->g, NIC_BDF);
	unsigned irq[4];
	uint64_t hcalls;

	(void)state;
	assert_int_equal(guest_cpu_offline(w->g, 1), 0);
	hcalls = vm_exits(w->vm)->hypercall;
	assert_int_equal(pci_alloc_irq_vectors_managed(w->g, nic, 4, 4), 4);
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, 2);
	for (unsigned v = 0; v < 4; v++) {
		irq[v] = (unsigned)pci_irq_vector(nic, v);
		assert_int_equal(request_irq(w->g, irq[v], nop_handler, NULL), 0);
		assert_int_equal(irq_effective_cpu(w->g, irq[v]), v == 1 ? -1 : (int)v);
	}
	assert_int_equal(vm_hcall_entries(w->vm), 3);
	raise_msix_latched(w, 1);
	raise_msix(w, 2);
	assert_int_equal(run_all(w), 1);
	assert_int_equal(guest_cpu_online(w->g, 1), 0);
	assert_int_equal(irq_effective_cpu(w->g, irq[1]), 1);
	assert_int_equal(run_all(w), 1); /* the latched one */
	assert_int_equal(irq_count(w->g, irq[1], 1), 1);
	assert_true(guest_check(w->g));
	pci_free_irq_vectors(w->g, nic);
	assert_int_equal(vm_hcall_entries(w->vm), 0);
	assert_true(guest_check(w->g));
	world_free(w);
}

/*
 * request_irq() starts a managed interrupt that is shut down when a CPU of its mask is
 * online, as Linux's irq_startup() does at __setup_irq(): whether it was allocated
 * while its CPUs were offline (vCPU 1 back before the request), or shut down with a
 * handler that was then freed (vCPU 2 back before the new request). Nothing else would
 * start it: the CPU came online while it had no handler.
 */
static void request_irq_starts_a_shut_down_managed_vector(void **state)
{
	struct world *w = world_new((struct world_opts){.vectors_at_alloc = true});
	struct guest_pci_dev *nic = guest_pci_find(w->g, NIC_BDF);
	unsigned irq[4];

	(void)state;
	assert_int_equal(guest_cpu_offline(w->g, 1), 0);
	assert_int_equal(pci_alloc_irq_vectors_managed(w->g, nic, 4, 4), 4);
	for (unsigned v = 0; v < 4; v++)
		irq[v] = (unsigned)pci_irq_vector(nic, v);
	assert_int_equal(irq_effective_cpu(w->g, irq[1]), -1);
	assert_int_equal(guest_cpu_online(w->g, 1), 0);
	assert_int_equal(request_irq(w->g, irq[1], nop_handler, NULL), 0);
	assert_int_equal(irq_effective_cpu(w->g, irq[1]), 1);
	raise_msix(w, 1);
	assert_int_equal(run_all(w), 1);

	assert_int_equal(request_irq(w->g, irq[2], nop_handler, NULL), 0);
	assert_int_equal(guest_cpu_offline(w->g, 2), 0); /* vector 2 shut down */
	assert_int_equal(irq_effective_cpu(w->g, irq[2]), -1);
	free_irq(w->g, irq[2]);
	assert_int_equal(guest_cpu_online(w->g, 2), 0);
	assert_int_equal(irq_effective_cpu(w->g, irq[2]), -1); /* no handler: not started */
	assert_int_equal(request_irq(w->g, irq[2], nop_handler, NULL), 0);
	assert_int_equal(irq_effective_cpu(w->g, irq[2]), 2);
	raise_msix(w, 2);
	assert_int_equal(run_all(w), 1);
	assert_true(guest_check(w->g));
	world_free(w);
}

/* ---- reservation mode: parked at allocation, a real vector at request_irq() ---- */

/* The guest half of vIRTE @idx: its vector, as the guest last wrote it. */
static uint8_t virte_vector(struct world *w, uint32_t idx)
{
	uint8_t v = 0;

	assert_int_equal(physmem_read(vm_memory(w->vm),
				      guest_pvir_table(w->g) + (uint64_t)idx * PVIR_VIRTE_SIZE +
					  PVIR_VIRTE_VECTOR,
				      &v, 1),
			 0);
	return v;
}

/*
 * Four MSI-X vectors. pci_alloc_irq_vectors() activates them with reserve: one SYNC,
 * every vIRTE aimed at the shutdown vector (0xef) of vCPU 0, the messages in the
 * table; none has a vector yet. Each request_irq() activates one again: a vector from
 * its reservation, a SYNC of its vIRTE, and it delivers there.
 */
static void reservation_parks_until_request(void **state)
{
	struct world *w = *state;
	struct guest_pci_dev *nic = guest_pci_find(w->g, NIC_BDF);
	uint64_t hcalls = vm_exits(w->vm)->hypercall;
	unsigned irq[4];

	assert_int_equal(pci_alloc_irq_vectors(w->g, nic, 4, 4, NULL), 4);
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, 1);
	assert_int_equal(guest_vectors_in_use(w->g), 0);
	assert_int_equal(vm_hcall_entries(w->vm), 4);
	for (unsigned v = 0; v < 4; v++) {
		irq[v] = (unsigned)pci_irq_vector(nic, v);
		assert_int_equal(irq_effective_cpu(w->g, irq[v]), -1);
		assert_int_equal(virte_vector(w, v), PVIR_SHUTDOWN_VECTOR);
	}
	/* an affinity given now is kept for the activation */
	assert_int_equal(irq_set_affinity(w->g, irq[3], &(struct cpumask){{1u << 2}}), 0);
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, 1);
	for (unsigned v = 0; v < 4; v++) {
		assert_int_equal(request_irq(w->g, irq[v], nop_handler, NULL), 0);
		assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, 2 + v);
		assert_true(virte_vector(w, v) != PVIR_SHUTDOWN_VECTOR);
	}
	assert_int_equal(irq_effective_cpu(w->g, irq[3]), 2);
	assert_int_equal(guest_vectors_in_use(w->g), 4);
	for (unsigned v = 0; v < 4; v++)
		raise_msix(w, v);
	assert_int_equal(run_all(w), 4);
	assert_int_equal(irq_count(w->g, irq[3], 2), 1);
	assert_int_equal(guest_stats(w->g)->spurious, 0);
	assert_true(guest_check(w->g));
}

/*
 * Vectors run out at request_irq(), where Linux's reservation mode finds them out: a
 * 1-vCPU guest parks 64 MSI-X vectors (reservations never fail), then 150 IMS entries
 * take real vectors at once, leaving 53 of the vCPU's 203. request_irq() of the 54th
 * NIC vector gets -ENOSPC: no handler, still parked, its vIRTE as it was, no SYNC.
 */
static void request_irq_finds_no_vector(void **state)
{
	struct world *w = world_new((struct world_opts){.vcpus = 1});
	struct guest_pci_dev *nic = guest_pci_find(w->g, NIC_BDF);
	struct guest_pci_dev *dsa = guest_pci_find(w->g, DSA_BDF);
	unsigned v;
	uint64_t hcalls;

	(void)state;
	assert_int_equal(pci_alloc_irq_vectors(w->g, nic, 64, 64, NULL), 64);
	assert_int_equal(guest_ims_alloc(w->g, dsa, &dsa_layout, 150, 150, NULL), 150);
	for (v = 0; v < 53; v++)
		assert_int_equal(
		    request_irq(w->g, (unsigned)pci_irq_vector(nic, v), nop_handler, NULL), 0);
	hcalls = vm_exits(w->vm)->hypercall;
	assert_int_equal(request_irq(w->g, (unsigned)pci_irq_vector(nic, v), nop_handler, NULL),
			 -ENOSPC);
	assert_int_equal(vm_exits(w->vm)->hypercall, hcalls);
	assert_int_equal(irq_effective_cpu(w->g, (unsigned)pci_irq_vector(nic, v)), -1);
	assert_int_equal(virte_vector(w, v), PVIR_SHUTDOWN_VECTOR);
	assert_int_equal(guest_cpu_vectors_free(w->g, 0), 0);
	assert_true(guest_check(w->g));
	/*
	 * free_irq() of vector 0 deactivates it (a SYNC: its vIRTE torn down) and gives
	 * its vector back; the same request_irq() then succeeds (a SYNC).
	 */
	free_irq(w->g, (unsigned)pci_irq_vector(nic, 0));
	assert_int_equal(guest_cpu_vectors_free(w->g, 0), 1);
	assert_int_equal(request_irq(w->g, (unsigned)pci_irq_vector(nic, v), nop_handler, NULL), 0);
	assert_int_equal(vm_exits(w->vm)->hypercall, hcalls + 2);
	assert_true(guest_check(w->g));
	/* and vector 0 is the one that finds none now */
	assert_int_equal(request_irq(w->g, (unsigned)pci_irq_vector(nic, 0), nop_handler, NULL),
			 -ENOSPC);
	assert_true(guest_check(w->g));
	world_free(w);
}

/*
 * Parked vectors freed without ever being requested: their vIRTEs torn down in one
 * SYNC, their reservations given back, everything as before the allocation.
 */
static void parked_vectors_freed_unrequested(void **state)
{
	struct world *w = *state;
	struct guest_pci_dev *nic = guest_pci_find(w->g, NIC_BDF);
	struct holdings before = holdings(w);
	unsigned free_before = guest_cpu_vectors_free(w->g, 0);
	uint64_t hcalls = vm_exits(w->vm)->hypercall;

	assert_int_equal(pci_alloc_irq_vectors(w->g, nic, 8, 8, NULL), 8);
	assert_int_equal(vm_hcall_entries(w->vm), 8);
	pci_free_irq_vectors(w->g, nic);
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, 2);
	assert_holdings(w, before);
	assert_int_equal(guest_cpu_vectors_free(w->g, 0), free_before);
	assert_int_equal(vm_hcall_entries(w->vm), 0);
}

/* The guest option: a real vector at allocation, one SYNC for all, none at request_irq(). */
static void vectors_at_alloc_one_sync(void **state)
{
	struct world *w = world_new((struct world_opts){.vectors_at_alloc = true});
	struct guest_pci_dev *nic = guest_pci_find(w->g, NIC_BDF);
	uint64_t hcalls = vm_exits(w->vm)->hypercall;

	(void)state;
	assert_int_equal(pci_alloc_irq_vectors(w->g, nic, 4, 4, NULL), 4);
	assert_int_equal(guest_vectors_in_use(w->g), 4);
	for (unsigned v = 0; v < 4; v++)
		assert_int_equal(
		    request_irq(w->g, (unsigned)pci_irq_vector(nic, v), nop_handler, NULL), 0);
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, 1);
	for (unsigned v = 0; v < 4; v++)
		raise_msix(w, v);
	assert_int_equal(run_all(w), 4);
	world_free(w);
}

/* The message in MSI-X entry @n of the NIC, as the guest reads it (the VMM's view). */
static struct msi_msg nic_entry_msg(struct world *w, unsigned n)
{
	uint64_t table = assigned_dev_bar_gpa(vm_device_by_bdf(w->vm, NIC_BDF), 0) + n * 16u;
	uint64_t v[3];

	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(vm_mmio_read(w->vm, vm_vcpu(w->vm, 0), table + 4 * i, 4, &v[i]),
				 0);
	return (struct msi_msg){
	    .address_lo = (uint32_t)v[0], .address_hi = (uint32_t)v[1], .data = (uint32_t)v[2]};
}

static bool nic_entry_is(struct world *w, unsigned n, const struct msi_msg *m)
{
	struct msi_msg held = nic_entry_msg(w, n);

	return msi_msg_equal(&held, m);
}

/*
 * free_irq() deactivates, as Linux's __free_irq() does: the entry masked and left
 * holding a zero message, the (v)IRTE cleared — under `hcall` a SYNC that tears the
 * host entry down — and the vector given back. A raise meanwhile latches in the
 * device. request_irq() activates it again: a SYNC that makes a host entry anew (or,
 * under `vir-emul`, the IRTE rewritten at the index it kept: the same handle), the
 * message written again and unmasked, which sends the latched one. `vir-emul` runs on
 * either vIOMMU: VT-d's and AMD-Vi's drivers each clear and flush at free_irq().
 */
static void free_irq_deactivates(void **state)
{
	const struct world_opts *o = *state;
	bool vir_emul = o->vir_emul;
	struct world *w = world_new(*o);
	struct guest_pci_dev *nic = guest_pci_find(w->g, NIC_BDF);
	const struct msi_msg zero = {0};
	unsigned irq[2], free_vectors;
	struct msi_msg before;
	uint64_t hcalls, commits;

	assert_int_equal(guest_pvir(w->g), !vir_emul);
	assert_int_equal(guest_vtd(w->g), vir_emul);
	assert_int_equal(pci_alloc_irq_vectors(w->g, nic, 2, 2, NULL), 2);
	for (unsigned v = 0; v < 2; v++) {
		irq[v] = (unsigned)pci_irq_vector(nic, v);
		assert_int_equal(request_irq(w->g, irq[v], nop_handler, NULL), 0);
	}
	before = nic_entry_msg(w, 0);
	free_vectors = guest_cpu_vectors_free(w->g, (unsigned)irq_effective_cpu(w->g, irq[0]));
	hcalls = vm_exits(w->vm)->hypercall;
	commits = vm_vmm_stats(w->vm)->route_commits;

	free_irq(w->g, irq[0]);
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, !vir_emul); /* the teardown */
	if (vir_emul) /* the IRTE cleared and flushed: QEMU translates again, commits */
		assert_int_equal(vm_vmm_stats(w->vm)->route_commits - commits, 1);
	if (!vir_emul)
		assert_int_equal(vm_hcall_entries(w->vm), 1);
	assert_int_equal(irq_effective_cpu(w->g, irq[0]), -1);
	assert_true(nic_entry_is(w, 0, &zero));
	raise_msix_latched(w, 0);
	raise_msix(w, 1);
	assert_int_equal(run_all(w), 1); /* vector 1's only */
	assert_true(guest_check(w->g));

	hcalls = vm_exits(w->vm)->hypercall;
	assert_int_equal(request_irq(w->g, irq[0], nop_handler, NULL), 0);
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, !vir_emul); /* the SYNC */
	if (!vir_emul)
		assert_int_equal(vm_hcall_entries(w->vm), 2);
	else /* the IRTE index kept: the same handle */
		assert_true(nic_entry_is(w, 0, &before));
	assert_false(nic_entry_is(w, 0, &zero));
	assert_int_equal(guest_cpu_vectors_free(w->g, (unsigned)irq_effective_cpu(w->g, irq[0])),
			 free_vectors);
	assert_int_equal(run_all(w), 1); /* the latched one */
	raise_msix(w, 0);
	assert_int_equal(run_all(w), 1);
	assert_int_equal(irq_count(w->g, irq[0], (unsigned)irq_effective_cpu(w->g, irq[0])), 2);
	assert_true(guest_check(w->g));

	/* deactivated, then freed with its vectors: nothing left on either side */
	free_irq(w->g, irq[0]);
	pci_free_irq_vectors(w->g, nic);
	if (!vir_emul)
		assert_int_equal(vm_hcall_entries(w->vm), 0);
	assert_true(guest_check(w->g));
	world_free(w);
}

/*
 * The life of an interrupt in random order, under each design, with the NIC's vectors
 * plain (in reservation mode, or not: `vectors: at_alloc`, whose freed vectors are
 * kept) or managed (shut down with their vCPU, started again with it): request_irq()
 * and free_irq() (activation and deactivation), affinity changes, vCPUs offline and
 * back, raises and the handling of what arrived, timer ticks (old vectors freed).
 * After each step the guest's own checks hold. At the end every interrupt is requested
 * and every vCPU online, and then all that was raised has arrived, exactly as the test
 * counts it: nothing latched in a device or held by the VMM, nothing blocked by the
 * IOMMU, nothing spurious.
 */
#define CHURN_STEPS 1500
#define CHURN_NIC   4 /* one a vCPU, when they are managed */
#define CHURN_IMS   8
#define CHURN_IRQS  (CHURN_NIC + CHURN_IMS)

static uint64_t churn_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * What the test expects: each raise while an interrupt is requested and active is
 * handled once; one while it is freed, or shut down with its CPUs (managed), latches
 * (masked), and what latched is sent once, however many came, when it is both again.
 */
struct churn {
	struct world *w;
	unsigned irq[CHURN_IRQS];
	bool requested[CHURN_IRQS];
	bool latched[CHURN_IRQS];
	bool sent; /* what latched was sent and is not taken yet */
	uint64_t expected;
	uint64_t rng;
};

static bool churn_live(const struct churn *c, unsigned k)
{
	return c->requested[k] && irq_effective_cpu(c->w->g, c->irq[k]) >= 0;
}

static void churn_take(struct churn *c)
{
	(void)run_all(c->w);
	c->sent = false;
}

/*
 * After each step: what latched on an interrupt live again was sent (and is left in
 * the IRR, for moves and offlines to meet).
 */
static void churn_sent(struct churn *c)
{
	for (unsigned k = 0; k < CHURN_IRQS; k++)
		if (c->latched[k] && churn_live(c, k)) {
			c->expected++;
			c->sent = true;
			c->latched[k] = false;
		}
}

static void churn_request(struct churn *c, unsigned k)
{
	assert_int_equal(request_irq(c->w->g, c->irq[k], nop_handler, NULL), 0);
	c->requested[k] = true;
}

static void churn_raise(struct churn *c, unsigned k)
{
	enum pci_irq_result r;

	if (c->sent) /* taken first: a raise would merge with it in the IRR */
		churn_take(c);
	if (k < CHURN_NIC)
		assert_int_equal(pci_func_raise_msix(c->w->nic, k, &r), 0);
	else
		assert_int_equal(pci_func_raise_ims(c->w->dsa, k - CHURN_NIC, &r), 0);
	assert_int_not_equal(r, PCI_IRQ_DISABLED);
	if (churn_live(c, k))
		c->expected++;
	else
		c->latched[k] = true;
	churn_take(c);
}

static void churn_step(struct churn *c)
{
	struct world *w = c->w;
	uint64_t r = churn_rand(&c->rng);
	unsigned k = (unsigned)(r >> 8) % CHURN_IRQS, cpu = (unsigned)(r >> 16) % guest_cpus(w->g);
	struct cpumask mask = {{0}};
	int err;

	switch (r % 8) {
	case 0:
		if (!c->requested[k]) {
			churn_request(c, k);
			break;
		}
		if (c->sent) /* taken first: one pending at free_irq() would be spurious */
			churn_take(c);
		free_irq(w->g, c->irq[k]);
		c->requested[k] = false;
		break;
	case 1:
		cpumask_set(&mask, cpu);
		/* a move may be under way, @cpu offline or full */
		err = irq_set_affinity(w->g, c->irq[k], &mask);
		assert_true(err == 0 || err == -EBUSY || err == -EINVAL || err == -ENOSPC);
		break;
	case 2:
		err = guest_cpu_offline(w->g, cpu); /* the last online, or no room left */
		assert_true(err == 0 || err == -EINVAL || err == -ENOSPC);
		break;
	case 3:
		err = guest_cpu_online(w->g, cpu); /* online already */
		assert_true(err == 0 || err == -EINVAL);
		break;
	case 4:
		tick_all(w);
		break;
	default:
		churn_raise(c, k);
		break;
	}
}

struct churn_row {
	struct world_opts o;
	bool managed; /* the NIC's vectors are PCI_IRQ_AFFINITY's, one a vCPU */
};

static void churn(void **state)
{
	const struct churn_row *row = *state;
	struct churn c = {.w = world_new(row->o), .rng = 0x9e3779b97f4a7c15u};
	struct world *w = c.w;
	struct guest_pci_dev *nic = guest_pci_find(w->g, NIC_BDF),
			     *dsa = guest_pci_find(w->g, DSA_BDF);

	if (row->managed)
		assert_int_equal(pci_alloc_irq_vectors_managed(w->g, nic, CHURN_NIC, CHURN_NIC),
				 CHURN_NIC);
	else
		assert_int_equal(pci_alloc_irq_vectors(w->g, nic, CHURN_NIC, CHURN_NIC, NULL),
				 CHURN_NIC);
	assert_int_equal(guest_ims_alloc(w->g, dsa, &dsa_layout, CHURN_IMS, CHURN_IMS, NULL),
			 CHURN_IMS);
	for (unsigned k = 0; k < CHURN_IRQS; k++)
		c.irq[k] = (unsigned)(k < CHURN_NIC ? pci_irq_vector(nic, k)
						    : guest_ims_irq(dsa, k - CHURN_NIC));
	for (unsigned step = 0; step < CHURN_STEPS; step++) {
		churn_step(&c);
		churn_sent(&c);
		assert_true(guest_check(w->g));
	}
	for (unsigned cpu = 0; cpu < guest_cpus(w->g); cpu++) {
		int err = guest_cpu_online(w->g, cpu);

		assert_true(err == 0 || err == -EINVAL); /* online already */
		churn_sent(&c);
	}
	for (unsigned k = 0; k < CHURN_IRQS; k++)
		if (!c.requested[k]) {
			churn_request(&c, k);
			churn_sent(&c);
		}
	churn_take(&c);
	assert_int_equal(pci_func_pending_count(w->nic) + pci_func_pending_count(w->dsa), 0);
	assert_int_equal(vm_vmm_pending(w->vm), 0);
	assert_int_equal(host_stats(w->h)->blocked, 0);
	assert_int_equal(guest_stats(w->g)->spurious, 0);
	assert_true(c.expected > CHURN_STEPS / 10);
	assert_int_equal(guest_stats(w->g)->handled, c.expected);
	assert_true(guest_stats(w->g)->moved > 0);
	if (row->managed) /* the steps reached the managed paths too */
		assert_true(guest_stats(w->g)->managed_shutdown > 0 &&
			    guest_stats(w->g)->managed_restarted > 0);
	assert_true(guest_check(w->g));
	world_free(w);
}

static const struct churn_row churn_rows[] = {
    {{.vcpus = 4}, false},
    {{.vcpus = 4, .vir_emul = true}, false},
    {{.vcpus = 4, .vir_emul = true, .amd = true}, false},
    {{.vcpus = 4, .old_guest = true, .old_vmm = true}, false},
    {{.vcpus = 4}, true},
    {{.vcpus = 4, .vir_emul = true}, true},
    {{.vcpus = 4, .old_guest = true, .old_vmm = true}, true},
    {{.vcpus = 4, .vectors_at_alloc = true}, false},
    {{.vcpus = 4, .vir_emul = true, .vectors_at_alloc = true}, false},
};

/*
 * An IMS interrupt is never reserved, so free_irq() keeps its vector, as Linux's
 * x86_vector_deactivate() does (its host entry goes all the same: a SYNC). The next
 * request_irq() takes the same vector back (a SYNC). Freed again, its vCPU goes offline:
 * it is not moved (not started), and its vector stays there; at the next request_irq()
 * it gets one on an online vCPU and the old one is freed.
 */
static void ims_free_irq_keeps_its_vector(void **state)
{
	struct world *w = world_new((struct world_opts){0});
	struct guest_pci_dev *dsa = guest_pci_find(w->g, DSA_BDF);
	unsigned irq, cpu, vector, free_there;
	enum pci_irq_result r;
	uint64_t hcalls;

	(void)state;
	assert_int_equal(guest_ims_alloc(w->g, dsa, &dsa_layout, 1, 1, NULL), 1);
	irq = (unsigned)guest_ims_irq(dsa, 0);
	assert_int_equal(request_irq(w->g, irq, nop_handler, NULL), 0);
	cpu = (unsigned)irq_effective_cpu(w->g, irq);
	vector = (unsigned)irq_effective_vector(w->g, irq);
	free_there = guest_cpu_vectors_free(w->g, cpu);

	hcalls = vm_exits(w->vm)->hypercall;
	free_irq(w->g, irq);
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, 1); /* the host entry goes */
	assert_int_equal(vm_hcall_entries(w->vm), 0);
	assert_int_equal(guest_cpu_vectors_free(w->g, cpu), free_there); /* the vector stays */
	assert_int_equal(pci_func_raise_ims(w->dsa, 0, &r), 0);
	assert_int_equal(r, PCI_IRQ_PENDING); /* masked: latches */
	assert_int_equal(run_all(w), 0);
	assert_int_equal(request_irq(w->g, irq, nop_handler, NULL), 0);
	assert_int_equal(vm_exits(w->vm)->hypercall - hcalls, 2);
	assert_int_equal(irq_effective_cpu(w->g, irq), (int)cpu);
	assert_int_equal(irq_effective_vector(w->g, irq), (int)vector);
	assert_int_equal(run_all(w), 1); /* what latched */
	assert_true(guest_check(w->g));

	free_irq(w->g, irq);
	assert_int_equal(guest_cpu_offline(w->g, cpu), 0);
	assert_int_equal(irq_effective_cpu(w->g, irq), (int)cpu); /* not moved */
	assert_true(guest_check(w->g));
	assert_int_equal(request_irq(w->g, irq, nop_handler, NULL), 0);
	assert_int_not_equal(irq_effective_cpu(w->g, irq), (int)cpu);
	assert_int_equal(guest_cpu_online(w->g, cpu), 0);
	assert_int_equal(guest_cpu_vectors_free(w->g, cpu), free_there + 1); /* the old one */
	raise_ims(w->dsa, 0);
	assert_int_equal(run_all(w), 1);
	assert_true(guest_check(w->g));
	world_free(w);
}

#define FX(fn)	   cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define PAIR(n, i) TEST_ROW("guest/pair/" n, guest_vmm_pair, &pair_rows[i])

static const struct world_opts free_rows[] = {
    {.vir_emul = false}, {.vir_emul = true}, {.vir_emul = true, .amd = true}};

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(activate_64_msix_and_2048_ims, setup_16, teardown),
	    FX(memory_resident_ims),
	    FX(cpu_offline_without_room_is_refused),
	    TEST(managed_vectors_shut_down_and_restart),
	    TEST(managed_vector_of_an_offline_cpu_starts_shut_down),
	    TEST(request_irq_starts_a_shut_down_managed_vector),
	    FX(remove_returns_everything),
	    FX(affinity_change_one_hypercall_no_device_write),
	    FX(in_flight_interrupt_survives_move),
	    cmocka_unit_test(tuned_irte_that_could_not_follow_follows_at_the_next_flush),
	    FX(counts_follow_moves),
	    FX(move_while_vcpu_preempted),
	    FX(delivery_to_blocked_and_migrated_vcpus),
	    FX(move_between_blocked_and_migrated),
	    TEST(vector_space_full),
	    TEST(host_vectors_run_out),
	    TEST(quota_grants_fewer),
	    TEST(quota_grants_fewer_ims),
	    FX(each_irq_calls_its_own_handler),
	    TEST(host_table_full),
	    FX(affinity_to_full_cpu_fails_cleanly),
	    FX(affinity_to_no_such_cpu),
	    TEST(affinity_without_posting_to_a_full_pcpu),
	    FX(observer_and_ownership),
	    FX(interrupt_on_unknown_vector_is_spurious),
	    FX(rogue_compat_message_in_memory_ims),
	    PAIR("new-guest-new-vmm", 0),
	    PAIR("new-guest-old-vmm", 1),
	    PAIR("old-guest-new-vmm", 2),
	    PAIR("old-guest-old-vmm", 3),
	    FX(cpu_offline_moves_interrupts),
	    FX(reservation_parks_until_request),
	    TEST(request_irq_finds_no_vector),
	    FX(parked_vectors_freed_unrequested),
	    TEST(vectors_at_alloc_one_sync),
	    TEST_ROW("guest/free_irq_deactivates/hcall", free_irq_deactivates, &free_rows[0]),
	    TEST_ROW("guest/free_irq_deactivates/vir-emul", free_irq_deactivates, &free_rows[1]),
	    TEST_ROW("guest/free_irq_deactivates/vir-emul-amdvi", free_irq_deactivates,
		     &free_rows[2]),
	    TEST(ims_free_irq_keeps_its_vector),
	    TEST_ROW("guest/churn/hcall", churn, &churn_rows[0]),
	    TEST_ROW("guest/churn/vir-emul", churn, &churn_rows[1]),
	    TEST_ROW("guest/churn/vir-emul-amdvi", churn, &churn_rows[2]),
	    TEST_ROW("guest/churn/trap", churn, &churn_rows[3]),
	    TEST_ROW("guest/churn/hcall/managed", churn, &churn_rows[4]),
	    TEST_ROW("guest/churn/vir-emul/managed", churn, &churn_rows[5]),
	    TEST_ROW("guest/churn/trap/managed", churn, &churn_rows[6]),
	    TEST_ROW("guest/churn/hcall/at_alloc", churn, &churn_rows[7]),
	    TEST_ROW("guest/churn/vir-emul/at_alloc", churn, &churn_rows[8]),
	};

	return cmocka_run_group_tests_name("guest", tests, NULL, NULL);
}
