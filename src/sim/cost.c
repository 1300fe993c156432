// SPDX-License-Identifier: MIT
/*
 * Cost-model defaults. Each value is the "default we suggest" column of
 * ../shared/PERF-FACTS.md table A, converted to ns at 2.75 GHz where the
 * source gives cycles; the row is named next to each.
 */
#include "pvir/cost.h"

#include <string.h>

struct cost_model cost_model_default(void)
{
	return (struct cost_model){
	    .hypercall = 2000,		/* A4: exit to the VMM, ~5,800 cycles */
	    .mmio_trap = 2000,		/* A4 */
	    .cfg_exit = 2000,		/* A4 */
	    .ext_intr_exit = 400,	/* A1: ~1,100 cycles in KVM */
	    .irte_write = 50,		/* A12: one cache-line RMW, no published figure */
	    .iec_inval = 1000,		/* A11: QI round trip, up to ~1 us */
	    .dev_mmio_write = 150,	/* A13: 50-300 ns per UC store */
	    .dev_mmio_read = 600,	/* A14: non-posted read, median 560-600 ns */
	    .posted_delivery = 200,	/* A15: 111-194 ns per posted IRQ incl. handler */
	    .inject = 1200,		/* A16: ~3,300 cycles with exits */
	    .wakeup = 600,		/* A1 + A15: an exit-class path plus a notification */
	    .guest_handler = 1000,	/* assumption: a short driver handler */
	    .route_commit = 15000,	/* A8: 15-70 us per commit, the low end */
	    .route_rebuild = 1700,	/* A8: +1.7 us per irqfd in the VM, per commit */
	    .vfio_vector_setup = 15000, /* A10: 15-30 us per vector without its commit */
	    .viommu_translate = 500, /* assumption: an IRTE read from guest memory and a fix-up */
	};
}

static const char *const names[] = {
    "hypercall",
    "mmio_trap",
    "cfg_exit",
    "ext_intr_exit",
    "irte_write",
    "iec_inval",
    "dev_mmio_write",
    "dev_mmio_read",
    "posted_delivery",
    "inject",
    "wakeup",
    "guest_handler",
    "route_commit",
    "route_rebuild",
    "vfio_vector_setup",
    "viommu_translate",
    NULL,
};

const char *const *cost_model_names(void)
{
	return names;
}

static uint64_t *field(struct cost_model *m, size_t i)
{
	uint64_t *fields[] = {&m->hypercall,	   &m->mmio_trap,     &m->cfg_exit,
			      &m->ext_intr_exit,   &m->irte_write,    &m->iec_inval,
			      &m->dev_mmio_write,  &m->dev_mmio_read, &m->posted_delivery,
			      &m->inject,	   &m->wakeup,	      &m->guest_handler,
			      &m->route_commit,	   &m->route_rebuild, &m->vfio_vector_setup,
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
