// SPDX-License-Identifier: MIT
/*
 * Trapped interrupt storage, as VFIO users emulate it today (FACTS §6.5,
 * §7.3; PERF-FACTS A8, A10): the guest's entries are virtual, every access
 * to them is a trapped exit, and the VMM turns each entry the guest enables
 * into a host IRTE and writes the host's message into the physical entry
 * itself. Two kinds of storage have the same entry layout (address low,
 * high, data, control with the mask in bit 0) and share this code:
 *
 *  - the MSI-X table, which PCI defines: function-level enable and mask-all
 *    come from config space;
 *  - an accelerator's device-resident IMS slots: device-specific knowledge
 *    (where the slots are, what the control word means), as a VFIO variant
 *    driver for the device would have it. Memory-resident IMS cannot be
 *    emulated this way: the device reads it by DMA, and no write traps.
 *
 * What the guest's message means depends on the design: compatibility
 * format (APIC ID, vector) without a vIOMMU (`trap`), or a handle into the
 * guest's own VT-d IR table when its emulated vIOMMU has IR on (`vir-emul`,
 * viommu.c). Either way the VMM pays what QEMU and KVM pay: a GSI route per
 * entry in use (at most VM_MAX_ROUTES, KVM_MAX_IRQ_ROUTES), a VFIO vector
 * setup when an entry is first used, and a route commit — KVM rebuilds the
 * VM's whole route table — whenever a route is added or changes.
 *
 * An MMIO write cannot fail, so a message the VMM cannot honour (not an
 * interrupt, no such vCPU, a vIRTE that faults, quota, table or routes full)
 * leaves the physical entry masked and is only counted (emul_errors): the
 * error the hypercall design returns to the caller is lost here, as it is
 * today.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/hcall_abi.h"
#include "vm_internal.h"

#define CTRL_DWORD 3
#define MASK_BIT   0x1u /* PCI_MSIX_ENTRY_CTRL_MASKBIT and IMS_CTRL_MASK alike */

/* ---- KVM's GSI routes ------------------------------------------------------- */

static int route_add(struct vm *vm)
{
	if (vm->stats.routes == VM_MAX_ROUTES) {
		vm->stats.route_refusals++;
		return -ENOSPC;
	}
	vm->stats.routes++;
	return 0;
}

/* KVM_SET_GSI_ROUTING: the whole table again, whatever changed. */
static void route_commit(struct vm *vm)
{
	vm->stats.route_commits++;
	vm->stats.route_commit_routes += vm->stats.routes;
}

/* ---- the stores -------------------------------------------------------------- */

static bool store_init(struct emul_store *s, bool ims, unsigned bar, uint64_t off, unsigned n)
{
	*s = (struct emul_store){.ims = ims, .bar = bar, .off = off, .n = n, .enabled = ims};
	s->vtable = calloc(n, sizeof(*s->vtable));
	s->irqs = calloc(n, sizeof(*s->irqs));
	s->routed = calloc(n, sizeof(*s->routed));
	if (!s->vtable || !s->irqs || !s->routed)
		return false;
	for (unsigned i = 0; i < n; i++)
		s->vtable[i][CTRL_DWORD] = MASK_BIT;
	return true;
}

static void release(struct assigned_dev *d, struct emul_store *s, unsigned n)
{
	host_irq_free(d->vm->host, s->irqs[n]);
	vm_irte_uncharge(d->vm);
	d->vm->stats.routes--;
	s->irqs[n] = NULL;
}

static void store_free(struct assigned_dev *d, struct emul_store *s)
{
	for (unsigned i = 0; s->irqs && i < s->n; i++)
		if (s->irqs[i])
			release(d, s, i);
	free(s->vtable);
	free(s->irqs);
	free(s->routed);
	*s = (struct emul_store){0};
}

