// SPDX-License-Identifier: MIT
/*
 * Device assignment and the VMM's exit handlers: where each guest-physical
 * access to a device goes, and the emulated parts of config space.
 *
 * A BAR is mapped page by page. Pages holding interrupt storage (the MSI-X
 * table and PBA, IMS slots or IMS registers) are trapped while that storage
 * is emulated, everything else is direct, as VFIO's sparse mmap leaves it;
 * runs of pages alike become one region.
 *
 * Config space is always emulated (every access is an exit): BARs read back
 * their guest-physical placement (relocation is not supported: writes to BARs
 * are ignored), the MSI-X control word is virtual while the table is, and the
 * rest passes through to the function, whose write masks protect it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/failpoint.h"
#include "pvir/physmem.h"
#include "vm_internal.h"

#define PAGE_SIZE     4096
#define BAR_REG_FIRST PCI_BASE_ADDRESS_0
#define BAR_REG_END   (PCI_BASE_ADDRESS_0 + 4 * PCI_NUM_BARS)
#define BAR_FLAG_MASK 0xfu

/* ---- placement and regions ------------------------------------------------ */

static uint64_t bar_size(const struct pci_func *f, unsigned bar)
{
	return pci_func_bar_size(f, bar);
}

static int place_bars(struct vm *vm, struct assigned_dev *d)
{
	uint64_t base = VMM_MMIO_BASE + (uint64_t)vm->ndevs * VMM_MMIO_PER_DEVICE, next = 0;

	for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
		uint64_t size = bar_size(d->func, b);

		if (!size)
			continue;
		next = (next + size - 1) & ~(size - 1); /* naturally aligned */
		if (next + size > VMM_MMIO_PER_DEVICE)
			return -ENOSPC;
		d->bar_gpa[b] = base + next;
		next += size;
	}
	return 0;
}

struct storage_range {
	unsigned bar;
	uint64_t off;
	uint64_t len;
	enum vmm_storage_mode *mode;
};

