/* SPDX-License-Identifier: MIT */
/*
 * Two guest drivers, as thin as their Linux counterparts' interrupt setup:
 *
 *  nic:   one MSI-X vector per queue, spread over the CPUs, each requested;
 *         asks for @queues but accepts down to @min_queues if the host grants
 *         fewer (pci_alloc_irq_vectors(min, max)).
 *  accel: thousands of IMS entries (work queues / contexts), in device or
 *         memory storage, allocated in one batch.
 *
 * Each interrupt's handler counts into the driver's per-queue counters.
 */
#ifndef PVIR_GUEST_DRIVERS_H
#define PVIR_GUEST_DRIVERS_H

#include <stdint.h>

#include "pvir/compiler.h"
#include "pvir/guest.h"

struct nic_driver {
	struct guest *g;
	struct guest_pci_dev *dev;
	unsigned queues;
	uint64_t *handled; /* per queue */
};

/** nic_probe() - Return: 0 (queues set up in @n->queues) or -errno with nothing kept */
int nic_probe(struct guest *g, uint16_t bdf, unsigned min_queues, unsigned queues,
	      struct nic_driver *n) WARN_UNUSED;
void nic_remove(struct nic_driver *n);
int nic_queue_irq(const struct nic_driver *n, unsigned q);

struct accel_driver {
	struct guest *g;
	struct guest_pci_dev *dev;
	struct guest_ims_layout layout;
	unsigned entries;
	uint64_t *handled; /* per entry */
};

/** accel_probe() - Return: 0, -EOPNOTSUPP without the pvir service, or -errno */
int accel_probe(struct guest *g, uint16_t bdf, const struct guest_ims_layout *layout,
		unsigned entries, struct accel_driver *a) WARN_UNUSED;
void accel_remove(struct accel_driver *a);
int accel_entry_irq(const struct accel_driver *a, unsigned e);

#endif
