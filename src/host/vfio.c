// SPDX-License-Identifier: MIT
/*
 * VFIO region and IRQ info for an assigned function (FACTS §7.1-7.3).
 * Region offsets in the device fd are index << 40, as vfio-pci places them.
 */
#include "pvir/vfio_dev.h"

#include <errno.h>
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
	return ir_driver_remapping_secure(host_ir_driver(h));
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

int vfio_irq_info(struct pci_func *f, struct vfio_irq_info *info)
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