/* The interrupt storage of @d, as BAR ranges (from its capability and config). */
static unsigned storage_ranges(struct assigned_dev *d, struct storage_range r[3])
{
	struct pci_func *f = d->func;
	uint8_t cap = pci_find_capability(f, PCI_CAP_ID_MSIX);
	unsigned n = 0;

	if (cap) {
		uint32_t table = pci_cfg_read(f, cap + PCI_MSIX_TABLE, 4);
		uint32_t pba = pci_cfg_read(f, cap + PCI_MSIX_PBA, 4);
		uint32_t count =
		    (pci_cfg_read(f, cap + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1;

		r[n++] =
		    (struct storage_range){table & PCI_MSIX_BIR, table & ~PCI_MSIX_BIR,
					   (uint64_t)count * PCI_MSIX_ENTRY_SIZE, &d->msix_mode};
		r[n++] = (struct storage_range){pba & PCI_MSIX_BIR, pba & ~PCI_MSIX_BIR,
						8 * (uint64_t)((count + 63) / 64), &d->msix_mode};
	}
	if (pci_func_ims(f, &r[n].bar, &r[n].off, &r[n].len)) {
		r[n].mode = &d->ims_mode;
		n++;
	}
	return n;
}

/* Whether the page at @page of BAR @bar holds storage the VMM still emulates. */
static bool page_trapped(struct assigned_dev *d, unsigned bar, uint64_t page)
{
	struct storage_range r[3];
	unsigned n = storage_ranges(d, r);

	for (unsigned i = 0; i < n; i++)
		if (r[i].bar == bar && *r[i].mode != VMM_STORAGE_DIRECT &&
		    r[i].off < page + PAGE_SIZE && page < r[i].off + r[i].len)
			return true;
	return false;
}

static void drop_regions(struct vm *vm, struct assigned_dev *d)
{
	unsigned out = 0;

	for (unsigned i = 0; i < vm->nregions; i++)
		if (vm->regions[i].dev != d)
			vm->regions[out++] = vm->regions[i];
	vm->nregions = out;
}

static int add_region(struct vm *vm, struct assigned_dev *d, unsigned bar, uint64_t off,
		      uint64_t len, bool trapped)
{
	if (vm->nregions == VM_MAX_REGIONS)
		return -ENOSPC;
	vm->regions[vm->nregions++] = (struct mmio_region){.gpa = d->bar_gpa[bar] + off,
							   .len = len,
							   .dev = d,
							   .bar = bar,
							   .bar_offset = off,
							   .trapped = trapped};
	return 0;
}

/* (Re)builds @d's regions from its storage modes: runs of alike pages. */
int vmm_map_storage(struct vm *vm, struct assigned_dev *d)
{
	drop_regions(vm, d);
	for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
		uint64_t size = bar_size(d->func, b), start = 0;
		bool cur = size && page_trapped(d, b, 0);
		int err;

		if (!size)
			continue;
		for (uint64_t page = PAGE_SIZE; page < size; page += PAGE_SIZE) {
			bool t = page_trapped(d, b, page);

			if (t == cur)
				continue;
			err = add_region(vm, d, b, start, page - start, cur);
			if (err)
				return err;
			start = page;
			cur = t;
		}
		err = add_region(vm, d, b, start, size - start, cur);
		if (err)
			return err;
	}
	return 0;
}

/* ---- assignment ------------------------------------------------------------ */

static int dma_from_guest(void *ctx, uint64_t addr, void *buf, size_t len)
{
	/* No vIOMMU: device addresses are guest-physical. */
	if (failpoint_hit(FAILPOINT_GUEST_READ))
		return -EFAULT;
	return physmem_read(vm_memory(ctx), addr, buf, len);
}

/* Storage no VMM can trap (IMS in guest memory), unless the device windows it. */
static bool unmediatable(struct vm *vm, const struct pci_func *func)
{
	return pci_func_ims_storage(func) == IMS_MEMORY && !host_func_windowed(vm->host, func);
}

/*
 * The MSI capability (PCI Local Bus 3.0 §6.8.1): the guest reads and writes a view
 * of its own from Message Control to the data, as QEMU's vfio-pci emulates it and
 * VFIO virtualizes it (vfio_pci_config.c: ALL_VIRT), so that no config write aims the
 * device's MSI anywhere: its registers there are the host kernel's, set when VFIO
 * enables MSI. The mask and pending bits are the device's, passed through (NO_VIRT).
 * The view starts as the device's, and only the bits software may write change:
 * Enable and Multiple Message Enable, the address (dword-aligned), and the data. A
 * write that changes what the view says is QEMU's to act on (irq_emul_msi_config()).
 */
static uint8_t msi_cap(const struct assigned_dev *d)
{
	return pci_find_capability(d->func, PCI_CAP_ID_MSI);
}

static uint16_t msi_flags(const struct assigned_dev *d)
{
	return (uint16_t)(d->msi_view[0] | d->msi_view[1] << 8);
}

/* The offset of the data from the capability. */
static unsigned msi_data_at(const struct assigned_dev *d)
{
	return msi_flags(d) & PCI_MSI_FLAGS_64BIT ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;
}

/* The bits of the capability's byte at @at (from the capability) software may write. */
static uint8_t msi_writable(const struct assigned_dev *d, unsigned at)
{
	bool hi = msi_flags(d) & PCI_MSI_FLAGS_64BIT;

	if (at == PCI_MSI_FLAGS)
		return PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE;
	if (at >= PCI_MSI_ADDRESS_LO && at < PCI_MSI_ADDRESS_LO + 4)
		return at == PCI_MSI_ADDRESS_LO ? 0xfc : 0xff;
	if (hi && at >= PCI_MSI_ADDRESS_HI && at < PCI_MSI_ADDRESS_HI + 4)
		return 0xff;
	if (at >= msi_data_at(d) && at < msi_data_at(d) + 2)
		return 0xff;
	return 0;
}

/* Whether config byte @off is the view's; *@ret_at its offset from the capability. */
static bool in_msi_view(const struct assigned_dev *d, unsigned off, unsigned *ret_at)
{
	unsigned cap = msi_cap(d);

	if (!cap || off < cap + PCI_MSI_FLAGS || off >= cap + msi_data_at(d) + 2)
		return false;
	*ret_at = off - cap;
	return true;
}

static uint32_t view_get(const struct assigned_dev *d, unsigned at, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)d->msi_view[at - PCI_MSI_FLAGS + i] << (8 * i);
	return v;
}

