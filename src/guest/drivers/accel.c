// SPDX-License-Identifier: MIT
/* An accelerator-like IMS driver: thousands of entries set up in one batch. */
#include <errno.h>
#include <stdlib.h>

#include "common.h"
#include "pvir/guest_drivers.h"

int accel_probe(struct guest *g, uint16_t bdf, const struct guest_ims_layout *layout,
		unsigned entries, struct accel_driver *a)
{
	struct guest_pci_dev *dev = guest_pci_find(g, bdf);
	int n, err;

	if (!dev)
		return -ENODEV;
	n = guest_ims_alloc(g, dev, layout, entries, entries, NULL);
	if (n < 0)
		return n;
	*a = (struct accel_driver){.g = g, .dev = dev, .layout = *layout, .entries = entries};
	a->handled = calloc(entries, sizeof(*a->handled));
	err = a->handled ? drv_request_all(g, dev, guest_ims_irq, entries, a->handled) : -ENOMEM;
	if (err) {
		guest_ims_free_last(g, dev, entries);
		free(a->handled);
		a->handled = NULL;
	}
	return err;
}

void accel_remove(struct accel_driver *a)
{
	drv_free_all(a->g, a->dev, guest_ims_irq, a->entries);
	guest_ims_free_last(a->g, a->dev, a->entries);
	free(a->handled);
	a->handled = NULL;
	a->entries = 0;
}

int accel_entry_irq(const struct accel_driver *a, unsigned e)
{
	return e < a->entries ? guest_ims_irq(a->dev, e) : -EINVAL;
}
