// SPDX-License-Identifier: MIT
/*
 * Trapped interrupt storage, as QEMU emulates it today over VFIO and KVM
 * (QEMU hw/vfio/pci.c; Linux vfio_pci_intrs.c): the guest's entries are virtual,
 * every access to them is a trapped exit, and each entry the guest unmasks
 * becomes a host interrupt through the host kernel's interfaces (vfio.c,
 * kvm_irq.c). Two kinds of storage have the same entry layout (address
 * low, high, data, control with the mask in bit 0) and share this code:
 *
 *  - the MSI-X table, which PCI defines: function-level enable and mask-all
 *    come from config space;
 *  - an accelerator's device-resident IMS slots: device-specific knowledge
 *    (where the slots are, what the control word means), as a VFIO variant
 *    driver for the device would have it, over the VFIO IMS index. Memory-
 *    resident IMS cannot be emulated this way: the device reads it by DMA,
 *    and no write traps.
 *
 * What QEMU does, and so we do (vfio_msix_vector_do_use and _release, with
 * dynamic MSI-X as QEMU d9e6710d7d59 has it):
 *
 *  - MSI-X enabled: SET_IRQS with vector 0 and fd -1, which enables MSI-X
 *    on the host with no trigger (vfio_enable_msix_no_vec).
 *  - An entry unmasked the first time: a GSI route from the guest's
 *    message and a commit (KVM_SET_GSI_ROUTING), an eventfd bound to the
 *    route by KVM_IRQFD, then SET_IRQS for that one vector with that
 *    eventfd: VFIO requests the host interrupt, and IRQ bypass posts it.
 *    On a NORESIZE host a vector past those enabled disables MSI-X and
 *    enables it again with all of them.
 *  - Unmasked again with another message: the route updated and
 *    committed; SET_IRQS again with the irqfd's eventfd.
 *  - Masked: SET_IRQS with the VMM's own eventfd, off the irqfd. QEMU then
 *    latches an interrupt in its emulated PBA; we mask the physical entry
 *    instead and the device latches it: the guest sees the same.
 *  - MSI-X disabled: each vector released, SET_IRQS with no data and count
 *    0 (every host interrupt freed), irqfds and routes removed.
 *
 * What the guest's message means depends on the design: compatibility
 * format (APIC ID, vector) without a vIOMMU (`trap`), or a handle into the
 * guest's own VT-d IR table when its emulated vIOMMU has IR on (`vir-emul`,
 * viommu.c), which QEMU translates into the route (kvm_arch_fixup_msi_route).
 *
 * An MMIO write cannot fail, so a message or a kernel call the VMM cannot
 * honour (not an interrupt, no such vCPU, a vIRTE that faults, routes or
 * host vectors or quota exhausted) leaves the physical entry masked and is
 * only counted (emul_errors): the error the hypercall design returns to the
 * caller is lost here, as it is today.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/hcall_abi.h"
#include "vm_internal.h"

#define CTRL_DWORD 3
#define MASK_BIT   0x1u /* PCI_MSIX_ENTRY_CTRL_MASKBIT and IMS_CTRL_MASK alike */

/* ---- the stores -------------------------------------------------------------- */

/* A device's stores, by kind: MSI-X, IMS, MSI, the order a full pass takes them in. */
static struct emul_store *store_of(struct assigned_dev *d, unsigned k)
{
	struct emul_store *stores[VFIO_KINDS] = {
	    [VFIO_KIND_MSIX] = &d->msix, [VFIO_KIND_IMS] = &d->ims, [VFIO_KIND_MSI] = &d->msi};

	return stores[k];
}

/* An entry the guest has never unmasked: no eventfds, no route. */
static struct emul_vector idle_vector(struct assigned_dev *d, struct emul_store *s)
{
	return (struct emul_vector){
	    .virq = -1, .rt = RT_NONE, .kvm_fd = -1, .user_fd = -1, .dev = d, .store = s};
}

/* Where the store is and how many entries it has; its arrays wait for store_ready(). */
static void store_init(struct emul_store *s, enum vfio_kind kind, unsigned bar, uint64_t off,
		       unsigned n)
{
	*s = (struct emul_store){
	    .kind = kind, .bar = bar, .off = off, .n = n, .enabled = kind == VFIO_KIND_IMS};
}

