// SPDX-License-Identifier: MIT
/*
 * A VM whose guest owns its interrupt storage, moved to another host
 * (pvir/migrate.h, docs/migration.md): a NIC on MSI-X and an accelerator with
 * memory-resident IMS, under the pvir service, on VT-d and on AMD-Vi.
 *
 * Checked each time: every interrupt raised is delivered exactly once — before,
 * during the precopy, during the downtime (latched by the stopped destination
 * function, sent when it runs), after — and nothing is blocked on either host. A
 * destination that already hands the VM's IRTE indices to another VM moves the
 * handles: the remap event has the guest re-sync, and until it has, the old
 * handles never leave the device — without that, they meet the other VM's entries
 * and are blocked by the source-id check (0x26). A destination that cannot take
 * the VM refuses before the source stops.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "pvir/guest.h"
#include "pvir/guest_drivers.h"
#include "pvir/hcall_abi.h"
#include "pvir/host.h"
#include "pvir/ir_unit.h"
#include "pvir/migrate.h"
#include "pvir/pci.h"
#include "pvir/vm.h"
#include "pvir/vmm.h"

#define NIC_BDF	   0x0020
#define ACCEL_BDF  0x0030
#define QUEUES	   4
#define IMS_USED   4
#define RAISES_ALL (QUEUES + IMS_USED)

static const struct guest_ims_layout memory_ims = {IMS_MEMORY, 0, 0, 64};

struct side {
	struct host *h;
	struct pci_func *nic, *accel;
};

static struct pci_func *function(struct host *h, uint16_t rid, bool ims)
{
	struct pci_func_config c = {.rid = rid,
				    .vendor_id = 0x8086,
				    .device_id = ims ? 0x0b25 : 0x1592,
				    .bars = {[0] = {.size = 0x10000}},
				    .msix_vectors = ims ? 0 : 16,
				    .msix_pba_offset = 0x2000,
				    .msi_vectors = ims ? 0 : 1, /* unused, but its view moves */
				    .ims_storage = ims ? IMS_MEMORY : IMS_NONE,
				    .ims_entries = ims ? 64 : 0};
	struct pci_func *f = NULL;

	assert_int_equal(host_add_device(h, &c, &f), 0);
	return f;
}

static void side_new(struct side *s, enum host_iommu iommu)
{
	struct host_config hc = host_default_config();

	hc.pcpus = 4;
	hc.irte_entries = 1024;
	hc.iommu = iommu;
	assert_int_equal(host_create(&hc, &s->h), 0);
	s->nic = function(s->h, 0x0300, false);
	s->accel = function(s->h, 0x6a10, true);
}

struct tenant {
	struct vm *vm;
	struct guest *g;
	struct pci_func *nic_func;
	struct nic_driver nic;
	struct accel_driver accel;
};

static uint64_t handled_sum_of(const uint64_t *counts, unsigned n)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += counts[i];
	return sum;
}

static void tenant_new(struct tenant *t, struct host *h, struct pci_func *nic,
		       struct pci_func *accel, bool remap_event)
{
	static const unsigned pins_low[] = {0, 1}, pins_high[] = {2, 3};
	struct vm_config vc = {.name = accel ? "web" : "there-first",
			       .vcpus = 2,
			       .pin = accel ? pins_low : pins_high, /* each VM its own pCPUs */
			       .mem_size = 8u << 20,
			       .irte_quota = 64,
			       .pvir_service = true,
			       .remap_event = remap_event};
	struct guest_config gc = {.pvir_driver = true,
				  .amd_iommu = host_iommu(h) == HOST_IOMMU_AMDVI};

