// SPDX-License-Identifier: MIT
/*
 * Interrupt descriptors and the calls drivers make. Allocation activates at
 * once (the PCI/MSI domains are ACTIVATE_EARLY in Linux), in one batch: vectors,
 * then every vIRTE of the batch in one SYNC, then the messages into the
 * device, entries masked until request_irq(). Any failure undoes the whole
 * batch — host IRTEs the SYNC did program are torn down again — so the
 * caller gets an error and nothing else.
 *
 * Reservation mode (Linux's CONFIG_GENERIC_IRQ_RESERVATION_MODE, for MSI-X and
 * maskable MSI, msi_check_reservation_mode()): that activation parks the
 * interrupt on the shutdown vector, and request_irq() activates it again with a
 * real vector — a second (v)IRTE update, a SYNC of its own, whose error (-ENOSPC
 * for the vector, or the host's) reaches request_irq()'s caller.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest_internal.h"
#include "pvir/hcall_abi.h"
#include "pvir/zmem.h"

#define IRQS_FIRST 256

/*
 * The counts, the hot parts, then the descriptors, twice as many; Return: false
 * if out of memory. The arrays grown before a failure stay larger than
 * needed, which is harmless.
 */
static bool descs_grow(struct guest *g)
{
	unsigned n = g->nirqs ? 2 * g->nirqs : IRQS_FIRST, more = n - g->nirqs;
	size_t bytes = (size_t)n * g->ncpus * sizeof(*g->irq_counts);
	/* zeroes paid for on touch: most rows stay zero (irq_hot counts the usual case) */
	unsigned *counts = g->irq_counts ? zmem_grow(g->irq_counts, g->irq_counts_bytes, bytes)
					 : zmem_alloc(bytes);
	struct irq_hot *hot;
	struct irq_desc *grown;

	if (!counts)
		return false;
	g->irq_counts = counts;
	g->irq_counts_bytes = bytes;
	hot = realloc(g->hot, n * sizeof(*hot));
	if (!hot)
		return false;
	memset(hot + g->nirqs, 0, more * sizeof(*hot));
	g->hot = hot;
	grown = realloc(g->irqs, n * sizeof(*grown));
	if (!grown)
		return false;
	for (unsigned i = g->nirqs; i < n; i++)
		grown[i] = (struct irq_desc){.irq = i};
	g->irqs = grown;
	g->nirqs = n;
	return true;
}

/* The lowest free descriptor, searched from where the last one was taken. */
static struct irq_desc *desc_alloc(struct guest *g, struct guest_pci_dev *dev, enum irq_bus bus,
				   unsigned index)
{
	struct irq_desc *d = NULL;
	unsigned i = g->irqs_free_from;

	while (i < g->nirqs && g->irqs[i].used)
		i++;
	if (i == g->nirqs && !descs_grow(g))
		return NULL;
	d = &g->irqs[i];
	g->irqs_free_from = i + 1;
	d->used = true;
	d->dev = dev;
	d->bus = bus;
	d->index = index;
	d->virte = -1;
	d->vtd_index = -1;
	d->masked = true; /* entries and slots reset masked */
	return d;
}

static void desc_free(struct guest *g, struct irq_desc *d)
{
	unsigned irq = d->irq;

	memset(irq_counts_of(g, irq), 0, g->ncpus * sizeof(*g->irq_counts));
	g->hot[irq] = (struct irq_hot){0};
	*d = (struct irq_desc){.irq = irq};
	if (irq < g->irqs_free_from)
		g->irqs_free_from = irq;
}

static struct irq_desc *desc_of(const struct guest *g, unsigned irq)
{
	return irq < g->nirqs && g->irqs[irq].used ? &g->irqs[irq] : NULL;
}

/*
 * The online CPUs of @aff, in order, into @cpus; Return: how many. Linux's
 * spreading, simplified: entry n goes to the n-th of them, wrapping. Found
 * once per batch, not once per entry.
 */
static unsigned spread_cpus(const struct guest *g, const struct cpumask *aff, unsigned *cpus)
{
	unsigned count = 0;

	for_each_cpu(c, aff) if (c < g->ncpus && irq_matrix_cpu_online(g->matrix, c))
	    cpus[count++] = c;
	return count;
}

/* Tears down host IRTEs of entries [first, first + count) and clears their guest halves. */
static void virtes_teardown(struct guest *g, struct irq_desc **ds, unsigned programmed, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		virte_write(g, ds[i], false);
	/* Entries the host programmed: a SYNC of not-present tears them down. */
	if (programmed)
		virte_teardown(g, (uint32_t)ds[0]->virte, programmed);
}

/*
 * Reservation mode applies to @d: MSI-X, and MSI that can mask (IMS is not in Linux's
 * list). Off with the guest option, and on a pvir host that cannot park a vIRTE.
 */
