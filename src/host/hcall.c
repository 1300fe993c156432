// SPDX-License-Identifier: MIT
/*
 * The pvir hypercall service, ABI v1 (pvir/hcall_abi.h, docs/abi.md).
 *
 * SYNC is the vIRTE update: each entry is copied out of guest memory once,
 * and only the copy is validated and acted on, so a guest changing the entry
 * meanwhile cannot make the host act on a value it did not check.
 *
 * The host side of a vIRTE is what Linux gives any assigned interrupt, made
 * through the host kernel's interfaces (docs/host-kernel.md): a VFIO vector
 * of the device (MSI-X, or the IMS index) with an eventfd as its trigger, a
 * KVM irqfd on that eventfd, and a GSI route naming (dest, vector); IRQ
 * bypass posts the host IRTE. The service never writes an IRTE itself. One
 * SYNC becomes the fewest kernel calls:
 *
 *   A  per entry, in order: validate, reserve (quota, a GSI, a VFIO
 *      vector, an eventfd), update the route of an entry that stays
 *   B  one SET_IRQS per contiguous range of new vectors of a device
 *   C  the torn-down entries: irqfd off, one SET_IRQS (fd -1) per range
 *   D  one KVM_SET_GSI_ROUTING for the whole batch
 *   E  an irqfd per new vector: bypass meets the producer, the IRTE posts
 *   F  the host messages read back (the guest-storage feature), written out
 *
 * A ranged SYNC stops at the first entry that fails, A's checks or B's
 * host vectors, and says which it was: the entries before it are done, it
 * and those after it keep their previous host state (B's failed range is
 * set again vector by vector to find the entry; VFIO undoes a failed block).
 * D can fail only for a retarget whose IRTE could not follow (-EIO): KVM
 * keeps that route, and only those entries keep their previous state; the
 * first is the one named, each entry's status says which took effect.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/failpoint.h"
#include "pvir/hcall_abi.h"
#include "pvir/ir_driver.h"
#include "pvir/physmem.h"
#include "vm_internal.h"

/* A vIRTE's guest half, decoded from the copy. */
struct virte {
	uint16_t sid;
	uint16_t flags;
	uint32_t dest;
	uint8_t vector;
	bool rsvd_bytes;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t entry_gpa(const struct vm *vm, uint32_t index)
{
	return vm->hc.table_gpa + (uint64_t)index * PVIR_VIRTE_SIZE;
}

/* The one read of the entry; afterwards the guest may change it at will. */
static int copy_entry(struct vm *vm, uint32_t index, struct virte *ret)
{
	uint8_t raw[PVIR_VIRTE_GUEST_SIZE];

	if (failpoint_hit(FAILPOINT_GUEST_READ) ||
	    physmem_read(vm->mem, entry_gpa(vm, index), raw, sizeof(raw)))
		return -EFAULT;
	ret->sid = le16(raw + PVIR_VIRTE_SID);
	ret->flags = le16(raw + PVIR_VIRTE_FLAGS);
	ret->dest = le32(raw + PVIR_VIRTE_DEST);
	ret->vector = raw[PVIR_VIRTE_VECTOR];
	ret->rsvd_bytes = false;
	for (unsigned i = PVIR_VIRTE_RSVD; i < PVIR_VIRTE_GUEST_SIZE; i++)
		ret->rsvd_bytes |= raw[i] != 0;
	if (vm->hc.copy_hook)
		vm->hc.copy_hook(vm->hc.copy_hook_ctx, index);
	return 0;
}

/* The host half: the message, and the status. */
static void write_back(struct vm *vm, uint32_t index, const struct msi_msg *m, int status)
{
	uint8_t out[PVIR_VIRTE_SIZE - PVIR_VIRTE_GUEST_SIZE];

	/* offsets into @out, computed before they meet the pointer */
	put_le32(out + (PVIR_VIRTE_ADDR_LO - PVIR_VIRTE_GUEST_SIZE), m->address_lo);
	put_le32(out + (PVIR_VIRTE_ADDR_HI - PVIR_VIRTE_GUEST_SIZE), m->address_hi);
	put_le32(out + (PVIR_VIRTE_DATA - PVIR_VIRTE_GUEST_SIZE), m->data);
	put_le32(out + (PVIR_VIRTE_STATUS - PVIR_VIRTE_GUEST_SIZE), (uint32_t)status);
	(void)!physmem_write(vm->mem, entry_gpa(vm, index) + PVIR_VIRTE_GUEST_SIZE, out,
			     sizeof(out)); /* inside the table, checked at SET_TABLE */
}

static void write_status(struct vm *vm, uint32_t index, int status)
{
	uint8_t out[4];

	put_le32(out, (uint32_t)status);
	(void)!physmem_write(vm->mem, entry_gpa(vm, index) + PVIR_VIRTE_STATUS, out, sizeof(out));
}

static bool vector_allowed(uint8_t v)
{
	return (v >= PVIR_FIRST_VECTOR && v < PVIR_FIRST_SYSTEM_VECTOR &&
		v != PVIR_IA32_SYSCALL_VECTOR) ||
	       v == PVIR_SHUTDOWN_VECTOR;
}

/* The VFIO index of a device's vIRTEs without PVIR_VIRTE_MSI: MSI-X, or else IMS. */
static enum vfio_kind dev_kind(const struct assigned_dev *d)
{
	return d->vfio[VFIO_KIND_MSIX].count ? VFIO_KIND_MSIX : VFIO_KIND_IMS;
}

static struct vfio_index *entry_vfio(const struct hc_entry *e)
{
	return &e->dev->vfio[e->kind];
}

/* The route's message: compatibility format, physical destination, fixed. */
static int route_of(const struct virte *ve, struct msi_msg *ret)
{
	struct msi_compat c = {
	    .dest_id = ve->dest, .vector = ve->vector, .delivery_mode = MSI_DM_FIXED};

	return msi_compat_encode(&c, ret);
}

/* ---- one SYNC ----------------------------------------------------------------- */

enum step { STEP_NONE, STEP_TEARDOWN, STEP_NEW, STEP_RETARGET };

struct plan {
	enum step step;
	struct hc_entry next;	/* STEP_NEW: what the entry gets */
	bool route_changed;	/* STEP_RETARGET */
	struct msi_msg old_msg; /* STEP_RETARGET: the route before, to undo */
	int status;		/* STEP_RETARGET: -EIO when KVM kept the old route */
};

struct batch {
	struct vm *vm;
	uint32_t first;
	uint32_t n; /* entries planned: [first, first + n) */
	struct plan *p;
	uint32_t new_irqs; /* IRTEs the batch's new vectors charge to the quota */
	int err;	   /* of entry first + n, which stopped it; 0 if none */
};

/* The lowest VFIO vector of @d's index @k with no vIRTE, reserved for one. */
static int vec_reserve(struct assigned_dev *d, enum vfio_kind k, unsigned *ret)
{
	for (unsigned n = d->hc_vec_free_from[k]; n < d->vfio[k].count; n++)
		if (!d->hc_vec_used[k][n]) {
			d->hc_vec_used[k][n] = true;
			d->hc_vecs[k]++;
			d->hc_vec_free_from[k] = n + 1;
			*ret = n;
			return 0;
		}
	return -ENOSPC; /* every vector of the device has a vIRTE */
}

static void vec_release(struct assigned_dev *d, enum vfio_kind k, unsigned n)
{
	d->hc_vec_used[k][n] = false;
	d->hc_vecs[k]--;
	if (n < d->hc_vec_free_from[k])
		d->hc_vec_free_from[k] = n;
}

/* A's allocations for a new entry, undone. */
static void unreserve(struct vm *vm, const struct hc_entry *e)
{
	kvm_eventfd_close(vm, e->fd);
	vmm_route_remove(vm, e->gsi);
	vec_release(e->dev, e->kind, e->vec);
}

/*
 * What MSI vector @n adds to its block's quota charge: the block is @n + 1 vectors
 * rounded up to a power of two, all of it charged (vfio.c).
 */
static unsigned msi_block_growth(unsigned n)
{
	return (unsigned)(pow2_at_least(n + 1) - (n ? pow2_at_least(n) : 0));
}

static int plan_new(struct batch *b, struct plan *p, struct assigned_dev *dev, enum vfio_kind k,
		    const struct msi_msg *route)
{
	struct vm *vm = b->vm;
	struct hc_entry *e = &p->next;
	unsigned charge;
	bool cached;
	int err;

	/* MSI cannot grow once enabled: its vectors come in the SYNC that enables it */
	if (k == VFIO_KIND_MSI && dev->vfio[k].enabled)
		return -EBUSY;
	err = vec_reserve(dev, k, &e->vec);
	if (err)
		return err;
	e->dev = dev;
	e->kind = k;
	cached = entry_vfio(e)->v[e->vec].hi != NULL; /* VFIO keeps it until MSI-X is off */
	charge = cached ? 0 : k == VFIO_KIND_MSI ? msi_block_growth(e->vec) : 1;
	if (vm->used + b->new_irqs + charge > vm->quota) {
		vec_release(dev, k, e->vec);
		return -EDQUOT;
	}
	err = vmm_route_add(vm, route, &e->gsi);
	if (err) {
		vec_release(dev, k, e->vec);
		return err; /* -ENOSPC: KVM_MAX_IRQ_ROUTES */
	}
	e->fd = kvm_eventfd_new(vm);
	if (e->fd < 0) {
		vmm_route_remove(vm, e->gsi);
		vec_release(dev, k, e->vec);
		return e->fd;
	}
	b->new_irqs += charge;
	p->step = STEP_NEW;
	return 0;
}

/* Step A for one entry: validate the copy, then reserve or note what it needs. */
static int plan_entry(struct batch *b, uint32_t index, struct plan *p)
{
	struct vm *vm = b->vm;
	struct hc_entry *e = &vm->hc.e[index];
	struct assigned_dev *dev;
	struct msi_msg route;
	struct virte ve;
	enum vfio_kind k;
	int err = copy_entry(vm, index, &ve);

	if (err)
		return err;
	/* One rule per check, all before any state changes. */
	if ((ve.flags & PVIR_VIRTE_FLAGS_RSVD) || ve.rsvd_bytes)
		return -EINVAL; /* reserved bits */
	if (ve.flags & PVIR_VIRTE_LEVEL)
		return -EINVAL; /* MSI is edge-triggered */
	if (!(ve.flags & PVIR_VIRTE_PRESENT)) {
		p->step = e->dev ? STEP_TEARDOWN : STEP_NONE;
		return 0;
	}
	if (!vector_allowed(ve.vector))
		return -EINVAL; /* exception or system vector */
	if (!vm_vcpu_by_apic_id(vm, ve.dest) || route_of(&ve, &route))
		return -ENOENT; /* no such vCPU */
	dev = vm_device_by_bdf(vm, ve.sid);
	if (!dev)
		return -EPERM; /* not a device of this VM */
	k = ve.flags & PVIR_VIRTE_MSI ? VFIO_KIND_MSI : dev_kind(dev);
	if (!dev->vfio[k].count)
		return -EINVAL;		   /* PVIR_VIRTE_MSI for a device without MSI */
	if (e->dev != dev || e->kind != k) /* new, another source-id, or another index */
		return plan_new(b, p, dev, k, &route);
	p->step = STEP_RETARGET;
	p->old_msg = vmm_route_msg(vm, e->gsi);
	p->route_changed = !msi_msg_equal(&p->old_msg, &route);
	if (p->route_changed)
		vmm_route_update(vm, e->gsi, &route);
	return 0;
}

/* Entries [from, n) of the batch keep their previous state: undo what A did. */
static void unplan(struct batch *b, uint32_t from)
{
	for (uint32_t i = from; i < b->n; i++) {
		struct plan *p = &b->p[i];

		if (p->step == STEP_NEW)
			unreserve(b->vm, &p->next);
		else if (p->step == STEP_RETARGET)
			vmm_route_restore(b->vm, b->vm->hc.e[b->first + i].gsi, &p->old_msg);
	}
	b->n = from;
}

/* A range: entries [i, j) of the batch whose @step vectors are consecutive on one device. */
static uint32_t range_end(const struct batch *b, uint32_t i, enum step step,
			  const struct hc_entry *(*at)(const struct batch *, uint32_t))
{
	uint32_t j = i + 1;

	while (j < b->n && b->p[j].step == step && at(b, j)->dev == at(b, i)->dev &&
	       at(b, j)->kind == at(b, i)->kind && at(b, j)->vec == at(b, i)->vec + (j - i))
		j++;
	return j;
}

static const struct hc_entry *new_at(const struct batch *b, uint32_t i)
{
	return &b->p[i].next;
}

static const struct hc_entry *old_at(const struct batch *b, uint32_t i)
{
	return &b->vm->hc.e[b->first + i];
}

static int set_fds(struct assigned_dev *d, enum vfio_kind k, uint32_t start, uint32_t count,
		   const int32_t *fds)
{
	return vfio_set_triggers(d, vfio_index_of(k), start, count, fds);
}

/*
 * A NORESIZE host (VFIO before Linux 6.5) cannot add an MSI-X vector past
 * those it enabled MSI-X with: MSI-X goes off and on again with all of
 * them, [0, @end), as QEMU did before 8.2. The device's other vIRTEs keep
 * their vectors, re-attached; if the new set fails, the old one is set again.
 */
static int resize_and_set(const struct batch *b, uint32_t i, uint32_t j, unsigned end)
{
	struct assigned_dev *d = new_at(b, i)->dev;
	unsigned old_end = vfio_vectors_allocated(d, VFIO_PCI_MSIX_IRQ_INDEX);
	int32_t *fds = malloc(end * sizeof(*fds));
	int err = fds ? 0 : -ENOMEM;

	for (unsigned n = 0; fds && n < end; n++)
		fds[n] = -1;
	for (uint32_t k = 0; fds && k < b->vm->hc.entries; k++) {
		const struct hc_entry *e = &b->vm->hc.e[k];

		if (e->dev == d && e->kind == VFIO_KIND_MSIX && e->vec < end)
			fds[e->vec] = e->fd;
	}
	if (fds) {
		(void)!vfio_disable_index(d, VFIO_PCI_MSIX_IRQ_INDEX); /* enabled: cannot fail */
		for (uint32_t k = i; k < j; k++)
			fds[new_at(b, k)->vec] = new_at(b, k)->fd;
		err = set_fds(d, VFIO_KIND_MSIX, 0, end, fds);
		if (err) {
			for (uint32_t k = i; k < j; k++)
				fds[new_at(b, k)->vec] = -1;
			(void)!set_fds(d, VFIO_KIND_MSIX, 0, old_end, fds); /* as a moment ago */
		}
	}
	free(fds);
	return err;
}

static int set_range(const struct batch *b, uint32_t i, uint32_t j, bool on)
{
	const struct hc_entry *e = on ? new_at(b, i) : old_at(b, i);
	unsigned end = e->vec + (j - i);
	int32_t *fds;
	int err;

	if (on && e->kind == VFIO_KIND_MSIX && host_msix_noresize(b->vm->host) &&
	    e->dev->vfio[VFIO_KIND_MSIX].enabled &&
	    end > vfio_vectors_allocated(e->dev, VFIO_PCI_MSIX_IRQ_INDEX))
		return resize_and_set(b, i, j, end);
	fds = malloc((j - i) * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	for (uint32_t k = i; k < j; k++)
		fds[k - i] = on ? new_at(b, k)->fd : -1;
	err = set_fds(e->dev, e->kind, e->vec, j - i, fds);
	free(fds);
	return err;
}

/*
 * Step B: triggers for the new vectors; a failed range is retried entry by entry, but
 * for MSI, whose vectors are enabled together or not at all: there the range's first
 * entry is the one that failed.
 */
static void set_new_triggers(struct batch *b)
{
	for (uint32_t i = 0; i < b->n;) {
		uint32_t j;
		int err;

		if (b->p[i].step != STEP_NEW) {
			i++;
			continue;
		}
		j = range_end(b, i, STEP_NEW, new_at);
		err = set_range(b, i, j, true);
		if (!err) {
			i = j;
			continue;
		}
		if (new_at(b, i)->kind == VFIO_KIND_MSI) {
			b->err = err;
			unplan(b, i);
			return;
		}
		for (; i < j; i++) {
			err = set_range(b, i, i + 1, true);
			if (err) {
				b->err = err;
				unplan(b, i);
				return;
			}
		}
	}
}

/* Step C: the torn-down entries lose irqfd, trigger, route and eventfd. */
static void teardown_entries(struct batch *b)
{
	struct vm *vm = b->vm;

	for (uint32_t i = 0; i < b->n; i++) {
		struct hc_entry *e = &vm->hc.e[b->first + i];

		if (b->p[i].step == STEP_TEARDOWN || (b->p[i].step == STEP_NEW && e->dev))
			vmm_irqfd_deassign(vm, e->fd, e->gsi);
	}
	for (uint32_t i = 0; i < b->n;) {
		struct plan *p = &b->p[i];
		uint32_t j = i + 1;

		if (p->step == STEP_TEARDOWN)
			j = range_end(b, i, STEP_TEARDOWN, old_at);
		if (p->step == STEP_TEARDOWN || (p->step == STEP_NEW && old_at(b, i)->dev))
			(void)!set_range(b, i, j, false); /* fd -1 cannot fail */
		for (uint32_t k = i; k < j; k++)
			if (b->p[k].step == STEP_TEARDOWN ||
			    (b->p[k].step == STEP_NEW && old_at(b, k)->dev)) {
				unreserve(vm, old_at(b, k));
				vm->hc.e[b->first + k] = (struct hc_entry){0};
			}
		i = j;
	}
}

/*
 * A device index whose last vIRTE went: off. VFIO keeps a freed MSI-X or MSI
 * vector's host interrupt (and IRTE) until the index is disabled; this is
 * when everything the device held there goes back, quota included.
 */
static void release_idle_devices(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ndevs; i++) {
		struct assigned_dev *d = vm->devs[i];
		enum vfio_kind kinds[2] = {dev_kind(d), VFIO_KIND_MSI};

		for (unsigned k = 0; k < 2; k++)
			if (d->vfio[kinds[k]].enabled && !d->hc_vecs[kinds[k]])
				/* enabled: cannot fail */
				(void)!vfio_disable_index(d, vfio_index_of(kinds[k]));
	}
}

static bool any_route_change(const struct batch *b)
{
	for (uint32_t i = 0; i < b->n; i++)
		if (b->p[i].step == STEP_NEW ||
		    (b->p[i].step == STEP_RETARGET && b->p[i].route_changed))
			return true;
	return false;
}

/*
 * Step D: one commit. An IRTE that could not follow its new route (the
 * host's invalidation failed, -EIO) left KVM on the old route: that entry
 * keeps its previous host state, route included, and its status says -EIO.
 * Return: the batch index of the first such entry, or b->n if none.
 */
static uint32_t commit_routes(struct batch *b)
{
	struct vm *vm = b->vm;
	uint32_t first_refused = b->n;

	if (!any_route_change(b) || !vmm_route_commit(vm, true))
		return b->n;
	for (uint32_t i = b->n; i-- > 0;) {
		struct plan *p = &b->p[i];
		uint32_t gsi = vm->hc.e[b->first + i].gsi;

		if (p->step != STEP_RETARGET || !p->route_changed || !vmm_route_refused(vm, gsi))
			continue;
		vmm_route_restore(vm, gsi, &p->old_msg);
		p->status = -EIO;
		first_refused = i;
	}
	return first_refused;
}

/* Messages read back: one VFIO call per range; this many on the stack. */
#define MSG_CHUNK 64

/* Steps E and F: irqfds for the new vectors; every entry's message written back. */
static void bind_and_write_back(struct batch *b)
{
	struct vm *vm = b->vm;

	for (uint32_t i = 0; i < b->n; i++) {
		struct hc_entry *e = &vm->hc.e[b->first + i];

		if (b->p[i].step != STEP_NEW)
			continue;
		*e = b->p[i].next;
		/* the route is committed and the eventfd fresh: KVM takes it */
		(void)!vmm_irqfd_assign(vm, e->fd, e->gsi);
	}
	for (uint32_t i = 0; i < b->n;) {
		struct hc_entry *e = &vm->hc.e[b->first + i];
		uint32_t j = e->dev ? range_end(b, i, b->p[i].step, old_at) : i + 1;
		struct msi_msg few[MSG_CHUNK] = {{0}};
		struct msi_msg *msgs = j - i > MSG_CHUNK ? calloc(j - i, sizeof(*msgs)) : NULL;

		if (!msgs) { /* a short range, or no memory for a long one: read it in chunks */
			msgs = few;
			if (j - i > MSG_CHUNK)
				j = i + MSG_CHUNK;
		}
		/* the vectors were set up above: VFIO has a message for each */
		if (e->dev)
			(void)!vfio_irq_msgs_get(e->dev, vfio_index_of(e->kind), e->vec, j - i,
						 msgs);
		for (uint32_t k = i; k < j; k++)
			write_back(vm, b->first + k, &msgs[k - i], b->p[k].status);
		if (msgs != few)
			free(msgs);
		i = j;
	}
}

static int sync_batch(struct vm *vm, uint32_t first, uint32_t count, uint32_t *ret_done)
{
	struct batch b = {.vm = vm, .first = first};
	uint32_t refused;
	int err = 0;

	b.p = calloc(count, sizeof(*b.p));
	if (!b.p)
		return -ENOMEM;
	for (; b.n < count; b.n++) {
		err = plan_entry(&b, first + b.n, &b.p[b.n]);
		if (err)
			break;
	}
	b.err = err;
	set_new_triggers(&b);
	teardown_entries(&b);
	release_idle_devices(vm);
	refused = commit_routes(&b);
	bind_and_write_back(&b);
	*ret_done = b.n;
	if (refused < b.n) { /* it comes first: the stop's entry gets its status here */
		if (b.err)
			write_status(vm, first + b.n, b.err);
		*ret_done = refused;
		b.err = -EIO;
	}
	free(b.p);
	return b.err;
}

/* ---- the calls ------------------------------------------------------------- */

static uint64_t quota_left(const struct vm *vm)
{
	return vm->quota - vm->used;
}

static void query(struct vm *vm, struct vcpu_regs *regs)
{
	regs->rax = 0;
	regs->rbx = PVIR_ABI_VERSION;
	regs->rcx = PVIR_FEAT_BATCH | PVIR_FEAT_MSI | PVIR_FEAT_PARK |
		    (host_posting(vm->host) ? PVIR_FEAT_POSTED : 0) |
		    (vm->remap_event ? PVIR_FEAT_REMAP_EVENT : 0);
	regs->rdx = vm->quota;
}

static bool any_entry_active(const struct vm *vm)
{
	for (uint32_t i = 0; vm->hc.e && i < vm->hc.entries; i++)
		if (vm->hc.e[i].dev)
			return true;
	return false;
}

static bool emulation_in_use(const struct vm *vm)
{
	for (unsigned d = 0; d < vm->ndevs; d++)
		if (irq_emul_in_use(vm->devs[d]))
			return true;
	return false;
}

/*
 * Opted in (@direct): each device's storage is mapped into the guest where
 * its requester-id is this VM's alone, and mediated where another VM holds
 * it too (mediate.c). Opted out: trapped and emulated again.
 */
static int set_storage_mode(struct vm *vm, bool direct)
{
	for (unsigned d = 0; d < vm->ndevs; d++) {
		struct assigned_dev *dev = vm->devs[d];
		enum vmm_storage_mode mode = VMM_STORAGE_TRAPPED;

		mediate_free(dev);
		dev->stale_mediated = false;
		if (direct && !vfio_guest_storage_set(dev, VFIO_STORAGE_GUEST)) {
			mode = VMM_STORAGE_DIRECT;
		} else if (direct) {
			/* set_table checked that remapping is secure: VFIO takes it */
			(void)!vfio_guest_storage_set(dev, VFIO_STORAGE_MEDIATED);
			if (mediate_init(dev))
				return -ENOMEM;
			mode = VMM_STORAGE_MEDIATED;
		} else {
			(void)!vfio_guest_storage_set(dev, VFIO_STORAGE_KERNEL);
		}
		dev->msix_mode = mode;
		dev->ims_mode = mode;
		/* Regions only split where storage pages are: this cannot run out of them. */
		(void)!vmm_map_storage(vm, dev);
	}
	return 0;
}

static int set_table(struct vm *vm, uint64_t gpa, uint64_t entries)
{
	uint64_t *stale;
	struct hc_entry *e;

	if (any_entry_active(vm))
		return -EBUSY; /* replace or drop a table only when it is idle */
	if (!entries) {
		free(vm->hc.e);
		free(vm->hc.stale);
		vm->hc = (struct hc_state){.copy_hook = vm->hc.copy_hook,
					   .copy_hook_ctx = vm->hc.copy_hook_ctx,
					   .event_vector = vm->hc.event_vector,
					   .event_vcpu = vm->hc.event_vcpu};
		(void)!set_storage_mode(vm, false); /* trapping again allocates nothing */
		return 0;
	}
	if (gpa % PVIR_TABLE_ALIGN || entries > PVIR_TABLE_MAX_ENTRIES)
		return -EINVAL;
	if (!physmem_range_ok(vm->mem, gpa, entries * PVIR_VIRTE_SIZE))
		return -EFAULT;
	if (!host_remapping_secure(vm->host))
		return -EOPNOTSUPP; /* VFIO would not offer MSIX_MAPPABLE */
	if (emulation_in_use(vm))
		return -EBUSY; /* the guest is using emulated MSI-X: finish that first */
	e = calloc(entries, sizeof(*e));
	stale = calloc((entries + 63) / 64, sizeof(*stale));
	if (!e || !stale || set_storage_mode(vm, true)) {
		free(e);
		free(stale);
		/* back as it was: the current table's storage, or trapped */
		if (set_storage_mode(vm, vm->hc.table_set))
			(void)!set_storage_mode(vm, false);
		return -ENOMEM;
	}
	free(vm->hc.e);
	free(vm->hc.stale);
	vm->hc.e = e;
	vm->hc.stale = stale; /* a new table: nothing in it is stale */
	vm->hc.nstale = 0;
	vm->hc.table_set = true;
	vm->hc.table_gpa = gpa;
	vm->hc.entries = (uint32_t)entries;
	return 0;
}

/*
 * Where the remap event goes: any vector a device could be given, or the system vectors
 * (Linux's guests take HYPERVISOR_CALLBACK_VECTOR, 0xf3, for such calls), never an
 * exception or the syscall vector. Vector 0 turns the event off.
 */
static int set_event(struct vm *vm, uint64_t vector, uint64_t apic_id)
{
	struct vcpu *v;

	if (!vm->remap_event)
		return -EOPNOTSUPP;
	if (!vector) {
		vm->hc.event_vector = 0;
		vm->hc.event_vcpu = NULL;
		return 0;
	}
	if (vector < PVIR_FIRST_VECTOR || vector > UINT8_MAX || vector == PVIR_IA32_SYSCALL_VECTOR)
		return -EINVAL;
	v = apic_id <= UINT32_MAX ? vm_vcpu_by_apic_id(vm, (uint32_t)apic_id) : NULL;
	if (!v)
		return -ENOENT;
	vm->hc.event_vector = (uint8_t)vector;
	vm->hc.event_vcpu = v;
	return 0;
}

int vm_pvir_remap_event(struct vm *vm)
{
	if (!vm->hc.event_vector)
		return -ENOENT;
	vm->stats.remap_events++;
	/* one the guest has not taken yet stands for this one too: an APIC merges them */
	if (!vm_vcpu_irr_test(vm->hc.event_vcpu, vm->hc.event_vector))
		host_vcpu_inject(vm->host, vm->hc.event_vcpu, vm->hc.event_vector);
	return 0;
}

/* ---- revoked entries --------------------------------------------------------- */

static void stale_set(struct vm *vm, uint32_t i, bool on)
{
	if (bitmap_test(vm->hc.stale, i) == on)
		return;
	bitmap_assign(vm->hc.stale, i, on);
	vm->hc.nstale = on ? vm->hc.nstale + 1 : vm->hc.nstale - 1;
}

/* Mediated only while entries are stale: set when the first goes, undone in unmediate(). */
static int mediate_for_stale(struct vm *vm, struct assigned_dev *d)
{
	int err;

	if (d->msix_mode != VMM_STORAGE_DIRECT)
		return 0; /* mediated already, for good (a shared requester-id), or trapped */
	err = mediate_adopt(d);
	if (err)
		return err;
	(void)!vfio_guest_storage_set(d, VFIO_STORAGE_MEDIATED); /* remapping is secure */
	d->msix_mode = d->ims_mode = VMM_STORAGE_MEDIATED;
	d->stale_mediated = true;
	(void)!vmm_map_storage(vm, d); /* regions split only where storage pages are */
	return 0;
}

/*
 * Back to direct storage once the guest has mended everything: no vIRTE stale, and every
 * entry of the device holding a granted message, so the device's entries are the guest's.
 */
static void unmediate(struct vm *vm, struct assigned_dev *d)
{
	if (!d->stale_mediated || vm->hc.nstale || !mediate_all_granted(d))
		return;
	mediate_free(d);
	(void)!vfio_guest_storage_set(d, VFIO_STORAGE_GUEST); /* it was GUEST before */
	d->msix_mode = d->ims_mode = VMM_STORAGE_DIRECT;
	d->stale_mediated = false;
	(void)!vmm_map_storage(vm, d);
}

/* A SYNC that went through [first, first + done): those entries are the guest's again. */
static void mend(struct vm *vm, uint32_t first, uint32_t done)
{
	for (uint32_t i = first; i < first + done; i++)
		stale_set(vm, i, false);
	for (unsigned d = 0; d < vm->ndevs; d++)
		unmediate(vm, vm->devs[d]);
}

void hcall_storage_written(struct assigned_dev *d)
{
	unmediate(d->vm, d);
}

/*
 * Memory-resident IMS cannot be trapped: its slots that hold @old are masked in guest
 * memory, so the device latches what it raises instead of sending a stale handle.
 */
static void mask_memory_slots(struct vm *vm, struct assigned_dev *d, const struct msi_msg *old)
{
	unsigned bar, n = pci_func_ims_entries(d->func);
	uint64_t off, len, ctx = 0;

	if (pci_func_ims_storage(d->func) != IMS_MEMORY ||
	    !pci_func_ims(d->func, &bar, &off, &len) ||
	    pci_mmio_read(d->func, bar, off + IMS_REG_CTX_BASE, 8, &ctx))
		return;
	for (unsigned i = 0; i < n; i++) {
		uint64_t slot = ctx + (uint64_t)i * IMS_SLOT_SIZE;
		uint32_t w[4];

		if (physmem_read(vm->mem, slot, w, sizeof(w)) || w[0] != old->address_lo ||
		    w[1] != old->address_hi || w[2] != old->data)
			continue;
		w[3] |= IMS_CTRL_MASK;
		(void)!physmem_write(vm->mem, slot + IMS_SLOT_CTRL, &w[3], 4);
	}
}

/* Step 1 of a revoke: what the entries' storage needs before their host side goes. */
static int prepare_revoke(struct batch *b, struct msi_msg *old)
{
	struct vm *vm = b->vm;

	for (uint32_t i = 0; i < b->n; i++) {
		struct hc_entry *e = &vm->hc.e[b->first + i];
		int err;

		if (!e->dev)
			continue;
		b->p[i].step = STEP_TEARDOWN;
		b->p[i].next.dev = e->dev; /* whose storage to mend, once the entry is gone */
		err = vfio_irq_msgs_get(e->dev, vfio_index_of(e->kind), e->vec, 1, &old[i]);
		if (!err)
			err = mediate_for_stale(vm, e->dev);
		if (err)
			return err;
	}
	return 0;
}

int vm_pvir_revoke(struct vm *vm, uint32_t first, uint32_t count)
{
	struct batch b = {.vm = vm, .first = first, .n = count};
	struct msi_msg *old;
	int err;

	if (!vm->hc.table_set || !count || first >= vm->hc.entries ||
	    count > vm->hc.entries - first)
		return -EINVAL;
	b.p = calloc(count, sizeof(*b.p));
	old = calloc(count, sizeof(*old));
	err = b.p && old ? prepare_revoke(&b, old) : -ENOMEM;
	if (err) { /* only storage was mediated early: back as it was where nothing is stale */
		for (unsigned d = 0; d < vm->ndevs; d++)
			unmediate(vm, vm->devs[d]);
		free(b.p);
		free(old);
		return err;
	}
	teardown_entries(&b);
	release_idle_devices(vm);
	for (uint32_t i = 0; i < count; i++) {
		if (b.p[i].step != STEP_TEARDOWN)
			continue;
		write_back(vm, first + i, &(struct msi_msg){0}, -PVIR_ESTALE);
		stale_set(vm, first + i, true);
		vm->stats.revoked++;
	}
	for (unsigned d = 0; d < vm->ndevs; d++)
		if (vm->devs[d]->stale_mediated)
			mediate_settle_all(vm->devs[d]);
	for (uint32_t i = 0; i < count; i++)
		if (b.p[i].step == STEP_TEARDOWN)
			mask_memory_slots(vm, b.p[i].next.dev, &old[i]);
	free(b.p);
	free(old);
	return 0;
}

/* ---- a destination's service (docs/migration.md) ---------------------------------- */

static int entry_msg(struct vm *vm, uint32_t i, struct msi_msg *ret)
{
	const struct hc_entry *e = &vm->hc.e[i];

	return vfio_irq_msgs_get(e->dev, vfio_index_of(e->kind), e->vec, 1, ret);
}

/* The destination's device standing for @d (the same guest BDF). */
static struct assigned_dev *dest_dev(struct vm *dst, const struct assigned_dev *d)
{
	return vm_device_by_bdf(dst, d->guest_bdf);
}

static void hints_clear(struct vm *dst)
{
	for (unsigned d = 0; d < dst->ndevs; d++) {
		free(dst->devs[d]->irte_hints);
		dst->devs[d]->irte_hints = NULL;
		dst->devs[d]->irte_hint_only = false;
	}
}

/*
 * Before a batch: the VFIO vector each of its entries will be given — the lowest free
 * one, entry by entry, as vec_reserve() takes them — asks for the IRTE index its handle
 * had on the source; with @only, that index or nothing.
 */
static int hint_batch(struct vm *dst, struct vm *src, uint32_t first, uint32_t count, bool only)
{
	unsigned next[VM_MAX_DEVICES] = {0};

	for (uint32_t i = first; i < first + count; i++) {
		const struct hc_entry *e = &src->hc.e[i];
		struct assigned_dev *d = dest_dev(dst, e->dev);
		const struct vfio_vector *v = &entry_vfio(e)->v[e->vec];
		const struct vfio_index *x;
		unsigned k, n;

		if (!d)
			return -ENODEV;
		if (e->kind == VFIO_KIND_MSI)
			continue; /* a new MSI block: any that is free (the guest re-syncs) */
		for (k = 0; dst->devs[k] != d; k++) /* d is one of them (dest_dev()) */
			;
		x = &d->vfio[e->kind];
		if (!d->irte_hints) {
			d->irte_hints = malloc(x->count * sizeof(*d->irte_hints));
			if (!d->irte_hints)
				return -ENOMEM;
			for (n = 0; n < x->count; n++)
				d->irte_hints[n] = HOST_IRQ_ANY;
			next[k] = d->hc_vec_free_from[e->kind];
		}
		for (n = next[k]; n < x->count && d->hc_vec_used[e->kind][n]; n++)
			;
		if (n < x->count)
			d->irte_hints[n] = v->hi ? host_irq_index(v->hi) : HOST_IRQ_ANY;
		next[k] = n + 1;
		d->irte_hint_only = only;
	}
	return 0;
}

/*
 * Entries [first, first + count) synced here in one SYNC, each asking for its old index.
 * With @only, the batch stops at the first entry whose index is taken (*ret_done: those
 * before it are restored), which then waits for the second pass.
 */
static int restore_batch(struct vm *dst, struct vm *src, uint32_t first, uint32_t count, bool only,
			 uint32_t *ret_done)
{
	int err = hint_batch(dst, src, first, count, only);

	*ret_done = 0;
	if (!err)
		err = sync_batch(dst, first, count, ret_done);
	hints_clear(dst);
	return err;
}

/* The run of entries from @i on that the source holds, up to the table's end. */
static uint32_t held_run(const struct vm *src, uint32_t i)
{
	uint32_t j = i;

	while (j < src->hc.entries && src->hc.e[j].dev)
		j++;
	return j - i;
}

/*
 * First every handle that can stay, in runs of one SYNC each: a run stops at an entry
 * whose index is taken, which is skipped. Then the skipped ones, taking any index: none
 * of them can take an index another could have kept.
 */
static int restore_entries(struct vm *dst, struct vm *src)
{
	uint32_t done, n;
	int err = 0;

	for (uint32_t i = 0; !err && i < src->hc.entries; i += n ? n : 1) {
		n = src->hc.e[i].dev ? held_run(src, i) : 0;
		if (!n)
			continue;
		err = restore_batch(dst, src, i, n, true, &done);
		if (err == -EBUSY) { /* entry i + done is taken here: on after it */
			err = 0;
			n = done + 1;
		}
	}
	for (uint32_t i = 0; !err && i < src->hc.entries; i++)
		if (src->hc.e[i].dev && !dst->hc.e[i].dev)
			err = restore_batch(dst, src, i, 1, false, &done);
	return err;
}

/*
 * Entry @i, restored: flagged, with its storage held, if its handle did not survive — or
 * if it was stale at the source already, its storage holding a message older still (the
 * guest had not re-synced it): the restore's SYNC wrote a status of 0, which must not
 * tell the guest all is well.
 */
static int check_entry(struct vm *dst, struct vm *src, uint32_t i, uint32_t *moved)
{
	struct msi_msg old, now;
	bool kept;
	int err = entry_msg(src, i, &old);

	if (!err)
		err = entry_msg(dst, i, &now);
	kept = !err && msi_msg_equal(&old, &now);
	if (err || (kept && !bitmap_test(src->hc.stale, i)))
		return err;
	err = mediate_for_stale(dst, dst->hc.e[i].dev);
	if (err)
		return err;
	write_status(dst, i, -PVIR_ESTALE);
	stale_set(dst, i, true);
	mask_memory_slots(dst, dst->hc.e[i].dev, &old);
	*moved += !kept;
	return 0;
}

int hcall_restore(struct vm *dst, struct vm *src, uint32_t *ret_moved)
{
	int err = 0;

	*ret_moved = 0;
	if (!src->hc.table_set)
		return 0;
	err = set_table(dst, src->hc.table_gpa, src->hc.entries);
	if (err)
		return err;
	if (src->hc.event_vector) {
		dst->hc.event_vector = src->hc.event_vector;
		dst->hc.event_vcpu = vm_vcpu(dst, src->hc.event_vcpu->id);
	}
	err = restore_entries(dst, src);
	for (uint32_t i = 0; !err && i < src->hc.entries; i++) {
		if (src->hc.e[i].dev)
			err = check_entry(dst, src, i, ret_moved);
		else if (bitmap_test(src->hc.stale, i)) /* revoked at the source, still stale */
			stale_set(dst, i, true);
	}
	for (unsigned d = 0; !err && d < src->ndevs && d < dst->ndevs; d++)
		if (src->devs[d]->stale_mediated)
			err = mediate_for_stale(dst, dst->devs[d]);
	for (unsigned d = 0; !err && d < dst->ndevs; d++)
		if (dst->devs[d]->stale_mediated)
			mediate_settle_all(dst->devs[d]);
	return err;
}

static void sync(struct vm *vm, struct vcpu_regs *regs)
{
	uint64_t first = regs->rbx, count = regs->rcx;
	uint32_t done = 0;
	int err;

	if (!vm->hc.table_set || !count || first >= vm->hc.entries ||
	    count > vm->hc.entries - first)
		err = -EINVAL;
	else
		err = sync_batch(vm, (uint32_t)first, (uint32_t)count, &done);
	if (vm->hc.nstale)
		mend(vm, (uint32_t)first, done);
	if (err && vm->hc.table_set && first + done < vm->hc.entries)
		write_status(vm, (uint32_t)(first + done), err);
	regs->rax = (uint64_t)(int64_t)err;
	regs->rbx = first + (err ? done : count);
	regs->rcx = quota_left(vm);
}

void hcall_dispatch(struct vm *vm, struct vcpu *v, struct vcpu_regs *regs)
{
	(void)v;
	if (!vm->pvir_service) { /* an older VMM: KVM's answer to any unknown call */
		regs->rax = (uint64_t) - (int64_t)PVIR_KVM_ENOSYS;
		return;
	}
	switch (regs->rax) {
	case PVIR_HC_QUERY:
		query(vm, regs);
		break;
	case PVIR_HC_SET_TABLE:
		regs->rax = (uint64_t)(int64_t)set_table(vm, regs->rbx, regs->rcx);
		break;
	case PVIR_HC_SYNC:
		sync(vm, regs);
		break;
	case PVIR_HC_SET_EVENT:
		regs->rax = (uint64_t)(int64_t)set_event(vm, regs->rbx, regs->rcx);
		break;
	default:
		regs->rax = (uint64_t) - (int64_t)PVIR_KVM_ENOSYS;
	}
}

/* The VM goes: VFIO, KVM and the route table free what the entries held. */
void hcall_free(struct vm *vm)
{
	free(vm->hc.e);
	free(vm->hc.stale);
	vm->hc.e = NULL;
	vm->hc.stale = NULL;
}

uint32_t vm_hcall_entries(const struct vm *vm)
{
	uint32_t n = 0;

	for (uint32_t i = 0; vm->hc.e && i < vm->hc.entries; i++)
		n += vm->hc.e[i].dev != NULL;
	return n;
}
