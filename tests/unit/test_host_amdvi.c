// SPDX-License-Identifier: MIT
/*
 * The host on AMD-Vi, end to end: a physical MSI-X function writes the message of a host
 * interrupt; the unit posts it into the vCPU's vAPIC backing page (AVIC guest mode) or
 * remaps it to a host vector; the vCPU takes it in each scheduling state with the exits
 * KVM on SVM would take: a doorbell while it runs, the IRR at its next VMRUN while it is
 * preempted, a GA log entry and a wakeup while it blocks.
 */
#include "test.h"

#include "host_helpers.h"

#include <errno.h>
#include <stdlib.h>

#include "pvir/amdvi_driver.h"
#include "pvir/host.h"
#include "pvir/pci.h"
#include "pvir/vm.h"

static struct fx *fx_new(bool posting, uint32_t table)
{
	struct host_config hc = host_default_config();

	hc.iommu = HOST_IOMMU_AMDVI;
	hc.amd_table = table;
	hc.posting = posting;
	return fx_create(hc, 1024);
}

static int setup_posted(void **state)
{
	*state = fx_new(true, 512);
	return 0;
}

static int setup_remapped(void **state)
{
	*state = fx_new(false, 512);
	return 0;
}

static void boots_secure_and_posting(void **state)
{
	struct fx *f = *state;

	assert_int_equal(host_iommu(f->h), HOST_IOMMU_AMDVI);
	assert_true(host_remapping_secure(f->h));
	assert_true(host_posting(f->h));
	assert_null(host_ir_driver(f->h));
	assert_non_null(host_amdvi_driver(f->h));
}

static void doorbell_to_a_running_vcpu(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);
	struct msi_msg m;

	bind(f, 0, 0, 0x41);
	m = host_irq_msg(f->hi[0]);
	assert_int_equal(m.address_lo, 0xfee00000);
	assert_int_equal(m.data, host_irq_index(f->hi[0])); /* the index is the data */
	assert_true(host_irq_posted(f->hi[0]));
	raise(f->nic, 0);
	assert_int_equal(host_stats(f->h)->posted, 1);
	assert_int_equal(host_stats(f->h)->pi_in_guest, 1);
	assert_true(vm_vcpu_irr_test(v, 0x41));
	assert_int_equal(vm_exits(f->vm)->total, 0);
	assert_int_equal(vm_vcpu_ack(v), 0x41);
	vm_vcpu_eoi(v);
}

static void preempted_vcpu_takes_it_at_vmrun(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);
	uint64_t flushes;

	bind(f, 0, 0, 0x41);
	flushes = amdvi_driver_stats(host_amdvi_driver(f->h))->irt_invalidations;
	host_vcpu_preempt(f->h, v);
	raise(f->nic, 0);
	raise(f->nic, 0); /* coalesces in the backing page */
	assert_int_equal(host_stats(f->h)->notifications, 0);
	assert_false(vm_vcpu_irr_test(v, 0x41));
	assert_int_equal(host_vcpu_pir_count(f->h, v), 1);
	host_vcpu_run(f->h, v);
	assert_true(vm_vcpu_irr_test(v, 0x41));
	assert_int_equal(host_vcpu_pir_count(f->h, v), 0);
	assert_int_equal(vm_exits(f->vm)->total, 0);
	/* put and load rewrote IsRun with no invalidation */
	assert_int_equal(amdvi_driver_stats(host_amdvi_driver(f->h))->irt_invalidations, flushes);
}

static void blocked_vcpu_is_woken_through_the_ga_log(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);

	bind(f, 0, 0, 0x41);
	assert_true(host_vcpu_block(f->h, v));
	assert_int_equal(v->state, VCPU_BLOCKED);
	raise(f->nic, 0);
	assert_int_equal(amdvi_driver_stats(host_amdvi_driver(f->h))->ga_drained, 1);
	assert_int_equal(v->state, VCPU_RUNNING);
	assert_int_equal(host_stats(f->h)->wakeups, 1);
	assert_int_equal(vm_exits(f->vm)->wakeup, 1);
	assert_true(vm_vcpu_irr_test(v, 0x41));
	/* running again: the next one is a doorbell, no log */
	vm_vcpu_eoi(v);
	assert_int_equal(vm_vcpu_ack(v), 0x41);
	raise(f->nic, 0);
	assert_int_equal(amdvi_driver_stats(host_amdvi_driver(f->h))->ga_drained, 1);
	assert_true(vm_vcpu_irr_test(v, 0x41));
}

static void block_refused_with_a_vector_in_the_page(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);

	bind(f, 0, 0, 0x41);
	host_vcpu_preempt(f->h, v);
	raise(f->nic, 0);
	host_vcpu_run(f->h, v);
	assert_false(host_vcpu_block(f->h, v)); /* it has an interrupt to take */
	assert_int_equal(v->state, VCPU_RUNNING);
}

static void migration_moves_the_doorbell(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);

	bind(f, 0, 0, 0x41);
	assert_int_equal(host_vcpu_migrate(f->h, v, 3), 0);
	raise(f->nic, 0);
	assert_int_equal(host_stats(f->h)->pi_in_guest, 1);
	assert_true(vm_vcpu_irr_test(v, 0x41));
	assert_int_equal(vm_exits(f->vm)->total, 0);
}

