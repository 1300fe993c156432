// SPDX-License-Identifier: MIT
/*
 * The host IR driver against the IR unit model: enabling, allocation, the
 * write protocol with its invalidations (observed through translate, since a
 * missing invalidation shows up as a stale delivery), and fault draining.
 */
#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "pvir/ir_driver.h"
#include "pvir/ir_unit.h"
#include "pvir/msi.h"
#include "pvir/physmem.h"

#define MEM_SIZE (UINT64_C(4) << 20)
#define IRT_BASE 0x100000
#define QI_BASE	 0x10000
#define STATUS	 0x20000
#define PID_ADDR 0x30000
#define RID	 0x0300

struct fx {
	struct physmem *pm;
	struct ir_unit *ir;
	struct ir_driver *d;
};

static struct ir_driver_config driver_config(uint32_t entries)
{
	return (struct ir_driver_config){.irt_base = IRT_BASE,
					 .entries = entries,
					 .qi_base = QI_BASE,
					 .status_addr = STATUS,
					 .x2apic = true};
}

static struct fx *fx_new(const struct ir_unit_config *ucfg, uint32_t entries)
{
	struct ir_driver_config dcfg = driver_config(entries);
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->pm = physmem_new(MEM_SIZE);
	f->ir = ir_unit_new(f->pm, ucfg);
	assert_non_null(f->ir);
	assert_int_equal(ir_driver_new(f->pm, f->ir, &dcfg, &f->d), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	ir_driver_free(f->d);
	ir_unit_free(f->ir);
	physmem_free(f->pm);
	free(f);
}

static int setup(void **state)
{
	struct ir_unit_config cfg = ir_unit_default_config();

	*state = fx_new(&cfg, IR_MAX_ENTRIES);
	return 0;
}

static int teardown(void **state)
{
	fx_free(*state);
	return 0;
}

static struct ir_result send(struct fx *f, uint16_t handle)
{
	struct msi_msg m;
	struct ir_result r;

	msi_remap_encode(&(struct msi_remap){.handle = handle, .shv = true}, &m);
	ir_unit_translate(f->ir, &m, RID, &r);
	return r;
}

static struct irte remapped(uint8_t vector, uint32_t dst)
{
	struct irte e;

