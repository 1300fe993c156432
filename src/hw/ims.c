// SPDX-License-Identifier: MIT
/*
 * IMS storage, the two kinds of pvir/pci.h.
 *
 * Device kind: slots in a BAR, written by software with aligned DWORD/QWORD
 * accesses like the MSI-X table. A slot that fires while masked sets its
 * read-only pending bit (ctrl bit 1) and is sent when software unmasks it.
 *
 * Memory kind: the device holds only a context base, an enable bit and one
 * private pending bit per slot. When slot n fires it reads the 16 bytes at
 * base + 16n by DMA and acts on what it finds there, masked or not; software
 * that unmasks a slot in memory rings the doorbell with n so that a latched
 * interrupt is sent (memory writes are invisible to a device otherwise).
 */
#include "pci_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ims_init(struct pci_func *f)
{
	unsigned n = f->cfg.ims_entries;

	if (f->cfg.ims_storage == IMS_DEVICE) {
		f->ims_slots = calloc(n, sizeof(*f->ims_slots));
		if (!f->ims_slots)
			return -ENOMEM;
		for (unsigned i = 0; i < n; i++)
			f->ims_slots[i].ctrl = IMS_CTRL_MASK;
	} else if (f->cfg.ims_storage == IMS_MEMORY) {
		f->ims_pending = calloc(bitmap_words(n), sizeof(*f->ims_pending));
		if (!f->ims_pending)
			return -ENOMEM;
	}
	return 0;
}

static bool in_ims(const struct pci_func *f, unsigned bar, uint64_t off)
{
	uint64_t len = f->cfg.ims_storage == IMS_DEVICE
			   ? (uint64_t)f->cfg.ims_entries * IMS_SLOT_SIZE
			   : IMS_REGS_SIZE;

	return f->cfg.ims_storage != IMS_NONE &&
	       pci_in_range(bar, off, f->cfg.ims_bar, f->cfg.ims_offset, len);
}

/* ---- device kind -------------------------------------------------------- */

static void device_flush_slot(struct pci_func *f, unsigned n)
{
	struct irq_slot *s = &f->ims_slots[n];
	struct msi_msg msg;

	if (!(s->ctrl & IMS_CTRL_PENDING) || (s->ctrl & IMS_CTRL_MASK) || !pci_may_send(f))
		return;
	s->ctrl &= ~(uint32_t)IMS_CTRL_PENDING;
	msg = irq_slot_msg(s);
	pci_send_pending(f, &msg);
}

static int device_raise(struct pci_func *f, unsigned n, enum pci_irq_result *ret)
{
	struct irq_slot *s = &f->ims_slots[n];
	struct msi_msg msg = irq_slot_msg(s);
	uint64_t pending = (s->ctrl & IMS_CTRL_PENDING) ? 1 : 0;

	prefetch_next_line(s);

	*ret = pci_deliver_or_latch(f, true, s->ctrl & IMS_CTRL_MASK, &pending, 0, &msg);
	if (pending)
		s->ctrl |= IMS_CTRL_PENDING;
	return 0;
}

/* ---- memory kind -------------------------------------------------------- */

