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
 *  MSI:   the capability in config space, every access an exit in any design:
 *         one message for all the vectors, written by the first only (Linux's
 *         pci_msi_domain_write_msg()); vector n sends it with n in the low data
 *         bits. Per-vector mask bits where the capability has them.
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

static uint16_t msi_cap_read16(struct guest *g, const struct guest_pci_dev *dev, unsigned at)
{
	return (uint16_t)vm_cfg_read(g->vm, guest_vcpu(g, 0), dev->bdf,
				     (uint16_t)(dev->msi_cap + at), 2);
}

static void msi_cap_write(struct guest *g, const struct guest_pci_dev *dev, unsigned at,
			  unsigned size, uint32_t val)
{
	vm_cfg_write(g->vm, guest_vcpu(g, 0), dev->bdf, (uint16_t)(dev->msi_cap + at), size, val);
}

/* pci_msi_set_enable(): read Message Control, write it with Enable as asked. */
void msi_set_enable(struct guest *g, struct guest_pci_dev *dev, bool on)
{
	uint16_t ctl = msi_cap_read16(g, dev, PCI_MSI_FLAGS) & ~PCI_MSI_FLAGS_ENABLE;

	msi_cap_write(g, dev, PCI_MSI_FLAGS, 2, ctl | (on ? PCI_MSI_FLAGS_ENABLE : 0));
}

void msi_update_mask(struct guest *g, struct guest_pci_dev *dev, uint32_t clear, uint32_t set)
{
	if (!dev->msi_maskbit)
		return; /* pci_msi_mask() on a capability without mask bits: nothing */
	dev->msi_mask = (dev->msi_mask & ~clear) | set;
	msi_cap_write(g, dev, dev->msi_64bit ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32, 4, dev->msi_mask);
}

/*
 * __pci_write_msi_msg() for MSI: Message Control read and written with Multiple
 * Message Enable, the address, the data, and a read of Message Control so that the
 * writes have reached the device.
 */
static void msi_write_msg(struct guest *g, struct guest_pci_dev *dev, const struct msi_msg *m)
{
	uint16_t ctl = msi_cap_read16(g, dev, PCI_MSI_FLAGS) & ~PCI_MSI_FLAGS_QSIZE;

	msi_cap_write(g, dev, PCI_MSI_FLAGS, 2, ctl | dev->msi_multiple << 4);
	msi_cap_write(g, dev, PCI_MSI_ADDRESS_LO, 4, m->address_lo);
	if (dev->msi_64bit) {
		msi_cap_write(g, dev, PCI_MSI_ADDRESS_HI, 4, m->address_hi);
		msi_cap_write(g, dev, PCI_MSI_DATA_64, 2, m->data & 0xffff);
	} else {
		msi_cap_write(g, dev, PCI_MSI_DATA_32, 2, m->data & 0xffff);
	}
	(void)msi_cap_read16(g, dev, PCI_MSI_FLAGS);
}

void irq_write_ctrl(struct guest *g, struct irq_desc *d, bool mask)
{
	uint32_t ctrl = mask ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0;

	switch (d->bus) {
	case IRQ_BUS_MSI:
		msi_update_mask(g, d->dev, mask ? 0 : UINT32_C(1) << d->index,
				mask ? UINT32_C(1) << d->index : 0);
		break;
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
	case IRQ_BUS_MSI:
		if (d->index == 0) /* the capability holds vector 0's message, for all of them */
			msi_write_msg(g, d->dev, m);
		break;
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
