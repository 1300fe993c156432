// SPDX-License-Identifier: MIT
/*
 * The host's interrupt path end to end: a physical MSI-X function writes the
 * message of a host IRTE; the IR unit posts it (or remaps it to a host
 * vector); the vCPU receives it in each scheduling state, with the exits
 * KVM would take and no others.
 */
#include "test.h"

#include "host_helpers.h"

#include <errno.h>
#include <stdlib.h>

#include "pvir/host.h"
#include "pvir/ir_driver.h"
#include "pvir/ir_unit.h"
#include "pvir/pci.h"
#include "pvir/physmem.h"
#include "pvir/pi_desc.h"
#include "pvir/vm.h"

static struct fx *fx_new(bool posting)
{
	struct host_config hc = host_default_config();

	hc.posting = posting;
	return fx_create(hc, 64);
}

static int setup_posted(void **state)
{
	*state = fx_new(true);
	return 0;
}

static int setup_fallback(void **state)
{
	*state = fx_new(false);
	return 0;
}

static bool pir_has(struct fx *f, unsigned vcpu, uint8_t vector)
{
	bool pending;

	assert_int_equal(
	    pid_pir_pending(host_memory(f->h), vm_vcpu(f->vm, vcpu)->pid_pa, vector, &pending), 0);
	return pending;
}

static void posted_to_running_vcpu(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);

	bind(f, 0, 0, 0x41);
	assert_true(host_irq_posted(f->hi[0]));
	raise(f->nic, 0);
	assert_int_equal(host_stats(f->h)->posted, 1);
	assert_int_equal(host_stats(f->h)->notifications, 1);
	assert_int_equal(host_stats(f->h)->pi_in_guest, 1);
	assert_true(vm_vcpu_irr_test(v, 0x41));
	assert_int_equal(vm_exits(f->vm)->total, 0); /* no exit at all */
	assert_int_equal(vm_vcpu_ack(v), 0x41);
	vm_vcpu_eoi(v);
	assert_int_equal(vm_vcpu_ack(v), -1);
}

static void preempted_vcpu_takes_it_on_resume(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);

	bind(f, 0, 0, 0x41);
	host_vcpu_preempt(f->h, v);
	raise(f->nic, 0);
	raise(f->nic, 0);				      /* coalesces in the PIR */
	assert_int_equal(host_stats(f->h)->notifications, 0); /* SN */
	assert_false(vm_vcpu_irr_test(v, 0x41));
	assert_true(pir_has(f, 0, 0x41));
	host_vcpu_run(f->h, v);
	assert_true(vm_vcpu_irr_test(v, 0x41));
	assert_false(pir_has(f, 0, 0x41));
	assert_int_equal(vm_exits(f->vm)->total, 0);
}

static void urgent_notifies_preempted_pcpu(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);
	struct msi_msg m;

	assert_int_equal(host_irq_alloc(f->h, RID, &f->hi[0]), 0);
	assert_int_equal(host_irq_target(f->h, f->hi[0], v, 0x41, true), 0);
	m = host_irq_msg(f->hi[0]);
	program_entry(f->nic, 0, &m);
	host_vcpu_preempt(f->h, v);
	raise(f->nic, 0);
	assert_int_equal(host_stats(f->h)->notifications, 1); /* URG overrides SN */
}

/* A handle asked for by index: given where free, refused where taken; its message names it. */
static void an_irq_at_an_index(void **state)
{
	struct fx *f = *state;
	struct host_irq *a, *b;
	struct msi_remap r;
	struct msi_msg m;

	assert_int_equal(host_irq_alloc_at(f->h, RID, 77, &a), 0);
	assert_int_equal(host_irq_index(a), 77);
	m = host_irq_msg(a);
	msi_remap_decode(&m, &r);
	assert_int_equal(r.handle, 77);
	assert_int_equal(host_irq_alloc_at(f->h, OTHER_RID, 77, &b), -EBUSY); /* one table */
	assert_int_equal(host_irq_alloc_at(f->h, RID, 0, &b), -EBUSY);	      /* never handed out */
	assert_int_equal(host_irq_alloc_at(f->h, RID, UINT32_MAX - 1, &b), -EINVAL);
	assert_int_equal(host_irq_alloc_at(f->h, RID, HOST_IRQ_ANY, &b), 0);
	assert_int_not_equal(host_irq_index(b), 77);
	host_irq_free(f->h, b);
	host_irq_free(f->h, a);
	assert_int_equal(host_irq_alloc_at(f->h, OTHER_RID, 77, &b), 0); /* free again */
	host_irq_free(f->h, b);
}

