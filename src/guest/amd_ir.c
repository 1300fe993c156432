// SPDX-License-Identifier: MIT
/*
 * The AMD-Vi IR domain of a `vir-emul` guest: Linux's AMD IR driver on the emulated vIOMMU
 * QEMU's amd-iommu,intremap=on offers (hw/i386/amd_iommu.c). It sits where vtd_ir.c sits
 * and runs the driver the host runs (src/lib/amdvi_driver.c), its device table, command
 * buffer, logs and interrupt tables in guest RAM, its registers reached through MMIO, which
 * the VMM traps.
 *
 * What Linux does on that unit: it advertises the 128-bit format (GASup) but no guest mode,
 * so the guest writes remapped 128-bit entries (AMD_IOMMU_GUEST_IR_LEGACY_GA), 2048 per
 * device where the unit offers NumIntRemapSup and 512 otherwise; each change is written,
 * then INVALIDATE_INTERRUPT_TABLE and a completion wait: two trapped writes of the command
 * tail. The message is the index, written into the device's (trapped) storage.
 */
#include <errno.h>

#include "guest_internal.h"
#include "pvir/amdvi_driver.h"
#include "pvir/vmm.h"

#define AMD_DEVIDS	256 /* bus 0: the functions the guest enumerates */
#define AMD_MAX_DEVICES 32
#define AMD_ENTRY_BYTES 16

static uint64_t regs_read(void *ctx, uint32_t off, unsigned size)
{
	return guest_mmio_read(ctx, VMM_VIOMMU_AMD_BASE + off, size);
}

static void regs_write(void *ctx, uint32_t off, unsigned size, uint64_t val)
{
	guest_mmio_write(ctx, VMM_VIOMMU_AMD_BASE + off, size, val);
}

/* The IVRS table names a unit; its extended features say what it does. */
static bool unit_present(struct guest *g, uint64_t *ret_efr, uint64_t *ret_efr2)
{
	*ret_efr = regs_read(g, AMDVI_MMIO_EXT_FEAT, 8);
	*ret_efr2 = regs_read(g, AMDVI_MMIO_EXT_FEAT2, 8);
	return *ret_efr != UINT64_MAX;
}

static int alloc_areas(struct guest *g, struct amdvi_driver_config *c)
{
	c->dev_table = guest_alloc_ram(g, (uint64_t)AMD_DEVIDS * 32);
	c->cmd_base = guest_alloc_ram(g, AMDVI_RING_BYTES);
	c->evt_base = guest_alloc_ram(g, AMDVI_RING_BYTES);
	c->ga_base = guest_alloc_ram(g, AMDVI_RING_BYTES);
	c->store_addr = guest_alloc_ram(g, GUEST_PAGE);
	c->tables = guest_alloc_ram(g, (uint64_t)c->max_devices * c->table_entries *
					   (c->ga ? AMD_ENTRY_BYTES : 4));
	return c->dev_table && c->cmd_base && c->evt_base && c->ga_base && c->store_addr &&
		       c->tables
		   ? 0
		   : -ENOMEM;
}

void amd_ir_probe(struct guest *g)
{
	struct ir_regs regs = {.read = regs_read, .write = regs_write, .ctx = g};
	struct amdvi_driver_config c = {.devids = AMD_DEVIDS, .max_devices = AMD_MAX_DEVICES};
	uint64_t efr, efr2;
	int err;

	if (!g->cfg.vtd_driver || !g->cfg.amd_iommu || g->pv || !unit_present(g, &efr, &efr2))
		return;
	c.ga = bit_get(efr, AMDVI_FEATURE_GA);
	c.vapic = false; /* no guest mode without GAMSup, which QEMU's unit lacks */
	c.x2apic = bit_get(efr, AMDVI_FEATURE_XT);
	c.table_entries = bits_get(efr2, 9, 8) == 1 ? 2048 : 512;
	err = alloc_areas(g, &c);
	g->vtd_probe = err ? err : amdvi_driver_new_regs(g->ram, &regs, &c, &g->amd);
}

void amd_ir_free(struct guest *g)
{
	amdvi_driver_free(g->amd);
	g->amd = NULL;
}

