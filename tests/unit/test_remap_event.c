// SPDX-License-Identifier: MIT
/*
 * The remap event (docs/migration.md, docs/abi.md): the host lets go of vIRTEs
 * (vm_pvir_revoke(), what a destination does with handles it could not keep),
 * the storage that held them sends nothing while they are stale, and the event
 * has the guest sync them again and rewrite its storage. What the device raised
 * meanwhile latches and is delivered once; nothing is blocked, nothing lost.
 */
#include "test.h"

#include <errno.h>

#include "pvir/failpoint.h"
#include "pvir/hcall_abi.h"
#include "world.h"

#define QUEUES 4

static struct world *booted(bool remap_event)
{
	struct world *w = world_new(HCALL, (struct world_opts){.remap_event = remap_event});

	assert_int_equal(tenant_boot(w, &w->t), 0);
	assert_int_equal(nic_probe(w->t.g, NIC_BDF, QUEUES, QUEUES, &w->t.nic_drv), 0);
	return w;
}

static struct vcpu_regs call(struct world *w, uint64_t nr, uint64_t rbx, uint64_t rcx)
{
	struct vcpu_regs r = {.rax = nr, .rbx = rbx, .rcx = rcx};

	vm_hypercall(w->t.vm, vm_vcpu(w->t.vm, 0), &r);
	return r;
}

static enum pci_irq_result raise_queue(struct world *w, unsigned q)
{
	enum pci_irq_result r;

	assert_int_equal(pci_func_raise_msix(w->t.nic, q, &r), 0);
	return r;
}

static uint64_t handled(struct world *w)
{
	tenant_run_all(&w->t);
	return handled_sum(w->t.nic_drv.handled, QUEUES);
}

static void offered_only_when_the_vmm_can(void **state)
{
	struct world *w = booted(false);
	struct vcpu_regs r;

	(void)state;
	assert_int_equal(guest_remap_event_vector(w->t.g), 0);
	r = call(w, PVIR_HC_QUERY, 0, 0);
	assert_int_equal(r.rcx & PVIR_FEAT_REMAP_EVENT, 0);
	assert_int_equal((int64_t)call(w, PVIR_HC_SET_EVENT, 0xf3, 0).rax, -EOPNOTSUPP);
	assert_int_equal(vm_pvir_remap_event(w->t.vm), -ENOENT);
	world_free(w);

	w = booted(true);
	assert_int_equal(guest_remap_event_vector(w->t.g), 0xf3); /* registered at boot */
	r = call(w, PVIR_HC_QUERY, 0, 0);
	assert_int_equal(r.rcx & PVIR_FEAT_REMAP_EVENT, PVIR_FEAT_REMAP_EVENT);
	assert_int_equal((int64_t)call(w, PVIR_HC_SET_EVENT, 0x10, 0).rax, -EINVAL);
	assert_int_equal((int64_t)call(w, PVIR_HC_SET_EVENT, 0x80, 0).rax, -EINVAL);
	assert_int_equal((int64_t)call(w, PVIR_HC_SET_EVENT, 0x100, 0).rax, -EINVAL);
	assert_int_equal((int64_t)call(w, PVIR_HC_SET_EVENT, 0xf3, 7).rax, -ENOENT);
	assert_int_equal((int64_t)call(w, PVIR_HC_SET_EVENT, 0, 0).rax, 0); /* off */
	assert_int_equal(vm_pvir_remap_event(w->t.vm), -ENOENT);
	world_free(w);
}