static bool reserves(const struct guest *g, const struct irq_desc *d)
{
	if (g->cfg.vectors_at_alloc || (g->pv && !g->pv_park))
		return false;
	return d->bus == IRQ_BUS_MSIX || (d->bus == IRQ_BUS_MSI && d->dev->msi_maskbit);
}

/* Activates @ds[0..n): each with a real vector, or parked (@park) on the shutdown vector. */
static int activate_batch(struct guest *g, struct irq_desc **ds, unsigned n, bool park,
			  uint64_t *ret_left)
{
	uint64_t failed = 0;
	unsigned i;
	int err = 0;

	for (i = 0; i < n && !err; i++)
		if (park)
			vector_park(g, ds[i]);
		else
			err = vector_activate(g, ds[i]);
	if (err) {
		while (i-- > 0)
			vector_deactivate(g, ds[i]);
		return err;
	}
	if (viommu_ir(g)) {
		if (ds[0]->bus == IRQ_BUS_MSI) /* a device's MSI vectors: one block */
			err = viommu_ir_activate_msi(g, ds, n);
		for (i = 0; ds[0]->bus != IRQ_BUS_MSI && i < n && !err; i++)
			err = viommu_ir_activate(g, ds[i]);
		if (err)
			for (i = 0; i < n; i++) {
				viommu_ir_deactivate(g, ds[i]);
				vector_deactivate(g, ds[i]);
			}
		return err;
	}
	if (!g->pv) {
		for (i = 0; i < n; i++)
			ds[i]->msg = compose_compat(ds[i]);
		return 0;
	}
	for (i = 0; i < n; i++)
		virte_write(g, ds[i], true);
	err = pvir_sync(g, (uint32_t)ds[0]->virte, n, &failed, ret_left);
	/*
	 * The quota left at the failure does not count this batch's own entries
	 * before it, which the teardown below gives back: those are grantable too.
	 */
	if (err == -EDQUOT && ret_left)
		*ret_left += failed - (uint64_t)ds[0]->virte;
	if (err) {
		virtes_teardown(g, ds, (unsigned)(failed - (uint64_t)ds[0]->virte), n);
		for (i = 0; i < n; i++)
			vector_deactivate(g, ds[i]);
		return err;
	}
	for (i = 0; i < n; i++)
		ds[i]->msg = virte_msg(g, (uint32_t)ds[i]->virte);
	return 0;
}

/* Undoes activate_batch() of @ds[0..n), which succeeded: the (v)IRTEs go, then the vectors. */
static void deactivate_batch(struct guest *g, struct irq_desc **ds, unsigned n)
{
	for (unsigned i = 0; viommu_ir(g) && i < n; i++)
		viommu_ir_deactivate(g, ds[i]);
	if (g->pv)
		virtes_teardown(g, ds, n, n);
	for (unsigned i = 0; i < n; i++)
		vector_deactivate(g, ds[i]);
}

static bool any_cpu_online(const struct guest *g, const struct cpumask *mask)
{
	for_each_cpu(c, mask) if (c < g->ncpus && irq_matrix_cpu_online(g->matrix, c)) return true;
	return false;
}

/* A managed interrupt none of whose mask's CPUs is online. */
static bool no_cpu_to_start(const struct guest *g, const struct irq_desc *d)
{
	return d->vd.is_managed && !any_cpu_online(g, d->vd.affinity);
}

/*
 * activate_batch() over @ds, except managed interrupts with no CPU of their mask
 * online: those are left shut down, as Linux's msi_init_virq() leaves them, to start
 * when one comes online (guest_cpu_online()). The rest go in runs of consecutive
 * entries, one SYNC a run; a run that fails undoes the runs before it, and what they
 * held counts in the quota left (*@ret_left).
 */
static int activate_startable(struct guest *g, struct irq_desc **ds, unsigned n, uint64_t *ret_left)
{
	bool park = reserves(g, ds[0]); /* a parked one needs no CPU of its mask */
	unsigned i = 0, j;
	int err = 0;

	while (i < n && !err) {
		if (!park && no_cpu_to_start(g, ds[i])) {
			ds[i++]->vd.shutdown = true;
			continue;
		}
		for (j = i + 1; j < n && (park || !no_cpu_to_start(g, ds[j])); j++)
			;
		err = activate_batch(g, ds + i, j - i, park, ret_left);
		if (!err)
			i = j;
	}
	for (j = 0; err && j < i; j++) {
		if (ds[j]->vd.shutdown)
			continue;
		deactivate_batch(g, ds + j, 1);
		if (err == -EDQUOT && ret_left)
			++*ret_left;
	}
	return err;
}

