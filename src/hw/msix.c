// SPDX-License-Identifier: MIT
/*
 * MSI-X table and PBA (PCI 3.0 §6.8.2), and the 16-byte slot accessors that
 * IMS device storage shares with the table.
 *
 * Semantics kept from the spec: entries reset masked; a vector that fires
 * while masked (entry mask or function mask) sets its PBA bit and is sent
 * when unmasked; the PBA is read-only; the message sent is whatever the
 * entry holds when it is sent. Accesses must be aligned DWORDs or QWORDs;
 * the spec leaves others undefined, and we refuse them (-EINVAL, counted).
 */
#include "pci_internal.h"

#include <errno.h>
#include <stdlib.h>

#define SLOT_DWORDS 4

static uint32_t *slot_dword(struct irq_slot *s, unsigned field)
{
	uint32_t *fields[SLOT_DWORDS] = {&s->addr_lo, &s->addr_hi, &s->data, &s->ctrl};

	return fields[field / 4];
}

static bool slot_access_ok(uint64_t offset, unsigned size)
{
	return dword_or_qword_aligned(offset, size);
}

int irq_slots_read(const struct irq_slot *slots, uint64_t offset, unsigned size, uint64_t *ret)
{
	struct irq_slot s;
	unsigned field = offset % sizeof(s);

	if (!slot_access_ok(offset, size))
		return -EINVAL;
	s = slots[offset / sizeof(s)];
	*ret = *slot_dword(&s, field);
	if (size == 8)
		*ret |= (uint64_t)*slot_dword(&s, field + 4) << 32;
	return 0;
}

static void write_dword(struct irq_slot *s, unsigned field, uint32_t v, uint32_t ctrl_wmask)
{
	uint32_t *d = slot_dword(s, field);

	if (field == PCI_MSIX_ENTRY_VECTOR_CTRL)
		v = (*d & ~ctrl_wmask) | (v & ctrl_wmask);
	*d = v;
}

int irq_slots_write(struct irq_slot *slots, uint64_t offset, unsigned size, uint64_t val,
		    uint32_t ctrl_wmask)
{
	struct irq_slot *s = &slots[offset / sizeof(*slots)];
	unsigned field = offset % sizeof(*slots);

	if (!slot_access_ok(offset, size))
		return -EINVAL;
	write_dword(s, field, (uint32_t)val, ctrl_wmask);
	if (size == 8)
		write_dword(s, field + 4, (uint32_t)(val >> 32), ctrl_wmask);
	return 0;
}

struct msi_msg irq_slot_msg(const struct irq_slot *s)
{
	return (struct msi_msg){
	    .address_lo = s->addr_lo, .address_hi = s->addr_hi, .data = s->data};
}

int msix_init(struct pci_func *f)
{
	unsigned n = f->cfg.msix_vectors;

	if (!n)
		return 0;
	f->msix_table = calloc(n, sizeof(*f->msix_table));
	f->msix_pba = calloc(bitmap_words(n), sizeof(*f->msix_pba));
	if (!f->msix_table || !f->msix_pba)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		f->msix_table[i].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	return 0;
}

static uint16_t msix_flags(const struct pci_func *f)
{
	return (uint16_t)pci_cfg_get(f, f->msix_cap + PCI_MSIX_FLAGS, 2);
}

static bool msix_enabled(const struct pci_func *f)
{
	return msix_flags(f) & PCI_MSIX_FLAGS_ENABLE;
}

static bool msix_masked(const struct pci_func *f, unsigned n)
{
	return (msix_flags(f) & PCI_MSIX_FLAGS_MASKALL) ||
	       (f->msix_table[n].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static uint64_t table_len(const struct pci_func *f)
{
	return (uint64_t)f->cfg.msix_vectors * PCI_MSIX_ENTRY_SIZE;
}

static uint64_t pba_len(const struct pci_func *f)
{
	return 8 * (uint64_t)bitmap_words(f->cfg.msix_vectors);
}

static bool in_table(const struct pci_func *f, unsigned bar, uint64_t off)
{
	return f->cfg.msix_vectors && pci_in_range(bar, off, f->cfg.msix_table_bar,
						   f->cfg.msix_table_offset, table_len(f));
}

static bool in_pba(const struct pci_func *f, unsigned bar, uint64_t off)
{
	return f->cfg.msix_vectors &&
	       pci_in_range(bar, off, f->cfg.msix_pba_bar, f->cfg.msix_pba_offset, pba_len(f));
}

/* Sends entry @n's latched vector if it is pending and no longer masked. */
static void flush_entry(struct pci_func *f, unsigned n)
{
	struct msi_msg msg;

	if (!bitmap_test(f->msix_pba, n) || msix_masked(f, n) || !msix_enabled(f) ||
	    !pci_may_send(f))
		return;
	bitmap_assign(f->msix_pba, n, false);
	msg = irq_slot_msg(&f->msix_table[n]);
	pci_send_pending(f, &msg);
}

void msix_flush_pending(struct pci_func *f)
{
	for (unsigned w = 0; w < bitmap_words(f->cfg.msix_vectors); w++)
		for (uint64_t bits = f->msix_pba[w]; bits; bits &= bits - 1)
			flush_entry(f, w * 64 + (unsigned)__builtin_ctzll(bits));
}

int msix_mmio_read(struct pci_func *f, unsigned bar, uint64_t off, unsigned size, uint64_t *ret)
{
	uint64_t rel;

	if (in_table(f, bar, off))
		return irq_slots_read(f->msix_table, off - f->cfg.msix_table_offset, size, ret);
	if (!in_pba(f, bar, off))
		return -ENOENT;
	rel = off - f->cfg.msix_pba_offset;
	if (!slot_access_ok(rel, size))
		return -EINVAL;
	*ret = f->msix_pba[rel / 8];
	if (size == 4)
		*ret = (uint32_t)(*ret >> (8 * (rel % 8)));
	return 0;
}

int msix_mmio_write(struct pci_func *f, unsigned bar, uint64_t off, unsigned size, uint64_t val)
{
	uint64_t rel;
	int err;

	if (in_pba(f, bar, off)) /* read-only; software must never write it */
		return slot_access_ok(off - f->cfg.msix_pba_offset, size) ? 0 : -EINVAL;
	if (!in_table(f, bar, off))
		return -ENOENT;
	rel = off - f->cfg.msix_table_offset;
	err = irq_slots_write(f->msix_table, rel, size, val, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	if (!err)
		flush_entry(f, (unsigned)(rel / PCI_MSIX_ENTRY_SIZE));
	return err;
}

int pci_func_raise_msix(struct pci_func *f, unsigned n, enum pci_irq_result *ret)
{
	struct msi_msg msg;

	if (n >= f->cfg.msix_vectors)
		return -EINVAL;
	msg = irq_slot_msg(&f->msix_table[n]);
	prefetch_next_line(&f->msix_table[n]);
	*ret = pci_deliver_or_latch(f, msix_enabled(f), msix_masked(f, n), f->msix_pba, n, &msg);
	return 0;
}