static void revoked_entries_are_mended(void **state)
{
	struct world *w = booted(true);
	struct assigned_dev *nic = vm_device_by_bdf(w->t.vm, NIC_BDF);
	uint64_t before, hypercalls;

	(void)state;
	for (unsigned q = 0; q < QUEUES; q++)
		assert_int_equal(raise_queue(w, q), PCI_IRQ_SENT);
	before = handled(w);
	assert_int_equal(before, QUEUES);
	assert_int_equal(assigned_dev_msix_mode(nic), VMM_STORAGE_DIRECT);

	/* the host lets go of every entry: the table's storage is held from then on */
	assert_int_equal(vm_pvir_revoke(w->t.vm, 0, 64), 0);
	assert_int_equal(vm_vmm_stats(w->t.vm)->revoked, QUEUES);
	assert_int_equal(vm_hcall_entries(w->t.vm), 0);
	assert_int_equal(assigned_dev_msix_mode(nic), VMM_STORAGE_MEDIATED);
	for (unsigned q = 0; q < QUEUES; q++) {
		assert_int_equal(raise_queue(w, q), PCI_IRQ_PENDING);
		assert_int_equal(raise_queue(w, q), PCI_IRQ_PENDING); /* coalesces */
	}
	assert_int_equal(handled(w), before);
	assert_int_equal(host_stats(w->h)->blocked, 0); /* nothing went out with a stale handle */

	/* the event: each entry synced once, its storage rewritten, its latched raise sent */
	hypercalls = guest_stats(w->t.g)->hypercalls;
	assert_int_equal(vm_pvir_remap_event(w->t.vm), 0);
	assert_int_equal(handled(w), before + QUEUES);
	assert_int_equal(guest_stats(w->t.g)->remap_events, 1);
	assert_int_equal(guest_stats(w->t.g)->remapped, QUEUES);
	assert_int_equal(guest_stats(w->t.g)->hypercalls, hypercalls + QUEUES);
	assert_int_equal(vm_hcall_entries(w->t.vm), QUEUES);
	assert_int_equal(assigned_dev_msix_mode(nic), VMM_STORAGE_DIRECT);
	for (unsigned q = 0; q < QUEUES; q++) {
		assert_int_equal(
		    guest_irq_remap_error(w->t.g, (unsigned)nic_queue_irq(&w->t.nic_drv, q)), 0);
		assert_int_equal(raise_queue(w, q), PCI_IRQ_SENT);
	}
	assert_int_equal(handled(w), before + 2 * QUEUES);
	assert_true(vm_routes_consistent(w->t.vm));
	assert_true(guest_check(w->t.g));
	world_free(w);
}

/*
 * The guest that does not mend: its stale entry stays held whatever it writes. An unmask
 * of the old message is refused, so the raise latches and reaches nobody.
 */
static void a_guest_that_never_resyncs_only_silences_itself(void **state)
{
	struct world *w = booted(true);
	struct assigned_dev *nic = vm_device_by_bdf(w->t.vm, NIC_BDF);
	uint64_t entry1 = assigned_dev_bar_gpa(nic, 0) + 1 * PCI_MSIX_ENTRY_SIZE;
	uint64_t refused;

	(void)state;
	assert_int_equal(vm_pvir_revoke(w->t.vm, 0, 64), 0);
	refused = vm_vmm_stats(w->t.vm)->foreign_refused;
	/* mask, then unmask again with the same (stale) message */
	assert_int_equal(vm_mmio_write(w->t.vm, vm_vcpu(w->t.vm, 0), entry1 + 12, 4, 1), 0);
	assert_int_equal(vm_mmio_write(w->t.vm, vm_vcpu(w->t.vm, 0), entry1 + 12, 4, 0), 0);
	assert_int_equal(vm_vmm_stats(w->t.vm)->foreign_refused, refused + 1);
	assert_int_equal(raise_queue(w, 1), PCI_IRQ_PENDING);
	assert_int_equal(handled(w), 0);
	assert_int_equal(host_stats(w->h)->blocked, 0);
	assert_int_equal(assigned_dev_msix_mode(nic), VMM_STORAGE_MEDIATED);
	world_free(w);
}

