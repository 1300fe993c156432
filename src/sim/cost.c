// SPDX-License-Identifier: MIT
/*
 * Cost-model defaults, each with its source row (docs/cost-model.md gives
 * the sources and the derivations), converted to ns at 2.75 GHz where the
 * source gives cycles.
 */
#include "pvir/cost.h"

#include <string.h>

struct cost_model cost_model_default(void)
{
	return (struct cost_model){
	    .hypercall = 2000,		/* inl_from_qemu, ~5,800 cycles */
	    .mmio_trap = 2000,		/* the same exit to the VMM */
	    .cfg_exit = 2000,		/* the same exit to the VMM */
	    .ext_intr_exit = 400,	/* a CPUID-class exit in KVM, ~1,100 cycles */
	    .irte_write = 50,		/* one cache-line RMW: no published figure */
	    .iec_inval = 1000,		/* a QI round trip, up to ~1 us */
	    .dev_mmio_write = 150,	/* 50-300 ns per UC store */
	    .dev_mmio_read = 600,	/* a non-posted read, median 560-600 ns */
	    .posted_delivery = 200,	/* 111-194 ns per posted IRQ with its handler */
	    .inject = 1200,		/* ~3,300 cycles with exits */
	    .wakeup = 600,		/* an exit-class path plus a notification */
	    .guest_handler = 1000,	/* assumption: a short driver handler */
	    .route_commit = 45000,	/* 515a0c79e796's 60 us a vector, less VFIO's 15 */
	    .irqfd_walk = 140,		/* (8 - 4 ms) / 65 commits / 455 irqfds */
	    .pi_update = 510,		/* 1.7 - 0.14 us an irqfd, less IRTE write and flush */
	    .vfio_vector_setup = 15000, /* 15-30 us per vector without its commit */
	    .viommu_translate = 500, /* assumption: an IRTE read from guest memory and a fix-up */
	};
}

static const char *const names[] = {
    "hypercall",	"mmio_trap",  "cfg_exit",	"ext_intr_exit",
    "irte_write",	"iec_inval",  "dev_mmio_write", "dev_mmio_read",
    "posted_delivery",	"inject",     "wakeup",		"guest_handler",
    "route_commit",	"irqfd_walk", "pi_update",	"vfio_vector_setup",
    "viommu_translate", NULL,
};

const char *const *cost_model_names(void)
{
	return names;
}

static uint64_t *field(struct cost_model *m, size_t i)
{
	uint64_t *fields[] = {
	    &m->hypercall,	 &m->mmio_trap,	 &m->cfg_exit,	     &m->ext_intr_exit,
	    &m->irte_write,	 &m->iec_inval,	 &m->dev_mmio_write, &m->dev_mmio_read,
	    &m->posted_delivery, &m->inject,	 &m->wakeup,	     &m->guest_handler,
	    &m->route_commit,	 &m->irqfd_walk, &m->pi_update,	     &m->vfio_vector_setup,
	    &m->viommu_translate};

	return fields[i];
}

uint64_t cost_model_get(const struct cost_model *m, size_t i)
{
	return *field((struct cost_model *)m, i);
}

bool cost_model_set(struct cost_model *m, const char *name, uint64_t ns)
{
	for (size_t i = 0; names[i]; i++)
		if (!strcmp(names[i], name)) {
			*field(m, i) = ns;
			return true;
		}
	return false;
}
