// SPDX-License-Identifier: MIT
/*
 * MSI-X table emulation, as VFIO users do it today without a vIOMMU
 * (FACTS §6.5, §7.3): the guest's table is virtual; every access to it is a
 * trapped exit. When an entry is enabled and unmasked, the VMM decodes the
 * guest's compatibility-format message — (APIC ID, vector) — into a host
 * IRTE posted to that vCPU, and writes the host's message into the physical
 * entry itself. Masking is mirrored onto the physical entry, so a vector that
 * fires while masked latches in the physical PBA and is sent on unmask.
 *
 * An MMIO write cannot fail, so a message the VMM cannot honour (not an
 * interrupt, remappable format, no such vCPU, quota or table full) leaves the
 * physical entry masked and is only counted (emul_errors): the error the
 * hypercall design returns to the caller is lost here, as it is today.
 */
#include <stdlib.h>

#include "pvir/hcall_abi.h"
#include "vm_internal.h"

#define CTRL_DWORD 3

static unsigned table_size(const struct assigned_dev *d)
{
	uint8_t cap = pci_find_capability(d->func, PCI_CAP_ID_MSIX);

	return cap ? (pci_cfg_read(d->func, cap + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1
		   : 0;
}

static uint64_t table_offset(const struct assigned_dev *d, unsigned *ret_bar)
{
	uint32_t t = pci_cfg_read(
	    d->func, pci_find_capability(d->func, PCI_CAP_ID_MSIX) + PCI_MSIX_TABLE, 4);

	*ret_bar = t & PCI_MSIX_BIR;
	return t & ~PCI_MSIX_BIR;
}

int msix_emul_init(struct assigned_dev *d)
{
	unsigned n = table_size(d);

	if (!n)
		return 0;
	d->emul.vtable = calloc(n, sizeof(*d->emul.vtable));
	d->emul.irqs = calloc(n, sizeof(*d->emul.irqs));
	if (!d->emul.vtable || !d->emul.irqs) {
		msix_emul_free(d);
		return -1;
	}
	for (unsigned i = 0; i < n; i++)
		d->emul.vtable[i][CTRL_DWORD] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	return 0;
}

void msix_emul_free(struct assigned_dev *d)
{
	for (unsigned i = 0; d->emul.irqs && i < table_size(d); i++) {
		if (!d->emul.irqs[i])
			continue;
		host_irq_free(d->vm->host, d->emul.irqs[i]);
		vm_irte_uncharge(d->vm);
	}
	free(d->emul.vtable);
	free(d->emul.irqs);
	d->emul.vtable = NULL;
	d->emul.irqs = NULL;
}

bool msix_emul_in_use(const struct assigned_dev *d)
{
	for (unsigned i = 0; d->emul.irqs && i < table_size(d); i++)
		if (d->emul.irqs[i])
			return true;
	return false;
}

bool msix_emul_active(const struct assigned_dev *d)
{
	return d->emul.vtable && d->msix_mode == VMM_STORAGE_TRAPPED;
}

/* Host-side write to the physical table (the host kernel's, not an exit). */
static void phys_write(struct assigned_dev *d, unsigned n, unsigned dword, uint32_t val)
{
	unsigned bar;
	uint64_t at = table_offset(d, &bar) + (uint64_t)n * PCI_MSIX_ENTRY_SIZE + 4 * dword;

	(void)!pci_mmio_write(d->func, bar, at, 4, val); /* aligned, in the table */
}

static void phys_mask(struct assigned_dev *d, unsigned n)
{
	phys_write(d, n, CTRL_DWORD, PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

/* The vCPU and vector a guest's compatibility-format message asks for, or NULL. */
static struct vcpu *decode_guest_msg(struct assigned_dev *d, unsigned n, uint8_t *ret_vector)
{
	struct msi_msg m = {d->emul.vtable[n][0], d->emul.vtable[n][1], d->emul.vtable[n][2]};
	struct msi_compat c;

	if (!msi_is_interrupt_address(&m) || m.address_hi || msi_format_of(&m) != MSI_FORMAT_COMPAT)
		return NULL;
	msi_compat_decode(&m, &c);
	if (c.dm || c.trigger || c.vector < PVIR_FIRST_VECTOR ||
	    (c.delivery_mode != MSI_DM_FIXED && c.delivery_mode != MSI_DM_LOWPRI))
		return NULL;
	*ret_vector = c.vector;
	return vm_vcpu_by_apic_id(d->vm, c.dest_id);
}

/* Gives entry @n a host IRTE aimed where the guest's message points. */
static bool program_entry(struct assigned_dev *d, unsigned n)
{
	struct host_irq **hi = &d->emul.irqs[n];
	uint8_t vector;
	struct vcpu *v = decode_guest_msg(d, n, &vector);
	struct msi_msg m;

	if (!v)
		return false;
	if (!*hi) {
		if (vm_irte_charge(d->vm))
			return false;
		if (host_irq_alloc(d->vm->host, pci_func_rid(d->func), hi)) {
			vm_irte_uncharge(d->vm);
			return false;
		}
	}
	if (host_irq_target(d->vm->host, *hi, v, vector, false))
		return false;
	d->vm->stats.emul_programmed++;
	m = host_irq_msg(*hi);
	phys_write(d, n, 0, m.address_lo);
	phys_write(d, n, 1, m.address_hi);
	phys_write(d, n, 2, m.data);
	return true;
}

static void update_entry(struct assigned_dev *d, unsigned n)
{
	struct msix_emul *e = &d->emul;

	if (!e->enabled || e->maskall || (e->vtable[n][CTRL_DWORD] & PCI_MSIX_ENTRY_CTRL_MASKBIT)) {
		phys_mask(d, n);
		return;
	}
	if (!program_entry(d, n)) {
		d->vm->stats.emul_errors++;
		phys_mask(d, n);
		return;
	}
	phys_write(d, n, CTRL_DWORD, 0);
}

static bool access_ok(uint64_t off, unsigned size)
{
	return (size == 4 || size == 8) && off % size == 0;
}

uint64_t msix_emul_read(struct assigned_dev *d, uint64_t off, unsigned size)
{
	const uint32_t *entry = d->emul.vtable[off / PCI_MSIX_ENTRY_SIZE];
	unsigned dw = (unsigned)(off % PCI_MSIX_ENTRY_SIZE) / 4;

	if (!access_ok(off, size))
		return size >= 8 ? UINT64_MAX : bits_mask(8 * size - 1, 0);
	return size == 8 ? entry[dw] | (uint64_t)entry[dw + 1] << 32 : entry[dw];
}

static void store_dword(uint32_t *entry, unsigned dw, uint32_t val)
{
	/* Vector control: only the mask bit is implemented; the rest reads 0. */
	entry[dw] = dw == CTRL_DWORD ? val & PCI_MSIX_ENTRY_CTRL_MASKBIT : val;
}

void msix_emul_write(struct assigned_dev *d, uint64_t off, unsigned size, uint64_t val)
{
	unsigned n = (unsigned)(off / PCI_MSIX_ENTRY_SIZE);
	unsigned dw = (unsigned)(off % PCI_MSIX_ENTRY_SIZE) / 4;
	uint32_t *entry = d->emul.vtable[n];
	bool was_masked = entry[CTRL_DWORD] & PCI_MSIX_ENTRY_CTRL_MASKBIT;

	if (!access_ok(off, size)) {
		d->vm->stats.emul_errors++;
		return;
	}
	store_dword(entry, dw, (uint32_t)val);
	if (size == 8)
		store_dword(entry, dw + 1, (uint32_t)(val >> 32));
	/*
	 * Act on unmask, on mask, and on a message change of an unmasked entry
	 * (undefined for real devices, harmless to honour).
	 */
	if (dw + size / 4 > CTRL_DWORD || !was_masked)
		update_entry(d, n);
}

/* MSI-X off: VFIO frees every host vector (SET_IRQS, DATA_NONE, count 0). */
static void release_all(struct assigned_dev *d)
{
	for (unsigned n = 0; n < table_size(d); n++) {
		if (!d->emul.irqs[n])
			continue;
		host_irq_free(d->vm->host, d->emul.irqs[n]);
		vm_irte_uncharge(d->vm);
		d->emul.irqs[n] = NULL;
	}
}

void msix_emul_control(struct assigned_dev *d, uint16_t flags)
{
	uint8_t cap = pci_find_capability(d->func, PCI_CAP_ID_MSIX);

	d->emul.enabled = flags & PCI_MSIX_FLAGS_ENABLE;
	d->emul.maskall = flags & PCI_MSIX_FLAGS_MASKALL;
	/* The physical function: enabled with the guest, every entry masked first. */
	for (unsigned n = 0; n < table_size(d); n++)
		update_entry(d, n);
	if (!d->emul.enabled)
		release_all(d);
	pci_cfg_write(d->func, cap + PCI_MSIX_FLAGS, 2,
		      flags & (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
}
