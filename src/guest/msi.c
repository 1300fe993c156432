// SPDX-License-Identifier: MIT
/*
 * The bus-side domains: where a message is stored and how it is masked.
 * "IMS == MSI" (docs/design.md §1): every kind writes msg.data to msg.address when
 * it fires; they differ only in storage.
 *
 *  MSI-X: the table in a BAR, written as Linux's __pci_write_msi_msg does —
 *         mask if unmasked, address low, high, data, restore, read back.
 *  IMS, device kind: slots in a BAR (the IDXD irqchip's layout): address,
 *         data, read back; masking through the control word.
 *  IMS, memory kind: slots in guest RAM that the device reads by DMA; an
 *         unmask writes the control word in RAM, then rings the doorbell.
 */
#include "guest_internal.h"
#include "pvir/physmem.h"
#include "pvir/vm.h"
#include "pvir/vmm.h"

static uint64_t msix_entry(const struct irq_desc *d)
{
	const struct guest_pci_dev *dev = d->dev;

	return dev->bar_gpa[dev->msix_bar] + dev->msix_offset +
	       (uint64_t)d->index * PCI_MSIX_ENTRY_SIZE;
}

static uint64_t ims_slot_mmio(const struct irq_desc *d)
{
	const struct guest_pci_dev *dev = d->dev;

	return dev->bar_gpa[dev->ims.bar] + dev->ims.offset + (uint64_t)d->index * IMS_SLOT_SIZE;
}

static uint64_t ims_slot_ram(const struct irq_desc *d)
{
	return d->dev->ims_ctx_gpa + (uint64_t)d->index * IMS_SLOT_SIZE;
}

static void ram_write32(struct guest *g, uint64_t gpa, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	(void)!physmem_write(g->ram, gpa, b, sizeof(b)); /* our RAM, allocated by us */
}

void msix_enable(struct guest *g, struct guest_pci_dev *dev, bool on)
{
	uint16_t flags = on ? PCI_MSIX_FLAGS_ENABLE : 0;

	vm_cfg_write(g->vm, guest_vcpu(g, 0), dev->bdf, dev->msix_cap + PCI_MSIX_FLAGS, 2, flags);
	dev->msix_enabled = on;
}

void irq_write_ctrl(struct guest *g, struct irq_desc *d, bool mask)
{
	uint32_t ctrl = mask ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0;

	switch (d->bus) {
	case IRQ_BUS_MSIX:
		guest_mmio_write(g, msix_entry(d) + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, ctrl);
		(void)guest_mmio_read(g, msix_entry(d) + PCI_MSIX_ENTRY_DATA, 4); /* flush */
		break;
	case IRQ_BUS_IMS:
		if (d->dev->ims.storage == IMS_DEVICE) {
			guest_mmio_write(g, ims_slot_mmio(d) + IMS_SLOT_CTRL, 4, ctrl);
			break;
		}
		ram_write32(g, ims_slot_ram(d) + IMS_SLOT_CTRL, ctrl);
		if (!mask) /* the device cannot see RAM change: tell it */
			guest_mmio_write(g,
					 d->dev->bar_gpa[d->dev->ims.bar] + d->dev->ims.offset +
					     IMS_REG_DOORBELL,
					 4, d->index);
		break;
	}
}

void irq_mask(struct guest *g, struct irq_desc *d, bool mask)
{
	irq_write_ctrl(g, d, mask);
	d->masked = mask;
}

void irq_write_msg(struct guest *g, struct irq_desc *d)
{
	const struct msi_msg *m = &d->msg;
	bool unmasked = !d->masked;

	switch (d->bus) {
	case IRQ_BUS_MSIX:
		/* PCI: an entry's message may only change while it is masked */
		if (unmasked)
			guest_mmio_write(g, msix_entry(d) + PCI_MSIX_ENTRY_VECTOR_CTRL, 4,
					 PCI_MSIX_ENTRY_CTRL_MASKBIT);
		guest_mmio_write(g, msix_entry(d) + PCI_MSIX_ENTRY_LOWER_ADDR, 4, m->address_lo);
		guest_mmio_write(g, msix_entry(d) + PCI_MSIX_ENTRY_UPPER_ADDR, 4, m->address_hi);
		guest_mmio_write(g, msix_entry(d) + PCI_MSIX_ENTRY_DATA, 4, m->data);
		if (unmasked)
			guest_mmio_write(g, msix_entry(d) + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
		(void)guest_mmio_read(g, msix_entry(d) + PCI_MSIX_ENTRY_DATA, 4);
		break;
	case IRQ_BUS_IMS:
		if (d->dev->ims.storage == IMS_DEVICE) {
			guest_mmio_write(g, ims_slot_mmio(d) + IMS_SLOT_ADDR_LO, 4, m->address_lo);
			guest_mmio_write(g, ims_slot_mmio(d) + IMS_SLOT_ADDR_HI, 4, m->address_hi);
			guest_mmio_write(g, ims_slot_mmio(d) + IMS_SLOT_DATA, 4, m->data);
			(void)guest_mmio_read(g, ims_slot_mmio(d) + IMS_SLOT_DATA, 4);
			break;
		}
		ram_write32(g, ims_slot_ram(d) + IMS_SLOT_ADDR_LO, m->address_lo);
		ram_write32(g, ims_slot_ram(d) + IMS_SLOT_ADDR_HI, m->address_hi);
		ram_write32(g, ims_slot_ram(d) + IMS_SLOT_DATA, m->data);
		break;
	}
}

/* Memory-kind IMS: a context area in RAM, every slot masked, and the device told. */
void ims_setup(struct guest *g, struct guest_pci_dev *dev)
{
	uint64_t regs = dev->bar_gpa[dev->ims.bar] + dev->ims.offset;

	if (dev->ims.storage != IMS_MEMORY || dev->ims_ctx_gpa)
		return;
	dev->ims_ctx_gpa = guest_alloc_ram(g, (uint64_t)dev->ims.entries * IMS_SLOT_SIZE);
	for (unsigned i = 0; dev->ims_ctx_gpa && i < dev->ims.entries; i++)
		ram_write32(g, dev->ims_ctx_gpa + (uint64_t)i * IMS_SLOT_SIZE + IMS_SLOT_CTRL,
			    IMS_CTRL_MASK);
	guest_mmio_write(g, regs + IMS_REG_CTX_BASE, 8, dev->ims_ctx_gpa);
	guest_mmio_write(g, regs + IMS_REG_CTRL, 4, IMS_REG_CTRL_ENABLE);
}

/* Without the pvir service: the x86 vector domain's own message. */
_Static_assert(VM_MAX_VCPUS - 1 <= MSI_COMPAT_DEST_MAX, "a vCPU's APIC ID fits the message");

struct msi_msg compose_compat(const struct irq_desc *d)
{
	struct msi_compat c = {
	    .dest_id = d->vd.cpu, .vector = d->vd.vector, .delivery_mode = MSI_DM_FIXED};
	struct msi_msg m = {0};

	/*
	 * APIC IDs past 255 go in the extended destination ID, address bits 11:5
	 * (Linux's virt_ext_dest_id, when KVM offers KVM_FEATURE_MSI_EXT_DEST_ID):
	 * 15 bits, so every vCPU a VM may have fits and the encode cannot fail.
	 */
	(void)!msi_compat_encode(&c, &m);
	return m;
}