static void blocked_vcpu_is_woken(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);

	bind(f, 0, 0, 0x41);
	assert_true(host_vcpu_block(f->h, v));
	assert_int_equal(v->state, VCPU_BLOCKED);
	assert_int_equal(vm_exits(f->vm)->hlt, 1);
	raise(f->nic, 0);
	assert_int_equal(v->state, VCPU_RUNNING);
	assert_int_equal(host_stats(f->h)->wakeups, 1);
	assert_int_equal(vm_exits(f->vm)->wakeup, 1);
	assert_true(vm_vcpu_irr_test(v, 0x41));
	assert_int_equal(vm_vcpu_ack(v), 0x41);
}

/*
 * A post that lands while the vCPU is on its way to halt: the IOMMU has set
 * PIR and ON, its notification (to the running vector) is not yet taken.
 * Blocking must notice ON and wake at once rather than sleep through it.
 *
 *   IOMMU                          vCPU / KVM
 *   PIR |= 0x41, ON = 1
 *                                  HLT exit, NV = wakeup, on wakeup list
 *                                  ON already set -> self-IPI wakeup
 */
static void post_racing_block_is_not_slept_through(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);
	struct pid_post_result r;

	assert_int_equal(pid_post(host_memory(f->h), v->pid_pa, 0x41, false, &r), 0);
	assert_true(r.notify);
	assert_true(host_vcpu_block(f->h, v));
	assert_int_equal(v->state, VCPU_RUNNING);
	assert_true(vm_vcpu_irr_test(v, 0x41));
	assert_int_equal(vm_exits(f->vm)->wakeup, 1);
}

static void block_refused_with_pending_work(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);

	bind(f, 0, 0, 0x41);
	raise(f->nic, 0);
	assert_false(host_vcpu_block(f->h, v)); /* it has an interrupt to take */
	assert_int_equal(v->state, VCPU_RUNNING);
}

/* A second VM whose only vCPU is pinned to @pcpu. */
static struct vm *vm_on(struct fx *f, unsigned pcpu)
{
	struct vm_config vc = {
	    .name = "batch", .vcpus = 1, .pin = (unsigned[]){pcpu}, .mem_size = 1 << 20};
	struct vm *other = NULL;

	assert_int_equal(vm_create(f->h, &vc, &other), 0);
	return other;
}

static void wakeup_exits_whoever_runs_there(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);
	struct vm *other = vm_on(f, 1); /* pCPU 1 is v's: batch/0 waits for it */
	struct vcpu *b = vm_vcpu(other, 0);

	bind(f, 0, 0, 0x41);
	assert_true(b->queued);
	assert_true(host_vcpu_block(f->h, v));
	assert_ptr_equal(host_pcpu_running(f->h, 1), b); /* the pCPU went to the one waiting */
	raise(f->nic, 0);
	/* the wakeup vector interrupted batch/0: an exit there; v waits for its slice */
	assert_int_equal(vm_exits(other)->ext_intr, 1);
	assert_int_equal(host_stats(f->h)->wakeups, 1);
	assert_int_equal(v->state, VCPU_PREEMPTED);
	assert_true(v->queued);
	assert_ptr_equal(host_sched_tick(f->h, 1), v);
	assert_true(vm_vcpu_irr_test(v, 0x41));
	assert_int_equal(b->state, VCPU_PREEMPTED);
	assert_true(host_sched_check(f->h));
	vm_free(other);
	assert_int_equal(host_sched_waiting(f->h), 0);
}