static void release_batch(struct guest *g, struct irq_desc **ds, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (!ds[i])
			continue;
		vector_free(g, ds[i]);
		if (ds[i]->virte >= 0 && !virte_is_stale(g, (uint32_t)ds[i]->virte))
			virte_free(g, (uint32_t)ds[i]->virte, 1);
		desc_free(g, ds[i]);
	}
}

/*
 * How alloc_irqs() places each interrupt: one CPU of @aff each, round-robin; or, when
 * @managed, entry i managed on @masks[i] (a vector reserved on every CPU of it).
 */
struct irq_spread {
	const struct cpumask *aff;
	const struct cpumask *masks;
	bool managed;
};

/*
 * Allocates @n descriptors for @dev's entries from @first_index, placed as @sp says,
 * activates them in one batch and writes their messages.
 * Return: 0 with the irq numbers in @ret_irqs, or -errno with nothing kept.
 */
static int alloc_irqs(struct guest *g, struct guest_pci_dev *dev, enum irq_bus bus,
		      unsigned first_index, unsigned n, const struct irq_spread *sp,
		      unsigned *ret_irqs, uint64_t *ret_left)
{
	const struct cpumask *aff = sp->aff;
	struct irq_desc **ds = calloc(n, sizeof(*ds));
	unsigned *cpus = malloc(g->ncpus * sizeof(*cpus)), made = 0, ncpus;
	uint32_t base = 0;
	int err = ds && cpus ? 0 : -ENOMEM;

	ncpus = cpus && aff ? spread_cpus(g, aff, cpus) : 0;
	if (bus == IRQ_BUS_MSI) /* Multiple Message Enable, for the message written below */
		dev->msi_multiple = log2_u32((uint32_t)pow2_at_least(n));
	/* desc_alloc() may move the array: keep numbers until all exist */
	for (unsigned i = 0; !err && i < n; i++) {
		struct irq_desc *d = desc_alloc(g, dev, bus, first_index + i);
		struct cpumask one = cpumask_of(ncpus ? cpus[(first_index + i) % ncpus] : 0);

		if (!d) {
			err = -ENOMEM;
			break;
		}
		ret_irqs[made++] = d->irq;
		err = sp->managed ? vector_alloc(g, d, &sp->masks[i], true)
				  : vector_alloc(g, d, &one, false);
	}
	free(cpus);
	for (unsigned i = 0; ds && i < made; i++)
		ds[i] = &g->irqs[ret_irqs[i]];
	if (!err && g->pv) {
		err = virte_alloc(g, n, &base);
		for (unsigned i = 0; !err && i < n; i++)
			ds[i]->virte = (int)(base + i);
	}
	if (!err)
		err = activate_startable(g, ds, n, ret_left);
	if (err) {
		if (ds)
			release_batch(g, ds, made);
		free(ds);
		return err;
	}
	for (unsigned i = 0; i < n; i++)
		irq_write_msg(g, ds[i]);
	free(ds);
	return 0;
}

/* Deactivates and frees @irqs[0..n): mask, tear down (one SYNC per run), release. */
/* The length of the run of consecutive vIRTEs starting at irqs[0] (a batch is one run). */
static unsigned virte_run(struct guest *g, const unsigned *irqs, unsigned n)
{
	const struct irq_desc *first = desc_of(g, irqs[0]), *d;
	unsigned run = 1;

	while (run < n && (d = desc_of(g, irqs[run])) && !d->deactivated &&
	       d->virte == first->virte + (int)run)
		run++;
	return run;
}

/*
 * Linux's msi_domain_deactivate(): the storage left holding a zero message. @d keeps
 * the message it composed, which an IRTE kept by index still answers to.
 */
static void irq_clear_msg(struct guest *g, struct irq_desc *d)
{
	struct msi_msg kept = d->msg;

	d->msg = (struct msi_msg){0};
	irq_write_msg(g, d);
	d->msg = kept;
}

/*
 * Mask every entry and clear its vIRTE, then tell the host with one SYNC per
 * run of consecutive vIRTEs — one for a whole batch — and only then release
 * the vectors: no host IRTE can still aim at a vector given away.
 */
static void free_irqs(struct guest *g, const unsigned *irqs, unsigned n)
{
	virte_reap(g);
	for (unsigned i = 0; i < n; i++) {
		struct irq_desc *d = desc_of(g, irqs[i]);

		if (!d)
			continue;
		if (!d->masked)
			irq_mask(g, d, true);
		g->hot[d->irq].action = 0;
		if (d->deactivated)
			continue; /* free_irq() deactivated it: nothing of it is left on the host */
		irq_clear_msg(g, d);
		if (d->virte >= 0)
			virte_write(g, d, false);
	}
	for (unsigned i = 0, run; i < n; i += run) {
		const struct irq_desc *d = desc_of(g, irqs[i]);
		bool held = d && d->virte >= 0 && !d->deactivated;

		run = held ? virte_run(g, irqs + i, n - i) : 1;
		if (held)
			virte_teardown(g, (uint32_t)d->virte, run);
	}
	for (unsigned i = 0; i < n; i++) {
		struct irq_desc *d = desc_of(g, irqs[i]);

		if (!d)
			continue;
		if (d->deactivated)
			viommu_ir_free(g, d);
		else
			viommu_ir_deactivate(g, d);
		vector_free(g, d);
		if (d->virte >= 0 && !virte_is_stale(g, (uint32_t)d->virte))
			virte_free(g, (uint32_t)d->virte, 1);
		desc_free(g, d);
	}
}

