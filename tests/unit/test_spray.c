// SPDX-License-Identifier: MIT
/*
 * The spray: a tenant writes every message it can think of into its own
 * interrupt storage — remappable handles with and without a subhandle,
 * subhandles that run past the table, compatibility-format (APIC ID,
 * vector) pairs — from its MSI-X NIC, its device-IMS and its memory-IMS
 * accelerator, and raises each, while a victim VM on the same host takes
 * traffic on its own NIC. Under every design:
 *
 *  - every message of the tenant's functions lands in the tenant's vCPUs or
 *    is blocked by the IOMMU;
 *  - the victim receives exactly its own interrupts, each handled once, and
 *    none of its messages is blocked;
 *  - every blocked message is recorded in the fault log or counted as lost
 *    to its overflow: recorded + overflow-lost = blocked, with the log
 *    drained from the fault-event interrupt as Linux's dmar_fault does.
 *
 * make test sprays a seeded sample of handles plus the live ones (the
 * tenant's and the victim's); PVIR_LONG=1 (make check-long) every handle
 * with SHV off and on and every compatibility destination x vector.
 *
 * On AMD-Vi there are no handles: a message's data names an entry of the
 * sending device's own table. The tenant sprays every index the data can
 * name, with the address's DM bit clear and set (2048-entry tables read all
 * of data[10:0] when it is set), and a seeded sample of whole addresses and
 * data words. Every block the unit logs is an event, drained by the host's
 * event-log interrupt: logged + lost = the blocks whose reason has an event.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/amdvi_driver.h"
#include "pvir/amdvi_unit.h"
#include "pvir/ir_driver.h"
#include "pvir/ir_unit.h"
#include "pvir/msi.h"
#include "pvir/physmem.h"
#include "world.h"

#define VICTIM_QUEUES 4
#define TENANT_QUEUES 4
#define VICTIM_EVERY  64 /* victim traffic after this many sprayed messages */

struct tally {
	struct world *w;
	uint64_t blocked, landed_tenant, landed_victim, victim_raised;
	uint64_t by_fault[IR_FAULT_COUNT];
	uint64_t by_amd_block[AMDVI_BLOCK_COUNT], amd_events;
};

static void observe(void *ctx, const struct host_landing *l)
{
	struct tally *t = ctx;
	bool victim = l->func == t->w->victim.nic;

	if (l->outcome == IR_BLOCKED) {
		assert_false(victim);
		t->blocked++;
		if (l->fault >= IR_FAULT_FIRST && l->fault < IR_FAULT_FIRST + IR_FAULT_COUNT)
			t->by_fault[l->fault - IR_FAULT_FIRST]++;
		if (l->amd_block < AMDVI_BLOCK_COUNT)
			t->by_amd_block[l->amd_block]++;
		t->amd_events += l->amd_event != 0;
		return;
	}
	if (l->vcpu)
		assert_ptr_equal(l->vcpu->vm, victim ? t->w->victim.vm : t->w->t.vm);
	if (victim)
		t->landed_victim++;
	else
		t->landed_tenant++;
}

/* ---- the tenant's storage ---------------------------------------------------------- */

struct source {
	struct pci_func *f;
	bool ims;
	uint64_t gpa; /* entry 0 */
	bool in_ram;  /* memory-resident IMS: the slot is guest RAM */
};

static struct source source_of(struct world *w, unsigned k)
{
	struct vm *vm = w->t.vm;
	uint64_t ctx = 0;

	if (k == 0)
		return (struct source){
		    w->t.nic, false, assigned_dev_bar_gpa(vm_device_by_bdf(vm, NIC_BDF), 0), false};
	if (k == 1)
		return (struct source){
		    w->t.dsa, true,
		    assigned_dev_bar_gpa(vm_device_by_bdf(vm, DSA_BDF), 0) + DSA_IMS, false};
	/* memory kind: where the guest told the device its slots are (context register) */
	assert_int_equal(vm_mmio_read(vm, vm_vcpu(vm, 0),
				      assigned_dev_bar_gpa(vm_device_by_bdf(vm, MEMDSA_BDF), 0), 8,
				      &ctx),
			 0);
	assert_int_not_equal(ctx, 0);
	return (struct source){w->t.memdsa, true, ctx, true};
}