/* What the view says now: enabled, with how many vectors, and the message. */
static void msi_view_tell(struct assigned_dev *d)
{
	uint16_t flags = msi_flags(d);
	unsigned nvec = 1u << ((flags & PCI_MSI_FLAGS_QSIZE) >> 4);
	struct msi_msg m = {
	    .address_lo = view_get(d, PCI_MSI_ADDRESS_LO, 4),
	    .address_hi = flags & PCI_MSI_FLAGS_64BIT ? view_get(d, PCI_MSI_ADDRESS_HI, 4) : 0,
	    .data = view_get(d, msi_data_at(d), 2),
	};

	irq_emul_msi_config(d, flags & PCI_MSI_FLAGS_ENABLE, nvec, &m);
}

/* A write that touches the view changes only it (and a write is within one dword). */
static bool msi_view_write(struct assigned_dev *d, uint16_t off, unsigned size, uint32_t val)
{
	bool any = false;

	for (unsigned i = 0, at; i < size; i++) {
		uint8_t *b, w;

		if (!in_msi_view(d, off + i, &at))
			continue;
		any = true;
		w = msi_writable(d, at);
		b = &d->msi_view[at - PCI_MSI_FLAGS];
		*b = (uint8_t)((*b & ~w) | ((val >> (8 * i)) & w));
	}
	if (any)
		msi_view_tell(d);
	return any;
}

static void msi_view_init(struct assigned_dev *d)
{
	uint8_t cap = msi_cap(d);

	for (unsigned i = 0; cap && i < VMM_MSI_VIEW; i++)
		d->msi_view[i] =
		    (uint8_t)pci_cfg_read(d->func, (uint16_t)(cap + PCI_MSI_FLAGS + i), 1);
}

/* And, as QEMU's vfio_pci_load_config(), MSI enabled again if the guest had it on. */
void vmm_cfg_restore(struct assigned_dev *d, const struct assigned_dev *src)
{
	memcpy(d->msi_view, src->msi_view, sizeof(d->msi_view));
	if (msi_cap(d))
		msi_view_tell(d);
}

int vm_assign_device(struct vm *vm, struct pci_func *func, uint16_t guest_bdf,
		     struct assigned_dev **ret)
{
	struct pci_dma dma = {.read = dma_from_guest, .ctx = vm};
	struct assigned_dev *d;
	int err;

	if (vm->ndevs == VM_MAX_DEVICES)
		return -ENOSPC;
	for (unsigned i = 0; i < vm->ndevs; i++)
		if (vm->devs[i]->guest_bdf == guest_bdf || vm->devs[i]->func == func)
			return -EBUSY;
	/* a requester-id shared with another VM only where storage can be mediated */
	err = host_rid_claim(vm->host, pci_func_rid(func), vm, unmediatable(vm, func));
	if (err)
		return err;
	d = calloc(1, sizeof(*d));
	if (!d) {
		host_rid_release(vm->host, pci_func_rid(func), vm, unmediatable(vm, func));
		return -ENOMEM;
	}
	d->vm = vm;
	d->func = func;
	d->guest_bdf = guest_bdf;
	d->msix_mode = VMM_STORAGE_TRAPPED;
	d->ims_mode = VMM_STORAGE_TRAPPED;
	msi_view_init(d);
	err = place_bars(vm, d);
	if (!err)
		err = vfio_irqs_init(d);
	if (!err) {
		irq_emul_init(d);
		err = vmm_map_storage(vm, d);
	}
	if (err) {
		drop_regions(vm, d);
		irq_emul_free(d);
		vfio_irqs_free(d);
		host_rid_release(vm->host, pci_func_rid(func), vm, unmediatable(vm, func));
		free(d);
		return err;
	}
	pci_func_set_dma(func, &dma);
	vm->devs[vm->ndevs++] = d;
	if (ret)
		*ret = d;
	return 0;
}

void vmm_free_devices(struct vm *vm)
{
	/* the VMM's irqfds and routes first, then VFIO's host interrupts */
	for (unsigned i = 0; i < vm->ndevs; i++) {
		struct pci_func *f = vm->devs[i]->func;

		irq_emul_free(vm->devs[i]);
		mediate_free(vm->devs[i]);
		vfio_irqs_free(vm->devs[i]);
		host_rid_release(vm->host, pci_func_rid(f), vm, unmediatable(vm, f));
		pci_func_set_dma(vm->devs[i]->func, NULL);
		free(vm->devs[i]);
	}
	vm->ndevs = 0;
	vm->nregions = 0;
}