/* Overcommit: a descheduled vCPU gets no notification and takes its posts when its slice comes. */
static void waiting_vcpu_takes_posts_on_its_slice(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);
	struct vm *other = vm_on(f, 1);
	struct pid_image pid;

	bind(f, 0, 0, 0x41);
	assert_null(host_sched_tick(f->h, 2)); /* nobody waits for pCPU 2 */
	assert_ptr_equal(host_sched_tick(f->h, 1), vm_vcpu(other, 0));
	assert_true(v->queued);
	raise(f->nic, 0);
	assert_int_equal(pid_read(host_memory(f->h), v->pid_pa, &pid), 0);
	assert_true(pid.sn);
	assert_int_equal(host_stats(f->h)->notifications, 0);
	assert_int_equal(host_vcpu_pir_count(f->h, v), 1);
	assert_false(vm_vcpu_irr_test(v, 0x41));
	assert_ptr_equal(host_sched_tick(f->h, 1), v); /* round-robin: v's turn again */
	assert_int_equal(host_vcpu_pir_count(f->h, v), 0);
	assert_true(vm_vcpu_irr_test(v, 0x41));
	assert_int_equal(host_stats(f->h)->switches, 2);
	assert_int_equal(v->entries, 2);
	assert_true(host_sched_check(f->h));
	vm_free(other);
	assert_true(host_sched_check(f->h));
}

/* A preempt op frees the pCPU for the next waiting vCPU; a waiting one leaves the queue. */
static void preempt_hands_the_pcpu_on(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);
	struct vm *other = vm_on(f, 1);
	struct vcpu *b = vm_vcpu(other, 0);

	host_vcpu_preempt(f->h, v);
	assert_ptr_equal(host_pcpu_running(f->h, 1), b);
	assert_false(v->queued); /* held off: not waiting */
	assert_null(host_sched_tick(f->h, 1));
	host_vcpu_run(f->h, v); /* it may run again: it waits its turn */
	assert_true(v->queued);
	host_vcpu_preempt(f->h, v);
	assert_false(v->queued);
	assert_int_equal(host_sched_waiting(f->h), 0);
	assert_int_equal(host_vcpu_migrate(f->h, b, 2), 0); /* pCPU 2 is vCPU 1's: b waits there */
	assert_true(b->queued);
	assert_null(host_pcpu_running(f->h, 1));
	host_vcpu_run(f->h, v);
	assert_ptr_equal(host_pcpu_running(f->h, 1), v);
	assert_true(host_sched_check(f->h));
	/* a broken queue is caught: a queued vCPU marked running */
	b->state = VCPU_RUNNING;
	assert_false(host_sched_check(f->h));
	b->state = VCPU_PREEMPTED;
	vm_free(other);
}

static void migration_moves_notifications(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);
	struct pid_image pid;

	bind(f, 0, 0, 0x41);
	assert_int_equal(host_vcpu_migrate(f->h, v, 3), 0);
	assert_int_equal(pid_read(host_memory(f->h), v->pid_pa, &pid), 0);
	assert_int_equal(pid.ndst, 3);
	assert_ptr_equal(host_pcpu_running(f->h, 3), v);
	assert_null(host_pcpu_running(f->h, 1));
	raise(f->nic, 0);
	assert_int_equal(host_stats(f->h)->pi_in_guest, 1);
	assert_true(vm_vcpu_irr_test(v, 0x41));
	assert_int_equal(host_vcpu_migrate(f->h, v, 4), -EINVAL);
}

static void retarget_keeps_message(void **state)
{
	struct fx *f = *state;
	struct msi_msg before, after;

	bind(f, 0, 0, 0x41);
	before = host_irq_msg(f->hi[0]);
	assert_int_equal(host_irq_target(f->h, f->hi[0], vm_vcpu(f->vm, 1), 0x52, false), 0);
	after = host_irq_msg(f->hi[0]);
	assert_int_equal(before.address_lo, after.address_lo);
	assert_int_equal(before.data, after.data);
	raise(f->nic, 0); /* the device still holds the old message: no rewrite needed */
	assert_true(vm_vcpu_irr_test(vm_vcpu(f->vm, 1), 0x52));
	assert_false(vm_vcpu_irr_test(vm_vcpu(f->vm, 0), 0x41));
}

static void other_device_cannot_use_the_handle(void **state)
{
	struct fx *f = *state;
	struct msi_msg m;

	bind(f, 0, 0, 0x41);
	m = host_irq_msg(f->hi[0]);
	program_entry(f->other, 0, &m);
	raise(f->other, 0);
	assert_int_equal(host_stats(f->h)->blocked, 1);
	assert_int_equal(ir_unit_stats(host_ir_unit(f->h))->faults[IR_FAULT_SID - IR_FAULT_FIRST],
			 1);
	assert_false(vm_vcpu_irr_test(vm_vcpu(f->vm, 0), 0x41));
}

