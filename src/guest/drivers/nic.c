// SPDX-License-Identifier: MIT
/* A NIC-like MSI-X driver: a vector per queue, spread over the CPUs. */
#include <errno.h>
#include <stdlib.h>

#include "common.h"
#include "pvir/guest_drivers.h"

int nic_probe(struct guest *g, uint16_t bdf, unsigned min_queues, unsigned queues,
	      struct nic_driver *n)
{
	struct guest_pci_dev *dev = guest_pci_find(g, bdf);
	int got, err;

	if (!dev)
		return -ENODEV;
	got = pci_alloc_irq_vectors(g, dev, min_queues, queues, NULL);
	if (got < 0)
		return got;
	*n = (struct nic_driver){.g = g, .dev = dev, .queues = (unsigned)got};
	n->handled = calloc((size_t)got, sizeof(*n->handled));
	err = n->handled ? drv_request_all(g, dev, pci_irq_vector, n->queues, n->handled) : -ENOMEM;
	if (err) {
		pci_free_irq_vectors(g, dev);
		free(n->handled);
		n->handled = NULL;
	}
	return err;
}

void nic_remove(struct nic_driver *n)
{
	drv_free_all(n->g, n->dev, pci_irq_vector, n->queues);
	pci_free_irq_vectors(n->g, n->dev);
	free(n->handled);
	n->handled = NULL;
	n->queues = 0;
}

int nic_queue_irq(const struct nic_driver *n, unsigned q)
{
	return q < n->queues ? pci_irq_vector(n->dev, q) : -EINVAL;
}