/* Memory-resident IMS cannot be trapped: its slots are masked in guest memory, then mended. */
static void memory_ims_masked_then_mended(void **state)
{
	struct world *w = world_new(HCALL, (struct world_opts){.remap_event = true});
	enum pci_irq_result r;

	(void)state;
	assert_int_equal(tenant_boot(w, &w->t), 0);
	assert_int_equal(accel_probe(w->t.g, MEMDSA_BDF, &memdsa_layout, 4, &w->t.mem_drv), 0);
	assert_int_equal(vm_pvir_revoke(w->t.vm, 0, 64), 0);
	for (unsigned e = 0; e < 4; e++) {
		assert_int_equal(pci_func_raise_ims(w->t.memdsa, e, &r), 0);
		assert_int_equal(r, PCI_IRQ_PENDING);
	}
	tenant_run_all(&w->t);
	assert_int_equal(handled_sum(w->t.mem_drv.handled, 4), 0);
	assert_int_equal(vm_pvir_remap_event(w->t.vm), 0);
	tenant_run_all(&w->t);
	assert_int_equal(handled_sum(w->t.mem_drv.handled, 4), 4);
	assert_int_equal(pci_func_pending_count(w->t.memdsa), 0);
	assert_int_equal(pci_func_raise_ims(w->t.memdsa, 2, &r), 0);
	assert_int_equal(r, PCI_IRQ_SENT);
	assert_int_equal(host_stats(w->h)->blocked, 0);
	world_free(w);
}

/* Every vIRTE revoked, then an event whose SYNC of the first one fails (-EFAULT). */
static void revoke_and_fail_the_first_resync(struct world *w)
{
	assert_int_equal(vm_pvir_revoke(w->t.vm, 0, 64), 0);
	failpoint_arm(FAILPOINT_GUEST_READ, 1); /* the host cannot copy the first vIRTE */
	assert_int_equal(vm_pvir_remap_event(w->t.vm), 0);
	assert_int_equal(handled(w), 0);
	failpoint_disarm();
}

/*
 * A SYNC that fails while mending: the error reaches the driver, and the entry stays
 * masked, not stale — its raise latches. The next event mends it and sends the raise.
 */
static void a_failed_resync_stays_masked(void **state)
{
	struct world *w = booted(true);
	struct assigned_dev *nic = vm_device_by_bdf(w->t.vm, NIC_BDF);
	unsigned irq0 = (unsigned)nic_queue_irq(&w->t.nic_drv, 0);

	(void)state;
	revoke_and_fail_the_first_resync(w);
	assert_int_equal(guest_stats(w->t.g)->remap_failed, 1);
	assert_int_equal(guest_stats(w->t.g)->remapped, QUEUES - 1);
	assert_int_equal(guest_irq_remap_error(w->t.g, irq0), -EFAULT);
	assert_int_equal(raise_queue(w, 0), PCI_IRQ_PENDING);
	assert_int_equal(raise_queue(w, 1), PCI_IRQ_SENT);
	assert_int_equal(handled(w), 1);
	assert_int_equal(assigned_dev_msix_mode(nic), VMM_STORAGE_MEDIATED);
	assert_int_equal(host_stats(w->h)->blocked, 0);

	assert_int_equal(vm_pvir_remap_event(w->t.vm), 0);
	assert_int_equal(handled(w), 2); /* the guest took the event: queue 0's raise, once */
	assert_int_equal(guest_irq_remap_error(w->t.g, irq0), 0);
	assert_int_equal(assigned_dev_msix_mode(nic), VMM_STORAGE_DIRECT);
	assert_int_equal(raise_queue(w, 0), PCI_IRQ_SENT);
	assert_int_equal(handled(w), 3);
	world_free(w);
}

/*
 * An entry whose mending failed, then freed by its driver: free_irq() deactivates it
 * (its vIRTE torn down, its vector given back), so the next event has nothing of it
 * to mend — no host entry made for an interrupt nobody requested, aimed at a vector
 * the guest no longer holds. Its error goes with it. A request_irq() activates it
 * anew, and what latched meanwhile arrives then.
 */
static unsigned taken_again;

static void count_again(struct guest *g, unsigned irq, void *dev_id)
{
	(void)g;
	(void)irq;
	(void)dev_id;
	taken_again++;
}