/*
 * Linux's group_cpus_evenly() (lib/group_cpus.c) for @n groups over the guest's
 * CPUs, on the topology the guest has: one node, no SMT siblings, no clusters. The
 * first ncpus % n groups get one CPU more, each group consecutive CPUs from the
 * lowest. @n is at most the number of CPUs (irq_calc_affinity_vectors() saw to it).
 */
static void group_cpus_evenly(const struct guest *g, unsigned n, struct cpumask *masks)
{
	unsigned per = g->ncpus / n, extra = g->ncpus - n * per, cpu = 0;

	for (unsigned v = 0; v < n; v++) {
		unsigned take = per + (v < extra);

		masks[v] = (struct cpumask){{0}};
		for (; take > 0; take--)
			cpumask_set(&masks[v], cpu++);
	}
}

/* One try of alloc_irqs() for @count entries; managed ones spread for that count. */
static int alloc_irqs_spread(struct guest *g, struct guest_pci_dev *dev, enum irq_bus bus,
			     unsigned first_index, unsigned count, const struct irq_spread *sp,
			     unsigned *ret_irqs, uint64_t *ret_left)
{
	struct irq_spread each = *sp;
	struct cpumask *masks = NULL;
	int err;

	if (sp->managed) {
		masks = malloc(count * sizeof(*masks));
		if (!masks)
			return -ENOMEM;
		group_cpus_evenly(g, count, masks);
		each.masks = masks;
	}
	err = alloc_irqs(g, dev, bus, first_index, count, &each, ret_irqs, ret_left);
	free(masks);
	return err;
}

/*
 * alloc_irqs() for between @min and *@count entries: when the host grants fewer
 * (-EDQUOT with a quota left of at least @min), it asks again for what is left, as
 * Linux's allocator retries with fewer vectors. *@count is what it got.
 */
static int alloc_irqs_at_least(struct guest *g, struct guest_pci_dev *dev, enum irq_bus bus,
			       unsigned first_index, unsigned min, unsigned *count,
			       const struct irq_spread *sp, unsigned *ret_irqs)
{
	uint64_t left = 0;
	int err;

	for (;;) {
		err = alloc_irqs_spread(g, dev, bus, first_index, *count, sp, ret_irqs, &left);
		/* MSI's vectors are charged as a block, a power of two of them */
		if (bus == IRQ_BUS_MSI && left)
			left = UINT64_C(1) << log2_u32((uint32_t)(left < 32 ? left : 32));
		if (err != -EDQUOT || left < min || left >= *count)
			return err;
		*count = (unsigned)left;
	}
}

/*
 * A PCI function's vectors, entries 0 on: between @min and @want of them
 * (alloc_irqs_at_least()), their irqs in a new array *@ret_irqs.
 * Return: how many, or -errno with nothing kept.
 */
static int alloc_pci_vectors(struct guest *g, struct guest_pci_dev *d, enum irq_bus bus,
			     unsigned min, unsigned want, const struct irq_spread *sp,
			     unsigned **ret_irqs)
{
	unsigned *irqs = calloc(want, sizeof(*irqs));
	int err;

	if (!irqs)
		return -ENOMEM;
	err = alloc_irqs_at_least(g, d, bus, 0, min, &want, sp, irqs);
	if (err) {
		free(irqs);
		return err;
	}
	*ret_irqs = irqs;
	return (int)want;
}

/* ---- MSI-X ------------------------------------------------------------------- */

static int msix_alloc(struct guest *g, struct guest_pci_dev *d, unsigned min, unsigned max,
		      const struct irq_spread *sp)
{
	unsigned want = max < d->msix_count ? max : d->msix_count;
	int n;

	if (!d->msix_cap || !min || min > max || d->nmsix || d->nmsi)
		return -EINVAL;
	if (want < min)
		return -ENOSPC;
	/* Linux: enable with every vector masked, set them up, then unmask the function. */
	msix_enable(g, d, true);
	n = alloc_pci_vectors(g, d, IRQ_BUS_MSIX, min, want, sp, &d->msix_irqs);
	if (n < 0) {
		msix_enable(g, d, false);
		return n;
	}
	d->nmsix = (unsigned)n;
	return n;
}