static struct amdvi_irte_ga entry_of(const struct guest *g, const struct irq_desc *d)
{
	struct amdvi_irte_ga e = {0};

	if (amdvi_driver_ga(g->amd)) {
		struct amdvi_ga_remap r = {
		    .remap_en = true, .dest = d->vd.cpu, .vector = d->vd.vector};

		amdvi_ga_remap_encode(&r, &e);
	} else {
		struct amdvi_irte32 r = {
		    .remap_en = true, .dest = (uint8_t)d->vd.cpu, .vector = d->vd.vector};

		e.lo = amdvi_irte32_encode(&r);
	}
	return e;
}

/* @count entries of @devid's table, aligned: the table made at the device's first interrupt. */
static int entries_take(struct guest *g, uint16_t devid, uint32_t count, uint32_t *ret)
{
	int err = amdvi_dev_attach(g->amd, devid);

	if (err && err != -EEXIST)
		return err; /* alloc_irq_table() */
	return amdvi_irte_alloc(g->amd, devid, count, ret);
}

/* @d's IRTE written at @index of its device's table, and the message naming it. */
static int entry_install(struct guest *g, struct irq_desc *d, uint32_t index)
{
	struct amdvi_irte_ga e = entry_of(g, d);
	int err = amdvi_irte_write(g->amd, d->dev->bdf, index, &e);

	if (err)
		return err;
	d->vtd_index = (int)index;
	amdvi_msi_compose(g->amd, index, &d->msg);
	return 0;
}

int amd_ir_activate(struct guest *g, struct irq_desc *d)
{
	uint32_t index;
	int err = entries_take(g, d->dev->bdf, 1, &index);

	if (err)
		return err;
	err = entry_install(g, d, index);
	if (err)
		(void)!amdvi_irte_free(g->amd, d->dev->bdf, index, 1);
	return err;
}

/*
 * A multi-message MSI (irq_remapping_alloc() with nr_irqs > 1): one aligned block of
 * the device's table; the message data is the entry's index, so vector 0's, which the
 * device holds, names entry i when the device puts i in its low bits.
 */
int amd_ir_activate_msi(struct guest *g, struct irq_desc **ds, unsigned n)
{
	struct guest_pci_dev *dev = ds[0]->dev;
	uint32_t size = (uint32_t)pow2_at_least(n), base;
	unsigned i;
	int err = entries_take(g, dev->bdf, size, &base);

	if (err)
		return err;
	for (i = 0; i < n && !err; i++)
		err = entry_install(g, ds[i], base + i);
	if (err) {
		for (unsigned j = 0; j + 1 < i; j++) {
			amd_ir_clear(g, ds[j]);
			ds[j]->vtd_index = -1;
		}
		(void)!amdvi_irte_free(g->amd, dev->bdf, base, size);
		return err;
	}
	msi_block_hold(dev, base, size, n);
	return 0;
}

int amd_ir_retarget(struct guest *g, struct irq_desc *d)
{
	struct amdvi_irte_ga e = entry_of(g, d);

	return amdvi_irte_write(g->amd, d->dev->bdf, (uint32_t)d->vtd_index, &e);
}

/* irq_remapping_deactivate(): the entry cleared and flushed, its index kept. */
void amd_ir_clear(struct guest *g, struct irq_desc *d)
{
	if (d->vtd_index >= 0)
		(void)!amdvi_irte_write(g->amd, d->dev->bdf, (uint32_t)d->vtd_index,
					&(struct amdvi_irte_ga){0});
}

/* Freeing the index clears and flushes it again; a block goes whole, with its last vector. */
void amd_ir_release(struct guest *g, struct irq_desc *d)
{
	uint32_t first, count;

	if (irte_index_put(d, &first, &count))
		(void)!amdvi_irte_free(g->amd, d->dev->bdf, first, count);
}

/* Linux's deactivate clears the entry (flushed), then freeing clears and flushes again. */
void amd_ir_deactivate(struct guest *g, struct irq_desc *d)
{
	amd_ir_clear(g, d);
	amd_ir_release(g, d);
}