	*t = (struct tenant){.nic_func = nic};
	assert_int_equal(vm_create(h, &vc, &t->vm), 0);
	assert_int_equal(vm_assign_device(t->vm, nic, NIC_BDF, NULL), 0);
	if (accel)
		assert_int_equal(vm_assign_device(t->vm, accel, ACCEL_BDF, NULL), 0);
	assert_int_equal(guest_boot(t->vm, &gc, &t->g), 0);
	assert_int_equal(nic_probe(t->g, NIC_BDF, QUEUES, QUEUES, &t->nic), 0);
	if (accel)
		assert_int_equal(accel_probe(t->g, ACCEL_BDF, &memory_ims, IMS_USED, &t->accel), 0);
}

static void tenant_free(struct tenant *t)
{
	if (t->nic.handled)
		nic_remove(&t->nic);
	if (t->accel.handled)
		accel_remove(&t->accel);
	guest_free(t->g);
	vm_free(t->vm);
}

/* Each queue and each IMS entry once; what the devices answered. */
static void raise_all(struct pci_func *nic, struct pci_func *accel, enum pci_irq_result want)
{
	enum pci_irq_result r;

	for (unsigned q = 0; nic && q < QUEUES; q++) {
		assert_int_equal(pci_func_raise_msix(nic, q, &r), 0);
		assert_int_equal(r, want);
	}
	for (unsigned e = 0; accel && e < IMS_USED; e++) {
		assert_int_equal(pci_func_raise_ims(accel, e, &r), 0);
		assert_int_equal(r, want);
	}
}

static uint64_t handled(struct tenant *t)
{
	for (unsigned c = 0; c < guest_cpus(t->g); c++)
		guest_handle_interrupts(t->g, c);
	return handled_sum_of(t->nic.handled, QUEUES) +
	       (t->accel.handled ? handled_sum_of(t->accel.handled, IMS_USED) : 0);
}

/* ---- the move ------------------------------------------------------------------------- */

static void moves_with_nothing_lost(void **state)
{
	const enum host_iommu *iommu = *state;
	struct side a, b;
	struct tenant t;
	struct vm_migration *m;
	struct vm *src;

	side_new(&a, *iommu);
	side_new(&b, *iommu);
	tenant_new(&t, a.h, a.nic, a.accel, true);
	raise_all(a.nic, a.accel, PCI_IRQ_SENT);
	assert_int_equal(handled(&t), RAISES_ALL);

	assert_int_equal(
	    vm_migration_begin(t.vm, b.h, (struct pci_func *[]){b.nic, b.accel}, 2, NULL, &m), 0);
	raise_all(a.nic, a.accel, PCI_IRQ_SENT); /* precopy: the source runs on */
	assert_int_equal(handled(&t), 2 * RAISES_ALL);
	/*
	 * The accelerator's, posted to vCPUs the host has preempted: they wait in the PIR
	 * (on AMD-Vi, the backing page), and the stop harvests them into the vAPICs.
	 */
	for (unsigned i = 0; i < vm_vcpus(t.vm); i++)
		host_vcpu_preempt(a.h, vm_vcpu(t.vm, i));
	raise_all(NULL, a.accel, PCI_IRQ_SENT);
	assert_int_equal(host_vcpu_pir_count(a.h, vm_vcpu(t.vm, 0)) +
			     host_vcpu_pir_count(a.h, vm_vcpu(t.vm, 1)),
			 IMS_USED);

	assert_int_equal(vm_migration_switch(m), 0);
	assert_int_equal(vm_migration_moved(m), 0); /* a fresh destination keeps every handle */
	raise_all(b.nic, NULL, PCI_IRQ_PENDING);    /* the NIC's, in the downtime: latched */
	raise_all(b.nic, NULL, PCI_IRQ_PENDING);    /* and coalesced */
	src = t.vm;
	t.vm = vm_migration_dest(m);
	guest_rebind(t.g, t.vm);
	assert_int_equal(vm_migration_finish(m), 0);
	/* the posted ones, moved in the vAPICs, and each latched raise: once each */
	assert_int_equal(handled(&t), 3 * RAISES_ALL);
	raise_all(b.nic, b.accel, PCI_IRQ_SENT);
	assert_int_equal(handled(&t), 4 * RAISES_ALL);

	assert_int_equal(host_stats(a.h)->blocked, 0);
	assert_int_equal(host_stats(b.h)->blocked, 0);
	assert_int_equal(host_stats(b.h)->posted, QUEUES + RAISES_ALL);
	assert_int_equal(guest_stats(t.g)->remap_events, 0);
	assert_int_equal(vm_hcall_entries(t.vm), RAISES_ALL);
	assert_true(guest_check(t.g));
	assert_true(vm_routes_consistent(t.vm));
	vm_migration_free(m);
	tenant_free(&t);
	vm_free(src);
	host_free(a.h);
	host_free(b.h);
}