int pci_alloc_irq_vectors(struct guest *g, struct guest_pci_dev *d, unsigned min, unsigned max,
			  const struct cpumask *affinity)
{
	struct cpumask all = cpumask_first_n(g->ncpus);
	struct irq_spread sp = {.aff = affinity ? affinity : &all};

	return msix_alloc(g, d, min, max, &sp);
}

int pci_alloc_irq_vectors_managed(struct guest *g, struct guest_pci_dev *d, unsigned min,
				  unsigned max)
{
	struct irq_spread sp = {.managed = true};

	/* irq_calc_affinity_vectors(): no more managed vectors than possible CPUs */
	if (max > g->ncpus)
		max = g->ncpus;
	if (min > max)
		return -ENOSPC;
	return msix_alloc(g, d, min, max, &sp);
}

/* ---- MSI ------------------------------------------------------------------------ */

/*
 * Whether this guest's IR domain takes more than one MSI vector: x86 Linux allows
 * multi-MSI only under interrupt remapping, whose domains add MSI_FLAG_MULTI_PCI_MSI.
 */
static bool multi_msi(const struct guest *g)
{
	return g->pv || viommu_ir(g);
}

/*
 * msi_capability_init(): MSI off for the setup, every vector masked, the vectors
 * allocated and activated (the first one's message written, with Multiple Message
 * Enable), then MSI on. Without remapping one vector, as Linux.
 */
static int msi_alloc(struct guest *g, struct guest_pci_dev *d, unsigned min, unsigned max,
		     const struct irq_spread *sp)
{
	unsigned want = max < d->msi_count ? max : d->msi_count;
	int n;

	if (!d->msi_cap || !min || min > max || d->nmsi || d->nmsix)
		return -EINVAL;
	if (g->pv && !g->pv_msi)
		return -EOPNOTSUPP; /* the host's service cannot take MSI vectors */
	if (!multi_msi(g) && want > 1)
		want = 1;
	if (want < min)
		return -ENOSPC;
	msi_set_enable(g, d, false);
	msi_update_mask(g, d, 0, (uint32_t)bits_mask(d->msi_count - 1, 0));
	n = alloc_pci_vectors(g, d, IRQ_BUS_MSI, min, want, sp, &d->msi_irqs);
	if (n < 0)
		return n;
	msi_set_enable(g, d, true);
	d->nmsi = (unsigned)n;
	return n;
}

/* pci_msi_shutdown() and the domain's free: MSI off, then the vectors as any. */
static void msi_free(struct guest *g, struct guest_pci_dev *d)
{
	msi_set_enable(g, d, false);
	free_irqs(g, d->msi_irqs, d->nmsi);
	free(d->msi_irqs);
	d->msi_irqs = NULL;
	d->nmsi = 0;
}

int pci_alloc_irq_vectors_msi(struct guest *g, struct guest_pci_dev *d, unsigned min, unsigned max,
			      const struct cpumask *affinity)
{
	struct cpumask all = cpumask_first_n(g->ncpus);
	struct irq_spread sp = {.aff = affinity ? affinity : &all};

	return msi_alloc(g, d, min, max, &sp);
}

unsigned guest_pci_msi_count(const struct guest_pci_dev *d)
{
	return d->msi_count;
}

int pci_irq_vector(struct guest_pci_dev *d, unsigned n)
{
	if (d->nmsi)
		return n < d->nmsi ? (int)d->msi_irqs[n] : -EINVAL;
	return n < d->nmsix ? (int)d->msix_irqs[n] : -EINVAL;
}

void pci_free_irq_vectors_last(struct guest *g, struct guest_pci_dev *d, unsigned count)
{
	if (d->nmsi) { /* MSI goes whole: Linux has no way to free part of it */
		msi_free(g, d);
		return;
	}
	if (count > d->nmsix)
		count = d->nmsix;
	free_irqs(g, d->msix_irqs + d->nmsix - count, count);
	d->nmsix -= count;
	if (!d->nmsix) {
		msix_enable(g, d, false);
		free(d->msix_irqs);
		d->msix_irqs = NULL;
	}
}

void pci_free_irq_vectors(struct guest *g, struct guest_pci_dev *d)
{
	pci_free_irq_vectors_last(g, d, d->nmsix);
}

/* ---- IMS ---------------------------------------------------------------------- */