/*
 * The store's entries, made when the guest first reaches them: every entry
 * masked with no message, no vector in use. A guest that owns its storage
 * (`hcall`) never does, and a fleet of such devices does not pay for them.
 * Return: false if there is no memory for them: the access is then refused,
 * and counted (emul_errors) like every access the VMM cannot honour.
 */
static bool store_ready(struct assigned_dev *d, struct emul_store *s)
{
	if (s->vec || !s->n)
		return true;
	s->vtable = calloc(s->n, sizeof(*s->vtable));
	s->vec = calloc(s->n, sizeof(*s->vec));
	if (!s->vtable || !s->vec) {
		free(s->vtable);
		free(s->vec);
		s->vtable = NULL;
		s->vec = NULL;
		d->vm->stats.emul_errors++;
		return false;
	}
	for (unsigned i = 0; i < s->n; i++) {
		s->vtable[i][CTRL_DWORD] = MASK_BIT;
		s->vec[i] = idle_vector(d, s);
	}
	return true;
}

/* ---- which routes a flush can change ------------------------------------------------ */

static void rt_unlink(struct vm *vm, struct emul_vector *v)
{
	if (v->rt >= 0) {
		*v->rt_pprev = v->rt_next;
		if (v->rt_next)
			v->rt_next->rt_pprev = v->rt_pprev;
	}
	vm->rt_always -= v->rt == RT_ALWAYS;
	vm->emul_routes -= v->rt != RT_NONE;
	v->rt = RT_NONE;
}

/* @v has a route, last translated as @rt says. */
static void rt_set(struct vm *vm, struct emul_vector *v, int32_t rt)
{
	rt_unlink(vm, v);
	if (rt >= 0 && rt < IR_MAX_ENTRIES && !vm->rt_head)
		vm->rt_head = calloc(IR_MAX_ENTRIES, sizeof(*vm->rt_head));
	if (rt >= 0 && (rt >= IR_MAX_ENTRIES || !vm->rt_head))
		rt = RT_ALWAYS; /* nowhere to index it: redone every time, as before */
	v->rt = rt;
	vm->emul_routes++;
	vm->rt_always += rt == RT_ALWAYS;
	if (rt < 0)
		return;
	v->rt_next = vm->rt_head[rt];
	if (v->rt_next)
		v->rt_next->rt_pprev = &v->rt_next;
	vm->rt_head[rt] = v;
	v->rt_pprev = &vm->rt_head[rt];
}

/* vfio_remove_kvm_msi_virq: irqfd off, the route released (no commit), fds closed. */
static void vector_forget(struct vm *vm, struct emul_vector *v)
{
	rt_unlink(vm, v);
	if (v->virq >= 0) {
		vmm_irqfd_deassign(vm, v->kvm_fd, (uint32_t)v->virq);
		vmm_route_remove(vm, (uint32_t)v->virq);
	}
	kvm_eventfd_close(vm, v->kvm_fd);
	kvm_eventfd_close(vm, v->user_fd);
	*v = idle_vector(v->dev, v->store);
}

static void store_free(struct assigned_dev *d, struct emul_store *s)
{
	for (unsigned i = 0; s->vec && i < s->n; i++)
		vector_forget(d->vm, &s->vec[i]);
	free(s->vtable);
	free(s->vec);
	*s = (struct emul_store){0};
}

