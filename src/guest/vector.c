// SPDX-License-Identifier: MIT
/*
 * The x86 vector domain, after Linux's arch/x86/kernel/apic/vector.c
 * (apic_chip_data, apic_set_affinity, the vector cleanup): reservation at
 * allocation, a real vector at activation, and affinity changes that keep
 * the old vector until no interrupt can still arrive on it.
 *
 *   set_affinity:  new vector on a CPU of the mask; old one kept as prev,
 *                  still mapped to the descriptor, so an interrupt already
 *                  on its way is handled, not lost (-EBUSY while a previous
 *                  move has not finished);
 *   schedule_cleanup: the IR layer calls it once the IRTE points at the new
 *                  vector: nothing new can arrive on the old one;
 *   cleanup:       the old CPU's timer frees the old vector, unless the
 *                  vCPU's IRR still holds it: then it waits another tick.
 */
#include <errno.h>
#include <stdlib.h>

#include "guest_internal.h"
#include "pvir/vm.h"

int *vector_slot(const struct guest *g, unsigned cpu, unsigned vector)
{
	return &g->vector_irq[(size_t)cpu * GUEST_VECTORS + vector];
}

/* ---- affinity masks, each kept once ------------------------------------------ */

#define MASKS_FIRST 16

static uint64_t mask_hash(const struct cpumask *m)
{
	uint64_t h = 0;

	for (unsigned i = 0; i < CPUMASK_BITS / 64; i++)
		h = (h ^ m->bits[i]) * UINT64_C(0x9e3779b97f4a7c15); /* 2^64 / the golden ratio */
	return h ^ (h >> 32);
}

/* The slot that holds @m, or the empty one where it would go. */
static struct cpumask **mask_slot(struct cpumask **slots, unsigned cap, const struct cpumask *m)
{
	unsigned i = (unsigned)mask_hash(m) & (cap - 1);

