// SPDX-License-Identifier: MIT
/*
 * The VT-d IR driver, kernel code both kernels run, as Linux's does: the
 * host on the real unit, and the `vir-emul` guest on its emulated vIOMMU,
 * whose registers it reaches through trapped MMIO (struct ir_regs) and whose
 * table and queue live in the guest's own RAM.
 * Entries come in naturally aligned blocks (pvir/blockalloc.h). Freed blocks
 * are zeroed and invalidated with one IEC descriptor whose index mask covers
 * the block, as Linux's clear_entries does.
 */
#include "pvir/ir_driver.h"

#include <errno.h>
#include <stdlib.h>

#include "pvir/blockalloc.h"
#include "pvir/failpoint.h"
#include "pvir/physmem.h"

#define QI_ENTRIES   256
#define QI_DESC_SIZE 16
#define PAGE_SIZE    4096

struct ir_driver {
	struct physmem *mem;
	struct ir_regs regs;
	struct ir_driver_config cfg;
	uint32_t gcmd; /* shadow of GCMD, written whole */
	uint32_t qi_tail;
	uint32_t qi_seq; /* the status value of the last wait descriptor */
	unsigned mhmv;
	struct blockalloc alloc;
	struct ir_driver_stats stats;
	bool off; /* ir_driver_power_off(): entries are released, not stored */
};

/* ---- registers: the unit's own, or a vIOMMU's through trapped MMIO ---------- */

static uint64_t reg_read(const struct ir_driver *d, uint32_t off, unsigned size)
{
	return d->regs.read(d->regs.ctx, off, size);
}

static void reg_write(struct ir_driver *d, uint32_t off, unsigned size, uint64_t val)
{
	d->regs.write(d->regs.ctx, off, size, val);
}

static uint64_t unit_read(void *ctx, uint32_t off, unsigned size)
{
	return ir_unit_read(ctx, off, size);
}

static void unit_write(void *ctx, uint32_t off, unsigned size, uint64_t val)
{
	ir_unit_write(ctx, off, size, val);
}

/* ---- queued invalidation ------------------------------------------------ */

/*
 * The descriptor is copied in as plain memory, as Linux's qi_submit_sync() copies
 * it: the unit reads it only after the IQT write, which orders it.
 */
static int put_desc(struct ir_driver *d, struct qi_desc desc)
{
	uint64_t at = d->cfg.qi_base + (uint64_t)d->qi_tail * QI_DESC_SIZE;
	uint64_t words[2] = {desc.lo, desc.hi};
	int err = physmem_write(d->mem, at, words, sizeof(words));

	d->qi_tail = (d->qi_tail + 1) % QI_ENTRIES;
	return err;
}

/*
 * After an invalid descriptor the unit stops with IQH on it and sets IQE.
 * Like Linux's qi_check_fault, overwrite it with a harmless wait descriptor
 * and clear IQE so that the queue drains, then report the failure.
 */
static int recover_queue(struct ir_driver *d)
{
	uint64_t head = reg_read(d, DMAR_IQH_REG, 8) >> 4;
	struct qi_desc nop = qi_wait(d->cfg.status_addr, d->qi_seq);
	uint64_t at = d->cfg.qi_base + head * QI_DESC_SIZE;

	/* The queue lies in memory checked at creation: these stores cannot fail. */
	if (physmem_store64(d->mem, at, nop.lo) || physmem_store64(d->mem, at + 8, nop.hi))
		return -EFAULT;
	reg_write(d, DMAR_FSTS_REG, 4, UINT32_C(1) << DMA_FSTS_IQE);
	return -EIO;
}

/* Submits @desc and a wait descriptor, and checks the wait's status write. */
static int qi_submit_sync(struct ir_driver *d, struct qi_desc desc)
{
	uint32_t status = 0;
	uint32_t seq = ++d->qi_seq;
	int err = put_desc(d, desc);

	if (!err)
		err = put_desc(d, qi_wait(d->cfg.status_addr, seq));
	if (err)
		return err;
	reg_write(d, DMAR_IQT_REG, 8, (uint64_t)d->qi_tail << 4);
	if (bit_get(reg_read(d, DMAR_FSTS_REG, 4), DMA_FSTS_IQE))
		return recover_queue(d);
	if (physmem_read(d->mem, d->cfg.status_addr, &status, sizeof(status)) || status != seq)
		return -EIO;
	return 0;
}