static void store(struct world *w, const struct source *s, const uint32_t m[3])
{
	for (unsigned i = 0; i < 3; i++) {
		if (s->in_ram)
			assert_int_equal(
			    physmem_write(vm_memory(w->t.vm), s->gpa + 4 * i, &m[i], 4), 0);
		else
			(void)!vm_mmio_write(w->t.vm, vm_vcpu(w->t.vm, 0), s->gpa + 4 * i, 4, m[i]);
	}
}

static void load(struct world *w, const struct source *s, uint32_t m[3])
{
	for (unsigned i = 0; i < 3; i++) {
		uint64_t v = 0;

		if (s->in_ram)
			assert_int_equal(physmem_read(vm_memory(w->t.vm), s->gpa + 4 * i, &m[i], 4),
					 0);
		else {
			(void)!vm_mmio_read(w->t.vm, vm_vcpu(w->t.vm, 0), s->gpa + 4 * i, 4, &v);
			m[i] = (uint32_t)v;
		}
	}
}

static void raise_entry0(const struct source *s)
{
	enum pci_irq_result r;

	if (s->ims)
		(void)!pci_func_raise_ims(s->f, 0, &r);
	else
		(void)!pci_func_raise_msix(s->f, 0, &r);
}

/* ---- the victim ------------------------------------------------------------------------- */

static void victim_traffic(struct world *w, struct tally *t)
{
	enum pci_irq_result r;

	for (unsigned q = 0; q < VICTIM_QUEUES; q++) {
		assert_int_equal(pci_func_raise_msix(w->victim.nic, q, &r), 0);
		assert_int_equal(r, PCI_IRQ_SENT);
		t->victim_raised++;
	}
	tenant_run_all(&w->victim);
}

/* ---- the messages -------------------------------------------------------------------------- */

struct spray {
	struct world *w;
	struct tally *t;
	struct source s;
	uint32_t saved[3];
	uint64_t sent;
};

static void spray_one(struct spray *sp, const struct msi_msg *m)
{
	uint32_t words[3] = {m->address_lo, m->address_hi, m->data};

	store(sp->w, &sp->s, words);
	raise_entry0(&sp->s);
	store(sp->w, &sp->s, sp->saved);
	if (++sp->sent % VICTIM_EVERY == 0)
		victim_traffic(sp->w, sp->t);
}

static void spray_handle(struct spray *sp, uint16_t handle, bool shv, uint16_t sub)
{
	struct msi_msg m;

	msi_remap_encode(&(struct msi_remap){.handle = handle, .shv = shv, .subhandle = sub}, &m);
	spray_one(sp, &m);
}

static void spray_compat(struct spray *sp, uint32_t dest, uint8_t vector)
{
	struct msi_msg m;

	if (msi_compat_encode(&(struct msi_compat){.dest_id = dest, .vector = vector}, &m))
		return;
	spray_one(sp, &m);
}

/* The handles live on the host now: the victim's and the tenant's own. */
static unsigned live_handles(struct world *w, uint16_t *out, unsigned max)
{
	struct pci_func *fs[] = {w->victim.nic, w->t.nic};
	unsigned n = 0;

	for (unsigned f = 0; f < 2; f++)
		for (unsigned e = 0; e < VICTIM_QUEUES && n < max; e++) {
			uint64_t lo = 0;
			struct msi_remap r;

			assert_int_equal(pci_mmio_read(fs[f], 0, e * PCI_MSIX_ENTRY_SIZE, 4, &lo),
					 0);
			msi_remap_decode(&(struct msi_msg){(uint32_t)lo, 0, 0}, &r);
			if (msi_format_of(&(struct msi_msg){(uint32_t)lo, 0, 0}) ==
			    MSI_FORMAT_REMAPPABLE)
				out[n++] = r.handle;
		}
	return n;
}

static bool long_run(void)
{
	const char *v = getenv("PVIR_LONG");

	return v && *v && strcmp(v, "0");
}