int irq_emul_init(struct assigned_dev *d)
{
	uint8_t cap = pci_find_capability(d->func, PCI_CAP_ID_MSIX);
	unsigned bar;
	uint64_t off, len;
	bool ok = true;

	if (cap) {
		uint32_t t = pci_cfg_read(d->func, cap + PCI_MSIX_TABLE, 4);
		unsigned n =
		    (pci_cfg_read(d->func, cap + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1;

		ok = store_init(&d->msix, false, t & PCI_MSIX_BIR, t & ~PCI_MSIX_BIR, n);
	}
	/* the device-specific part: only device-resident slots can be trapped */
	if (ok && pci_func_ims(d->func, &bar, &off, &len) &&
	    pci_func_ims_storage(d->func) == IMS_DEVICE)
		ok = store_init(&d->ims, true, bar, off, (unsigned)(len / IMS_SLOT_SIZE));
	if (!ok) {
		irq_emul_free(d);
		return -ENOMEM;
	}
	return 0;
}

void irq_emul_free(struct assigned_dev *d)
{
	store_free(d, &d->msix);
	store_free(d, &d->ims);
}

static bool store_in_use(const struct emul_store *s)
{
	for (unsigned i = 0; s->irqs && i < s->n; i++)
		if (s->irqs[i])
			return true;
	return false;
}

bool irq_emul_in_use(const struct assigned_dev *d)
{
	return store_in_use(&d->msix) || store_in_use(&d->ims);
}

bool irq_emul_msix_active(const struct assigned_dev *d)
{
	return d->msix.vtable && d->msix_mode == VMM_STORAGE_TRAPPED;
}

static bool store_covers(const struct emul_store *s, unsigned bar, uint64_t off)
{
	return s->vtable && s->bar == bar && off >= s->off &&
	       off - s->off < (uint64_t)s->n * PCI_MSIX_ENTRY_SIZE;
}

struct emul_store *irq_emul_store_at(struct assigned_dev *d, unsigned bar, uint64_t off,
				     uint64_t *ret_rel)
{
	struct emul_store *s;

	if (irq_emul_msix_active(d) && store_covers(&d->msix, bar, off))
		s = &d->msix;
	else if (d->ims_mode == VMM_STORAGE_TRAPPED && store_covers(&d->ims, bar, off))
		s = &d->ims;
	else
		return NULL;
	*ret_rel = off - s->off;
	return s;
}

/* ---- the physical entry ------------------------------------------------------ */

/* Host-side write to the physical entry (the host kernel's, not an exit). */
static void phys_write(struct assigned_dev *d, struct emul_store *s, unsigned n, unsigned dword,
		       uint32_t val)
{
	uint64_t at = s->off + (uint64_t)n * PCI_MSIX_ENTRY_SIZE + 4 * dword;

	(void)!pci_mmio_write(d->func, s->bar, at, 4, val); /* aligned, in the storage */
}

static void phys_mask(struct assigned_dev *d, struct emul_store *s, unsigned n)
{
	phys_write(d, s, n, CTRL_DWORD, MASK_BIT);
}

/* `trap`: the vCPU and vector a compatibility-format message names, or NULL. */
static struct vcpu *resolve_compat(struct vm *vm, const struct msi_msg *m, uint8_t *ret_vector)
{
	struct msi_compat c;

	if (!msi_is_interrupt_address(m) || m->address_hi || msi_format_of(m) != MSI_FORMAT_COMPAT)
		return NULL;
	msi_compat_decode(m, &c);
	if (c.dm || c.trigger || c.vector < PVIR_FIRST_VECTOR ||
	    (c.delivery_mode != MSI_DM_FIXED && c.delivery_mode != MSI_DM_LOWPRI))
		return NULL;
	*ret_vector = c.vector;
	return vm_vcpu_by_apic_id(vm, c.dest_id);
}

static struct vcpu *resolve(struct assigned_dev *d, const struct msi_msg *m, uint8_t *ret_vector)
{
	bool passthrough = true;
	struct vcpu *v = NULL;

	if (viommu_ir_enabled(d->vm))
		v = viommu_resolve(d->vm, d->guest_bdf, m, ret_vector, &passthrough);
	return passthrough ? resolve_compat(d->vm, m, ret_vector) : v;
}

static struct msi_msg guest_msg(const struct emul_store *s, unsigned n)
{
	return (struct msi_msg){s->vtable[n][0], s->vtable[n][1], s->vtable[n][2]};
}

static bool same_msg(const struct msi_msg *a, const struct msi_msg *b)
{
	return a->address_lo == b->address_lo && a->address_hi == b->address_hi &&
	       a->data == b->data;
}

/* A new route: the quota, a GSI route, a host IRTE, and VFIO's per-vector setup. */
static int route_entry(struct assigned_dev *d, struct emul_store *s, unsigned n)
{
	struct vm *vm = d->vm;
	int err = vm_irte_charge(vm);

	if (err)
		return err;
	err = route_add(vm);
	if (!err) {
		err = host_irq_alloc(vm->host, pci_func_rid(d->func), &s->irqs[n]);
		if (err)
			vm->stats.routes--;
	}
	if (err) {
		vm_irte_uncharge(vm);
		return err;
	}
	vm->stats.vfio_setups++;
	return 0;
}

/*
 * Gives entry @n a host IRTE aimed where the guest's message points. A new
 * route, or a route whose message changed, is committed unless @commit is
 * false (the caller commits once for many).
 */
static bool program_entry(struct assigned_dev *d, struct emul_store *s, unsigned n, bool commit)
{
	struct msi_msg m = guest_msg(s, n);
	uint8_t vector;
	struct vcpu *v = resolve(d, &m, &vector);
	bool changed = !s->irqs[n] || !same_msg(&m, &s->routed[n]);

	if (!v || (!s->irqs[n] && route_entry(d, s, n)))
		return false;
	if (host_irq_vcpu(s->irqs[n]) != v || host_irq_vector(s->irqs[n]) != vector) {
		if (host_irq_target(d->vm->host, s->irqs[n], v, vector, false))
			return false;
		d->vm->stats.emul_programmed++;
	}
	s->routed[n] = m;
	if (changed && commit)
		route_commit(d->vm);
	m = host_irq_msg(s->irqs[n]);
	phys_write(d, s, n, 0, m.address_lo);
	phys_write(d, s, n, 1, m.address_hi);
	phys_write(d, s, n, 2, m.data);
	return true;
}

static bool guest_unmasked(const struct emul_store *s, unsigned n)
{
	return s->enabled && !s->maskall && !(s->vtable[n][CTRL_DWORD] & MASK_BIT);
}

static void update_entry(struct assigned_dev *d, struct emul_store *s, unsigned n, bool commit)
{
	if (!guest_unmasked(s, n)) {
		phys_mask(d, s, n);
		return;
	}
	if (!program_entry(d, s, n, commit)) {
		d->vm->stats.emul_errors++;
		phys_mask(d, s, n);
		return;
	}
	phys_write(d, s, n, CTRL_DWORD, 0);
}

/* ---- the guest's accesses ------------------------------------------------------ */

static bool access_ok(uint64_t off, unsigned size)
{
	return (size == 4 || size == 8) && off % size == 0;
}

uint64_t irq_emul_read(struct assigned_dev *d, struct emul_store *s, uint64_t off, unsigned size)
{
	const uint32_t *entry = s->vtable[off / PCI_MSIX_ENTRY_SIZE];
	unsigned dw = (unsigned)(off % PCI_MSIX_ENTRY_SIZE) / 4;

	(void)d;
	if (!access_ok(off, size))
		return size >= 8 ? UINT64_MAX : bits_mask(8 * size - 1, 0);
	return size == 8 ? entry[dw] | (uint64_t)entry[dw + 1] << 32 : entry[dw];
}

static void store_dword(uint32_t *entry, unsigned dw, uint32_t val)
{
	/* Control: only the mask bit is implemented; the rest reads 0. */
	entry[dw] = dw == CTRL_DWORD ? val & MASK_BIT : val;
}

/* IMS (device-specific): a masked slot whose message the driver zeroed is free. */
static bool slot_cleared(const struct emul_store *s, unsigned n)
{
	return !s->vtable[n][0] && !s->vtable[n][1] && !s->vtable[n][2] &&
	       (s->vtable[n][CTRL_DWORD] & MASK_BIT);
}

static void release_slot(struct assigned_dev *d, struct emul_store *s, unsigned n)
{
	release(d, s, n);
	route_commit(d->vm);
}

void irq_emul_write(struct assigned_dev *d, struct emul_store *s, uint64_t off, unsigned size,
		    uint64_t val)
{
	unsigned n = (unsigned)(off / PCI_MSIX_ENTRY_SIZE);
	unsigned dw = (unsigned)(off % PCI_MSIX_ENTRY_SIZE) / 4;
	uint32_t *entry = s->vtable[n];
	bool was_masked = entry[CTRL_DWORD] & MASK_BIT;

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
		update_entry(d, s, n, true);
	else if (s->ims && s->irqs[n] && slot_cleared(s, n))
		release_slot(d, s, n);
}

/* MSI-X off: VFIO frees every host vector (SET_IRQS, DATA_NONE, count 0). */
static void release_all(struct assigned_dev *d, struct emul_store *s)
{
	bool any = false;

	for (unsigned n = 0; n < s->n; n++)
		if (s->irqs[n]) {
			release(d, s, n);
			any = true;
		}
	if (any)
		route_commit(d->vm);
}

void irq_emul_msix_control(struct assigned_dev *d, uint16_t flags)
{
	uint8_t cap = pci_find_capability(d->func, PCI_CAP_ID_MSIX);
	struct emul_store *s = &d->msix;

	s->enabled = flags & PCI_MSIX_FLAGS_ENABLE;
	s->maskall = flags & PCI_MSIX_FLAGS_MASKALL;
	/* The physical function: enabled with the guest, every entry masked first. */
	for (unsigned n = 0; n < s->n; n++)
		update_entry(d, s, n, true);
	if (!s->enabled)
		release_all(d, s);
	pci_cfg_write(d->func, cap + PCI_MSIX_FLAGS, 2,
		      flags & (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
}

bool irq_emul_msix_enabled(const struct assigned_dev *d)
{
	return d->msix.enabled;
}

bool irq_emul_msix_maskall(const struct assigned_dev *d)
{
	return d->msix.maskall;
}

/*
 * The guest invalidated its vIOMMU's interrupt-entry cache: as QEMU's
 * kvm_update_msi_routes_all(), translate every route again, retarget the
 * host IRTEs whose (vCPU, vector) moved, and commit the table once.
 */
void irq_emul_retranslate(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ndevs; i++) {
		struct assigned_dev *d = vm->devs[i];
		struct emul_store *stores[2] = {&d->msix, &d->ims};

		for (int k = 0; k < 2; k++)
			for (unsigned n = 0; stores[k]->irqs && n < stores[k]->n; n++) {
				if (!stores[k]->irqs[n])
					continue;
				vm->stats.retranslations++;
				update_entry(d, stores[k], n, false);
			}
	}
	route_commit(vm); /* QEMU commits even when there was nothing to translate */
}