void irq_emul_init(struct assigned_dev *d)
{
	uint8_t cap = pci_find_capability(d->func, PCI_CAP_ID_MSIX);
	unsigned bar;
	uint64_t off, len;

	if (cap) {
		uint32_t t = pci_cfg_read(d->func, cap + PCI_MSIX_TABLE, 4);
		unsigned n =
		    (pci_cfg_read(d->func, cap + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1;

		store_init(&d->msix, VFIO_KIND_MSIX, t & PCI_MSIX_BIR, t & ~PCI_MSIX_BIR, n);
	}
	/* the device-specific part: only device-resident slots can be trapped */
	if (pci_func_ims(d->func, &bar, &off, &len) && pci_func_ims_storage(d->func) == IMS_DEVICE)
		store_init(&d->ims, VFIO_KIND_IMS, bar, off, (unsigned)(len / IMS_SLOT_SIZE));
	if (d->vfio[VFIO_KIND_MSI].count) /* in config space: no BAR */
		store_init(&d->msi, VFIO_KIND_MSI, 0, 0, d->vfio[VFIO_KIND_MSI].count);
}

void irq_emul_free(struct assigned_dev *d)
{
	for (unsigned k = 0; k < VFIO_KINDS; k++)
		store_free(d, store_of(d, k));
}

static bool store_in_use(const struct emul_store *s)
{
	for (unsigned i = 0; s->vec && i < s->n; i++)
		if (s->vec[i].use)
			return true;
	return false;
}

bool irq_emul_in_use(const struct assigned_dev *d)
{
	return store_in_use(&d->msix) || store_in_use(&d->ims) || store_in_use(&d->msi);
}

bool irq_emul_msix_active(const struct assigned_dev *d)
{
	return d->msix.n && d->msix_mode == VMM_STORAGE_TRAPPED;
}

static bool store_covers(const struct emul_store *s, unsigned bar, uint64_t off)
{
	return s->bar == bar && off >= s->off &&
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

static void phys_mask(struct assigned_dev *d, struct emul_store *s, unsigned n)
{
	uint64_t at = s->off + (uint64_t)n * PCI_MSIX_ENTRY_SIZE + 4 * CTRL_DWORD;

	(void)!pci_mmio_write(d->func, s->bar, at, 4, MASK_BIT); /* aligned, in the storage */
}

/* `trap`: the vCPU and vector a compatibility-format message names, or NULL. */
static struct vcpu *resolve_compat(struct vm *vm, const struct msi_msg *m, uint8_t *ret_vector)
{
	struct kvm_irq_routing_msi r = {m->address_lo, m->address_hi, m->data, {0}};

	return kvm_msi_target(vm, &r, ret_vector);
}

/*
 * The message for the KVM route, in compatibility format, or false when
 * the guest's message names no vCPU of ours (QEMU's route fix-up fails).
 * *@ret_rt: what a later flush must redo it for (RT_*, or the vIRTE index it
 * was remapped through).
 */
static bool route_msg(struct assigned_dev *d, const struct msi_msg *m, struct msi_msg *ret,
		      int32_t *ret_rt)
{
	bool passthrough = true;
	struct vcpu *v;
	uint8_t vector;
	uint32_t index;
	struct msi_compat c = {.delivery_mode = MSI_DM_FIXED};

	*ret_rt = RT_PURE;
	if (viommu_ir_enabled(d->vm)) {
		v = viommu_resolve(d->vm, d->guest_bdf, m, &vector, &passthrough, &index);
		*ret_rt = RT_ALWAYS; /* a fault, or a message let through: redone every time */
		if (!passthrough) {
			if (!v)
				return false;
			c.dest_id = v->apic_id;
			c.vector = vector;
			if (msi_compat_encode(&c, ret))
				return false;
			*ret_rt = (int32_t)index;
			return true;
		}
	}
	if (!resolve_compat(d->vm, m, &vector))
		return false;
	*ret = *m;
	return true;
}

static struct msi_msg guest_msg(const struct emul_store *s, unsigned n)
{
	return (struct msi_msg){s->vtable[n][0], s->vtable[n][1], s->vtable[n][2]};
}

static bool guest_unmasked(const struct emul_store *s, unsigned n);

/* KVM_SIGNAL_MSI with the guest's message: false if it names no vCPU of ours. */
static bool signal_msi(struct emul_vector *v)
{
	unsigned n = (unsigned)(v - v->store->vec);
	struct msi_msg m = guest_msg(v->store, n), route;
	struct vcpu *vc;
	uint8_t vector;
	int32_t rt; /* the route's own: not this one's to keep */

	if (!route_msg(v->dev, &m, &route, &rt) ||
	    !(vc = resolve_compat(v->dev->vm, &route, &vector)))
		return false;
	host_vcpu_inject(v->dev->vm->host, vc, vector);
	return true;
}

/*
 * QEMU's handler of its own eventfd (vfio_msi_interrupt -> msix_notify): an
 * interrupt for a masked entry waits in the emulated PBA; for an unmasked one
 * the guest's message is sent. One QEMU cannot deliver waits too, as the
 * entry it could not route stays masked.
 */
static void user_interrupt(void *ctx)
{
	struct emul_vector *v = ctx;
	unsigned n = (unsigned)(v - v->store->vec);

	if (guest_unmasked(v->store, n) && signal_msi(v))
		return;
	v->pending = true;
	host_irq_held(v->dev->vm->host);
}

/* vfio_add_kvm_msi_virq: a route (not yet committed) and the eventfd for it. */
static int virq_prepare(struct vm *vm, struct emul_vector *v, const struct msi_msg *route)
{
	uint32_t gsi;
	int err = vmm_route_add(vm, route, &gsi);

	if (err)
		return err; /* QEMU falls back to its own eventfd: not modelled, refused */
	v->kvm_fd = kvm_eventfd_new(vm);
	if (v->kvm_fd < 0) {
		err = v->kvm_fd;
		v->kvm_fd = -1;
		vmm_route_remove(vm, gsi);
		return err;
	}
	v->virq = (int)gsi;
	return 0;
}

/* vfio_connect_kvm_msi_virq, after the commit: the irqfd; undone with the route if it fails. */
static int virq_connect(struct vm *vm, struct emul_vector *v)
{
	int err = vmm_irqfd_assign(vm, v->kvm_fd, (uint32_t)v->virq);

	if (err) {
		kvm_eventfd_close(vm, v->kvm_fd);
		v->kvm_fd = -1;
		vmm_route_remove(vm, (uint32_t)v->virq);
		v->virq = -1;
	}
	return err;
}

/* Route, commit, eventfd, irqfd. */
static int add_virq(struct vm *vm, struct emul_vector *v, const struct msi_msg *route)
{
	int err = virq_prepare(vm, v, route);

	if (err)
		return err;
	(void)vmm_route_commit(vm, false); /* a new route: no irqfd on it yet */
	return virq_connect(vm, v);
}

/* NORESIZE: MSI-X off and on again with every vector up to @nr (QEMU before dynamic MSI-X). */
static int reenable_all(struct assigned_dev *d, struct emul_store *s, unsigned nr)
{
	int32_t *fds = malloc(nr * sizeof(*fds));
	int err;

	if (!fds)
		return -ENOMEM;
	for (unsigned i = 0; i < nr; i++)
		fds[i] = s->vec[i].virq >= 0 ? s->vec[i].kvm_fd : -1;
	if (s->nr_vectors)
		(void)!vfio_disable_index(d, vfio_index_of(s->kind));
	s->nr_vectors = nr;
	err = vfio_set_triggers(d, vfio_index_of(s->kind), 0, nr, fds);
	free(fds);
	return err;
}

/* vfio_msix_vector_do_use: the guest unmasked entry @n. */
static int vector_use(struct assigned_dev *d, struct emul_store *s, unsigned n)
{
	struct vm *vm = d->vm;
	struct emul_vector *v = &s->vec[n];
	struct msi_msg m = guest_msg(s, n), route;
	int32_t rt;
	int err;

	if (!route_msg(d, &m, &route, &rt))
		return -EINVAL;
	if (!v->use) {
		v->user_fd = kvm_eventfd_new(vm);
		if (v->user_fd < 0)
			return v->user_fd;
		kvm_eventfd_set_handler(vm, v->user_fd, user_interrupt, v);
		v->use = true;
	}
	if (v->virq < 0) {
		err = add_virq(vm, v, &route);
		if (err)
			return err;
	} else if (!msi_msg_equal(&m, &v->routed)) {
		vmm_route_update(vm, (uint32_t)v->virq, &route);
		(void)vmm_route_commit(vm, false); /* QEMU: KVM logs an IRTE left behind */
	}
	v->routed = m;
	rt_set(vm, v, rt);
	if (s->kind == VFIO_KIND_MSIX && host_msix_noresize(vm->host) && n >= s->nr_vectors)
		return reenable_all(d, s, n + 1);
	if (n >= s->nr_vectors)
		s->nr_vectors = n + 1;
	return vfio_set_triggers(d, vfio_index_of(s->kind), n, 1, &v->kvm_fd);
}

/* vfio_msix_vector_release: the guest masked entry @n: VFIO to the VMM's own eventfd. */
static void vector_release(struct assigned_dev *d, struct emul_store *s, unsigned n)
{
	struct emul_vector *v = &s->vec[n];

	if (v->virq >= 0)
		(void)!vfio_set_triggers(d, vfio_index_of(s->kind), n, 1, &v->user_fd);
}

static bool guest_unmasked(const struct emul_store *s, unsigned n)
{
	return s->enabled && !s->maskall && !(s->vtable[n][CTRL_DWORD] & MASK_BIT);
}

/* The entry's mask state changed, or the message of an unmasked entry did. */
static void update_entry(struct assigned_dev *d, struct emul_store *s, unsigned n, bool was_live)
{
	bool live = guest_unmasked(s, n);

	if (!live) {
		if (was_live)
			vector_release(d, s, n);
		phys_mask(d, s, n);
		return;
	}
	if (vector_use(d, s, n)) {
		d->vm->stats.emul_errors++;
		vector_release(d, s, n);
		phys_mask(d, s, n);
		return;
	}
	/* msix_handle_mask_update: what waited in the emulated PBA goes now */
	if (s->vec[n].pending && signal_msi(&s->vec[n]))
		s->vec[n].pending = false;
}

/* ---- the guest's accesses ------------------------------------------------------ */

static bool access_ok(uint64_t off, unsigned size)
{
	return (size == 4 || size == 8) && off % size == 0;
}

uint64_t irq_emul_read(struct assigned_dev *d, struct emul_store *s, uint64_t off, unsigned size)
{
	unsigned dw = (unsigned)(off % PCI_MSIX_ENTRY_SIZE) / 4;
	const uint32_t *entry;

	if (!access_ok(off, size) || !store_ready(d, s))
		return size >= 8 ? UINT64_MAX : bits_mask(8 * size - 1, 0);
	entry = s->vtable[off / PCI_MSIX_ENTRY_SIZE];
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

/* The slot's host interrupt freed (IMS index, fd -1), its irqfd and route gone. */
static void release_slot(struct assigned_dev *d, struct emul_store *s, unsigned n)
{
	int32_t none = -1;

	(void)!vfio_set_triggers(d, VFIO_PCI_IMS_IRQ_INDEX, n, 1, &none);
	vector_forget(d->vm, &s->vec[n]);
}

void irq_emul_write(struct assigned_dev *d, struct emul_store *s, uint64_t off, unsigned size,
		    uint64_t val)
{
	unsigned n = (unsigned)(off / PCI_MSIX_ENTRY_SIZE);
	unsigned dw = (unsigned)(off % PCI_MSIX_ENTRY_SIZE) / 4;
	uint32_t *entry;
	bool was_live;

	if (!access_ok(off, size)) {
		d->vm->stats.emul_errors++;
		return;
	}
	if (!store_ready(d, s))
		return;
	entry = s->vtable[n];
	was_live = guest_unmasked(s, n);
	store_dword(entry, dw, (uint32_t)val);
	if (size == 8)
		store_dword(entry, dw + 1, (uint32_t)(val >> 32));
	/*
	 * Act on unmask, on mask, and on a message change of an unmasked entry
	 * (undefined for real devices, harmless to honour).
	 */
	if (dw + size / 4 > CTRL_DWORD || was_live)
		update_entry(d, s, n, was_live);
	else if (s->kind == VFIO_KIND_IMS && s->vec[n].use && slot_cleared(s, n))
		release_slot(d, s, n);
}

/* vfio_msix_disable: each vector released, every host interrupt freed, irqfds gone. */
static void msix_disable(struct assigned_dev *d, struct emul_store *s)
{
	bool any = false;

	for (unsigned n = 0; n < s->n; n++)
		if (s->vec[n].use) {
			vector_release(d, s, n);
			any = true;
		}
	if (d->vfio[VFIO_KIND_MSIX].enabled)
		(void)!vfio_disable_index(d, VFIO_PCI_MSIX_IRQ_INDEX);
	for (unsigned n = 0; any && n < s->n; n++)
		vector_forget(d->vm, &s->vec[n]);
	s->nr_vectors = 0;
}

/* vfio_msix_enable: MSI-X on in the host, with vector 0 and no eventfd. */
static void msix_enable(struct assigned_dev *d)
{
	int32_t none = -1;

	if (host_msix_noresize(d->vm->host))
		return; /* the first vector used enables it, with every vector up to it */
	if (vfio_set_triggers(d, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, &none))
		d->vm->stats.emul_errors++;
	d->msix.nr_vectors = 1;
}

void irq_emul_msix_control(struct assigned_dev *d, uint16_t flags)
{
	uint8_t cap = pci_find_capability(d->func, PCI_CAP_ID_MSIX);
	struct emul_store *s = &d->msix;
	bool was_enabled = s->enabled;
	bool live[2048];

	if (!store_ready(d, s))
		return;
	for (unsigned n = 0; n < s->n; n++)
		live[n] = guest_unmasked(s, n);
	s->enabled = flags & PCI_MSIX_FLAGS_ENABLE;
	s->maskall = flags & PCI_MSIX_FLAGS_MASKALL;
	if (s->enabled && !was_enabled)
		msix_enable(d);
	if (!s->enabled && was_enabled)
		msix_disable(d, s);
	/* The physical function: enabled with the guest, every entry masked first. */
	for (unsigned n = 0; n < s->n; n++)
		if (s->enabled && live[n] != guest_unmasked(s, n))
			update_entry(d, s, n, live[n]);
		else if (!guest_unmasked(s, n))
			phys_mask(d, s, n);
	pci_cfg_write(d->func, cap + PCI_MSIX_FLAGS, 2,
		      flags & (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
}

/* ---- MSI: the capability's view (vmm.c) ------------------------------------------ */

/* Each vector's message: vector n sends the data with its low bits n (QEMU's msi_get_message). */
static void msi_store_fill(struct emul_store *s, unsigned nvec, const struct msi_msg *m)
{
	for (unsigned n = 0; n < s->n; n++) {
		uint32_t *e = s->vtable[n];

		e[0] = n < nvec ? m->address_lo : 0;
		e[1] = n < nvec ? m->address_hi : 0;
		e[2] = n < nvec ? (m->data & ~(nvec - 1)) | n : 0;
		e[CTRL_DWORD] = n < nvec ? 0 : MASK_BIT;
	}
}

/* vfio_msi_disable: every host interrupt freed, then the irqfds and routes. */
static void msi_disable(struct assigned_dev *d, struct emul_store *s)
{
	if (d->vfio[VFIO_KIND_MSI].enabled)
		(void)!vfio_disable_index(d, VFIO_PCI_MSI_IRQ_INDEX);
	for (unsigned n = 0; n < s->n; n++)
		vector_forget(d->vm, &s->vec[n]);
	s->nr_vectors = 0;
}

/*
 * vfio_msi_enable: a route and an eventfd per vector, one commit (QEMU's batch,
 * since dc580d51f7dd), the irqfds, then one SET_IRQS for all the vectors. A vector
 * whose message names no vCPU of ours gets no trigger, and is counted.
 */
static void msi_enable(struct assigned_dev *d, struct emul_store *s, unsigned nvec)
{
	struct vm *vm = d->vm;
	int32_t fds[PCI_MSI_MAX_VECTORS];

	for (unsigned n = 0; n < nvec; n++) {
		struct emul_vector *v = &s->vec[n];
		struct msi_msg m = guest_msg(s, n), route;
		int32_t rt;

		fds[n] = -1;
		v->use = true;
		v->routed = m;
		if (!route_msg(d, &m, &route, &rt) || virq_prepare(vm, v, &route)) {
			vm->stats.emul_errors++;
			continue;
		}
		rt_set(vm, v, rt);
	}
	(void)vmm_route_commit(vm, false); /* new routes: no irqfd on them yet */
	for (unsigned n = 0; n < nvec; n++) {
		struct emul_vector *v = &s->vec[n];

		if (v->virq < 0)
			continue;
		if (virq_connect(vm, v)) {
			rt_unlink(vm, v);
			vm->stats.emul_errors++;
			continue;
		}
		fds[n] = v->kvm_fd;
	}
	s->nr_vectors = nvec;
	if (vfio_set_triggers(d, VFIO_PCI_MSI_IRQ_INDEX, 0, nvec, fds)) {
		vm->stats.emul_errors++;
		msi_disable(d, s);
	}
}

/* vfio_update_msi: each vector's route follows its message, committed one by one. */
static void msi_update(struct assigned_dev *d, struct emul_store *s)
{
	for (unsigned n = 0; n < s->nr_vectors; n++) {
		struct emul_vector *v = &s->vec[n];
		struct msi_msg m = guest_msg(s, n), route;
		int32_t rt;

		if (v->virq < 0 || msi_msg_equal(&m, &v->routed))
			continue;
		if (!route_msg(d, &m, &route, &rt)) {
			d->vm->stats.emul_errors++; /* the route keeps its last message */
			continue;
		}
		v->routed = m;
		vmm_route_update(d->vm, (uint32_t)v->virq, &route);
		rt_set(d->vm, v, rt);
		(void)vmm_route_commit(d->vm, false); /* QEMU: KVM logs an IRTE left behind */
	}
}

void irq_emul_msi_config(struct assigned_dev *d, bool enabled, unsigned nvec,
			 const struct msi_msg *m)
{
	struct emul_store *s = &d->msi;
	bool was = s->enabled;

	if (!s->n || d->vm->hc.table_set || !store_ready(d, s))
		return;
	if (nvec > s->n)
		nvec = s->n;
	if (was && enabled && nvec != s->nr_vectors) { /* a new count: off and on again */
		msi_disable(d, s);
		was = false;
	}
	msi_store_fill(s, enabled ? nvec : 0, m);
	s->enabled = enabled;
	if (enabled && !was)
		msi_enable(d, s, nvec);
	else if (!enabled && was)
		msi_disable(d, s);
	else if (enabled)
		msi_update(d, s);
}

/* ---- a migration's destination (docs/migration.md) ------------------------------- */

static void restore_store(struct assigned_dev *d, struct emul_store *s,
			  const struct emul_store *from)
{
	if (!from->vtable || s->n != from->n)
		return; /* the guest never reached the source's store: it is as it was made */
	if (!store_ready(d, s))
		return;
	memcpy(s->vtable, from->vtable, (size_t)s->n * sizeof(*s->vtable));
	for (unsigned n = 0; n < s->n; n++)
		s->vec[n].pending = from->vec[n].pending;
	if (s->kind == VFIO_KIND_MSIX) {
		if (from->enabled)
			irq_emul_msix_control(
			    d, (uint16_t)(PCI_MSIX_FLAGS_ENABLE |
					  (from->maskall ? PCI_MSIX_FLAGS_MASKALL : 0)));
		return;
	}
	for (unsigned n = 0; n < s->n; n++) /* IMS slots: always enabled */
		update_entry(d, s, n, false);
}

void irq_emul_restore(struct assigned_dev *d, const struct assigned_dev *src)
{
	restore_store(d, &d->msix, &src->msix);
	restore_store(d, &d->ims, &src->ims);
}

bool irq_emul_msix_enabled(const struct assigned_dev *d)
{
	return d->msix.enabled;
}

bool irq_emul_msix_maskall(const struct assigned_dev *d)
{
	return d->msix.maskall;
}

unsigned irq_emul_pending(const struct vm *vm)
{
	unsigned n = 0;

	for (unsigned i = 0; i < vm->ndevs; i++)
		for (unsigned k = 0; k < VFIO_KINDS; k++) {
			const struct emul_store *s = store_of(vm->devs[i], k);

			for (unsigned e = 0; s->vec && e < s->n; e++)
				n += s->vec[e].pending;
		}
	return n;
}

static void retranslate_one(struct vm *vm, struct emul_vector *v)
{
	struct msi_msg route;
	int32_t rt;

	if (route_msg(v->dev, &v->routed, &route, &rt))
		vmm_route_update(vm, (uint32_t)v->virq, &route);
	rt_set(vm, v, rt);
}

/* Every route translated again, in the pass's order. */
static void retranslate_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ndevs; i++)
		for (unsigned k = 0; k < VFIO_KINDS; k++) {
			struct emul_store *s = store_of(vm->devs[i], k);

			for (unsigned n = 0; s->vec && n < s->n; n++) {
				struct emul_vector *v = &s->vec[n];

				if (v->virq < 0)
					continue;
				vm->stats.retranslations++;
				retranslate_one(vm, v);
			}
		}
}

/* Where the full pass would reach @v: device, then MSI-X, IMS, MSI, then entry. */
static uint64_t pass_order(const struct vm *vm, const struct emul_vector *v)
{
	unsigned i = 0;

	while (i < vm->ndevs && vm->devs[i] != v->dev)
		i++;
	return (uint64_t)i << 40 | (uint64_t)v->store->kind << 32 | (uint64_t)(v - v->store->vec);
}

struct affected {
	uint64_t order;
	struct emul_vector *v;
};

static int cmp_affected(const void *a, const void *b)
{
	uint64_t x = ((const struct affected *)a)->order, y = ((const struct affected *)b)->order;

	return (x > y) - (x < y);
}

/*
 * The routes remapped through the vIRTEs in @r, in the order the full pass
 * would take them, each once. Return: how many, or -1 (out of memory).
 */
static int affected_routes(struct vm *vm, const struct ir_inval *r, int nr, struct affected **ret)
{
	struct affected *a = NULL;
	size_t n = 0, cap = 0;

	for (int i = 0; vm->rt_head && i < nr; i++)
		for (uint64_t h = r[i].first;
		     h < (uint64_t)r[i].first + r[i].count && h < IR_MAX_ENTRIES; h++)
			for (struct emul_vector *v = vm->rt_head[h]; v; v = v->rt_next) {
				if (n == cap) {
					struct affected *g;

					cap = cap ? 2 * cap : 16;
					g = realloc(a, cap * sizeof(*g));
					if (!g) {
						free(a);
						return -1;
					}
					a = g;
				}
				a[n++] = (struct affected){pass_order(vm, v), v};
			}
	if (n > 1)
		qsort(a, n, sizeof(*a), cmp_affected);
	*ret = a;
	return (int)n;
}

void irq_emul_retranslate(struct vm *vm, bool all)
{
	struct ir_inval r[IR_INVAL_RANGES];
	int nr = vm->viommu ? ir_unit_take_invalidated(vm->viommu, r) : -1, n = 0;
	struct affected *a = NULL;

	/*
	 * Counted as QEMU does it: every route. Done only where the result can
	 * differ: a route remapped through a vIRTE the flush did not name keeps
	 * its translation (an IRTE is read again only once invalidated), and an
	 * update to the same route changes nothing. One that faulted or went
	 * another way is redone, and then the whole pass is, in its order, for
	 * the faults it records. On `tuned` every update is pushed to KVM on its
	 * own (T1), changed or not: the commit counts the pushes of the routes
	 * the flush cannot change, which find KVM holding their MSI already.
	 */
	bool whole = all || nr < 0 || vm->rt_always;

	if (!whole)
		n = affected_routes(vm, r, nr, &a);
	if (whole || n < 0) {
		retranslate_all(vm);
	} else {
		vm->stats.retranslations += vm->emul_routes;
		for (int i = 0; i < n; i++)
			if (i == 0 || a[i].v != a[i - 1].v) {
				vmm_route_redone(vm, (uint32_t)a[i].v->virq);
				retranslate_one(vm, a[i].v);
			}
		vmm_route_repush_all(vm);
	}
	free(a);
	/* QEMU commits even when there was nothing to translate; KVM logs an IRTE left behind */
	(void)vmm_route_commit(vm, false);
}