static void spray_handles(struct spray *sp)
{
	uint16_t live[2 * VICTIM_QUEUES];
	unsigned nlive = live_handles(sp->w, live, 2 * VICTIM_QUEUES);
	uint64_t seed = 0x5eed;

	for (unsigned i = 0; i < nlive; i++) {
		spray_handle(sp, live[i], false, 0);
		spray_handle(sp, live[i], true, 0);
		spray_handle(sp, (uint16_t)(live[i] - 1), true, 1); /* a subhandle onto it */
	}
	if (long_run()) {
		for (uint32_t h = 0; h <= UINT16_MAX; h++) {
			spray_handle(sp, (uint16_t)h, false, 0);
			spray_handle(sp, (uint16_t)h, true, (uint16_t)(UINT16_MAX - h + 1));
		}
		return;
	}
	for (unsigned i = 0; i < 256; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		spray_handle(sp, (uint16_t)(seed >> 48), (seed >> 20) & 1, (uint16_t)(seed >> 24));
	}
	spray_handle(sp, UINT16_MAX, true, UINT16_MAX); /* the index overflows 16 bits */
	spray_handle(sp, 0x8000, true, 0x8000);
	spray_handle(sp, 0, false, 0);
}

static void spray_compats(struct spray *sp)
{
	uint64_t seed = 0xc0ffee;

	if (long_run()) {
		for (uint32_t dest = 0; dest < 256; dest++)
			for (unsigned v = 0; v < 256; v++)
				spray_compat(sp, dest, (uint8_t)v);
		return;
	}
	for (uint32_t dest = 0; dest < 4; dest++) /* the host's pCPUs */
		spray_compat(sp, dest, 0x41);
	for (unsigned i = 0; i < 64; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		spray_compat(sp, (uint32_t)(seed >> 56), (uint8_t)(seed >> 40));
	}
}

/* On AMD-Vi: every index the data can name, then whole messages from a seed. */
static void spray_amd(struct spray *sp)
{
	uint64_t seed = 0xa3d1;
	unsigned sample = long_run() ? 1u << 16 : 256;

	for (uint32_t dm = 0; dm <= 4; dm += 4)
		for (uint32_t index = 0; index <= AMDVI_MSI_INDEX_MASK; index++)
			spray_one(sp, &(struct msi_msg){0xfee00000u | dm, 0, index});
	for (unsigned i = 0; i < sample; i++) {
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		spray_one(sp, &(struct msi_msg){0xfee00000u | ((uint32_t)(seed >> 12) & 0xffffcu),
						0, (uint32_t)(seed >> 32)});
	}
}

/* ---- the case ------------------------------------------------------------------------------ */

struct row {
	enum design d;
	enum host_iommu iommu;
	uint32_t amd_table;
};

/* The victim received exactly its own interrupts, each handled once. */
static void victim_whole(struct world *w, const struct tally *t)
{
	assert_int_equal(t->landed_victim, t->victim_raised);
	assert_int_equal(handled_sum(w->victim.nic_drv.handled, VICTIM_QUEUES), t->victim_raised);
}

/* VT-d: blocked = recorded + lost to overflow; the fault event drained what was recorded. */
static void vtd_blocks_accounted(struct world *w, const struct tally *t, enum design d)
{
	const struct ir_unit_stats *us = ir_unit_stats(host_ir_unit(w->h));
	const struct ir_driver_stats *ds = ir_driver_stats(host_ir_driver(w->h));
	uint64_t drained = 0, blocked_by_reason = 0;

	for (unsigned r = 0; r < IR_FAULT_COUNT; r++) {
		drained += ds->faults_drained[r];
		blocked_by_reason += t->by_fault[r];
	}
	assert_int_equal(blocked_by_reason, t->blocked);
	assert_int_equal(us->faults_recorded + us->faults_overflow_lost, t->blocked);
	assert_int_equal(drained, us->faults_recorded);
	if (d == HCALL) { /* the storage is the guest's: the IOMMU saw every kind */
		assert_true(t->by_fault[IR_FAULT_SID - IR_FAULT_FIRST] > 0);
		assert_true(t->by_fault[IR_FAULT_NOT_PRESENT - IR_FAULT_FIRST] > 0);
		assert_true(t->by_fault[IR_FAULT_INDEX - IR_FAULT_FIRST] > 0);
		assert_true(t->by_fault[IR_FAULT_COMPAT - IR_FAULT_FIRST] > 0);
	}
}

/*
 * AMD-Vi: each block the unit counted is one the host saw, by reason; the reasons with an
 * event code account for every event logged or lost, and the host drained those logged.
 */
