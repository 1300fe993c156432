// SPDX-License-Identifier: MIT
#include "common.h"

static void count_irq(struct guest *g, unsigned irq, void *dev_id)
{
	uint64_t *counter = dev_id;

	(void)g;
	(void)irq;
	(*counter)++;
}

int drv_request_all(struct guest *g, struct guest_pci_dev *dev, irq_of_fn irq_of, unsigned n,
		    uint64_t *counters)
{
	int err = 0;
	unsigned i;

	for (i = 0; !err && i < n; i++)
		err = request_irq(g, (unsigned)irq_of(dev, i), count_irq, &counters[i]);
	if (err)
		drv_free_all(g, dev, irq_of, i - 1);
	return err;
}

void drv_free_all(struct guest *g, struct guest_pci_dev *dev, irq_of_fn irq_of, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free_irq(g, (unsigned)irq_of(dev, i));
}