/* The same message from another device indexes that device's own (empty) table. */
static void another_device_reaches_only_its_own_table(void **state)
{
	struct fx *f = *state;
	struct msi_msg m;
	enum pci_irq_result r;

	bind(f, 0, 0, 0x41);
	m = host_irq_msg(f->hi[0]);
	program_entry(f->other, 0, &m);
	assert_int_equal(pci_func_raise_msix(f->other, 0, &r), 0);
	assert_int_equal(host_stats(f->h)->blocked, 1);
	assert_false(vm_vcpu_irr_test(vm_vcpu(f->vm, 0), 0x41));
	/* no table: the DTE aborts, and the event names the device */
	assert_int_equal(
	    amdvi_driver_stats(host_amdvi_driver(f->h))->events_drained[AMDVI_EVT_IO_PAGE_FAULT],
	    1);
}

static void freed_irq_is_blocked(void **state)
{
	struct fx *f = *state;

	bind(f, 0, 0, 0x41);
	bind(f, 1, 0, 0x42);
	host_irq_free(f->h, f->hi[0]);
	f->hi[0] = NULL;
	raise(f->nic, 0);
	assert_int_equal(host_stats(f->h)->blocked, 1);
	raise(f->nic, 1);
	assert_int_equal(host_stats(f->h)->posted, 1);
}

static void remapped_without_ga_injects_with_an_exit(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);

	assert_false(host_posting(f->h));
	bind(f, 0, 0, 0x41);
	assert_false(host_irq_posted(f->hi[0]));
	raise(f->nic, 0);
	assert_int_equal(host_stats(f->h)->remapped, 1);
	assert_int_equal(host_stats(f->h)->injected, 1);
	assert_true(vm_vcpu_irr_test(v, 0x41));
	assert_int_equal(vm_exits(f->vm)->ext_intr, 1);
}

static void a_device_table_fills(void **state)
{
	struct fx *f = *state;
	struct host_irq **many = calloc(512, sizeof(*many));
	struct host_irq *more;

	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(host_irq_alloc(f->h, RID, &many[i]), 0);
	assert_int_equal(host_irq_alloc(f->h, RID, &more), -ENOSPC);
	assert_int_equal(host_irq_alloc(f->h, OTHER_RID, &more), 0); /* its own table */
	host_irq_free(f->h, more);
	/* by index: its own table's, whatever another device holds */
	assert_int_equal(host_irq_alloc_at(f->h, RID, 7, &more), -EBUSY);
	assert_int_equal(host_irq_alloc_at(f->h, OTHER_RID, 7, &more), 0);
	assert_int_equal(host_irq_index(more), 7);
	assert_int_equal(host_irq_msg(more).data, 7); /* the data names the entry */
	host_irq_free(f->h, more);
	for (unsigned i = 0; i < 512; i++)
		host_irq_free(f->h, many[i]);
	free(many);
}

static void observe(void *ctx, const struct host_landing *l)
{
	*(struct host_landing *)ctx = *l;
}

static void observer_sees_the_event(void **state)
{
	struct fx *f = *state;
	struct host_landing seen = {0};
	struct msi_msg m = {.address_lo = 0xfee00000, .data = 7};
	enum pci_irq_result r;

	bind(f, 0, 0, 0x41);
	host_set_observer(f->h, observe, &seen);
	raise(f->nic, 0);
	assert_int_equal(seen.outcome, IR_POSTED);
	assert_ptr_equal(seen.vcpu, vm_vcpu(f->vm, 0));
	assert_int_equal(seen.vector, 0x41);
	program_entry(f->nic, 1, &m); /* index 7 of its table: never allocated */
	assert_int_equal(pci_func_raise_msix(f->nic, 1, &r), 0);
	assert_int_equal(seen.outcome, IR_BLOCKED);
	assert_int_equal(seen.amd_block, AMDVI_BLOCK_REMAP_EN);
	assert_int_equal(seen.amd_event, AMDVI_EVT_IO_PAGE_FAULT);
	assert_int_equal(seen.fault, 0);
	host_set_observer(f->h, NULL, NULL);
}

static void bad_amd_config(void **state)
{
	struct host_config hc = host_default_config();
	struct host *h = NULL;

	(void)state;
	hc.iommu = HOST_IOMMU_AMDVI;
	hc.amd_table = 1024;
	assert_int_equal(host_create(&hc, &h), -EINVAL);
	hc.amd_table = 2048;
	assert_int_equal(host_create(&hc, &h), 0);
	host_free(h);
}

#define POSTED(fn)   cmocka_unit_test_setup_teardown(fn, setup_posted, teardown)
#define REMAPPED(fn) cmocka_unit_test_setup_teardown(fn, setup_remapped, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    POSTED(boots_secure_and_posting),
	    POSTED(doorbell_to_a_running_vcpu),
	    POSTED(preempted_vcpu_takes_it_at_vmrun),
	    POSTED(blocked_vcpu_is_woken_through_the_ga_log),
	    POSTED(block_refused_with_a_vector_in_the_page),
	    POSTED(migration_moves_the_doorbell),
	    POSTED(another_device_reaches_only_its_own_table),
	    POSTED(freed_irq_is_blocked),
	    REMAPPED(remapped_without_ga_injects_with_an_exit),
	    POSTED(a_device_table_fills),
	    POSTED(observer_sees_the_event),
	    TEST(bad_amd_config),
	};

	return cmocka_run_group_tests_name("host_amdvi", tests, NULL, NULL);
}