static int memory_read_slot(struct pci_func *f, unsigned n, struct irq_slot *ret)
{
	uint8_t raw[IMS_SLOT_SIZE];
	uint32_t v[4];

	if (!f->dma.read || f->dma.read(f->dma.ctx, f->ims_ctx_base + (uint64_t)n * IMS_SLOT_SIZE,
					raw, sizeof(raw)))
		return -EFAULT;
	for (unsigned i = 0; i < 4; i++)
		v[i] = (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
		       (uint32_t)raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;
	*ret = (struct irq_slot){.addr_lo = v[0], .addr_hi = v[1], .data = v[2], .ctrl = v[3]};
	return 0;
}

static bool memory_enabled(const struct pci_func *f)
{
	return f->ims_ctrl & IMS_REG_CTRL_ENABLE;
}

static int memory_raise(struct pci_func *f, unsigned n, enum pci_irq_result *ret)
{
	struct irq_slot s;
	struct msi_msg msg;

	if (!memory_enabled(f) || !pci_bus_master(f)) {
		*ret = pci_deliver_or_latch(f, false, false, f->ims_pending, n, NULL);
		return 0;
	}
	if (f->stopped) { /* no DMA while stopped: the slot is read when it is sent */
		*ret = pci_deliver_or_latch(f, true, true, f->ims_pending, n, NULL);
		return 0;
	}
	if (memory_read_slot(f, n, &s)) {
		f->stats.dma_errors++;
		*ret = PCI_IRQ_DMA_ERROR;
		return 0;
	}
	msg = irq_slot_msg(&s);
	*ret = pci_deliver_or_latch(f, true, s.ctrl & IMS_CTRL_MASK, f->ims_pending, n, &msg);
	return 0;
}

/* The doorbell: re-read slot @n and send its latched interrupt if unmasked. */
static void memory_doorbell(struct pci_func *f, uint32_t n)
{
	struct irq_slot s;
	struct msi_msg msg;

	if (n >= f->cfg.ims_entries || !bitmap_test(f->ims_pending, n) || !memory_enabled(f) ||
	    !pci_may_send(f))
		return;
	if (memory_read_slot(f, n, &s)) {
		f->stats.dma_errors++;
		return; /* still pending: a later doorbell can retry */
	}
	if (s.ctrl & IMS_CTRL_MASK)
		return;
	bitmap_assign(f->ims_pending, n, false);
	msg = irq_slot_msg(&s);
	pci_send_pending(f, &msg);
}

static int memory_reg_read(struct pci_func *f, uint64_t rel, unsigned size, uint64_t *ret)
{
	uint64_t regs[2] = {f->ims_ctx_base, f->ims_ctrl};

	if (!dword_or_qword_aligned(rel, size))
		return -EINVAL;
	*ret = regs[rel / 8];
	if (size == 4)
		*ret = (uint32_t)(*ret >> (8 * (rel % 8)));
	return 0;
}

static int memory_reg_write(struct pci_func *f, uint64_t rel, unsigned size, uint64_t val)
{
	if (!dword_or_qword_aligned(rel, size))
		return -EINVAL;
	if (rel == IMS_REG_CTX_BASE && size == 8)
		f->ims_ctx_base = val;
	else if (rel == IMS_REG_CTX_BASE)
		f->ims_ctx_base = bits_set(f->ims_ctx_base, 31, 0, val);
	else if (rel == IMS_REG_CTX_BASE + 4)
		f->ims_ctx_base = bits_set(f->ims_ctx_base, 63, 32, val);
	else if (rel == IMS_REG_CTRL)
		f->ims_ctrl = (uint32_t)val & IMS_REG_CTRL_ENABLE;
	else if (rel == IMS_REG_DOORBELL)
		memory_doorbell(f, (uint32_t)val);
	return 0;
}

/* Every latched slot that is unmasked goes out: device slots, and memory slots re-read. */
void ims_flush_pending(struct pci_func *f)
{
	for (unsigned n = 0; n < f->cfg.ims_entries; n++) {
		if (f->cfg.ims_storage == IMS_DEVICE)
			device_flush_slot(f, n);
		else if (bitmap_test(f->ims_pending, n))
			memory_doorbell(f, n);
	}
}

/* ---- dispatch ----------------------------------------------------------- */

int ims_mmio_read(struct pci_func *f, unsigned bar, uint64_t off, unsigned size, uint64_t *ret)
{
	uint64_t rel = off - f->cfg.ims_offset;

	if (!in_ims(f, bar, off))
		return -ENOENT;
	if (f->cfg.ims_storage == IMS_MEMORY)
		return memory_reg_read(f, rel, size, ret);
	return irq_slots_read(f->ims_slots, rel, size, ret);
}

int ims_mmio_write(struct pci_func *f, unsigned bar, uint64_t off, unsigned size, uint64_t val)
{
	uint64_t rel = off - f->cfg.ims_offset;
	int err;

	if (!in_ims(f, bar, off))
		return -ENOENT;
	if (f->cfg.ims_storage == IMS_MEMORY)
		return memory_reg_write(f, rel, size, val);
	err = irq_slots_write(f->ims_slots, rel, size, val, IMS_CTRL_MASK);
	if (!err)
		device_flush_slot(f, (unsigned)(rel / IMS_SLOT_SIZE));
	return err;
}

int pci_func_raise_ims(struct pci_func *f, unsigned n, enum pci_irq_result *ret)
{
	if (f->cfg.ims_storage == IMS_NONE || n >= f->cfg.ims_entries)
		return -EINVAL;
	if (f->cfg.ims_storage == IMS_DEVICE)
		return device_raise(f, n, ret);
	return memory_raise(f, n, ret);
}