static int flush_iec(struct ir_driver *d, uint32_t index, unsigned im)
{
	d->stats.iec_invalidations++;
	if (d->cfg.failpoints && failpoint_hit(FAILPOINT_INVALIDATION))
		return -EIO; /* as an invalidation queue error */
	return qi_submit_sync(d, qi_iec_index((uint16_t)index, im));
}

/* ---- enabling ------------------------------------------------------------ */

static bool gsts(struct ir_driver *d, unsigned bit)
{
	return bit_get(reg_read(d, DMAR_GSTS_REG, 4), bit);
}

/* Sets or clears one GCMD bit and checks that GSTS followed (Linux polls). */
static int gcmd_update(struct ir_driver *d, unsigned cmd, bool on, unsigned status)
{
	d->gcmd = (uint32_t)bit_set(d->gcmd, cmd, on);
	reg_write(d, DMAR_GCMD_REG, 4, d->gcmd);
	return gsts(d, status) == on ? 0 : -EIO;
}

static int enable(struct ir_driver *d)
{
	uint64_t irta = d->cfg.irt_base | (log2_u32(d->cfg.entries) - 1);
	int err;

	reg_write(d, DMAR_IQA_REG, 8, d->cfg.qi_base);
	err = gcmd_update(d, DMA_GCMD_QIE, true, DMA_GSTS_QIES);
	if (err)
		return err;
	if (d->cfg.x2apic)
		irta |= UINT64_C(1) << DMA_IRTA_EIME;
	reg_write(d, DMAR_IRTA_REG, 8, irta);
	/* SIRTP is one-shot: write it, check IRTPS, keep it out of the shadow. */
	err = gcmd_update(d, DMA_GCMD_SIRTP, true, DMA_GSTS_IRTPS);
	d->gcmd = (uint32_t)bit_set(d->gcmd, DMA_GCMD_SIRTP, false);
	if (err)
		return err;
	if (!bit_get(reg_read(d, DMAR_CAP_REG, 8), DMA_CAP_ESIRTPS)) {
		d->stats.iec_invalidations++;
		err = qi_submit_sync(d, qi_iec_global());
		if (err)
			return err;
	}
	err = gcmd_update(d, DMA_GCMD_IRE, true, DMA_GSTS_IRES);
	if (err)
		return err;
	/* Block compatibility-format interrupts: without it a device can raise
	 * any vector on any CPU (Linux warns "vulnerable to IRQ injection"). */
	return gcmd_update(d, DMA_GCMD_CFI, false, DMA_GSTS_CFIS);
}

static bool config_valid(const struct physmem *mem, const struct ir_driver_config *c)
{
	uint64_t table = (uint64_t)c->entries * IRTE_SIZE;

	return c->entries >= 2 && c->entries <= IR_MAX_ENTRIES &&
	       (c->entries & (c->entries - 1)) == 0 && c->irt_base % PAGE_SIZE == 0 &&
	       c->qi_base % PAGE_SIZE == 0 && c->status_addr % 4 == 0 &&
	       physmem_range_ok(mem, c->irt_base, table) &&
	       physmem_range_ok(mem, c->qi_base, PAGE_SIZE) &&
	       physmem_range_ok(mem, c->status_addr, 4);
}

int ir_driver_new(struct physmem *hostmem, struct ir_unit *ir, const struct ir_driver_config *cfg,
		  struct ir_driver **ret)
{
	struct ir_regs regs = {.read = unit_read, .write = unit_write, .ctx = ir};

	if (!ir)
		return -EINVAL;
	return ir_driver_new_regs(hostmem, &regs, cfg, ret);
}