int guest_ims_alloc(struct guest *g, struct guest_pci_dev *d, const struct guest_ims_layout *l,
		    unsigned min, unsigned max, const struct cpumask *affinity)
{
	struct cpumask all = cpumask_first_n(g->ncpus);
	struct irq_spread sp = {.aff = affinity ? affinity : &all};
	unsigned *irqs, count = max;
	int err;

	/*
	 * Without the pvir service only a VMM that traps the storage can give
	 * the entries meaning; nothing traps memory the device reads by DMA.
	 */
	if (!g->pv && l->storage == IMS_MEMORY)
		return -EOPNOTSUPP;
	if (!min || min > max || l->storage == IMS_NONE ||
	    (d->nims && l->storage != d->ims.storage) || d->nims + max > l->entries)
		return -EINVAL;
	irqs = realloc(d->ims_irqs, (d->nims + count) * sizeof(*irqs));
	if (!irqs)
		return -ENOMEM;
	d->ims_irqs = irqs;
	d->ims = *l;
	ims_setup(g, d);
	err = alloc_irqs_at_least(g, d, IRQ_BUS_IMS, d->nims, min, &count, &sp,
				  d->ims_irqs + d->nims);
	if (err)
		return err;
	d->nims += count;
	return (int)count;
}

int guest_ims_irq(struct guest_pci_dev *d, unsigned n)
{
	return n < d->nims ? (int)d->ims_irqs[n] : -EINVAL;
}

unsigned guest_ims_count(const struct guest_pci_dev *d)
{
	return d->nims;
}

void guest_ims_free_last(struct guest *g, struct guest_pci_dev *d, unsigned count)
{
	if (count > d->nims)
		count = d->nims;
	free_irqs(g, d->ims_irqs + d->nims - count, count);
	d->nims -= count;
}

/* ---- the irq API ------------------------------------------------------------------ */

/*
 * The IR layer follows @d's vector data: its vIRTE synced (one SYNC), its IRTE rewritten
 * and flushed, or, without remapping, its compatibility message composed anew.
 */
static int ir_aim(struct guest *g, struct irq_desc *d)
{
	if (g->pv) {
		int err;

		virte_write(g, d, true);
		err = pvir_sync(g, (uint32_t)d->virte, 1, NULL, NULL);
		if (!err) /* a new host entry, if it had none: a new message */
			d->msg = virte_msg(g, (uint32_t)d->virte);
		return err;
	}
	if (viommu_ir(g))
		return viommu_ir_retarget(g, d);
	d->msg = compose_compat(d);
	return 0;
}

/*
 * After ir_aim() failed and the vector data went back: the IR layer as it was. The
 * host kept its state (the guest's half of the vIRTE is written back), an IRTE is
 * rewritten and flushed again.
 */
static void ir_unaim(struct guest *g, struct irq_desc *d)
{
	if (g->pv)
		virte_write(g, d, true);
	else if (viommu_ir(g))
		(void)!viommu_ir_retarget(g, d);
	else
		d->msg = compose_compat(d);
}

/*
 * irq_activate() of a parked interrupt (reservation mode) or one free_irq() deactivated:
 * a real vector — or the one it kept, taken again elsewhere if its CPU is gone or out
 * of its affinity — the (v)IRTE aimed at it — under `hcall` a SYNC, which makes the
 * host entry anew for a deactivated one — and the message written again, as
 * msi_domain_activate() writes it at every activation. A failure — no vector (-ENOSPC,
 * -EBUSY while its last move is not cleaned up), or the SYNC's error — leaves it as it
 * was, with nothing changed.
 */
static int irq_activate_again(struct guest *g, struct irq_desc *d)
{
	bool parked = d->vd.parked, kept = d->vd.activated, moved;
	const struct cpumask *old_aff = d->vd.affinity;
	int err = kept ? vector_place_kept(g, d) : vector_activate(g, d);

	if (err < 0)
		return err;
	moved = kept && err == 0; /* vector_place_kept() took another, as a move does */
	err = ir_aim(g, d);
	if (err) {
		if (!kept)
			vector_deactivate(g, d);
		else if (moved)
			vector_move_rollback(g, d, old_aff);
		if (parked) {
			vector_park(g, d);
			ir_unaim(g, d);
		} else if (g->pv) {
			virte_write(g, d, false); /* the host made nothing: none there */
		} else if (viommu_ir(g)) {
			viommu_ir_clear(g, d);
		}
		return err;
	}
	if (moved)
		vector_schedule_cleanup(g, d);
	if (g->pv)
		virte_revive(g, (uint32_t)d->virte);
	d->deactivated = false;
	irq_write_msg(g, d);
	return 0;
}

/*
 * A torn-down entry has nothing for the remap event to mend, nor an error from mending
 * it: its next activation syncs it afresh.
 */
static void forget_remap(struct irq_desc *d)
{
	d->remap_pending = false;
	d->remap_err = 0;
}

/*
 * __free_irq()'s irq_domain_deactivate_irq(), once no interrupt can be on the fly: the
 * storage left holding a zero message (msi_domain_deactivate()), the (v)IRTE cleared —
 * under `hcall` a SYNC of the vIRTE made not present, after which the host drops the
 * trigger, irqfd and route — and the vector given back where x86_vector_deactivate()
 * gives it back. The (v)IRTE's index stays the irq's until its vectors are freed.
 */