/* A VM already on the destination, holding the IRTE indices ours had: VT-d's one table. */
static void squatter_new(struct tenant *sq, struct host *h)
{
	tenant_new(sq, h, function(h, 0x0500, false), NULL, false);
}

struct moved {
	struct side a, b;
	struct tenant t, sq;
	struct vm_migration *m;
	struct vm *src;
};

static void moved_new(struct moved *x, bool remap_event)
{
	side_new(&x->a, HOST_IOMMU_VTD);
	side_new(&x->b, HOST_IOMMU_VTD);
	squatter_new(&x->sq, x->b.h);
	tenant_new(&x->t, x->a.h, x->a.nic, x->a.accel, remap_event);
	raise_all(x->a.nic, x->a.accel, PCI_IRQ_SENT);
	assert_int_equal(handled(&x->t), RAISES_ALL);
	assert_int_equal(vm_migration_begin(x->t.vm, x->b.h,
					    (struct pci_func *[]){x->b.nic, x->b.accel}, 2, NULL,
					    &x->m),
			 0);
}

static void moved_switch(struct moved *x)
{
	assert_int_equal(vm_migration_switch(x->m), 0);
	x->src = x->t.vm;
	x->t.vm = vm_migration_dest(x->m);
	guest_rebind(x->t.g, x->t.vm);
}

static void moved_free(struct moved *x)
{
	vm_migration_free(x->m);
	tenant_free(&x->t);
	tenant_free(&x->sq);
	vm_free(x->src);
	host_free(x->a.h);
	host_free(x->b.h);
}

static void handles_taken_move_and_are_mended(void **state)
{
	struct moved x;
	struct assigned_dev *nic;

	(void)state;
	moved_new(&x, true);
	moved_switch(&x);
	/* the NIC's four indices are the other VM's; the accelerator's are free, and kept */
	assert_int_equal(vm_migration_moved(x.m), QUEUES);
	nic = vm_device_by_bdf(x.t.vm, NIC_BDF);
	assert_int_equal(assigned_dev_msix_mode(nic), VMM_STORAGE_MEDIATED);
	raise_all(x.b.nic, x.b.accel, PCI_IRQ_PENDING);
	assert_int_equal(vm_migration_finish(x.m), 0);
	/* the old handles do not leave the device: still latched after the function runs */
	assert_int_equal(host_stats(x.b.h)->blocked, 0);
	assert_int_equal(handled(&x.t), 2 * RAISES_ALL); /* the event, then each raise once */
	assert_int_equal(guest_stats(x.t.g)->remap_events, 1);
	assert_int_equal(guest_stats(x.t.g)->remapped, vm_migration_moved(x.m));
	assert_int_equal(assigned_dev_msix_mode(nic), VMM_STORAGE_DIRECT);
	raise_all(x.b.nic, x.b.accel, PCI_IRQ_SENT);
	assert_int_equal(handled(&x.t), 3 * RAISES_ALL);
	/* the VM already there got nothing of ours, and has its own */
	assert_int_equal(handled(&x.sq), 0);
	raise_all(x.sq.nic_func, NULL, PCI_IRQ_SENT);
	assert_int_equal(handled(&x.sq), QUEUES);
	assert_int_equal(host_stats(x.b.h)->blocked, 0);
	moved_free(&x);
}