static void amd_blocks_accounted(struct world *w, const struct tally *t, enum design d)
{
	const struct amdvi_unit_stats *us = amdvi_unit_stats(host_amdvi_unit(w->h));
	const struct amdvi_driver_stats *ds = amdvi_driver_stats(host_amdvi_driver(w->h));
	uint64_t blocked = 0, with_event = 0, drained = 0;

	for (unsigned why = 0; why < AMDVI_BLOCK_COUNT; why++) {
		assert_int_equal(t->by_amd_block[why], us->blocked[why]);
		blocked += t->by_amd_block[why];
		if (amdvi_block_event(why))
			with_event += t->by_amd_block[why];
	}
	for (unsigned c = 0; c < 16; c++)
		drained += ds->events_drained[c];
	assert_int_equal(blocked, t->blocked);
	assert_int_equal(t->amd_events, with_event);
	assert_int_equal(us->events_logged + us->events_lost, with_event);
	assert_int_equal(drained, us->events_logged);
	if (d == HCALL) { /* unallocated entries and undelivered modes, both reached */
		assert_true(t->by_amd_block[AMDVI_BLOCK_REMAP_EN] > 0);
		assert_true(t->by_amd_block[AMDVI_BLOCK_NOT_PASSED] > 0);
	}
}

static void spray_design(void **state)
{
	const struct row *row = *state;
	bool amd = row->iommu == HOST_IOMMU_AMDVI;
	struct world *w = world_new(row->d, (struct world_opts){.irte_entries = 1024,
								.victim = true,
								.iommu = row->iommu,
								.amd_table = row->amd_table});
	struct tally t = {.w = w};

	assert_int_equal(tenant_boot(w, &w->t), 0);
	assert_int_equal(
	    nic_probe(w->victim.g, NIC_BDF, VICTIM_QUEUES, VICTIM_QUEUES, &w->victim.nic_drv), 0);
	assert_int_equal(nic_probe(w->t.g, NIC_BDF, TENANT_QUEUES, TENANT_QUEUES, &w->t.nic_drv),
			 0);
	assert_int_equal(accel_probe(w->t.g, DSA_BDF, &dsa_layout, 4, &w->t.dsa_drv), 0);
	if (row->d == HCALL) /* memory IMS needs the pvir service (guest_ims_alloc) */
		assert_int_equal(accel_probe(w->t.g, MEMDSA_BDF, &memdsa_layout, 4, &w->t.mem_drv),
				 0);
	host_set_observer(w->h, observe, &t);
	for (unsigned k = 0; k < (row->d == HCALL ? 3u : 2u); k++) {
		struct spray sp = {.w = w, .t = &t, .s = source_of(w, k)};

		load(w, &sp.s, sp.saved);
		if (amd) {
			spray_amd(&sp);
			continue;
		}
		spray_handles(&sp);
		spray_compats(&sp);
	}
	victim_traffic(w, &t);
	victim_whole(w, &t);
	if (amd)
		amd_blocks_accounted(w, &t, row->d);
	else
		vtd_blocks_accounted(w, &t, row->d);
	print_message("# spray %s on %s: %llu blocked, %llu landed in the tenant, victim %llu of "
		      "%llu\n",
		      design_names[row->d],
		      amd ? (row->amd_table == 512 ? "amdvi-512" : "amdvi-2048") : "vtd",
		      (unsigned long long)t.blocked, (unsigned long long)t.landed_tenant,
		      (unsigned long long)t.landed_victim, (unsigned long long)t.victim_raised);
	host_set_observer(w->h, NULL, NULL);
	world_free(w);
}

static const struct row rows[] = {
    {TRAP, HOST_IOMMU_VTD, 0},	       {VIR_EMUL, HOST_IOMMU_VTD, 0},
    {HCALL, HOST_IOMMU_VTD, 0},	       {TRAP, HOST_IOMMU_AMDVI, 512},
    {VIR_EMUL, HOST_IOMMU_AMDVI, 512}, {HCALL, HOST_IOMMU_AMDVI, 512},
    {HCALL, HOST_IOMMU_AMDVI, 2048},
};

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_ROW("spray/trap", spray_design, &rows[0]),
	    TEST_ROW("spray/vir-emul", spray_design, &rows[1]),
	    TEST_ROW("spray/hcall", spray_design, &rows[2]),
	    TEST_ROW("spray/amdvi/trap", spray_design, &rows[3]),
	    TEST_ROW("spray/amdvi/vir-emul", spray_design, &rows[4]),
	    TEST_ROW("spray/amdvi/hcall", spray_design, &rows[5]),
	    TEST_ROW("spray/amdvi-2k/hcall", spray_design, &rows[6]),
	};

	return cmocka_run_group_tests_name("spray", tests, NULL, NULL);
}