static void a_freed_entry_is_not_mended(void **state)
{
	struct world *w = booted(true);
	unsigned irq0 = (unsigned)nic_queue_irq(&w->t.nic_drv, 0);
	uint64_t remapped;

	(void)state;
	revoke_and_fail_the_first_resync(w);
	assert_int_equal(guest_irq_remap_error(w->t.g, irq0), -EFAULT);
	assert_int_equal(vm_hcall_entries(w->t.vm), QUEUES - 1);

	free_irq(w->t.g, irq0);
	assert_int_equal(guest_irq_remap_error(w->t.g, irq0), 0);
	assert_int_equal(irq_effective_cpu(w->t.g, irq0), -1);
	remapped = guest_stats(w->t.g)->remapped;
	assert_int_equal(vm_pvir_remap_event(w->t.vm), 0);
	assert_int_equal(handled(w), 0); /* the event only */
	assert_int_equal(guest_stats(w->t.g)->remapped, remapped);
	assert_int_equal(guest_stats(w->t.g)->remap_failed, 1);
	assert_int_equal(vm_hcall_entries(w->t.vm), QUEUES - 1);
	assert_int_equal(raise_queue(w, 0), PCI_IRQ_PENDING);
	assert_true(guest_check(w->t.g));

	taken_again = 0;
	assert_int_equal(request_irq(w->t.g, irq0, count_again, NULL), 0);
	assert_int_equal(vm_hcall_entries(w->t.vm), QUEUES);
	tenant_run_all(&w->t);
	assert_int_equal(taken_again, 1); /* the raise that latched */
	assert_int_equal(raise_queue(w, 0), PCI_IRQ_SENT);
	tenant_run_all(&w->t);
	assert_int_equal(taken_again, 2);
	assert_true(guest_check(w->t.g));
	assert_int_equal(host_stats(w->h)->blocked, 0);
	world_free(w);
}

static void bad_revokes_change_nothing(void **state)
{
	struct world *w = booted(true);

	(void)state;
	assert_int_equal(vm_pvir_revoke(w->t.vm, 0, 0), -EINVAL);
	assert_int_equal(vm_pvir_revoke(w->t.vm, 1u << 20, 1), -EINVAL);
	assert_int_equal(vm_pvir_revoke(w->t.vm, 4095, 2), -EINVAL);
	assert_int_equal(vm_vmm_stats(w->t.vm)->revoked, 0);
	assert_int_equal(vm_hcall_entries(w->t.vm), QUEUES);
	assert_int_equal(raise_queue(w, 3), PCI_IRQ_SENT);
	world_free(w);
}

/*
 * Two events before the guest takes the first: its APIC holds one, as it would merge
 * them, and it is not a device's interrupt — the IRR count a run balances its raises
 * against leaves it out, so a second move's event is not an interrupt delivered twice.
 */
static void events_merge_and_are_no_device_interrupt(void **state)
{
	struct world *w = booted(true);
	uint8_t ev = guest_remap_event_vector(w->t.g);
	struct vcpu *v0 = vm_vcpu(w->t.vm, 0);
	uint64_t merged = vm_vcpu_irr_merged(v0);

	(void)state;
	assert_int_not_equal(ev, 0);
	assert_int_equal(vm_vcpu_irr_count(v0), 0);
	assert_int_equal(vm_pvir_remap_event(w->t.vm), 0);
	assert_int_equal(vm_pvir_remap_event(w->t.vm), 0);
	assert_int_equal(vm_vmm_stats(w->t.vm)->remap_events, 2);
	assert_true(vm_vcpu_irr_test(v0, ev));
	assert_int_equal(vm_vcpu_irr_merged(v0), merged);
	assert_int_equal(vm_vcpu_irr_count(v0), 0);
	assert_int_equal(raise_queue(w, 0), PCI_IRQ_SENT);
	assert_int_equal(handled(w), 1);
	assert_false(vm_vcpu_irr_test(v0, ev));
	assert_int_equal(guest_stats(w->t.g)->remap_events, 1);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(offered_only_when_the_vmm_can),
	    TEST(revoked_entries_are_mended),
	    TEST(a_guest_that_never_resyncs_only_silences_itself),
	    TEST(memory_ims_masked_then_mended),
	    TEST(a_failed_resync_stays_masked),
	    TEST(a_freed_entry_is_not_mended),
	    TEST(bad_revokes_change_nothing),
	    TEST(events_merge_and_are_no_device_interrupt),
	};

	return cmocka_run_group_tests_name("remap_event", tests, NULL, NULL);
}
