// SPDX-License-Identifier: MIT
/*
 * The VT-d IR domain of a `vir-emul` guest: Linux's intel IR driver on the
 * emulated vIOMMU the VMM offers (QEMU hw/i386/intel_iommu.c). It sits where the pvir
 * domain sits, between the vector domain and the MSI-X/IMS domains, and runs
 * the same VT-d driver the host runs (src/lib/ir_driver.c) — its table,
 * invalidation queue and status word in guest RAM, its registers reached
 * through MMIO, which the VMM traps.
 *
 * What Linux does, and so what this costs under emulation:
 *  - activate: allocate an IRTE, write it (dest, vector, source-id of the
 *    device), invalidate its IEC entry: one trapped queue-tail write;
 *  - the message is remappable: a handle into this table, written into the
 *    device's (trapped) storage by the bus domain;
 *  - set_affinity: rewrite the IRTE and invalidate; the message stays;
 *  - deactivate writes a zeroed IRTE and invalidates, free clears it and
 *    invalidates again (Linux's modify_irte, then clear_entries).
 */
#include <errno.h>

#include "guest_internal.h"
#include "pvir/ir_driver.h"
#include "pvir/vm.h"
#include "pvir/vmm.h"

#define VTD_TABLE_ENTRIES 65536 /* Linux's INTR_REMAP_TABLE_ENTRIES */
#define VTD_QUEUE_BYTES	  4096

static uint64_t regs_read(void *ctx, uint32_t off, unsigned size)
{
	return guest_mmio_read(ctx, VMM_VIOMMU_BASE + off, size);
}

static void regs_write(void *ctx, uint32_t off, unsigned size, uint64_t val)
{
	guest_mmio_write(ctx, VMM_VIOMMU_BASE + off, size, val);
}

/* The DMAR table names a unit: present if its ECAP says it remaps interrupts. */
static bool unit_present(struct guest *g)
{
	uint64_t ecap = regs_read(g, DMAR_ECAP_REG, 8);

	return ecap != UINT64_MAX && bit_get(ecap, DMA_ECAP_IR) && bit_get(ecap, DMA_ECAP_QI) &&
	       bit_get(ecap, DMA_ECAP_EIM);
}

void vtd_probe(struct guest *g)
{
	struct ir_regs regs = {.read = regs_read, .write = regs_write, .ctx = g};
	struct ir_driver_config c = {.entries = VTD_TABLE_ENTRIES, .x2apic = true};

	g->vtd_probe = -ENODEV;
	if (!g->cfg.vtd_driver || g->cfg.amd_iommu || g->pv || !unit_present(g))
		return;
	c.irt_base = guest_alloc_ram(g, (uint64_t)VTD_TABLE_ENTRIES * IRTE_SIZE);
	c.qi_base = guest_alloc_ram(g, VTD_QUEUE_BYTES);
	c.status_addr = guest_alloc_ram(g, GUEST_PAGE);
	if (!c.irt_base || !c.qi_base || !c.status_addr) {
		g->vtd_probe = -ENOMEM;
		return;
	}
	g->vtd_probe = ir_driver_new_regs(g->ram, &regs, &c, &g->vtd);
}

void vtd_free(struct guest *g)
{
	ir_driver_free(g->vtd);
	g->vtd = NULL;
}

static struct irte entry_of(const struct irq_desc *d)
{
	struct irte_remapped r = {.p = true,
				  .dlm = MSI_DM_FIXED,
				  .vector = d->vd.vector,
				  .dst = d->vd.cpu, /* x2APIC mode: the APIC ID, our CPU number */
				  .sid = d->dev->bdf,
				  .sq = IRTE_SQ_ALL,
				  .svt = IRTE_SVT_RID};
	struct irte e;

	irte_remapped_encode(&r, &e);
	return e;
}

/* Handle @handle with SHV: subhandle @sub picks IRTE handle + sub (VT-d §5.1.3). */
static struct msi_msg handle_msg(uint32_t handle, uint32_t sub)
{
	struct msi_remap r = {.handle = (uint16_t)handle, .shv = true, .subhandle = (uint16_t)sub};
	struct msi_msg m;

	msi_remap_encode(&r, &m);
	return m;
}

/* @d's IRTE written at @handle + @sub, and the message naming it. */
static int entry_install(struct guest *g, struct irq_desc *d, uint32_t handle, uint32_t sub)
{
	struct irte e = entry_of(d);
	int err = ir_irte_write(g->vtd, handle + sub, &e);

	if (err)
		return err;
	d->vtd_index = (int)(handle + sub);
	d->msg = handle_msg(handle, sub);
	return 0;
}

int vtd_activate(struct guest *g, struct irq_desc *d)
{
	uint32_t index;
	int err = ir_irte_alloc(g->vtd, 1, &index);

	if (err)
		return err;
	err = entry_install(g, d, index, 0);
	if (err)
		(void)!ir_irte_free(g->vtd, index, 1);
	return err;
}

/*
 * intel_irq_remapping_alloc() for a multi-message MSI: alloc_irte() takes one naturally
 * aligned block, refused past ECAP.MHMV (ir_irte_alloc()); vector i's IRTE is its i-th,
 * its message the block's handle with SHV and subhandle i, so vector 0's, which the
 * device holds, reaches IRTE i when the device sends vector i.
 */
int vtd_activate_msi(struct guest *g, struct irq_desc **ds, unsigned n)
{
	struct guest_pci_dev *dev = ds[0]->dev;
	uint32_t size = (uint32_t)pow2_at_least(n), base;
	unsigned i;
	int err = ir_irte_alloc(g->vtd, size, &base);

	if (err)
		return err;
	for (i = 0; i < n && !err; i++)
		err = entry_install(g, ds[i], base, i);
	if (err) {
		for (unsigned j = 0; j + 1 < i; j++) {
			vtd_clear(g, ds[j]);
			ds[j]->vtd_index = -1;
		}
		(void)!ir_irte_free(g->vtd, base, size);
		return err;
	}
	msi_block_hold(dev, base, size, n);
	return 0;
}

int vtd_retarget(struct guest *g, struct irq_desc *d)
{
	struct irte e = entry_of(d);

	return ir_irte_write(g->vtd, (uint32_t)d->vtd_index, &e);
}

/* intel_irq_remapping_deactivate(): the entry zeroed and flushed, its index kept. */
void vtd_clear(struct guest *g, struct irq_desc *d)
{
	if (d->vtd_index >= 0)
		(void)!ir_irte_write(g->vtd, (uint32_t)d->vtd_index, &(struct irte){0});
}

/* free_irte(): the index given back, cleared and flushed again; a block goes whole, last. */
void vtd_release(struct guest *g, struct irq_desc *d)
{
	uint32_t first, count;

	if (irte_index_put(d, &first, &count))
		(void)!ir_irte_free(g->vtd, first, count);
}

void vtd_deactivate(struct guest *g, struct irq_desc *d)
{
	vtd_clear(g, d);
	vtd_release(g, d);
}
