/* SPDX-License-Identifier: MIT */
/* What the NIC and accelerator drivers share: requesting a run of interrupts. */
#ifndef PVIR_DRIVERS_COMMON_H
#define PVIR_DRIVERS_COMMON_H

#include <stdint.h>

#include "pvir/guest.h"

/* The irq of a device's n-th interrupt (pci_irq_vector, guest_ims_irq). */
typedef int (*irq_of_fn)(struct guest_pci_dev *d, unsigned n);

/*
 * Requests interrupts 0..@n-1 of @dev, each counting into @counters[i].
 * Return: 0, or the first error with none of them left requested.
 */
int drv_request_all(struct guest *g, struct guest_pci_dev *dev, irq_of_fn irq_of, unsigned n,
		    uint64_t *counters);
void drv_free_all(struct guest *g, struct guest_pci_dev *dev, irq_of_fn irq_of, unsigned n);

#endif