struct assigned_dev *vm_device_by_bdf(struct vm *vm, uint16_t guest_bdf)
{
	for (unsigned i = 0; i < vm->ndevs; i++)
		if (vm->devs[i]->guest_bdf == guest_bdf)
			return vm->devs[i];
	return NULL;
}

struct pci_func *assigned_dev_func(const struct assigned_dev *d)
{
	return d->func;
}

uint16_t assigned_dev_guest_bdf(const struct assigned_dev *d)
{
	return d->guest_bdf;
}

uint64_t assigned_dev_bar_gpa(const struct assigned_dev *d, unsigned bar)
{
	return bar < PCI_NUM_BARS ? d->bar_gpa[bar] : 0;
}

enum vmm_storage_mode assigned_dev_msix_mode(const struct assigned_dev *d)
{
	return d->msix_mode;
}

const struct vmm_stats *vm_vmm_stats(const struct vm *vm)
{
	return &vm->stats;
}

unsigned vm_vmm_pending(const struct vm *vm)
{
	return irq_emul_pending(vm);
}

/* ---- MMIO -------------------------------------------------------------------- */

static struct mmio_region *find_region(struct vm *vm, uint64_t gpa, unsigned size)
{
	for (unsigned i = 0; i < vm->nregions; i++) {
		struct mmio_region *r = &vm->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->len && size <= r->len - (gpa - r->gpa))
			return r;
	}
	return NULL;
}

static uint64_t all_ones(unsigned size)
{
	return size >= 8 ? UINT64_MAX : bits_mask(8 * size - 1, 0);
}

int vm_mmio_read(struct vm *vm, struct vcpu *v, uint64_t gpa, unsigned size, uint64_t *ret)
{
	struct mmio_region *r = find_region(vm, gpa, size);
	struct emul_store *st;
	struct med_store *med;
	enum vfio_kind kind;
	uint64_t off, rel;

	(void)v;
	if (viommu_covers(vm, gpa)) {
		vm_count_exit(vm, VM_EXIT_MMIO_TRAP);
		*ret = viommu_read(vm, gpa, size);
		return 0;
	}
	if (!r) {
		*ret = all_ones(size);
		return -EFAULT;
	}
	off = r->bar_offset + (gpa - r->gpa);
	if (r->trapped) {
		vm_count_exit(vm, VM_EXIT_MMIO_TRAP);
		if ((st = irq_emul_store_at(r->dev, r->bar, off, &rel))) {
			*ret = irq_emul_read(r->dev, st, rel, size);
			return 0;
		}
		if ((med = mediate_at(r->dev, r->bar, off, &rel, &kind))) {
			*ret = mediate_read(med, rel, size);
			return 0;
		}
	}
	vm->stats.device_reads++;
	return pci_mmio_read(r->dev->func, r->bar, off, size, ret);
}

int vm_mmio_write(struct vm *vm, struct vcpu *v, uint64_t gpa, unsigned size, uint64_t val)
{
	struct mmio_region *r = find_region(vm, gpa, size);
	struct emul_store *st;
	struct med_store *med;
	enum vfio_kind kind;
	uint64_t off, rel;

	(void)v;
	if (viommu_covers(vm, gpa)) {
		vm_count_exit(vm, VM_EXIT_MMIO_TRAP);
		viommu_write(vm, gpa, size, val);
		return 0;
	}
	if (!r)
		return -EFAULT;
	off = r->bar_offset + (gpa - r->gpa);
	if (r->trapped) {
		vm_count_exit(vm, VM_EXIT_MMIO_TRAP);
		if ((st = irq_emul_store_at(r->dev, r->bar, off, &rel))) {
			irq_emul_write(r->dev, st, rel, size, val);
			return 0;
		}
		if ((med = mediate_at(r->dev, r->bar, off, &rel, &kind))) {
			mediate_write(r->dev, med, kind, rel, size, val);
			hcall_storage_written(r->dev);
			return 0;
		}
	}
	vm->stats.device_writes++;
	return pci_mmio_write(r->dev->func, r->bar, off, size, val);
}

/* ---- config space ------------------------------------------------------------- */