static void freed_irq_faults(void **state)
{
	struct fx *f = *state;

	bind(f, 0, 0, 0x41);
	host_irq_free(f->h, f->hi[0]);
	f->hi[0] = NULL;
	raise(f->nic, 0);
	assert_int_equal(
	    ir_unit_stats(host_ir_unit(f->h))->faults[IR_FAULT_NOT_PRESENT - IR_FAULT_FIRST], 1);
	assert_int_equal(ir_driver_in_use(host_ir_driver(f->h)), 0);
}

static void offline_vcpu_keeps_posts_pending(void **state)
{
	struct fx *f = *state;

	bind(f, 0, 0, 0x41);
	host_vcpu_offline(f->h, vm_vcpu(f->vm, 0));
	raise(f->nic, 0);
	assert_int_equal(host_stats(f->h)->notifications, 0);
	assert_true(pir_has(f, 0, 0x41)); /* not lost: the guest must move it first */
}

struct seen {
	unsigned n;
	struct host_landing last;
};

static void observe(void *ctx, const struct host_landing *l)
{
	struct seen *s = ctx;

	s->n++;
	s->last = *l;
}

static void observer_sees_each_landing(void **state)
{
	struct fx *f = *state;
	struct seen seen = {0};
	struct msi_msg m;

	host_set_observer(f->h, observe, &seen);
	bind(f, 0, 1, 0x41);
	host_vcpu_preempt(f->h, vm_vcpu(f->vm, 1));
	raise(f->nic, 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.last.outcome, IR_POSTED);
	assert_ptr_equal(seen.last.vcpu, vm_vcpu(f->vm, 1));
	assert_int_equal(seen.last.vector, 0x41);
	assert_int_equal(seen.last.rid, RID);
	assert_false(seen.last.merged);
	raise(f->nic, 0);
	assert_true(seen.last.merged); /* onto the PIR bit already set */
	assert_int_equal(host_vcpu_pir_count(f->h, vm_vcpu(f->vm, 1)), 1);
	m = host_irq_msg(f->hi[0]);
	program_entry(f->other, 0, &m);
	raise(f->other, 0);
	assert_int_equal(seen.last.outcome, IR_BLOCKED);
	assert_int_equal(seen.last.fault, IR_FAULT_SID);
	assert_null(seen.last.vcpu);
	host_set_observer(f->h, NULL, NULL);
	raise(f->nic, 0);
	assert_int_equal(seen.n, 3);
}

static void observer_sees_injection(void **state)
{
	struct fx *f = *state;
	struct seen seen = {0};

	host_set_observer(f->h, observe, &seen);
	bind(f, 0, 0, 0x41);
	raise(f->nic, 0);
	assert_int_equal(seen.last.outcome, IR_REMAPPED);
	assert_ptr_equal(seen.last.vcpu, vm_vcpu(f->vm, 0));
	assert_int_equal(seen.last.vector, 0x41);
	assert_int_equal(vm_vcpu_irr_count(vm_vcpu(f->vm, 0)), 1);
	assert_true(vm_vcpu_has_pending(vm_vcpu(f->vm, 0)));
}

/* The unit's queue stops taking descriptors: every invalidation fails, -EIO. */
static void break_invalidation_queue(struct fx *f)
{
	struct ir_unit *ir = host_ir_unit(f->h);

	ir_unit_write(ir, DMAR_IQA_REG, 8, ir_unit_read(ir, DMAR_IQA_REG, 8) | UINT64_C(1) << 11);
}

/*
 * The unit's invalidation queue breaks (256-bit descriptors asked for, IQA.DW,
 * bit 11, which the unit does not do): every invalidation from then on fails
 * with -EIO. Freeing an interrupt must not stop the host (it called abort()):
 * the entry is cleared in memory and released, as Linux's deactivate and
 * free do without looking at modify_irte()'s result.
 */
static void invalidation_failure_does_not_stop_the_host(void **state)
{
	struct fx *f = *state;
	uint32_t in_use;
	struct irte e;

	bind(f, 0, 1, 0x41);
	in_use = ir_driver_in_use(host_ir_driver(f->h));
	break_invalidation_queue(f);
	host_irq_shutdown(f->h, f->hi[0]);
	assert_int_equal(ir_irte_read(host_ir_driver(f->h), host_irq_index(f->hi[0]), &e), 0);
	assert_false(irte_is_present(&e));
	host_irq_free(f->h, f->hi[0]);
	f->hi[0] = NULL;
	assert_int_equal(ir_driver_in_use(host_ir_driver(f->h)), in_use - 1);
}

