/* SPDX-License-Identifier: MIT */
/*
 * VFIO's answers about an assigned PCI function, with the real structures and
 * constants of <linux/vfio.h>: region info with its capability
 * chain, IRQ info. What matters here is one decision: the MSI-X BAR carries
 * VFIO_REGION_INFO_CAP_MSIX_MAPPABLE only while host interrupt remapping is
 * enabled with compatibility format blocked — the protection that makes a
 * guest-written table safe. Otherwise the region comes with a sparse-mmap
 * capability that leaves the table's pages out, so the VMM must trap them.
 */
#ifndef PVIR_VFIO_DEV_H
#define PVIR_VFIO_DEV_H

#include <linux/vfio.h>

#include "pvir/compiler.h"

struct host;
struct pci_func;

/**
 * vfio_region_info() - VFIO_DEVICE_GET_REGION_INFO for @f
 * @info:	in: argsz (of the buffer @info starts) and index; out: the info,
 *		its capabilities after it when argsz has room for them, else
 *		argsz raised to the size needed (ask again), as the kernel does
 * Return: 0, or -EINVAL (argsz below the struct, no such region).
 */
int vfio_region_info(struct host *h, struct pci_func *f, struct vfio_region_info *info) WARN_UNUSED;

/*
 * The IMS IRQ index VFIO lacks: the one uapi addition IMS needs under any
 * design (docs/host-kernel.md). After VFIO_PCI_REQ_IRQ_INDEX.
 */
#define VFIO_PCI_IMS_IRQ_INDEX VFIO_PCI_NUM_IRQS

/**
 * vfio_irq_info() - VFIO_DEVICE_GET_IRQ_INFO: MSI-X reports NORESIZE only on
 * a host without dynamic MSI-X; the IMS index has one vector per IMS entry
 * Return: 0 or -EINVAL
 */
int vfio_irq_info(struct host *h, struct pci_func *f, struct vfio_irq_info *info) WARN_UNUSED;

#endif