static void irq_deactivate(struct guest *g, struct irq_desc *d)
{
	if (d->deactivated || d->vd.shutdown || d->vd.parked)
		return; /* nothing of it is active */
	irq_clear_msg(g, d);
	if (g->pv && d->virte >= 0) {
		virte_write(g, d, false);
		virte_teardown(g, (uint32_t)d->virte, 1);
	} else if (viommu_ir(g)) {
		viommu_ir_clear(g, d);
	}
	/*
	 * x86_vector_deactivate(): a managed vector goes back to its reservation, and so
	 * does one reservation mode reserves; any other (IMS, MSI that cannot mask, none
	 * under `vectors: at_alloc`) is kept for the next activation.
	 */
	if (d->vd.is_managed || reserves(g, d))
		vector_deactivate(g, d);
	d->deactivated = true;
	forget_remap(d);
}

/*
 * irq_activate() of an interrupt that is not active — parked, deactivated, or a managed
 * one shut down — on a CPU of its mask: activated as at allocation, its message written.
 * On failure it stays as it was, with nothing changed.
 */
static int irq_start(struct guest *g, struct irq_desc *d)
{
	bool again = d->vd.parked || d->deactivated;
	int err = again ? irq_activate_again(g, d) : activate_batch(g, &d, 1, false, NULL);

	if (err)
		return err;
	d->vd.shutdown = false;
	if (!again) /* irq_activate_again() wrote it */
		irq_write_msg(g, d);
	return 0;
}

/*
 * @handler's action number, 1-based: its place in g->handlers, where it is
 * added the first time. Return: it, -ENOMEM, or -ENOSPC past 65,535 handlers.
 */