static uint32_t read_bar_reg(struct assigned_dev *d, uint16_t off)
{
	unsigned bar = (off - BAR_REG_FIRST) / 4;
	uint32_t phys = pci_cfg_read(d->func, (uint16_t)(off & ~3u), 4);

	/* The upper half of a 64-bit BAR: the address's high dword. */
	if (bar > 0 && !bar_size(d->func, bar) &&
	    (pci_cfg_read(d->func, (uint16_t)(off - 4), 4) & PCI_BAR_MEM_TYPE_64))
		return (uint32_t)(d->bar_gpa[bar - 1] >> 32);
	if (!bar_size(d->func, bar))
		return 0;
	return (uint32_t)d->bar_gpa[bar] | (phys & BAR_FLAG_MASK);
}

static uint16_t msix_flags_off(struct assigned_dev *d)
{
	uint8_t cap = pci_find_capability(d->func, PCI_CAP_ID_MSIX);

	return cap ? (uint16_t)(cap + PCI_MSIX_FLAGS) : 0;
}

static uint32_t cfg_read_dword(struct assigned_dev *d, uint16_t dw)
{
	uint16_t flags = msix_flags_off(d);
	uint32_t v;

	if (dw >= BAR_REG_FIRST && dw < BAR_REG_END)
		return read_bar_reg(d, dw);
	v = pci_cfg_read(d->func, dw, 4);
	if (flags && irq_emul_msix_active(d) && dw == (flags & ~3u)) {
		unsigned shift = 8 * (flags & 3u);
		uint32_t ctl = (v >> shift) & PCI_MSIX_FLAGS_QSIZE;

		ctl |= irq_emul_msix_enabled(d) ? PCI_MSIX_FLAGS_ENABLE : 0;
		ctl |= irq_emul_msix_maskall(d) ? PCI_MSIX_FLAGS_MASKALL : 0;
		v = (v & ~(UINT32_C(0xffff) << shift)) | ctl << shift;
	}
	return v;
}

uint32_t vm_cfg_read(struct vm *vm, struct vcpu *v, uint16_t bdf, uint16_t off, unsigned size)
{
	struct assigned_dev *d = vm_device_by_bdf(vm, bdf);
	uint32_t dw;

	(void)v;
	vm_count_exit(vm, VM_EXIT_CFG);
	if (!d || (size != 1 && size != 2 && size != 4) || off % size || off + size > PCI_CFG_SIZE)
		return UINT32_MAX;
	dw = cfg_read_dword(d, (uint16_t)(off & ~3u));
	for (unsigned i = 0, at; i < 4; i++)
		if (in_msi_view(d, (off & ~3u) + i, &at))
			dw = (dw & ~(UINT32_C(0xff) << (8 * i))) |
			     (uint32_t)d->msi_view[at - PCI_MSI_FLAGS] << (8 * i);
	return (uint32_t)((dw >> (8 * (off & 3u))) & all_ones(size));
}

void vm_cfg_write(struct vm *vm, struct vcpu *v, uint16_t bdf, uint16_t off, unsigned size,
		  uint32_t val)
{
	struct assigned_dev *d = vm_device_by_bdf(vm, bdf);
	uint16_t flags;

	(void)v;
	vm_count_exit(vm, VM_EXIT_CFG);
	if (!d || (size != 1 && size != 2 && size != 4) || off % size || off + size > PCI_CFG_SIZE)
		return;
	if (off >= BAR_REG_FIRST && off < BAR_REG_END)
		return;
	flags = msix_flags_off(d);
	if (flags && irq_emul_msix_active(d) && off == flags && size == 2) {
		irq_emul_msix_control(d, (uint16_t)val);
		return;
	}
	if (msi_view_write(d, off, size, val))
		return;
	pci_cfg_write(d->func, off, size, val);
}

/* ---- hypercalls ----------------------------------------------------------------- */

void vm_hypercall(struct vm *vm, struct vcpu *v, struct vcpu_regs *regs)
{
	vm_count_exit(vm, VM_EXIT_HYPERCALL);
	hcall_dispatch(vm, v, regs);
}

void vm_hcall_copy_hook(struct vm *vm, void (*hook)(void *ctx, uint32_t index), void *ctx)
{
	vm->hc.copy_hook = hook;
	vm->hc.copy_hook_ctx = ctx;
}