/*
 * Why the destination holds moved entries masked: the device's storage still names the
 * source's handles, and here those index another VM's entries. Let one through — the
 * function's entry unmasked behind the VMM's back — and the IOMMU blocks it by source-id
 * (0x26): lost, where the held entry would have latched it.
 */
static void without_the_masking_the_old_handle_is_blocked(void **state)
{
	struct moved x;
	const struct ir_unit_stats *us;
	enum pci_irq_result r;

	(void)state;
	moved_new(&x, true);
	moved_switch(&x);
	assert_int_equal(vm_migration_finish(x.m), 0);
	us = ir_unit_stats(host_ir_unit(x.b.h));
	assert_int_equal(pci_mmio_write(x.b.nic, 0, 1 * PCI_MSIX_ENTRY_SIZE + 12, 4, 0), 0);
	assert_int_equal(pci_func_raise_msix(x.b.nic, 1, &r), 0);
	assert_int_equal(r, PCI_IRQ_SENT);
	assert_int_equal(host_stats(x.b.h)->blocked, 1);
	assert_int_equal(us->faults[IR_FAULT_SID - IR_FAULT_FIRST], 1);
	assert_int_equal(handled(&x.sq), 0); /* and the VM whose entry it named got nothing */
	moved_free(&x);
}

/*
 * The destination asks for the indices the handles had: one taken there moves alone,
 * where taking the lowest free ones would have moved every handle after it.
 */
static void free_handles_are_kept(void **state)
{
	struct side a, b;
	struct tenant t;
	struct vm_migration *m;
	struct host_irq *taken;
	struct vm *src;

	(void)state;
	side_new(&a, HOST_IOMMU_VTD);
	side_new(&b, HOST_IOMMU_VTD);
	assert_int_equal(host_irq_alloc(b.h, 0x0700, &taken), 0);
	assert_int_equal(host_irq_index(taken), 1); /* the first handle the source gave */
	tenant_new(&t, a.h, a.nic, a.accel, true);
	assert_int_equal(
	    vm_migration_begin(t.vm, b.h, (struct pci_func *[]){b.nic, b.accel}, 2, NULL, &m), 0);
	assert_int_equal(vm_migration_switch(m), 0);
	assert_int_equal(vm_migration_moved(m), 1);
	src = t.vm;
	t.vm = vm_migration_dest(m);
	guest_rebind(t.g, t.vm);
	raise_all(b.nic, b.accel, PCI_IRQ_PENDING);
	assert_int_equal(vm_migration_finish(m), 0);
	assert_int_equal(handled(&t), RAISES_ALL);
	assert_int_equal(guest_stats(t.g)->remapped, 1);
	assert_int_equal(host_stats(b.h)->blocked, 0);
	vm_migration_free(m);
	tenant_free(&t);
	vm_free(src);
	host_irq_free(b.h, taken);
	host_free(a.h);
	host_free(b.h);
}

/* A guest that registered no remap event cannot be told: the switch refuses, the source resumes. */
static void handles_moved_without_the_event_is_refused(void **state)
{
	struct moved x;

	(void)state;
	moved_new(&x, false);
	assert_int_equal(vm_migration_switch(x.m), -EBUSY);
	raise_all(x.a.nic, x.a.accel, PCI_IRQ_SENT); /* the source runs as it did */
	assert_int_equal(handled(&x.t), 2 * RAISES_ALL);
	assert_int_equal(host_stats(x.a.h)->blocked, 0);
	x.src = NULL;
	moved_free(&x); /* abandoned: the destination VM goes */
}