static int handler_action(struct guest *g, irq_handler_t handler)
{
	irq_handler_t *h;
	unsigned i;

	for (i = 0; i < g->nhandlers; i++)
		if (g->handlers[i] == handler)
			return (int)i + 1;
	if (i == UINT16_MAX)
		return -ENOSPC;
	h = realloc(g->handlers, (i + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	h[i] = handler;
	g->handlers = h;
	g->nhandlers = i + 1;
	return (int)i + 1;
}

int request_irq(struct guest *g, unsigned irq, irq_handler_t handler, void *dev_id)
{
	struct irq_desc *d = desc_of(g, irq);
	uint16_t action;
	int err;

	if (!d || !handler)
		return -EINVAL;
	if (g->hot[irq].action)
		return -EBUSY;
	if ((err = handler_action(g, handler)) < 0)
		return err;
	action = (uint16_t)err;
	/*
	 * __setup_irq()'s irq_startup(): one not active is started — a managed one only on
	 * a CPU of its mask, and with none online it stays shut down until one comes back.
	 */
	if (d->vd.parked || d->deactivated || d->vd.shutdown) {
		if (no_cpu_to_start(g, d))
			d->vd.shutdown = true;
		else if ((err = irq_start(g, d)))
			return err;
	}
	g->hot[irq].action = action;
	g->hot[irq].dev_id = dev_id;
	/* startup; a managed one shut down stays so until a CPU of its mask comes online */
	if (!d->vd.shutdown)
		irq_mask(g, d, false);
	return 0;
}

void free_irq(struct guest *g, unsigned irq)
{
	struct irq_desc *d = desc_of(g, irq);

	if (!d || !g->hot[irq].action)
		return;
	irq_mask(g, d, true); /* irq_shutdown() */
	g->hot[irq].action = 0;
	g->hot[irq].dev_id = NULL;
	irq_deactivate(g, d);
}

/*
 * A parked interrupt's new affinity is kept for its activation, which places it there
 * (Linux's irq_set_affinity_deactivated()). A managed one keeps its mask; one with no
 * online CPU in @mask is refused, as for any.
 */
static int irq_set_parked_affinity(struct guest *g, struct irq_desc *d, const struct cpumask *mask)
{
	const struct cpumask *kept;

	if (!any_cpu_online(g, mask) || d->vd.is_managed)
		return -EINVAL;
	kept = affinity_keep(g, mask);
	if (!kept)
		return -ENOMEM;
	d->vd.affinity = kept;
	return 0;
}

int irq_set_affinity(struct guest *g, unsigned irq, const struct cpumask *mask)
{
	struct irq_desc *d = desc_of(g, irq);

	return d ? irq_do_set_affinity(g, d, mask, false) : -EINVAL;
}

int irq_do_set_affinity(struct guest *g, struct irq_desc *d, const struct cpumask *mask,
			bool hotplug)
{
	const struct cpumask *old = d->vd.affinity;
	int ret;

	if (d->vd.parked || d->deactivated) /* irq_set_affinity_deactivated(): kept */
		return irq_set_parked_affinity(g, d, mask);
	ret = vector_set_affinity(g, d, mask, hotplug);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	/*
	 * Under remapping one SYNC, or an IRTE rewritten and flushed: the device keeps its
	 * handle. Without, a new compatibility message, written into the device.
	 */
	ret = ir_aim(g, d);
	if (ret) {
		vector_move_rollback(g, d, old);
		ir_unaim(g, d);
		return ret;
	}
	if (!g->pv && !viommu_ir(g))
		irq_write_msg(g, d);
	vector_schedule_cleanup(g, d);
	g->stats.moved++;
	return 0;
}

/*
 * Linux's irq_shutdown_and_deactivate() for a managed interrupt whose CPUs all went
 * offline: masked, then deactivated as free_irq() deactivates (irq_deactivate()) — under
 * `hcall` one SYNC, after which the host drops the trigger, irqfd and route (VFIO keeps
 * the vector and its IRTE, as for any vIRTE torn down); under `vir-emul` the IRTE
 * cleared at the index it keeps. A raise meanwhile latches in the device.
 */
void irq_managed_shutdown(struct guest *g, struct irq_desc *d)
{
	if (!d->masked)
		irq_mask(g, d, true);
	irq_deactivate(g, d);
	d->vd.shutdown = true;
	g->stats.managed_shutdown++;
}

/*
 * irq_startup() when a CPU of its mask comes back: started there, and unmasked if a
 * handler is installed, which sends what the device latched meanwhile. On failure it
 * stays shut down, with nothing changed.
 */
int irq_managed_startup(struct guest *g, struct irq_desc *d)
{
	int err = irq_start(g, d);

	if (err)
		return err;
	if (g->hot[d->irq].action)
		irq_mask(g, d, false);
	g->stats.managed_restarted++;
	return 0;
}

/* ---- the host's remap event (docs/migration.md) --------------------------------- */

/* One revoked entry: SYNC it again; on success its storage gets the new message. */
static void remap_one(struct guest *g, struct irq_desc *d)
{
	int err;

	virte_write(g, d, true); /* unchanged: the same vCPU and vector */
	err = pvir_sync(g, (uint32_t)d->virte, 1, NULL, NULL);
	if (err) {
		/* not stale: held masked, whatever the driver asked, until a later event */
		irq_write_ctrl(g, d, true);
		d->remap_err = err;
		g->stats.remap_failed++;
		return;
	}
	d->remap_pending = false;
	d->remap_err = 0;
	d->msg = virte_msg(g, (uint32_t)d->virte);
	irq_write_msg(g, d);
	/* the mask bit too: the host may have set it (memory IMS), and a failed try did */
	irq_write_ctrl(g, d, d->masked);
	g->stats.remapped++;
}

/*
 * Every vIRTE whose status says the host let it go joins the entries to mend; each is
 * synced again and its storage rewritten. Unmasking sends what the device latched while
 * the entry was held, once. One that fails stays masked and keeps its error for the
 * driver; the next event tries it again.
 */
void pvir_remap_event(struct guest *g)
{
	g->stats.remap_events++;
	for (unsigned irq = 0; irq < g->nirqs; irq++) {
		struct irq_desc *d = desc_of(g, irq);

		if (d && d->virte >= 0 && virte_status(g, (uint32_t)d->virte) == -PVIR_ESTALE)
			d->remap_pending = true;
	}
	for (unsigned irq = 0; irq < g->nirqs; irq++) {
		struct irq_desc *d = desc_of(g, irq);

		if (d && d->remap_pending)
			remap_one(g, d);
	}
}

int guest_irq_remap_error(const struct guest *g, unsigned irq)
{
	const struct irq_desc *d = desc_of(g, irq);

	return d ? d->remap_err : -EINVAL;
}

int irq_effective_cpu(const struct guest *g, unsigned irq)
{
	const struct irq_desc *d = desc_of(g, irq);

	return d && d->vd.activated ? (int)d->vd.cpu : -1;
}

int irq_effective_vector(const struct guest *g, unsigned irq)
{
	const struct irq_desc *d = desc_of(g, irq);

	return d && d->vd.activated ? d->vd.vector : -1;
}

uint64_t irq_count(const struct guest *g, unsigned irq, unsigned cpu)
{
	const struct irq_desc *d = desc_of(g, irq);

	if (!d || cpu >= g->ncpus)
		return 0;
	return irq_counts_of(g, irq)[cpu] + (g->hot[irq].count_cpu == cpu ? g->hot[irq].count : 0);
}

bool irq_move_pending(const struct guest *g, unsigned irq)
{
	const struct irq_desc *d = desc_of(g, irq);

	return d && (d->vd.move_in_progress || d->vd.cleanup_pending);
}