int ir_driver_new_regs(struct physmem *mem, const struct ir_regs *regs,
		       const struct ir_driver_config *cfg, struct ir_driver **ret)
{
	struct ir_driver *d;
	int err;

	if (!mem || !regs || !config_valid(mem, cfg))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->mem = mem;
	d->regs = *regs;
	d->cfg = *cfg;
	d->mhmv =
	    (unsigned)bits_get(reg_read(d, DMAR_ECAP_REG, 8), DMA_ECAP_MHMV_HI, DMA_ECAP_MHMV_LO);
	err = blockalloc_init(&d->alloc, cfg->entries);
	if (err) {
		free(d);
		return err;
	}
	/*
	 * Entry 0 is never handed out: a zero handle (address 0xfee00010, the
	 * value of an uninitialised or stale message) then always faults (0x22)
	 * instead of reaching whichever interrupt happened to get entry 0.
	 */
	blockalloc_reserve(&d->alloc, 0);
	err = enable(d);
	if (err) {
		ir_driver_free(d);
		return err;
	}
	*ret = d;
	return 0;
}

void ir_driver_free(struct ir_driver *d)
{
	if (!d)
		return;
	blockalloc_destroy(&d->alloc);
	free(d);
}

/* ---- allocation ---------------------------------------------------------- */

int ir_irte_alloc(struct ir_driver *d, uint32_t count, uint32_t *ret_index)
{
	if (count && log2_u32(count) > d->mhmv)
		return -EINVAL;
	return blockalloc_alloc(&d->alloc, count, ret_index);
}

int ir_irte_alloc_at(struct ir_driver *d, uint32_t index, uint32_t count)
{
	if (count && log2_u32(count) > d->mhmv)
		return -EINVAL;
	return blockalloc_alloc_at(&d->alloc, index, count);
}

bool ir_irte_allocated(const struct ir_driver *d, uint32_t index)
{
	return blockalloc_used(&d->alloc, index);
}

/* ---- entries -------------------------------------------------------------- */

static uint64_t entry_pa(const struct ir_driver *d, uint32_t index)
{
	return d->cfg.irt_base + (uint64_t)index * IRTE_SIZE;
}

int ir_irte_read(const struct ir_driver *d, uint32_t index, struct irte *ret)
{
	uint64_t v[2];
	int err;

	if (index >= d->cfg.entries)
		return -EINVAL;
	err = physmem_load128(d->mem, entry_pa(d, index), v);
	if (!err)
		*ret = (struct irte){.lo = v[0], .hi = v[1]};
	return err;
}

/*
 * The write protocol of Linux's modify_irte (drivers/iommu/intel/irq_remapping.c): the PDA straddles
 * both qwords, so if either the old or the new entry is posted the whole
 * entry changes in one 128-bit compare-and-exchange; otherwise the low qword
 * (with P) is stored before the high one.
 */
static int store_entry(struct ir_driver *d, uint32_t index, const struct irte *e)
{
	uint64_t pa = entry_pa(d, index), old[2], new[2] = {e->lo, e->hi};
	int err = physmem_load128(d->mem, pa, old);

	if (err)
		return err;
	if (irte_is_posted(&(struct irte){.lo = old[0], .hi = old[1]}) || irte_is_posted(e)) {
		while ((err = physmem_cmpxchg128(d->mem, pa, old, new)) == -EAGAIN)
			; /* hardware never writes IRTEs: only another writer can race */
		return err;
	}
	err = physmem_store64(d->mem, pa, e->lo);
	return err ? err : physmem_store64(d->mem, pa + 8, e->hi);
}

int ir_irte_write(struct ir_driver *d, uint32_t index, const struct irte *e)
{
	int err;

	if (!ir_irte_allocated(d, index))
		return -EINVAL;
	if (d->off)
		return 0;
	if (d->cfg.failpoints && failpoint_hit(FAILPOINT_IRTE_WRITE))
		return -EIO; /* modify_irte() failed: the entry as it was */
	err = store_entry(d, index, e);
	if (err)
		return err;
	d->stats.irte_writes++;
	return flush_iec(d, index, 0);
}

/*
 * The rollback store needs no invalidation to be right: the cache was not
 * invalidated, so it holds the old entry or nothing. (On hardware a request
 * could fetch the new entry between the two stores; in the model nothing
 * translates while the host writes.)
 */