/*
 * A spray of blocked messages, more than the unit's 8 fault recording
 * registers, with nothing else running between them: the fault event
 * interrupt drains the log as each fault is recorded (Linux's dmar_fault),
 * so every fault is recorded and none is lost to overflow. (Drained only on
 * a timer, 8 were recorded and the rest lost.)
 */
static void fault_event_drains_a_spray(void **state)
{
	struct fx *f = *state;
	struct msi_msg zero_handle = {0xfee00010, 0, 0};
	const struct ir_driver_stats *ds = ir_driver_stats(host_ir_driver(f->h));

	program_entry(f->nic, 0, &zero_handle);
	for (unsigned i = 0; i < 50; i++)
		raise(f->nic, 0);
	assert_int_equal(ds->faults_drained[IR_FAULT_NOT_PRESENT - IR_FAULT_FIRST], 50);
	assert_int_equal(ir_unit_stats(host_ir_unit(f->h))->faults_overflow_lost, 0);
	assert_int_equal(ds->overflows_seen, 0);
}

/* ---- remapped fallback, when the unit cannot post ------------------------- */

static uint32_t irte_dest(struct fx *f, unsigned n)
{
	struct irte e;
	struct irte_remapped r;

	assert_int_equal(ir_irte_read(host_ir_driver(f->h), host_irq_index(f->hi[n]), &e), 0);
	assert_false(irte_is_posted(&e));
	irte_remapped_decode(&e, &r);
	return r.dst;
}

static void fallback_injects_with_an_exit(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);

	bind(f, 0, 0, 0x41);
	assert_false(host_irq_posted(f->hi[0]));
	assert_int_equal(irte_dest(f, 0), 1); /* v's pCPU */
	raise(f->nic, 0);
	assert_int_equal(host_stats(f->h)->remapped, 1);
	assert_int_equal(host_stats(f->h)->injected, 1);
	assert_int_equal(vm_exits(f->vm)->ext_intr, 1);
	assert_true(vm_vcpu_irr_test(v, 0x41));
}

static void fallback_follows_the_vcpu(void **state)
{
	struct fx *f = *state;

	bind(f, 0, 0, 0x41);
	bind(f, 1, 1, 0x42);
	assert_int_equal(irte_dest(f, 0), 1);
	assert_int_equal(irte_dest(f, 1), 2);
	/* vCPU 0 moves to pCPU 3: its interrupt moves with it, vCPU 1's stays */
	assert_int_equal(host_vcpu_migrate(f->h, vm_vcpu(f->vm, 0), 3), 0);
	assert_int_equal(irte_dest(f, 0), 3);
	assert_int_equal(irte_dest(f, 1), 2);
	raise(f->nic, 0);
	assert_true(vm_vcpu_irr_test(vm_vcpu(f->vm, 0), 0x41));
	assert_int_equal(host_pcpu_apic(f->h, 3)->stats.acked, 1);
	assert_int_equal(host_pcpu_apic(f->h, 1)->stats.acked, 0);
}

static void fallback_wakes_blocked_vcpu(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);

	bind(f, 0, 0, 0x41);
	assert_true(host_vcpu_block(f->h, v));
	raise(f->nic, 0);
	assert_int_equal(v->state, VCPU_RUNNING);
	assert_true(vm_vcpu_irr_test(v, 0x41));
}

static void bad_host_config(void **state)
{
	struct host_config c = host_default_config();
	struct host *h = NULL;

	(void)state;
	c.pcpus = 0;
	assert_int_equal(host_create(&c, &h), -EINVAL);
	c = host_default_config();
	c.x2apic = false;
	c.pcpus = 256; /* xAPIC IDs stop at 0xfe: 0xff is broadcast */
	assert_int_equal(host_create(&c, &h), -EINVAL);
	assert_null(h);
}

static void bad_vm_config(void **state)
{
	struct fx *f = *state;
	struct vm_config c = {.vcpus = 2, .pin = (unsigned[]){0, 4}, .mem_size = 1 << 20};
	struct vm *vm = NULL;

	assert_int_equal(vm_create(f->h, &c, &vm), -EINVAL); /* pin beyond pCPUs */
	c.pin = NULL;
	c.vcpus = VM_MAX_VCPUS + 1;
	assert_int_equal(vm_create(f->h, &c, &vm), -EINVAL);
	c.vcpus = 1;
	c.mem_size = 1000;
	assert_int_equal(vm_create(f->h, &c, &vm), -EINVAL);
	assert_null(vm);
}