	while (slots[i] && !cpumask_equal(slots[i], m))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

/* Twice the slots, so that the table stays at most half full. */
static bool masks_grow(struct guest *g)
{
	unsigned cap = g->masks_cap ? 2 * g->masks_cap : MASKS_FIRST;
	struct cpumask **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return false;
	for (unsigned i = 0; i < g->masks_cap; i++)
		if (g->masks[i])
			*mask_slot(slots, cap, g->masks[i]) = g->masks[i];
	free(g->masks);
	g->masks = slots;
	g->masks_cap = cap;
	return true;
}

const struct cpumask *affinity_keep(struct guest *g, const struct cpumask *m)
{
	struct cpumask **slot;

	if (2 * (g->nmasks + 1) > g->masks_cap && !masks_grow(g))
		return NULL;
	slot = mask_slot(g->masks, g->masks_cap, m);
	if (!*slot) {
		*slot = malloc(sizeof(**slot));
		if (!*slot)
			return NULL;
		**slot = *m;
		g->nmasks++;
	}
	return *slot;
}

void affinity_masks_free(struct guest *g)
{
	for (unsigned i = 0; i < g->masks_cap; i++)
		free(g->masks[i]);
	free(g->masks);
	g->masks = NULL;
	g->masks_cap = 0;
	g->nmasks = 0;
}

/* ---- vectors -------------------------------------------------------------------- */

int vector_alloc(struct guest *g, struct irq_desc *d, const struct cpumask *aff, bool managed)
{
	struct vector_data *vd = &d->vd;
	const struct cpumask *kept = affinity_keep(g, aff);

	if (!kept)
		return -ENOMEM;
	*vd = (struct vector_data){.affinity = kept, .is_managed = managed};
	if (managed) {
		int err = irq_matrix_reserve_managed(g->matrix, aff);

		return err;
	}
	/* Reservation mode: a promise of a vector somewhere, kept at activation. */
	irq_matrix_reserve(g->matrix);
	vd->has_reserved = true;
	return 0;
}

static void install(struct guest *g, struct irq_desc *d, unsigned cpu, unsigned vector)
{
	d->vd.cpu = cpu;
	d->vd.vector = (uint8_t)vector;
	*vector_slot(g, cpu, vector) = (int)d->irq;
}

static void release(struct guest *g, struct irq_desc *d, unsigned cpu, unsigned vector)
{
	irq_matrix_free(g->matrix, cpu, vector, d->vd.is_managed);
	if (*vector_slot(g, cpu, vector) == (int)d->irq)
		*vector_slot(g, cpu, vector) = VECTOR_UNUSED;
}

int vector_activate(struct guest *g, struct irq_desc *d)
{
	struct vector_data *vd = &d->vd;
	const struct cpumask *online = &g->cpu_online;
	struct cpumask want = cpumask_and(vd->affinity, online);
	unsigned cpu;
	int bit;

	if (vd->activated)
		return 0;
	if (vd->is_managed) {
		bit = irq_matrix_alloc_managed(g->matrix, &want, &cpu);
	} else {
		bit = irq_matrix_alloc(g->matrix, &want, vd->has_reserved, &cpu);
		/* Like assign_irq_vector_any: break affinity rather than fail. */
		if (bit < 0)
			bit = irq_matrix_alloc(g->matrix, online, vd->has_reserved, &cpu);
	}
	if (bit < 0)
		return bit == -EINVAL ? -ENOSPC : bit;
	vd->has_reserved = false;
	vd->activated = true;
	vd->parked = false;
	install(g, d, cpu, (unsigned)bit);
	return 0;
}

/*
 * vector_assign_managed_shutdown(): reservation mode's activation at allocation. The
 * configuration names the shutdown vector on the first online CPU, a system vector no
 * device interrupt is given, so the IR layer aims the (v)IRTE there and an interrupt
 * before request_irq() is spurious. Nothing is allocated: the reservation stays.
 */
void vector_park(struct guest *g, struct irq_desc *d)
{
	unsigned cpu = 0;

	while (cpu + 1 < g->ncpus && !irq_matrix_cpu_online(g->matrix, cpu))
		cpu++;
	d->vd.cpu = cpu;
	d->vd.vector = GUEST_SHUTDOWN_VECTOR;
	d->vd.parked = true;
}

/*
 * The old vector waits for its CPU's cleanup timer. Counted per CPU, as
 * Linux lists them per CPU (vector_cleanup), so that a tick on a CPU with
 * nothing to clean costs nothing.
 */
static void cleanup_wait(struct guest *g, struct vector_data *vd)
{
	vd->cleanup_pending = true;
	g->cleanups[vd->prev_cpu]++;
}

static void cleanup_done(struct guest *g, struct vector_data *vd)
{
	if (!vd->cleanup_pending)
		return;
	vd->cleanup_pending = false;
	g->cleanups[vd->prev_cpu]--;
}

static void drop_prev(struct guest *g, struct irq_desc *d)
{
	struct vector_data *vd = &d->vd;

	if (!vd->move_in_progress && !vd->cleanup_pending)
		return;
	release(g, d, vd->prev_cpu, vd->prev_vector);
	vd->move_in_progress = false;
	cleanup_done(g, vd);
}

void vector_deactivate(struct guest *g, struct irq_desc *d)
{
	struct vector_data *vd = &d->vd;

	if (!vd->activated)
		return;
	drop_prev(g, d);
	release(g, d, vd->cpu, vd->vector);
	vd->activated = false;
	if (!vd->is_managed) {
		irq_matrix_reserve(g->matrix);
		vd->has_reserved = true;
	}
}

void vector_free(struct guest *g, struct irq_desc *d)
{
	struct vector_data *vd = &d->vd;

	vector_deactivate(g, d);
	if (vd->has_reserved)
		irq_matrix_remove_reserved(g->matrix);
	if (vd->is_managed)
		irq_matrix_remove_managed(g->matrix, vd->affinity);
	*vd = (struct vector_data){0};
}

int vector_set_affinity(struct guest *g, struct irq_desc *d, const struct cpumask *mask,
			bool hotplug)
{
	struct vector_data *vd = &d->vd;
	struct cpumask want = cpumask_and(mask, &g->cpu_online);
	const struct cpumask *kept = vd->affinity; /* a managed one keeps its mask */
	unsigned cpu;
	int bit;

	if (cpumask_empty(&want))
		return -EINVAL;
	if (!vd->activated || (vd->is_managed && !hotplug))
		return -EINVAL; /* managed interrupts keep the affinity they were given */
	if (vd->move_in_progress || vd->cleanup_pending)
		return -EBUSY;
	if (!vd->is_managed && !(kept = affinity_keep(g, mask)))
		return -ENOMEM;
	if (cpumask_test(&want, vd->cpu)) {
		vd->affinity = kept;
		return 1;
	}
	/* a managed one takes the vector reserved for it on a CPU of its mask */
	bit = vd->is_managed ? irq_matrix_alloc_managed(g->matrix, &want, &cpu)
			     : irq_matrix_alloc(g->matrix, &want, false, &cpu);
	if (bit < 0)
		return bit;
	vd->prev_cpu = vd->cpu;
	vd->prev_vector = vd->vector;
	vd->move_in_progress = true;
	vd->affinity = kept;
	install(g, d, cpu, (unsigned)bit);
	return 0;
}

int vector_place_kept(struct guest *g, struct irq_desc *d)
{
	struct vector_data *vd = &d->vd;
	struct cpumask want = cpumask_and(vd->affinity, &g->cpu_online);

	if (cpumask_test(&want, vd->cpu))
		return 1;
	/* like assign_irq_vector_any_locked(): any online CPU when none of the mask is */
	return vector_set_affinity(g, d, cpumask_empty(&want) ? &g->cpu_online : vd->affinity,
				   false);
}

void vector_move_rollback(struct guest *g, struct irq_desc *d, const struct cpumask *old_aff)
{
	struct vector_data *vd = &d->vd;

	release(g, d, vd->cpu, vd->vector);
	install(g, d, vd->prev_cpu, vd->prev_vector);
	vd->move_in_progress = false;
	vd->affinity = old_aff;
}

void vector_schedule_cleanup(struct guest *g, struct irq_desc *d)
{
	struct vector_data *vd = &d->vd;

	vd->move_in_progress = false;
	cleanup_wait(g, vd);
	if (!irq_matrix_cpu_online(g->matrix, vd->prev_cpu)) {
		/* an offline CPU takes no interrupts: free at once */
		release(g, d, vd->prev_cpu, vd->prev_vector);
		cleanup_done(g, vd);
		g->stats.cleaned++;
	}
}

/*
 * The old CPU's cleanup timer (__vector_cleanup). With @force (the CPU is
 * going offline) the IRR check is skipped, as lapic_offline does after the
 * pending interrupts were taken.
 */
void vector_cleanup(struct guest *g, unsigned cpu, bool force)
{
	struct vcpu *v = guest_vcpu(g, cpu);

	for (unsigned i = 0; g->cleanups[cpu] && i < g->nirqs; i++) {
		struct irq_desc *d = &g->irqs[i];
		struct vector_data *vd = &d->vd;

		if (!d->used || !vd->cleanup_pending || vd->prev_cpu != cpu)
			continue;
		if (!force && vm_vcpu_irr_test(v, vd->prev_vector)) {
			g->stats.cleanup_deferred++;
			continue; /* still pending: handled first, freed next tick */
		}
		release(g, d, vd->prev_cpu, vd->prev_vector);
		cleanup_done(g, vd);
		g->stats.cleaned++;
	}
}
