// SPDX-License-Identifier: MIT
/*
 * Mediated interrupt storage (docs/design.md §5): a guest that opted in to the
 * pvir hypercalls, on a function whose requester-id another VM also holds
 * (SIOV interfaces told apart only by PASID, or functions a bridge aliases).
 * Source validation checks the requester-id alone, so a handle the host
 * granted to the other VM's function would pass it: such storage is never
 * mapped into the guest. Every write to it exits, and the VMM lets a
 * message reach the device only if it is zero or exactly a message the
 * service granted to this very function (a VFIO vector of it with a
 * trigger). Anything else leaves the device's entry masked, so nothing is
 * sent with it; an interrupt the device raises meanwhile latches, and goes
 * when the guest puts a granted message back and unmasks. The refusal is
 * counted (foreign_refused): an MMIO write cannot return an error.
 *
 * Entries have the MSI-X layout in both kinds of storage the VMM can trap:
 * address low, high, data, control with the mask in bit 0. IMS in guest
 * memory cannot be trapped, so a function with it shares its requester-id
 * across VMs only if it enforces a handle window (host_rid_claim() refuses
 * it otherwise), and then its storage is direct, never mediated here.
 */
#include <errno.h>
#include <stdlib.h>

#include "vm_internal.h"

#define CTRL_DWORD 3
#define MASK_BIT   0x1u

/* A shadow for each kind of storage the device has in a BAR, filled by @fill. */
static int med_alloc(struct assigned_dev *d,
		     void (*fill)(struct assigned_dev *, enum vfio_kind, struct med_store *))
{
	for (unsigned k = 0; k < VFIO_KINDS; k++) {
		struct med_store *m = &d->med[k];
		unsigned bar;
		uint64_t off;

		if (!d->vfio[k].count || !vfio_entry_at(d, k, 0, &bar, &off))
			continue;
		*m = (struct med_store){.n = d->vfio[k].count, .bar = bar, .off = off};
		m->e = calloc(m->n, sizeof(*m->e));
		m->held = calloc(m->n, sizeof(*m->held));
		if (!m->e || !m->held) {
			mediate_free(d);
			return -ENOMEM;
		}
		fill(d, (enum vfio_kind)k, m);
	}
	return 0;
}

/* From the start: every entry masked, on the device too. */
static void fill_masked(struct assigned_dev *d, enum vfio_kind k, struct med_store *m)
{
	for (unsigned n = 0; n < m->n; n++) {
		m->e[n][CTRL_DWORD] = MASK_BIT;
		vfio_entry_store(d, k, n, CTRL_DWORD, MASK_BIT);
	}
}

/* Over live storage: the guest wrote the device directly until now. */
static void fill_from_device(struct assigned_dev *d, enum vfio_kind k, struct med_store *m)
{
	for (unsigned n = 0; n < m->n; n++)
		for (unsigned dw = 0; dw <= CTRL_DWORD; dw++)
			m->e[n][dw] = vfio_entry_load(d, k, n, dw);
}

int mediate_init(struct assigned_dev *d)
{
	return med_alloc(d, fill_masked);
}

int mediate_adopt(struct assigned_dev *d)
{
	return med_alloc(d, fill_from_device);
}

void mediate_free(struct assigned_dev *d)
{
	for (unsigned k = 0; k < VFIO_KINDS; k++) {
		free(d->med[k].e);
		free(d->med[k].held);
		d->med[k] = (struct med_store){0};
	}
}

struct med_store *mediate_at(struct assigned_dev *d, unsigned bar, uint64_t off, uint64_t *ret_rel,
			     enum vfio_kind *ret_kind)
{
	for (unsigned k = 0; k < VFIO_KINDS; k++) {
		struct med_store *m = &d->med[k];

		if (m->e && m->bar == bar && off >= m->off &&
		    off - m->off < (uint64_t)m->n * PCI_MSIX_ENTRY_SIZE) {
			*ret_rel = off - m->off;
			*ret_kind = (enum vfio_kind)k;
			return m;
		}
	}
	return NULL;
}