/*
 * An affinity change whose invalidation fails: the caller gets -EIO and the
 * entry is put back, so the interrupt lands where the host (and the guest,
 * which rolls back on the error) still say it goes. (The new entry stayed in
 * memory: once the cache had no copy, the interrupt went to vCPU 0 at 0x42,
 * a vector nobody had asked for there.)
 */
static void failed_retarget_leaves_the_live_target(void **state)
{
	struct fx *f = *state;
	struct irte before, after;

	bind(f, 0, 1, 0x41);
	assert_int_equal(ir_irte_read(host_ir_driver(f->h), host_irq_index(f->hi[0]), &before), 0);
	break_invalidation_queue(f);
	assert_int_equal(host_irq_target(f->h, f->hi[0], vm_vcpu(f->vm, 0), 0x42, false), -EIO);
	assert_int_equal(ir_irte_read(host_ir_driver(f->h), host_irq_index(f->hi[0]), &after), 0);
	assert_true(after.lo == before.lo && after.hi == before.hi);
	assert_true(host_irq_posted(f->hi[0]));
	raise(f->nic, 0);
	assert_true(vm_vcpu_irr_test(vm_vcpu(f->vm, 1), 0x41));
	assert_false(vm_vcpu_irr_test(vm_vcpu(f->vm, 0), 0x42));
	assert_false(pir_has(f, 0, 0x42));
}

/*
 * Remapped: the host vector cannot follow the vCPU to its new pCPU (the
 * invalidation fails), so it stays on the old one, where its IRTE still
 * points, and the handler injects into the new target. (The IRTE pointed at
 * the new pCPU's vector, which had been given back: the interrupt was lost.)
 */
static void failed_vector_move_still_delivers(void **state)
{
	struct fx *f = *state;

	bind(f, 0, 0, 0x41);
	assert_int_equal(irte_dest(f, 0), 1);
	break_invalidation_queue(f);
	assert_int_equal(host_irq_target(f->h, f->hi[0], vm_vcpu(f->vm, 1), 0x43, false), 0);
	assert_int_equal(irte_dest(f, 0), 1);
	raise(f->nic, 0);
	assert_true(vm_vcpu_irr_test(vm_vcpu(f->vm, 1), 0x43));
	assert_int_equal(host_stats(f->h)->injected, 1);
}

#define POSTED(fn)   cmocka_unit_test_setup_teardown(fn, setup_posted, teardown)
#define FALLBACK(fn) cmocka_unit_test_setup_teardown(fn, setup_fallback, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    POSTED(posted_to_running_vcpu),
	    POSTED(preempted_vcpu_takes_it_on_resume),
	    POSTED(urgent_notifies_preempted_pcpu),
	    POSTED(an_irq_at_an_index),
	    POSTED(blocked_vcpu_is_woken),
	    POSTED(post_racing_block_is_not_slept_through),
	    POSTED(block_refused_with_pending_work),
	    POSTED(wakeup_exits_whoever_runs_there),
	    POSTED(waiting_vcpu_takes_posts_on_its_slice),
	    POSTED(preempt_hands_the_pcpu_on),
	    POSTED(migration_moves_notifications),
	    POSTED(retarget_keeps_message),
	    POSTED(other_device_cannot_use_the_handle),
	    POSTED(freed_irq_faults),
	    POSTED(offline_vcpu_keeps_posts_pending),
	    POSTED(observer_sees_each_landing),
	    FALLBACK(observer_sees_injection),
	    POSTED(invalidation_failure_does_not_stop_the_host),
	    POSTED(fault_event_drains_a_spray),
	    FALLBACK(fallback_injects_with_an_exit),
	    FALLBACK(fallback_follows_the_vcpu),
	    FALLBACK(fallback_wakes_blocked_vcpu),
	    POSTED(failed_retarget_leaves_the_live_target),
	    FALLBACK(failed_vector_move_still_delivers),
	    TEST(bad_host_config),
	    POSTED(bad_vm_config),
	};

	return cmocka_run_group_tests_name("host", tests, NULL, NULL);
}
