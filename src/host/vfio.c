// SPDX-License-Identifier: MIT
/*
 * VFIO for an assigned function (include/uapi/linux/vfio.h, vfio_pci_core.c): region and IRQ info, and
 * VFIO_DEVICE_SET_IRQS for MSI-X and the IMS index. Region offsets in the
 * device fd are index << 40, as vfio-pci places them.
 */
#include "pvir/vfio_dev.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/ir_driver.h"
#include "vm_internal.h"

#define REGION_OFFSET_SHIFT 40
#define PAGE_SIZE	    4096

static bool has_msix_table(struct pci_func *f, unsigned bar, uint64_t *off, uint64_t *len)
{
	uint8_t cap = pci_find_capability(f, PCI_CAP_ID_MSIX);
	uint32_t t;

	if (!cap)
		return false;
	t = pci_cfg_read(f, cap + PCI_MSIX_TABLE, 4);
	*off = t & ~PCI_MSIX_BIR;
	*len = (uint64_t)((pci_cfg_read(f, cap + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1) *
	       PCI_MSIX_ENTRY_SIZE;
	return (t & PCI_MSIX_BIR) == bar;
}

bool vfio_msix_mappable(struct host *h, struct pci_func *f)
{
	(void)f;
	return host_remapping_secure(h);
}

/* Places the region's one capability after the info if argsz has room for it. */
static void add_cap(struct vfio_region_info *info, uint32_t *used, const void *cap, uint32_t size)
{
	uint32_t at = *used;

	*used += size;
	if (*used > info->argsz)
		return;
	memcpy((uint8_t *)info + at, cap, size);
	info->cap_offset = at;
}

static void bar_caps(struct host *h, struct pci_func *f, struct vfio_region_info *info,
		     uint64_t size)
{
	uint32_t used = sizeof(*info);
	uint64_t toff, tlen;

	if (!has_msix_table(f, info->index, &toff, &tlen))
		return;
	info->flags |= VFIO_REGION_INFO_FLAG_CAPS;
	if (vfio_msix_mappable(h, f)) {
		struct vfio_info_cap_header cap = {.id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
						   .version = 1};

		add_cap(info, &used, &cap, sizeof(cap));
	} else {
		/* mmap-able around the table's pages: before them and after them */
		uint64_t first = toff & ~(uint64_t)(PAGE_SIZE - 1);
		uint64_t end = (toff + tlen + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
		struct vfio_region_info_cap_sparse_mmap hdr = {
		    .header = {.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP, .version = 1}};
		struct vfio_region_sparse_mmap_area areas[2];
		uint8_t cap[sizeof(hdr) + sizeof(areas)];

		if (first)
			areas[hdr.nr_areas++] = (struct vfio_region_sparse_mmap_area){0, first};
		if (end < size)
			areas[hdr.nr_areas++] =
			    (struct vfio_region_sparse_mmap_area){end, size - end};
		memcpy(cap, &hdr, sizeof(hdr));
		memcpy(cap + sizeof(hdr), areas, hdr.nr_areas * sizeof(areas[0]));
		add_cap(info, &used, cap,
			(uint32_t)(sizeof(hdr) + hdr.nr_areas * sizeof(areas[0])));
	}
	if (used > info->argsz) {
		info->argsz = used; /* the caller asks again with a bigger buffer */
		info->cap_offset = 0;
	}
}

int vfio_region_info(struct host *h, struct pci_func *f, struct vfio_region_info *info)
{
	uint64_t size;

	if (info->argsz < sizeof(*info))
		return -EINVAL;
	info->cap_offset = 0;
	info->offset = (uint64_t)info->index << REGION_OFFSET_SHIFT;
	if (info->index == VFIO_PCI_CONFIG_REGION_INDEX) {
		info->size = PCI_CFG_SIZE;
		info->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		return 0;
	}
	if (info->index > VFIO_PCI_BAR5_REGION_INDEX)
		return -EINVAL;
	size = pci_func_bar_size(f, info->index);
	info->size = size;
	info->flags = size ? VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
				 VFIO_REGION_INFO_FLAG_MMAP
			   : 0;
	if (size)
		bar_caps(h, f, info, size);
	return 0;
}

int vfio_irq_info(struct host *h, struct pci_func *f, struct vfio_irq_info *info)
{
	uint8_t msi = pci_find_capability(f, PCI_CAP_ID_MSI);
	uint8_t msix = pci_find_capability(f, PCI_CAP_ID_MSIX);

	if (info->argsz < sizeof(*info))
		return -EINVAL;
	info->flags = VFIO_IRQ_INFO_EVENTFD;
	switch (info->index) {
	case VFIO_PCI_MSI_IRQ_INDEX:
		/* MSI cannot grow once enabled: NORESIZE */
		info->count =
		    msi ? 1u << ((pci_cfg_read(f, msi + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QMASK) >>
				 1)
			: 0;
		info->flags |= VFIO_IRQ_INFO_NORESIZE;
		return 0;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		/* dynamic MSI-X (Linux 6.5+): vectors can be added, no NORESIZE */
		info->count =
		    msix ? (pci_cfg_read(f, msix + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1
			 : 0;
		if (host_msix_noresize(h))
			info->flags |= VFIO_IRQ_INFO_NORESIZE;
		return 0;
	case VFIO_PCI_IMS_IRQ_INDEX:
		info->count = pci_func_ims_entries(f);
		return 0;
	case VFIO_PCI_INTX_IRQ_INDEX:
	case VFIO_PCI_ERR_IRQ_INDEX:
	case VFIO_PCI_REQ_IRQ_INDEX:
		info->count = 0;
		return 0;
	default:
		return -EINVAL;
	}
}

/* ---- VFIO_DEVICE_SET_IRQS: MSI-X, and the IMS index -------------------------------------- */

/*
 * The interrupt side of the device fd, as Linux's
 * drivers/vfio/pci/vfio_pci_intrs.c has it, for the two indexes a VMM here uses:
 *
 *  - MSI-X. Enabling allocates host interrupts [0, start + count) (one
 *    pci_alloc_irq_vectors); with dynamic MSI-X (Linux 6.5, e4163438e015
 *    and 6c8017c6a58d: NORESIZE no longer reported) a later vector is
 *    allocated when it first gets a trigger; without it (NORESIZE) a vector
 *    past those is -EINVAL, and the VMM must disable and enable again.
 *    Host interrupts stay allocated until MSI-X is disabled.
 *  - IMS (VFIO_PCI_IMS_IRQ_INDEX, the one uapi addition IMS needs,
 *    docs/host-kernel.md): the same trigger semantics; a vector is allocated
 *    at its first trigger and freed when its trigger is removed.
 *
 * Attaching a trigger is request_irq(): a host vector and the IRTE remapped
 * to it; the host message is written into the device's entry (for MSI-X the
 * "backdoor reset" vfio_pci_core.c guards against; for IMS the variant driver's write) and
 * the entry unmasked; the host interrupt is registered as the IRQ bypass
 * producer of the eventfd. Detaching is free_irq(): bypass producer gone,
 * the entry masked, the IRTE cleared, the host vector released. With the
 * guest-storage feature set, VFIO writes and masks nothing in the device.
 */

#define SET_IRQS_MINSZ offsetof(struct vfio_irq_set, data)

uint32_t vfio_index_of(enum vfio_kind k)
{
	static const uint32_t index[VFIO_KINDS] = {[VFIO_KIND_MSIX] = VFIO_PCI_MSIX_IRQ_INDEX,
						   [VFIO_KIND_IMS] = VFIO_PCI_IMS_IRQ_INDEX,
						   [VFIO_KIND_MSI] = VFIO_PCI_MSI_IRQ_INDEX};

	return index[k];
}

enum vfio_kind vfio_kind_of(uint32_t index)
{
	switch (index) {
	case VFIO_PCI_IMS_IRQ_INDEX:
		return VFIO_KIND_IMS;
	case VFIO_PCI_MSI_IRQ_INDEX:
		return VFIO_KIND_MSI;
	default:
		return VFIO_KIND_MSIX;
	}
}

/* The vectors each index offers, as VFIO_DEVICE_GET_IRQ_INFO reports them. */
static unsigned index_count(struct assigned_dev *d, uint32_t index)
{
	struct vfio_irq_info info = {.argsz = sizeof(info), .index = index};

	return vfio_irq_info(d->vm->host, d->func, &info) ? 0 : info.count;
}

int vfio_irqs_init(struct assigned_dev *d)
{
	for (unsigned k = 0; k < VFIO_KINDS; k++) {
		struct vfio_index *x = &d->vfio[k];
		unsigned count = index_count(d, vfio_index_of(k));

		x->count = count;
		x->v = calloc(count ? count : 1, sizeof(*x->v));
		d->hc_vec_used[k] = calloc(count ? count : 1, sizeof(*d->hc_vec_used[k]));
		if (!x->v || !d->hc_vec_used[k])
			return -ENOMEM;
		for (unsigned n = 0; n < count; n++)
			x->v[n] = (struct vfio_vector){.vm = d->vm, .trigger = -1};
	}
	return 0;
}

/* The device's entry @n: the MSI-X table, or device-resident IMS slots. */
bool vfio_entry_at(struct assigned_dev *d, enum vfio_kind k, unsigned n, unsigned *ret_bar,
		   uint64_t *ret_off)
{
	uint8_t cap = pci_find_capability(d->func, PCI_CAP_ID_MSIX);
	uint64_t len;

	if (k == VFIO_KIND_MSI)
		return false; /* in config space, the host kernel's alone */
	if (k == VFIO_KIND_MSIX) {
		uint32_t t = pci_cfg_read(d->func, cap + PCI_MSIX_TABLE, 4);

		*ret_bar = t & PCI_MSIX_BIR;
		*ret_off = (t & ~PCI_MSIX_BIR) + (uint64_t)n * PCI_MSIX_ENTRY_SIZE;
		return true;
	}
	if (pci_func_ims_storage(d->func) != IMS_DEVICE ||
	    !pci_func_ims(d->func, ret_bar, ret_off, &len))
		return false; /* memory-resident slots: the guest's RAM, not VFIO's to write */
	*ret_off += (uint64_t)n * IMS_SLOT_SIZE;
	return true;
}

#define ENTRY_CTRL_DWORD 3
#define ENTRY_MASKBIT	 0x1u /* PCI_MSIX_ENTRY_CTRL_MASKBIT and IMS_CTRL_MASK alike */

void vfio_entry_store(struct assigned_dev *d, enum vfio_kind k, unsigned n, unsigned dword,
		      uint32_t val)
{
	unsigned bar;
	uint64_t off;

	if (vfio_entry_at(d, k, n, &bar, &off))
		(void)!pci_mmio_write(d->func, bar, off + 4 * dword, 4, val); /* aligned, inside */
}

uint32_t vfio_entry_load(struct assigned_dev *d, enum vfio_kind k, unsigned n, unsigned dword)
{
	unsigned bar;
	uint64_t off, v = 0;

	if (!vfio_entry_at(d, k, n, &bar, &off) ||
	    pci_mmio_read(d->func, bar, off + 4 * dword, 4, &v))
		return 0;
	return (uint32_t)v;
}

/* VFIO's own writes: none once the feature hands the storage to the guest or the VMM. */
static void entry_write(struct assigned_dev *d, enum vfio_kind k, unsigned n, unsigned dword,
			uint32_t val)
{
	if (d->storage_owner == VFIO_STORAGE_KERNEL)
		vfio_entry_store(d, k, n, dword, val);
}

/*
 * MSI (PCI Local Bus 3.0 §6.8.1) is the host kernel's to program: its
 * msi_capability_init() masks every vector, writes the first vector's message and
 * Multiple Message Enable, and turns MSI on; starting a vector's irq unmasks it, and
 * shutting it down masks it (pci_msi_unmask, pci_msi_mask). VFIO only virtualizes the
 * capability for the VMM, bar the mask and pending bits it passes through.
 */
static uint8_t msi_cap_at(const struct assigned_dev *d)
{
	return pci_find_capability(d->func, PCI_CAP_ID_MSI);
}

static uint16_t msi_hw_flags(const struct assigned_dev *d)
{
	return (uint16_t)pci_cfg_read(d->func, msi_cap_at(d) + PCI_MSI_FLAGS, 2);
}

static void msi_hw_mask(struct assigned_dev *d, unsigned n, bool mask)
{
	uint16_t flags = msi_hw_flags(d);
	uint16_t at = (uint16_t)(msi_cap_at(d) +
				 (flags & PCI_MSI_FLAGS_64BIT ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32));
	uint32_t bits;

	if (!(flags & PCI_MSI_FLAGS_MASKBIT))
		return;
	bits = pci_cfg_read(d->func, at, 4);
	pci_cfg_write(d->func, at, 4, (uint32_t)bit_set(bits, n, mask));
}

static void msi_hw_enable(struct assigned_dev *d, unsigned nvec, const struct msi_msg *m)
{
	uint8_t cap = msi_cap_at(d);
	uint16_t flags = msi_hw_flags(d);
	bool wide = flags & PCI_MSI_FLAGS_64BIT;
	unsigned order = log2_u32((uint32_t)pow2_at_least(nvec));

	for (unsigned n = 0; n < d->vfio[VFIO_KIND_MSI].count; n++)
		msi_hw_mask(d, n, true);
	pci_cfg_write(d->func, cap + PCI_MSI_ADDRESS_LO, 4, m->address_lo);
	if (wide)
		pci_cfg_write(d->func, cap + PCI_MSI_ADDRESS_HI, 4, m->address_hi);
	pci_cfg_write(d->func, (uint16_t)(cap + (wide ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32)), 2,
		      m->data & 0xffff);
	flags = (uint16_t)((flags & ~PCI_MSI_FLAGS_QSIZE) | order << 4 | PCI_MSI_FLAGS_ENABLE);
	pci_cfg_write(d->func, cap + PCI_MSI_FLAGS, 2, flags);
}

static void msi_hw_disable(struct assigned_dev *d)
{
	pci_cfg_write(d->func, msi_cap_at(d) + PCI_MSI_FLAGS, 2,
		      msi_hw_flags(d) & ~PCI_MSI_FLAGS_ENABLE);
}

/* Vector @n's mask: the entry's control word, or MSI's mask bit. */
static void vector_mask(struct assigned_dev *d, enum vfio_kind k, unsigned n, bool mask)
{
	if (k == VFIO_KIND_MSI)
		msi_hw_mask(d, n, mask);
	else
		entry_write(d, k, n, ENTRY_CTRL_DWORD, mask ? ENTRY_MASKBIT : 0);
}

static void vector_charge_free(struct assigned_dev *d, struct vfio_vector *v)
{
	host_irq_free(d->vm->host, v->hi);
	vm_irte_uncharge(d->vm);
	v->hi = NULL;
}

/*
 * The IRTE a migration's destination asks for vector @n (docs/migration.md): the index
 * its handle had on the source. -EBUSY when it is not free and only it will do; 1 when
 * any other will do (or none was asked for, or the function's window decides).
 */
static int hinted_alloc(struct assigned_dev *d, unsigned n, struct vfio_vector *v)
{
	uint32_t at = d->irte_hints ? d->irte_hints[n] : HOST_IRQ_ANY;
	int err;

	if (at == HOST_IRQ_ANY || pci_func_has_handle_window(d->func))
		return 1;
	d->vm->stats.irte_hints++; /* the VMM's VFIO_DEVICE_FEATURE call before this SET_IRQS */
	err = host_irq_alloc_at(d->vm->host, pci_func_rid(d->func), at, &v->hi);
	if ((err == -EBUSY || err == -EINVAL) && d->irte_hint_only)
		return -EBUSY;
	return err == -EBUSY || err == -EINVAL ? 1 : err;
}

/* A host interrupt for vector @n: an IRTE, charged to the VM's quota. */
static int vector_alloc(struct assigned_dev *d, unsigned n, struct vfio_vector *v)
{
	int err = vm_irte_charge(d->vm);

	if (err)
		return err;
	err = hinted_alloc(d, n, v);
	if (err == 1)
		err = host_irq_alloc_for(d->vm->host, d->func, &v->hi);
	if (err)
		vm_irte_uncharge(d->vm);
	return err;
}

/* The host interrupt's handler (vfio_msihandler): signal the eventfd. */
static void vfio_msihandler(void *ctx, struct host_irq *hi)
{
	struct vfio_vector *v = ctx;

	(void)hi;
	kvm_eventfd_signal(v->vm, v->trigger);
}

static void vector_detach(struct assigned_dev *d, enum vfio_kind k, unsigned n)
{
	struct vfio_vector *v = &d->vfio[k].v[n];

	if (v->trigger < 0)
		return;
	kvm_bypass_del_producer(d->vm, v->trigger);
	vector_mask(d, k, n, true);
	host_irq_shutdown(d->vm->host, v->hi);
	v->trigger = -1;
}

static int vector_attach(struct assigned_dev *d, enum vfio_kind k, unsigned n, int fd)
{
	struct vfio_vector *v = &d->vfio[k].v[n];
	struct msi_msg m;
	int err;

	if (!kvm_eventfd_valid(d->vm, fd))
		return -EBADF;
	if (!v->hi &&
	    (k == VFIO_KIND_MSI || (k == VFIO_KIND_MSIX && host_msix_noresize(d->vm->host))))
		return -EINVAL; /* beyond what MSI or MSI-X was enabled with */
	if (!v->hi) {
		err = vector_alloc(d, n, v);
		if (err)
			return err;
	}
	/* the trigger first: an interrupt may come as soon as the entry is unmasked */
	v->trigger = fd;
	err = host_irq_request(d->vm->host, v->hi, vfio_msihandler, v);
	if (err) {
		v->trigger = -1;
		/* MSI-X keeps its host interrupt until disabled, as Linux; IMS frees it */
		if (k == VFIO_KIND_IMS)
			vector_charge_free(d, v);
		return err;
	}
	if (k != VFIO_KIND_MSI) { /* MSI's one message went in at enable */
		m = host_irq_msg(v->hi);
		entry_write(d, k, n, 0, m.address_lo);
		entry_write(d, k, n, 1, m.address_hi);
		entry_write(d, k, n, 2, m.data);
	}
	vector_mask(d, k, n, false);
	d->vm->stats.vfio_setups++;
	kvm_bypass_add_producer(d->vm, fd, v->hi);
	return 0;
}

/* vfio_msi_set_vector_signal: the old trigger off, then @fd on (fd -1: none). */
static int set_vector_signal(struct assigned_dev *d, enum vfio_kind k, unsigned n, int fd)
{
	vector_detach(d, k, n);
	if (fd >= 0)
		return vector_attach(d, k, n, fd);
	if (k == VFIO_KIND_IMS && d->vfio[k].v[n].hi)
		vector_charge_free(d, &d->vfio[k].v[n]);
	return 0;
}

static void index_disable(struct assigned_dev *d, enum vfio_kind k)
{
	struct vfio_index *x = &d->vfio[k];

	for (unsigned n = 0; n < x->count; n++) {
		vector_detach(d, k, n);
		if (x->v[n].hi && k == VFIO_KIND_MSI) { /* the block's charge goes below */
			host_irq_free(d->vm->host, x->v[n].hi);
			x->v[n].hi = NULL;
		} else if (x->v[n].hi) {
			vector_charge_free(d, &x->v[n]);
		}
	}
	if (k == VFIO_KIND_MSI && x->enabled)
		msi_hw_disable(d);
	for (; x->block; x->block--)
		vm_irte_uncharge(d->vm);
	x->enabled = false;
}

/*
 * pci_alloc_irq_vectors(@nvec, @nvec, PCI_IRQ_MSI): a block of host IRTEs
 * (host_irq_alloc_block_for()), and the capability programmed with the first one's
 * message. The VM's quota is charged the whole block, its padding to a power of two
 * too: those IRTEs are taken from the host's table all the same. MSI cannot grow
 * once enabled.
 */
static int msi_enable(struct assigned_dev *d, unsigned nvec)
{
	struct vfio_index *x = &d->vfio[VFIO_KIND_MSI];
	struct host_irq *his[PCI_MSI_MAX_VECTORS];
	unsigned block = (unsigned)pow2_at_least(nvec), charged = 0;
	struct msi_msg first;
	int err = nvec && nvec <= PCI_MSI_MAX_VECTORS ? 0 : -EINVAL;

	for (; !err && charged < block; charged++)
		err = vm_irte_charge(d->vm);
	if (err)
		charged--;
	if (!err)
		err = host_irq_alloc_block_for(d->vm->host, d->func, nvec, his);
	if (err) {
		while (charged--)
			vm_irte_uncharge(d->vm);
		return err;
	}
	for (unsigned n = 0; n < nvec; n++)
		x->v[n].hi = his[n];
	x->block = block;
	first = host_irq_msg(his[0]);
	msi_hw_enable(d, nvec, &first);
	x->enabled = true;
	return 0;
}

/* pci_alloc_irq_vectors(1, @nvec) for MSI-X; the IMS index allocates per vector. */
static int index_enable(struct assigned_dev *d, enum vfio_kind k, unsigned nvec)
{
	struct vfio_index *x = &d->vfio[k];
	int err;

	if (k == VFIO_KIND_MSI)
		return msi_enable(d, nvec);
	for (unsigned n = 0; k == VFIO_KIND_MSIX && n < nvec; n++) {
		err = vector_alloc(d, n, &x->v[n]);
		if (err) {
			index_disable(d, k);
			return err;
		}
	}
	x->enabled = true;
	return 0;
}

static int set_block(struct assigned_dev *d, enum vfio_kind k, uint32_t start, uint32_t count,
		     const int32_t *fds)
{
	for (uint32_t j = 0; j < count; j++) {
		int err = set_vector_signal(d, k, start + j, fds[j]);

		if (err) {
			while (j--)
				(void)set_vector_signal(d, k, start + j, -1);
			return err;
		}
	}
	return 0;
}

static int set_triggers(struct assigned_dev *d, enum vfio_kind k, const struct vfio_irq_set *s)
{
	const int32_t *fds = (const int32_t *)s->data;
	bool enabled_here = !d->vfio[k].enabled;
	int err;

	/* vfio_pci_set_msi_trigger: one of INTx, MSI and MSI-X at a time */
	if ((k == VFIO_KIND_MSI && d->vfio[VFIO_KIND_MSIX].enabled) ||
	    (k == VFIO_KIND_MSIX && d->vfio[VFIO_KIND_MSI].enabled))
		return -EINVAL;
	if (enabled_here) {
		err = index_enable(d, k, s->start + s->count);
		if (err)
			return err;
	}
	err = set_block(d, k, s->start, s->count, fds);
	if (err && enabled_here)
		index_disable(d, k);
	return err;
}

/* DATA_NONE or DATA_BOOL with a count: signal the triggers, as if the device had. */
static void loopback(struct assigned_dev *d, enum vfio_kind k, const struct vfio_irq_set *s)
{
	for (uint32_t j = 0; j < s->count; j++) {
		const struct vfio_vector *v = &d->vfio[k].v[s->start + j];

		if (v->trigger >= 0 && (!(s->flags & VFIO_IRQ_SET_DATA_BOOL) || s->data[j]))
			kvm_eventfd_signal(d->vm, v->trigger);
	}
}

static size_t data_size(uint32_t flags)
{
	switch (flags & VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case VFIO_IRQ_SET_DATA_BOOL:
		return sizeof(uint8_t);
	case VFIO_IRQ_SET_DATA_EVENTFD:
		return sizeof(int32_t);
	default:
		return 0;
	}
}

static bool one_bit(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* vfio_set_irqs_validate_and_prepare: one rule per check. */
static int set_irqs_valid(const struct assigned_dev *d, const struct vfio_irq_set *s)
{
	unsigned count;

	if (s->argsz < SET_IRQS_MINSZ)
		return -EINVAL;
	if (s->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;
	if (!one_bit(s->flags & VFIO_IRQ_SET_DATA_TYPE_MASK) ||
	    !one_bit(s->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;
	if (s->index != VFIO_PCI_MSIX_IRQ_INDEX && s->index != VFIO_PCI_IMS_IRQ_INDEX &&
	    s->index != VFIO_PCI_MSI_IRQ_INDEX)
		return -EINVAL; /* INTx, ERR and REQ are not modelled */
	count = d->vfio[vfio_kind_of(s->index)].count;
	if (s->start >= count && s->count)
		return -EINVAL;
	if (s->count > count - (s->start < count ? s->start : count))
		return -EINVAL;
	if ((uint64_t)s->argsz - SET_IRQS_MINSZ < (uint64_t)s->count * data_size(s->flags))
		return -EINVAL;
	return 0;
}

int vfio_set_irqs(struct assigned_dev *d, const struct vfio_irq_set *s)
{
	enum vfio_kind k;
	int err = set_irqs_valid(d, s);

	d->vm->stats.set_irqs++;
	d->vm->stats.ims_set_irqs += s->index == VFIO_PCI_IMS_IRQ_INDEX;
	if (err)
		return err;
	k = vfio_kind_of(s->index);
	if (!(s->flags & VFIO_IRQ_SET_ACTION_TRIGGER))
		return -ENOTTY; /* MSI and MSI-X cannot be masked through VFIO */
	if ((s->flags & VFIO_IRQ_SET_DATA_NONE) && !s->count) {
		if (!d->vfio[k].enabled)
			return -EINVAL;
		index_disable(d, k);
		return 0;
	}
	if (s->flags & VFIO_IRQ_SET_DATA_EVENTFD)
		return set_triggers(d, k, s);
	if (!d->vfio[k].enabled)
		return -EINVAL;
	loopback(d, k, s);
	return 0;
}

/* Triggers for this many vectors are set from the stack: a release cannot run out of memory. */
#define SET_IRQS_ON_STACK 8

int vfio_set_triggers(struct assigned_dev *d, uint32_t index, uint32_t start, uint32_t count,
		      const int32_t *fds)
{
	size_t argsz = SET_IRQS_MINSZ + (size_t)count * sizeof(int32_t);
	union {
		struct vfio_irq_set s;
		uint8_t bytes[SET_IRQS_MINSZ + SET_IRQS_ON_STACK * sizeof(int32_t)];
	} small;
	struct vfio_irq_set *s = count <= SET_IRQS_ON_STACK ? &small.s : calloc(1, argsz);
	int err;

	if (!s)
		return -ENOMEM;
	*s = (struct vfio_irq_set){.argsz = (uint32_t)argsz,
				   .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				   .index = index,
				   .start = start,
				   .count = count};
	memcpy(s->data, fds, (size_t)count * sizeof(int32_t));
	err = vfio_set_irqs(d, s);
	if (s != &small.s)
		free(s);
	return err;
}

unsigned vfio_vectors_allocated(const struct assigned_dev *d, uint32_t index)
{
	const struct vfio_index *x = &d->vfio[vfio_kind_of(index)];
	unsigned n = 0;

	while (x->enabled && n < x->count && x->v[n].hi)
		n++;
	return n;
}

int vfio_disable_index(struct assigned_dev *d, uint32_t index)
{
	struct vfio_irq_set s = {.argsz = sizeof(s),
				 .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
				 .index = index};

	return vfio_set_irqs(d, &s);
}

void vfio_irqs_free(struct assigned_dev *d)
{
	for (unsigned k = 0; k < VFIO_KINDS; k++) {
		if (d->vfio[k].v)
			index_disable(d, k);
		free(d->vfio[k].v);
		d->vfio[k] = (struct vfio_index){0};
	}
	for (unsigned k = 0; k < VFIO_KINDS; k++) {
		free(d->hc_vec_used[k]);
		d->hc_vec_used[k] = NULL;
		d->hc_vecs[k] = 0;
		d->hc_vec_free_from[k] = 0;
	}
	(void)!vfio_guest_storage_set(d, VFIO_STORAGE_KERNEL);
}

/*
 * The feature's SET. GUEST (the guest writes messages itself) needs
 * remapping with compatibility format blocked, and a requester-id no other
 * VM holds — source validation cannot tell such functions apart — unless
 * the function enforces a handle window, which can. MEDIATED (the VMM
 * writes what it checked) needs remapping only.
 */
int vfio_guest_storage_set(struct assigned_dev *d, enum vfio_storage_owner to)
{
	struct host *h = d->vm->host;
	uint16_t rid = pci_func_rid(d->func);
	bool windowed = host_func_windowed(h, d->func);

	if (to != VFIO_STORAGE_KERNEL && !vfio_msix_mappable(h, d->func))
		return -EOPNOTSUPP; /* only where remapping makes written messages safe */
	if (to == VFIO_STORAGE_GUEST && !windowed && !host_rid_exclusive(h, rid, d->vm))
		return -EPERM;
	/* a windowed function's guest names only its own IRTEs: no claim on the rid */
	if (!windowed && (to == VFIO_STORAGE_GUEST) != (d->storage_owner == VFIO_STORAGE_GUEST))
		host_rid_direct(h, rid, d->vm, to == VFIO_STORAGE_GUEST);
	d->storage_owner = to;
	return 0;
}

int vfio_irq_msgs_get(struct assigned_dev *d, uint32_t index, uint32_t start, uint32_t count,
		      struct msi_msg *ret)
{
	const struct vfio_index *x = &d->vfio[vfio_kind_of(index)];

	d->vm->stats.msg_reads++;
	if (d->storage_owner == VFIO_STORAGE_KERNEL || start > x->count || count > x->count - start)
		return -EINVAL;
	for (uint32_t j = 0; j < count; j++)
		if (!x->v[start + j].hi)
			return -EINVAL;
	for (uint32_t j = 0; j < count; j++)
		ret[j] = host_irq_msg(x->v[start + j].hi);
	return 0;
}