/* A destination that cannot take the VM says so while the source runs. */
static void a_quota_too_small_refuses_before_the_stop(void **state)
{
	struct side a, b;
	struct tenant t;
	struct vm_migration *m = NULL;
	struct pci_func *funcs[2];

	(void)state;
	side_new(&a, HOST_IOMMU_VTD);
	side_new(&b, HOST_IOMMU_VTD);
	funcs[0] = b.nic;
	funcs[1] = b.accel;
	tenant_new(&t, a.h, a.nic, a.accel, true);
	assert_int_equal(
	    vm_migration_begin(t.vm, b.h, funcs, 2, &(struct vm_migrate_opts){.irte_quota = 2}, &m),
	    -EDQUOT);
	assert_null(m);
	assert_int_equal(vm_migration_begin(t.vm, b.h, funcs, 1, NULL, &m), -EINVAL);
	raise_all(a.nic, a.accel, PCI_IRQ_SENT);
	assert_int_equal(handled(&t), RAISES_ALL);
	tenant_free(&t);
	host_free(a.h);
	host_free(b.h);
}

/* A guest on emulated MSI-X: `trap` (no vIOMMU) or `vir-emul` (its IR domain on one). */
static void emulated_tenant(struct tenant *t, struct host *h, struct pci_func *nic, bool viommu)
{
	struct vm_config vc = {.name = viommu ? "vir-emul" : "trap",
			       .vcpus = 2,
			       .mem_size = 8u << 20,
			       .irte_quota = 64,
			       .viommu = viommu};
	struct guest_config gc = {.vtd_driver = viommu,
				  .amd_iommu = host_iommu(h) == HOST_IOMMU_AMDVI};

	*t = (struct tenant){.nic_func = nic};
	assert_int_equal(vm_create(h, &vc, &t->vm), 0);
	assert_int_equal(vm_assign_device(t->vm, nic, NIC_BDF, NULL), 0);
	assert_int_equal(guest_boot(t->vm, &gc, &t->g), 0);
	assert_int_equal(guest_vtd(t->g), viommu);
	assert_int_equal(nic_probe(t->g, NIC_BDF, QUEUES, QUEUES, &t->nic), 0);
}

struct emul_row {
	enum host_iommu iommu;
	bool viommu;
};

/*
 * `trap` and `vir-emul`: the guest's MSI-X table is the VMM's emulation. Under `trap`
 * its messages name (APIC ID, vector); under `vir-emul` handles into the guest's own
 * vIOMMU table, in guest RAM, with the unit's registers moved as QEMU's vmstate moves
 * them. Either way the messages mean the same on any host: the destination rebuilds each
 * unmasked entry as QEMU's load does — a route, an irqfd, a host interrupt — and nothing
 * is lost.
 */
static void emulated_moves_with_nothing_lost(void **state)
{
	const struct emul_row *row = *state;
	struct side a, b;
	struct tenant t;
	struct vm_migration *m = NULL;
	struct vm *src;
	uint64_t before;
	uint16_t msi_data;

	side_new(&a, row->iommu);
	side_new(&b, row->iommu);
	emulated_tenant(&t, a.h, a.nic, row->viommu);
	msi_data = pci_find_capability(a.nic, PCI_CAP_ID_MSI) + PCI_MSI_DATA_32;
	vm_cfg_write(t.vm, vm_vcpu(t.vm, 0), NIC_BDF, msi_data, 2, 0x4242);
	raise_all(a.nic, NULL, PCI_IRQ_SENT);
	assert_int_equal(handled(&t), QUEUES);
	assert_int_equal(vm_migration_begin(t.vm, b.h, (struct pci_func *[]){b.nic}, 1, NULL, &m),
			 0);
	assert_int_equal(vm_migration_switch(m), 0);
	assert_int_equal(vm_migration_moved(m), 0);
	raise_all(b.nic, NULL, PCI_IRQ_PENDING);
	src = t.vm;
	t.vm = vm_migration_dest(m);
	guest_rebind(t.g, t.vm);
	assert_int_equal(vm_migration_finish(m), 0);
	assert_int_equal(handled(&t), 2 * QUEUES);
	/* the guest's view of the MSI capability came along, not the device's */
	assert_int_equal(vm_cfg_read(t.vm, vm_vcpu(t.vm, 0), NIC_BDF, msi_data, 2), 0x4242);
	assert_int_equal(pci_cfg_read(b.nic, msi_data, 2), 0);
	raise_all(b.nic, NULL, PCI_IRQ_SENT);
	assert_int_equal(handled(&t), 3 * QUEUES);
	assert_int_equal(vm_vmm_stats(t.vm)->emul_errors, 0);
	assert_int_equal(host_stats(b.h)->blocked, 0);
	assert_true(vm_routes_consistent(t.vm));
	/* the guest's vIOMMU goes on working there: an affinity change re-aims the IRTE */
	assert_int_equal(
	    irq_set_affinity(t.g, (unsigned)nic_queue_irq(&t.nic, 0), &(struct cpumask){{0x2}}), 0);
	before = irq_count(t.g, (unsigned)nic_queue_irq(&t.nic, 0), 1);
	raise_all(b.nic, NULL, PCI_IRQ_SENT);
	assert_int_equal(handled(&t), 4 * QUEUES);
	assert_int_equal(irq_count(t.g, (unsigned)nic_queue_irq(&t.nic, 0), 1), before + 1);
	vm_migration_free(m);
	tenant_free(&t);
	vm_free(src);
	host_free(a.h);
	host_free(b.h);
}