/* Zero (an entry being cleared), or exactly the message of a vector granted to @d. */
static bool granted(const struct assigned_dev *d, enum vfio_kind k, const struct msi_msg *m)
{
	const struct vfio_index *x = &d->vfio[k];

	if (!m->address_lo && !m->address_hi && !m->data)
		return true;
	for (unsigned n = 0; n < x->count; n++) {
		struct msi_msg g;

		if (x->v[n].trigger < 0 || !x->v[n].hi)
			continue;
		g = host_irq_msg(x->v[n].hi);
		if (msi_msg_equal(&g, m))
			return true;
	}
	return false;
}

static void store_dword(uint32_t *entry, unsigned dw, uint32_t val)
{
	entry[dw] = dw == CTRL_DWORD ? val & MASK_BIT : val;
}

/*
 * The device's entry follows the guest's only while its message is granted.
 * A refusal of the guest's write (@guest) is counted once, when a live entry
 * starts being held masked; the host's own holds (a revoke) are not refusals.
 */
static void settle(struct assigned_dev *d, struct med_store *m, enum vfio_kind k, unsigned n,
		   bool guest)
{
	const uint32_t *e = m->e[n];
	struct msi_msg msg = {e[0], e[1], e[2]};
	bool live = !(e[CTRL_DWORD] & MASK_BIT);

	if (!granted(d, k, &msg)) {
		vfio_entry_store(d, k, n, CTRL_DWORD, MASK_BIT);
		d->vm->stats.foreign_refused += guest && live && !m->held[n];
		m->held[n] = live;
		return;
	}
	m->held[n] = false;
	for (unsigned dw = 0; dw < CTRL_DWORD; dw++)
		vfio_entry_store(d, k, n, dw, e[dw]);
	vfio_entry_store(d, k, n, CTRL_DWORD, e[CTRL_DWORD]);
}

void mediate_settle_all(struct assigned_dev *d)
{
	for (unsigned k = 0; k < VFIO_KINDS; k++)
		for (unsigned n = 0; d->med[k].e && n < d->med[k].n; n++)
			settle(d, &d->med[k], (enum vfio_kind)k, n, false);
}

bool mediate_all_granted(struct assigned_dev *d)
{
	for (unsigned k = 0; k < VFIO_KINDS; k++)
		for (unsigned n = 0; d->med[k].e && n < d->med[k].n; n++) {
			const uint32_t *e = d->med[k].e[n];

			if (!granted(d, (enum vfio_kind)k, &(struct msi_msg){e[0], e[1], e[2]}))
				return false;
		}
	return true;
}

void mediate_write(struct assigned_dev *d, struct med_store *m, enum vfio_kind k, uint64_t rel,
		   unsigned size, uint64_t val)
{
	unsigned n = (unsigned)(rel / PCI_MSIX_ENTRY_SIZE);
	unsigned dw = (unsigned)(rel % PCI_MSIX_ENTRY_SIZE) / 4;

	if ((size != 4 && size != 8) || rel % size)
		return; /* as the table's access rules drop it */
	store_dword(m->e[n], dw, (uint32_t)val);
	if (size == 8)
		store_dword(m->e[n], dw + 1, (uint32_t)(val >> 32));
	settle(d, m, k, n, true);
}

uint64_t mediate_read(const struct med_store *m, uint64_t rel, unsigned size)
{
	const uint32_t *e = m->e[rel / PCI_MSIX_ENTRY_SIZE];
	unsigned dw = (unsigned)(rel % PCI_MSIX_ENTRY_SIZE) / 4;

	if ((size != 4 && size != 8) || rel % size)
		return size >= 8 ? UINT64_MAX : bits_mask(8 * size - 1, 0);
	return size == 8 ? e[dw] | (uint64_t)e[dw + 1] << 32 : e[dw];
}
