/* SPDX-License-Identifier: MIT */
/*
 * VFIO's answers about an assigned PCI function, with the real structures and
 * constants of <linux/vfio.h> (FACTS §7): region info with its capability
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

/** vfio_irq_info() - VFIO_DEVICE_GET_IRQ_INFO; Return: 0 or -EINVAL */
int vfio_irq_info(struct pci_func *f, struct vfio_irq_info *info) WARN_UNUSED;

#endif