/* A vIOMMU cannot become another kind of IOMMU: the switch refuses, the source resumes. */
static void a_viommu_of_another_kind_is_refused(void **state)
{
	struct side a, b;
	struct tenant t;
	struct vm_migration *m = NULL;

	(void)state;
	side_new(&a, HOST_IOMMU_VTD);
	side_new(&b, HOST_IOMMU_AMDVI);
	emulated_tenant(&t, a.h, a.nic, true);
	assert_int_equal(vm_migration_begin(t.vm, b.h, (struct pci_func *[]){b.nic}, 1, NULL, &m),
			 0);
	assert_int_equal(vm_migration_switch(m), -EOPNOTSUPP);
	raise_all(a.nic, NULL, PCI_IRQ_SENT);
	assert_int_equal(handled(&t), QUEUES);
	vm_migration_free(m);
	tenant_free(&t);
	host_free(a.h);
	host_free(b.h);
}

int main(void)
{
	static const enum host_iommu vtd = HOST_IOMMU_VTD, amdvi = HOST_IOMMU_AMDVI;
	static const struct emul_row emul[] = {{HOST_IOMMU_VTD, false},
					       {HOST_IOMMU_VTD, true},
					       {HOST_IOMMU_AMDVI, false},
					       {HOST_IOMMU_AMDVI, true}};
	const struct CMUnitTest tests[] = {
	    TEST_ROW("moves_with_nothing_lost/vtd", moves_with_nothing_lost, &vtd),
	    TEST_ROW("moves_with_nothing_lost/amdvi", moves_with_nothing_lost, &amdvi),
	    TEST(handles_taken_move_and_are_mended),
	    TEST(without_the_masking_the_old_handle_is_blocked),
	    TEST(free_handles_are_kept),
	    TEST(handles_moved_without_the_event_is_refused),
	    TEST(a_quota_too_small_refuses_before_the_stop),
	    TEST_ROW("emulated/trap/vtd", emulated_moves_with_nothing_lost, &emul[0]),
	    TEST_ROW("emulated/vir-emul/vtd", emulated_moves_with_nothing_lost, &emul[1]),
	    TEST_ROW("emulated/trap/amdvi", emulated_moves_with_nothing_lost, &emul[2]),
	    TEST_ROW("emulated/vir-emul/amdvi", emulated_moves_with_nothing_lost, &emul[3]),
	    TEST(a_viommu_of_another_kind_is_refused),
	};

	return cmocka_run_group_tests_name("migrate", tests, NULL, NULL);
}