	irte_remapped_encode(
	    &(struct irte_remapped){
		.p = true, .vector = vector, .dst = dst, .sid = RID, .svt = IRTE_SVT_RID},
	    &e);
	return e;
}

/* The address of a temporary, for calls that take a pointer to an entry. */
#define PTR(e) (&(struct irte[]){e}[0])

static void enables_securely(void **state)
{
	struct fx *f = *state;
	uint32_t gsts = (uint32_t)ir_unit_read(f->ir, DMAR_GSTS_REG, 4);

	assert_true(bit_get(gsts, DMA_GSTS_QIES));
	assert_true(bit_get(gsts, DMA_GSTS_IRTPS));
	assert_true(bit_get(gsts, DMA_GSTS_IRES));
	assert_false(bit_get(gsts, DMA_GSTS_CFIS));
	assert_true(ir_driver_remapping_secure(f->d));
	/* 64 Ki entries: S = 15, x2APIC mode */
	assert_int_equal(ir_unit_read(f->ir, DMAR_IRTA_REG, 8), IRT_BASE | 1u << 11 | 0xf);
	assert_int_equal(ir_unit_table_entries(f->ir), IR_MAX_ENTRIES);
	assert_int_equal(ir_driver_in_use(f->d), 0);
	/* compatibility format is blocked */
	{
		struct msi_msg compat = {.address_lo = 0xfee01000, .data = 0x31};
		struct ir_result r;

		ir_unit_translate(f->ir, &compat, RID, &r);
		assert_int_equal(r.fault, IR_FAULT_COMPAT);
	}
}

static void rejects_bad_config(void **state)
{
	struct fx *f = *state;
	struct ir_driver_config c;
	struct ir_driver *d = NULL;

	c = driver_config(3);
	assert_int_equal(ir_driver_new(f->pm, f->ir, &c, &d), -EINVAL);
	c = driver_config(IR_MAX_ENTRIES * 2);
	assert_int_equal(ir_driver_new(f->pm, f->ir, &c, &d), -EINVAL);
	c = driver_config(256);
	c.irt_base = IRT_BASE + 16;
	assert_int_equal(ir_driver_new(f->pm, f->ir, &c, &d), -EINVAL);
	c = driver_config(IR_MAX_ENTRIES);
	c.irt_base = MEM_SIZE - 4096; /* the table would run past memory */
	assert_int_equal(ir_driver_new(f->pm, f->ir, &c, &d), -EINVAL);
	assert_null(d);
}

static void allocates_lowest_free(void **state)
{
	struct fx *f = *state;
	uint32_t idx;

	for (uint32_t i = 1; i <= 70; i++) {
		assert_int_equal(ir_irte_alloc(f->d, 1, &idx), 0);
		assert_int_equal(idx, i); /* entry 0 is never handed out */
	}
	assert_int_equal(ir_irte_free(f->d, 3, 1), 0);
	assert_int_equal(ir_irte_free(f->d, 65, 1), 0);
	assert_int_equal(ir_irte_alloc(f->d, 1, &idx), 0);
	assert_int_equal(idx, 3);
	assert_int_equal(ir_irte_alloc(f->d, 1, &idx), 0);
	assert_int_equal(idx, 65);
	assert_int_equal(ir_driver_in_use(f->d), 70);
}

/* A destination keeps handles where they are free; entry 0 is never one. */
static void handles_kept_at_their_index(void **state)
{
	struct fx *f = *state;
	uint32_t idx;

	assert_int_equal(ir_irte_alloc_at(f->d, 300, 1), 0);
	assert_true(ir_irte_allocated(f->d, 300));
	assert_int_equal(ir_irte_alloc_at(f->d, 300, 1), -EBUSY);
	assert_int_equal(ir_irte_alloc_at(f->d, 0, 1), -EBUSY);
	assert_int_equal(ir_irte_alloc_at(f->d, 301, 2), -EINVAL);
	assert_int_equal(ir_irte_alloc_at(f->d, ir_driver_entries(f->d), 1), -EINVAL);
	assert_int_equal(ir_irte_alloc(f->d, 1, &idx), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(ir_driver_in_use(f->d), 2);
	assert_int_equal(ir_irte_free(f->d, 300, 1), 0);
}

static void aligned_blocks(void **state)
{
	struct fx *f = *state;
	uint32_t a, b, c, big;

	assert_int_equal(ir_irte_alloc(f->d, 1, &a), 0);
	assert_int_equal(a, 1); /* 0 is reserved */
	assert_int_equal(ir_irte_alloc(f->d, 4, &b), 0);
	assert_int_equal(b, 4); /* 0..1 taken, a block of 4 is aligned to 4 */
	assert_int_equal(ir_irte_alloc(f->d, 1, &c), 0);
	assert_int_equal(c, 2);
	assert_int_equal(ir_irte_alloc(f->d, 256, &big), 0);
	assert_int_equal(big, 256); /* words 0..3 hold a/b/c */
	assert_int_equal(ir_irte_alloc(f->d, 3, &a), -EINVAL);
	assert_int_equal(ir_irte_alloc(f->d, 0, &a), -EINVAL);
	/* freeing needs the block's start and size */
	assert_int_equal(ir_irte_free(f->d, 5, 1), -EINVAL);
	assert_int_equal(ir_irte_free(f->d, 4, 2), -EINVAL);
	assert_int_equal(ir_irte_free(f->d, 4, 4), 0);
	assert_int_equal(ir_irte_free(f->d, 4, 4), -EINVAL); /* twice */
	assert_int_equal(ir_irte_free(f->d, 256, 256), 0);
	assert_int_equal(ir_driver_in_use(f->d), 2);
}

static void fills_whole_table(void **state)
{
	struct fx *f = *state;
	uint32_t idx;

	for (uint32_t i = 1; i < IR_MAX_ENTRIES; i++) {
		assert_int_equal(ir_irte_alloc(f->d, 1, &idx), 0);
		assert_int_equal(idx, i);
	}
	assert_int_equal(ir_irte_alloc(f->d, 1, &idx), -ENOSPC);
	assert_int_equal(ir_irte_free(f->d, 40000, 1), 0);
	assert_int_equal(ir_irte_alloc(f->d, 2, &idx), -ENOSPC); /* no aligned pair */
	assert_int_equal(ir_irte_alloc(f->d, 1, &idx), 0);
	assert_int_equal(idx, 40000);
}

static void mask_limited_by_mhmv(void **state)
{
	struct ir_unit_config cfg = ir_unit_default_config();
	struct fx *f;
	uint32_t idx;

	(void)state;
	cfg.mhmv = 2;
	f = fx_new(&cfg, 256);
	assert_int_equal(ir_irte_alloc(f->d, 4, &idx), 0);
	assert_int_equal(ir_irte_alloc(f->d, 8, &idx), -EINVAL);
	fx_free(f);
}

static void write_invalidates(void **state)
{
	struct fx *f = *state;
	const struct ir_driver_stats *st = ir_driver_stats(f->d);
	uint64_t writes = st->irte_writes, invs = st->iec_invalidations;
	struct irte back;
	uint32_t idx;

	assert_int_equal(ir_irte_alloc(f->d, 1, &idx), 0);
	assert_int_equal(ir_irte_write(f->d, idx, PTR(remapped(0x31, 1))), 0);
	assert_int_equal(send(f, (uint16_t)idx).irq.vector, 0x31); /* now cached */
	assert_int_equal(ir_irte_write(f->d, idx, PTR(remapped(0x32, 2))), 0);
	/* the unit sees the new entry: the driver invalidated the cached one */
	assert_int_equal(send(f, (uint16_t)idx).irq.vector, 0x32);
	assert_int_equal(ir_irte_read(f->d, idx, &back), 0);
	assert_int_equal(back.lo, remapped(0x32, 2).lo);
	assert_int_equal(st->irte_writes - writes, 2);
	assert_int_equal(st->iec_invalidations - invs, 2);
	assert_int_equal(ir_irte_write(f->d, idx + 1, &back), -EINVAL); /* not allocated */
}

static void posted_and_back(void **state)
{
	struct fx *f = *state;
	struct pid_image pid = {.nv = 0xf2, .ndst = 2};
	struct irte_posted p = {
	    .p = true, .vector = 0x45, .pda = PID_ADDR, .sid = RID, .svt = IRTE_SVT_RID};
	struct irte e, back;
	uint32_t idx;

	assert_int_equal(pid_write(f->pm, PID_ADDR, &pid), 0);
	assert_int_equal(ir_irte_alloc(f->d, 1, &idx), 0);
	assert_int_equal(ir_irte_write(f->d, idx, PTR(remapped(0x31, 1))), 0);
	assert_int_equal(send(f, (uint16_t)idx).outcome, IR_REMAPPED);
	irte_posted_encode(&p, &e);
	assert_int_equal(ir_irte_write(f->d, idx, &e), 0); /* remapped -> posted */
	assert_int_equal(ir_irte_read(f->d, idx, &back), 0);
	assert_int_equal(back.lo, e.lo);
	assert_int_equal(back.hi, e.hi);
	assert_int_equal(send(f, (uint16_t)idx).outcome, IR_POSTED);
	e = remapped(0x33, 3);
	assert_int_equal(ir_irte_write(f->d, idx, &e), 0); /* posted -> remapped */
	assert_int_equal(send(f, (uint16_t)idx).irq.vector, 0x33);
}

/*
 * The IOMMU reads an IRTE with one 128-bit access. A posted entry's PDA spans
 * both qwords, so the driver must replace it with one 128-bit atomic: a reader
 * racing the writer may see the old entry or the new one, never a mix.
 */
struct tear_check {
	struct physmem *pm;
	uint64_t pa;
	struct irte a, b;
	atomic_bool stop;
	unsigned long torn;
	unsigned long reads;
};

static void *read_entry(void *arg)
{
	struct tear_check *t = arg;

	while (!atomic_load(&t->stop)) {
		uint64_t v[2];

		if (physmem_load128(t->pm, t->pa, v))
			break;
		t->reads++;
		if (!((v[0] == t->a.lo && v[1] == t->a.hi) || (v[0] == t->b.lo && v[1] == t->b.hi)))
			t->torn++;
	}
	return NULL;
}

static void posted_update_is_atomic(void **state)
{
	struct fx *f = *state;
	struct irte_posted p = {
	    .p = true, .vector = 0x45, .pda = 0x1111111100000040, .sid = RID, .svt = IRTE_SVT_RID};
	struct tear_check t = {.pm = f->pm};
	pthread_t reader;
	uint32_t idx;

	irte_posted_encode(&p, &t.a);
	p.pda = 0x2222222200000080;
	p.vector = 0x46;
	irte_posted_encode(&p, &t.b);
	assert_int_equal(ir_irte_alloc(f->d, 1, &idx), 0);
	assert_int_equal(ir_irte_write(f->d, idx, &t.a), 0);
	t.pa = IRT_BASE + (uint64_t)idx * IRTE_SIZE;
	assert_int_equal(pthread_create(&reader, NULL, read_entry, &t), 0);
	for (int i = 0; i < 50000; i++)
		assert_int_equal(ir_irte_write(f->d, idx, i % 2 ? &t.a : &t.b), 0);
	atomic_store(&t.stop, true);
	assert_int_equal(pthread_join(reader, NULL), 0);
	assert_true(t.reads > 0);
	assert_int_equal(t.torn, 0);
}

static void free_clears_and_invalidates_block(void **state)
{
	struct fx *f = *state;
	struct irte back;
	uint32_t base;

	assert_int_equal(ir_irte_alloc(f->d, 8, &base), 0);
	for (uint32_t i = 0; i < 8; i++) {
		struct irte e = remapped((uint8_t)(0x40 + i), 1);

		assert_int_equal(ir_irte_write(f->d, base + i, &e), 0);
		assert_int_equal(send(f, (uint16_t)(base + i)).outcome, IR_REMAPPED);
	}
	assert_int_equal(ir_irte_free(f->d, base, 8), 0);
	for (uint32_t i = 0; i < 8; i++) {
		assert_int_equal(ir_irte_read(f->d, base + i, &back), 0);
		assert_int_equal(back.lo | back.hi, 0);
		/* one masked invalidation covered every cached entry of the block */
		assert_int_equal(send(f, (uint16_t)(base + i)).fault, IR_FAULT_NOT_PRESENT);
	}
}

/*
 * After ir_driver_power_off() (a run's end) an entry is given back without
 * being stored or invalidated: the block is free again, the table and the
 * unit's cache are as they were, and no descriptor reached the queue. What
 * is not allocated is still refused.
 */
static void power_off_releases_without_storing(void **state)
{
	struct fx *f = *state;
	const struct ir_driver_stats *st = ir_driver_stats(f->d);
	const struct ir_unit_stats *ust = ir_unit_stats(f->ir);
	uint32_t base, in_use = ir_driver_in_use(f->d);
	uint64_t writes, invs, descs;
	struct irte back;

	assert_int_equal(ir_irte_alloc(f->d, 4, &base), 0);
	assert_int_equal(ir_irte_write(f->d, base, PTR(remapped(0x41, 1))), 0);
	assert_int_equal(send(f, (uint16_t)base).irq.vector, 0x41); /* now cached */
	ir_driver_power_off(f->d);
	writes = st->irte_writes;
	invs = st->iec_invalidations;
	descs = ust->qi_descriptors;
	assert_int_equal(ir_irte_update(f->d, base, PTR(remapped(0x42, 2))), 0);
	assert_int_equal(ir_irte_write(f->d, base + 1, PTR(remapped(0x43, 3))), 0);
	assert_int_equal(ir_irte_free(f->d, base, 4), 0);
	assert_int_equal(ir_driver_in_use(f->d), in_use);
	assert_int_equal(ir_irte_read(f->d, base, &back), 0);
	assert_int_equal(back.lo, remapped(0x41, 1).lo); /* not stored, not cleared */
	assert_int_equal(send(f, (uint16_t)base).irq.vector, 0x41);
	assert_int_equal(st->irte_writes, writes);
	assert_int_equal(st->iec_invalidations, invs);
	assert_int_equal(ust->qi_descriptors, descs);
	assert_int_equal(ir_irte_free(f->d, base, 4), -EINVAL); /* already given back */
	assert_int_equal(ir_irte_write(f->d, base, &back), -EINVAL);
}

static void drains_faults_in_order(void **state)
{
	struct ir_unit_config cfg = ir_unit_default_config();
	const struct ir_driver_stats *st;
	struct fx *f;

	(void)state;
	cfg.nfr = 4;
	f = fx_new(&cfg, 256);
	st = ir_driver_stats(f->d);
	for (int i = 0; i < 3; i++)
		(void)send(f, 7); /* not present */
	assert_int_equal(ir_driver_drain_faults(f->d), 3);
	assert_int_equal(st->faults_drained[IR_FAULT_NOT_PRESENT - IR_FAULT_FIRST], 3);
	assert_false(bit_get(ir_unit_read(f->ir, DMAR_FSTS_REG, 4), DMA_FSTS_PPF));
	/* the next three land in records 3, 0, 1: draining starts at FRI = 3 */
	(void)send(f, 300); /* beyond the table */
	(void)send(f, 7);
	(void)send(f, 7);
	assert_int_equal(
	    bits_get(ir_unit_read(f->ir, DMAR_FSTS_REG, 4), DMA_FSTS_FRI_HI, DMA_FSTS_FRI_LO), 3);
	assert_int_equal(ir_driver_drain_faults(f->d), 3);
	assert_int_equal(st->faults_drained[IR_FAULT_INDEX - IR_FAULT_FIRST], 1);
	assert_int_equal(ir_driver_drain_faults(f->d), 0);
	fx_free(f);
}

static void drains_after_overflow(void **state)
{
	struct ir_unit_config cfg = ir_unit_default_config();
	struct fx *f;

	(void)state;
	cfg.nfr = 2;
	f = fx_new(&cfg, 256);
	for (int i = 0; i < 5; i++)
		(void)send(f, 7);
	assert_int_equal(ir_driver_drain_faults(f->d), 2);
	assert_int_equal(ir_driver_stats(f->d)->overflows_seen, 1);
	/* overflow cleared: recording resumes */
	assert_true(send(f, 7).fault_recorded);
	assert_int_equal(ir_driver_drain_faults(f->d), 1);
	fx_free(f);
}

#define FX(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    FX(enables_securely),
	    FX(rejects_bad_config),
	    FX(allocates_lowest_free),
	    FX(handles_kept_at_their_index),
	    FX(aligned_blocks),
	    FX(fills_whole_table),
	    TEST(mask_limited_by_mhmv),
	    FX(write_invalidates),
	    FX(posted_and_back),
	    FX(posted_update_is_atomic),
	    FX(free_clears_and_invalidates_block),
	    FX(power_off_releases_without_storing),
	    TEST(drains_faults_in_order),
	    TEST(drains_after_overflow),
	};

	return cmocka_run_group_tests_name("ir_driver", tests, NULL, NULL);
}