int ir_irte_update(struct ir_driver *d, uint32_t index, const struct irte *e)
{
	struct irte old;
	int err;

	if (!ir_irte_allocated(d, index))
		return -EINVAL;
	err = ir_irte_read(d, index, &old);
	if (err)
		return err;
	if (old.lo == e->lo && old.hi == e->hi) {
		d->stats.irte_writes++; /* the same entry: counted, not run through the unit */
		d->stats.iec_invalidations++;
		return 0;
	}
	err = ir_irte_write(d, index, e);
	if (err == -EIO)
		(void)!store_entry(d, index, &old); /* read above: the same address stores */
	return err;
}

int ir_irte_free(struct ir_driver *d, uint32_t index, uint32_t count)
{
	const struct irte zero = {0};

	if (!blockalloc_is_block(&d->alloc, index, count))
		return -EINVAL;
	if (d->off)
		return blockalloc_free(&d->alloc, index, count);
	for (uint32_t i = index; i < index + count; i++) {
		int err = store_entry(d, i, &zero);

		if (err)
			return err;
		d->stats.irte_writes++;
	}
	(void)!blockalloc_free(&d->alloc, index, count); /* a block: checked above */
	return flush_iec(d, index, log2_u32(count));
}

void ir_driver_power_off(struct ir_driver *d)
{
	d->off = true;
}

uint32_t ir_driver_in_use(const struct ir_driver *d)
{
	return d->alloc.in_use;
}

uint32_t ir_driver_entries(const struct ir_driver *d)
{
	return d->cfg.entries;
}

/* ---- faults and state ------------------------------------------------------ */

unsigned ir_driver_drain_faults(struct ir_driver *d)
{
	uint32_t fsts = (uint32_t)reg_read(d, DMAR_FSTS_REG, 4);
	unsigned nfr =
	    (unsigned)bits_get(reg_read(d, DMAR_CAP_REG, 8), DMA_CAP_NFR_HI, DMA_CAP_NFR_LO) + 1;
	unsigned i = (unsigned)bits_get(fsts, DMA_FSTS_FRI_HI, DMA_FSTS_FRI_LO), drained = 0;

	if (bit_get(fsts, DMA_FSTS_PFO))
		d->stats.overflows_seen++;
	/* From the first pending record, in order, until one is not pending. */
	for (; bit_get(fsts, DMA_FSTS_PPF) && drained < nfr; i = (i + 1) % nfr) {
		uint32_t off = DMAR_FRCD_REG + 16 * i;
		uint64_t hi = reg_read(d, off + 8, 8);
		unsigned reason = (unsigned)bits_get(hi, DMA_FRCD_FR_HI, DMA_FRCD_FR_LO);

		if (!bit_get(hi, DMA_FRCD_F))
			break;
		if (reason >= IR_FAULT_FIRST && reason < IR_FAULT_FIRST + IR_FAULT_COUNT)
			d->stats.faults_drained[reason - IR_FAULT_FIRST]++;
		reg_write(d, off + 12, 4, UINT32_C(1) << 31);
		drained++;
	}
	reg_write(d, DMAR_FSTS_REG, 4, UINT32_C(1) << DMA_FSTS_PFO);
	return drained;
}

bool ir_driver_remapping_secure(const struct ir_driver *d)
{
	uint32_t s = (uint32_t)reg_read(d, DMAR_GSTS_REG, 4);

	return bit_get(s, DMA_GSTS_IRES) && !bit_get(s, DMA_GSTS_CFIS);
}

bool ir_driver_posting(const struct ir_driver *d)
{
	return bit_get(reg_read(d, DMAR_CAP_REG, 8), DMA_CAP_PI);
}

bool ir_driver_x2apic(const struct ir_driver *d)
{
	return d->cfg.x2apic;
}

const struct ir_driver_stats *ir_driver_stats(const struct ir_driver *d)
{
	return &d->stats;
}

void ir_driver_set_memory(struct ir_driver *d, struct physmem *mem)
{
	d->mem = mem;
}
