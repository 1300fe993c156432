// SPDX-License-Identifier: MIT
/*
 * Guest kernel core: boot, a page allocator over guest RAM, PCI enumeration
 * of bus 0 through config space, the interrupt entry (ack, find the
 * descriptor by (CPU, vector), run the handler, EOI), the per-CPU timer that
 * frees moved vectors, and CPU offline.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest_internal.h"
#include "pvir/amdvi_driver.h"
#include "pvir/ir_driver.h"
#include "pvir/physmem.h"
#include "pvir/vm.h"
#include "pvir/vmm.h"
#include "pvir/zmem.h"

#define PCI_SLOTS 32

struct vcpu *guest_vcpu(struct guest *g, unsigned cpu)
{
	return vm_vcpu(g->vm, cpu);
}

/* Page-granular bump allocation: the guest never gives RAM back here. */
uint64_t guest_alloc_ram(struct guest *g, uint64_t bytes)
{
	uint64_t at = g->ram_next;
	uint64_t size = (bytes + GUEST_PAGE - 1) & ~(uint64_t)(GUEST_PAGE - 1);

	if (!bytes || !physmem_range_ok(g->ram, at, size))
		return 0;
	g->ram_next += size;
	return at;
}

/* The CPU comes up or goes down in the vector matrix and in cpu_online alike. */
static void set_cpu_online(struct guest *g, unsigned cpu, bool on)
{
	if (on) {
		irq_matrix_online(g->matrix, cpu);
		cpumask_set(&g->cpu_online, cpu);
	} else {
		irq_matrix_offline(g->matrix, cpu);
		cpumask_clear(&g->cpu_online, cpu);
	}
}

void guest_mmio_write(struct guest *g, uint64_t gpa, unsigned size, uint64_t val)
{
	/* A store to nowhere is dropped, as on hardware; a device error likewise. */
	(void)!vm_mmio_write(g->vm, guest_vcpu(g, 0), gpa, size, val);
}

uint64_t guest_mmio_read(struct guest *g, uint64_t gpa, unsigned size)
{
	uint64_t v = 0;

	(void)!vm_mmio_read(g->vm, guest_vcpu(g, 0), gpa, size, &v);
	return v;
}

/* ---- PCI enumeration ----------------------------------------------------------- */

static uint32_t cfg(struct guest *g, uint16_t bdf, uint16_t off, unsigned size)
{
	return vm_cfg_read(g->vm, guest_vcpu(g, 0), bdf, off, size);
}

static void read_bars(struct guest *g, struct guest_pci_dev *d)
{
	for (unsigned b = 0; b < PCI_NUM_BARS; b++) {
		uint32_t lo = cfg(g, d->bdf, (uint16_t)(PCI_BASE_ADDRESS_0 + 4 * b), 4);

		d->bar_gpa[b] = lo & ~UINT32_C(0xf);
		if ((lo & PCI_BAR_MEM_TYPE_64) && b + 1 < PCI_NUM_BARS) {
			d->bar_gpa[b] |=
			    (uint64_t)cfg(g, d->bdf, (uint16_t)(PCI_BASE_ADDRESS_0 + 4 * (b + 1)),
					  4)
			    << 32;
			b++;
		}
	}
}

static void msix_found(struct guest *g, struct guest_pci_dev *d, uint8_t at)
{
	uint32_t table = cfg(g, d->bdf, at + PCI_MSIX_TABLE, 4);

	d->msix_cap = at;
	d->msix_count = (cfg(g, d->bdf, at + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1;
	d->msix_bar = table & PCI_MSIX_BIR;
	d->msix_offset = table & ~PCI_MSIX_BIR;
}

/* pci_msi_vec_count() and what msi_setup_msi_desc() reads: the capability's shape. */
static void msi_found(struct guest *g, struct guest_pci_dev *d, uint8_t at)
{
	uint16_t flags = (uint16_t)cfg(g, d->bdf, at + PCI_MSI_FLAGS, 2);

	d->msi_cap = at;
	d->msi_count = 1u << ((flags & PCI_MSI_FLAGS_QMASK) >> 1);
	if (d->msi_count > PCI_MSI_MAX_VECTORS) /* 110b, 111b: reserved */
		d->msi_count = PCI_MSI_MAX_VECTORS;
	d->msi_64bit = flags & PCI_MSI_FLAGS_64BIT;
	d->msi_maskbit = flags & PCI_MSI_FLAGS_MASKBIT;
}

/* The capability list: MSI-X and MSI, where the device has them. */
static void find_irq_caps(struct guest *g, struct guest_pci_dev *d)
{
	uint8_t at = (uint8_t)cfg(g, d->bdf, PCI_CAPABILITY_LIST, 1);

	d->msi_block = -1;
	if (!(cfg(g, d->bdf, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return;
	for (unsigned hops = 0; at && hops < 48; hops++) {
		unsigned id = cfg(g, d->bdf, at, 1);

		if (id == PCI_CAP_ID_MSIX && !d->msix_cap)
			msix_found(g, d, at);
		if (id == PCI_CAP_ID_MSI && !d->msi_cap)
			msi_found(g, d, at);
		at = (uint8_t)cfg(g, d->bdf, at + 1u, 1);
	}
}

static void enumerate(struct guest *g)
{
	for (uint16_t slot = 0; slot < PCI_SLOTS && g->ndevs < GUEST_MAX_DEVS; slot++) {
		uint16_t bdf = (uint16_t)(slot << 3);
		uint32_t id = cfg(g, bdf, PCI_VENDOR_ID, 4);
		struct guest_pci_dev *d;

		if ((id & 0xffff) == 0xffff)
			continue;
		d = &g->devs[g->ndevs++];
		d->bdf = bdf;
		d->vendor = (uint16_t)id;
		d->device = (uint16_t)(id >> 16);
		read_bars(g, d);
		find_irq_caps(g, d);
		/* a driver binding: decode memory, master the bus */
		vm_cfg_write(g->vm, guest_vcpu(g, 0), bdf, PCI_COMMAND, 2,
			     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	}
}

struct guest_pci_dev *guest_pci_find(struct guest *g, uint16_t bdf)
{
	for (unsigned i = 0; i < g->ndevs; i++)
		if (g->devs[i].bdf == bdf)
			return &g->devs[i];
	return NULL;
}

unsigned guest_pci_msix_count(const struct guest_pci_dev *d)
{
	return d->msix_count;
}

/* ---- boot -------------------------------------------------------------------------- */

int guest_boot(struct vm *vm, const struct guest_config *cfg, struct guest **ret)
{
	/* aligned: taking an interrupt reads one line of it (guest_internal.h) */
	struct guest *g = calloc_aligned(alignof(struct guest), 1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	g->vm = vm;
	g->ram = vm_memory(vm);
	g->ncpus = vm_vcpus(vm);
	g->cfg = *cfg;
	g->ram_next = GUEST_RAM_START;
	g->matrix = irq_matrix_new(g->ncpus, GUEST_FIRST_VECTOR, GUEST_SYSTEM_START);
	g->vector_irq = malloc((size_t)g->ncpus * GUEST_VECTORS * sizeof(*g->vector_irq));
	g->cleanups = calloc(g->ncpus, sizeof(*g->cleanups));
	if (!g->matrix || !g->vector_irq || !g->cleanups) {
		guest_free(g);
		return -ENOMEM;
	}
	for (size_t s = 0; s < (size_t)g->ncpus * GUEST_VECTORS; s++)
		g->vector_irq[s] = VECTOR_UNUSED;
	irq_matrix_assign_system(g->matrix, GUEST_SYSCALL, false);
	for (unsigned c = 0; c < g->ncpus; c++)
		set_cpu_online(g, c, true);
	pvir_probe(g);
	vtd_probe(g);
	amd_ir_probe(g);
	enumerate(g);
	*ret = g;
	return 0;
}

void guest_free(struct guest *g)
{
	if (!g)
		return;
	zmem_free(g->irq_counts, g->irq_counts_bytes);
	for (unsigned i = 0; i < g->ndevs; i++) {
		free(g->devs[i].msix_irqs);
		free(g->devs[i].ims_irqs);
		free(g->devs[i].msi_irqs);
	}
	free(g->irqs);
	free(g->hot);
	free(g->handlers);
	free(g->vector_irq);
	free(g->cleanups);
	irq_matrix_destroy(g->matrix);
	affinity_masks_free(g);
	pvir_free(g);
	vtd_free(g);
	amd_ir_free(g);
	free(g);
}

bool guest_vtd(const struct guest *g)
{
	return viommu_ir(g);
}

void guest_rebind(struct guest *g, struct vm *vm)
{
	g->vm = vm;
	g->ram = vm_memory(vm);
	if (g->vtd) /* the vIOMMU driver's tables are in that RAM too */
		ir_driver_set_memory(g->vtd, g->ram);
	if (g->amd)
		amdvi_driver_set_memory(g->amd, g->ram);
}

bool guest_pvir(const struct guest *g)
{
	return g->pv;
}

uint8_t guest_remap_event_vector(const struct guest *g)
{
	return g->event_vector;
}

int guest_pvir_probe_result(const struct guest *g)
{
	return g->pv_probe;
}

const struct guest_stats *guest_stats(const struct guest *g)
{
	return &g->stats;
}

unsigned guest_cpus(const struct guest *g)
{
	return g->ncpus;
}

/* ---- running ----------------------------------------------------------------------- */

unsigned guest_handle_interrupts(struct guest *g, unsigned cpu)
{
	struct vcpu *v = guest_vcpu(g, cpu);
	unsigned n = 0;
	int vec;

	while ((vec = vm_vcpu_ack(v)) >= 0) {
		if (g->event_vector && vec == g->event_vector) { /* a system vector: no irq */
			pvir_remap_event(g);
			vm_vcpu_eoi(v);
			n++;
			continue;
		}
		/* The old vector of a move is still mapped: in-flight ones land here too. */
		int irq = *vector_slot(g, cpu, (unsigned)vec);
		const struct irq_hot *h = irq != VECTOR_UNUSED ? &g->hot[irq] : NULL;
		bool owned = h && h->action;

		if (h)
			prefetch_next_line(h); /* a device's irqs are numbered in turn */

		if (g->observer)
			g->observer(g->observer_ctx, cpu, (uint8_t)vec, owned ? irq : -1);
		if (owned) {
			irq_count_handled(g, (unsigned)irq, cpu);
			g->stats.handled++;
			irq_hot_handler(g, h)(g, (unsigned)irq, h->dev_id);
		} else {
			g->stats.spurious++;
		}
		vm_vcpu_eoi(v);
		n++;
	}
	return n;
}

void guest_timer_tick(struct guest *g, unsigned cpu)
{
	if (cpu < g->ncpus)
		vector_cleanup(g, cpu, false);
}

static unsigned online_count(const struct guest *g)
{
	unsigned n = 0;

	for (unsigned c = 0; c < g->ncpus; c++)
		n += irq_matrix_cpu_online(g->matrix, c);
	return n;
}

/* A managed interrupt on @cpu with no other online CPU in its mask: it shuts down. */
static bool managed_stranded(const struct irq_desc *d, unsigned cpu, const struct cpumask *others)
{
	struct cpumask left;

	if (!d->used || !d->vd.activated || !d->vd.is_managed || d->vd.cpu != cpu)
		return false;
	left = cpumask_and(d->vd.affinity, others);
	return cpumask_empty(&left);
}

/*
 * Linux's migrate_one_irq() (kernel/irq/cpuhotplug.c) for @d if it is on @cpu, going
 * offline: to the online CPUs of its affinity; with none left, a managed one waits to
 * be shut down (managed_stranded()) and any other breaks its affinity; and with no room
 * left in its affinity, a non-managed one takes any online CPU.
 */
static int migrate_one_irq(struct guest *g, struct irq_desc *d, unsigned cpu,
			   const struct cpumask *others)
{
	struct cpumask want;
	int err;

	/* one not started (deactivated, keeping its vector) is not moved, as in Linux */
	if (!d->used || !d->vd.activated || d->deactivated || d->vd.cpu != cpu ||
	    managed_stranded(d, cpu, others))
		return 0;
	want = cpumask_and(d->vd.affinity, others);
	if (cpumask_empty(&want))
		want = *others; /* affinity broken, as Linux warns */
	err = irq_do_set_affinity(g, d, &want, true);
	if (err == -ENOSPC && !d->vd.is_managed && !cpumask_equal(&want, others))
		err = irq_do_set_affinity(g, d, others, true);
	return err;
}

/* @d is on @cpu, its old vector on another CPU still to be freed. */
static bool moving_from_elsewhere(const struct irq_desc *d, unsigned cpu)
{
	return d->used && d->vd.activated && d->vd.cpu == cpu && d->vd.cleanup_pending &&
	       d->vd.prev_cpu != cpu;
}

/*
 * Finish the moves of @cpu's interrupts, so that they can move again. An old vector
 * waits for the interrupt pending on it to be taken; Linux's CPUs take what is
 * pending before they stop for the unplug, and so do these, then the old vectors
 * go. Return: false if one still waits (its vCPU is not running to take it).
 */
static bool finish_moves(struct guest *g, unsigned cpu)
{
	for (unsigned i = 0; i < g->nirqs; i++)
		if (moving_from_elsewhere(&g->irqs[i], cpu))
			guest_handle_interrupts(g, g->irqs[i].vd.prev_cpu);
	for (unsigned c = 0; c < g->ncpus; c++)
		vector_cleanup(g, c, false);
	for (unsigned i = 0; i < g->nirqs; i++)
		if (moving_from_elsewhere(&g->irqs[i], cpu))
			return false;
	return true;
}

int guest_cpu_offline(struct guest *g, unsigned cpu)
{
	struct cpumask others = g->cpu_online;

	if (cpu >= g->ncpus || !irq_matrix_cpu_online(g->matrix, cpu) || online_count(g) < 2)
		return -EINVAL;
	/*
	 * Linux's lapic_can_unplug_cpu(): the other CPUs must have room for every
	 * vector this one holds (approximate, as there: managed ones count too).
	 */
	if (irq_matrix_available(g->matrix, true, cpu) < irq_matrix_allocated(g->matrix, cpu))
		return -ENOSPC;
	cpumask_clear(&others, cpu);
	if (!finish_moves(g, cpu))
		return -EBUSY;
	for (unsigned i = 0; i < g->nirqs; i++) {
		int err = migrate_one_irq(g, &g->irqs[i], cpu, &others);

		if (err)
			return err;
	}
	/* What already arrived on this CPU is handled here, then old vectors go. */
	guest_handle_interrupts(g, cpu);
	for (unsigned i = 0; i < g->nirqs; i++)
		if (managed_stranded(&g->irqs[i], cpu, &others))
			irq_managed_shutdown(g, &g->irqs[i]);
	vector_cleanup(g, cpu, false);
	set_cpu_online(g, cpu, false);
	return 0;
}

int guest_cpu_online(struct guest *g, unsigned cpu)
{
	if (cpu >= g->ncpus || irq_matrix_cpu_online(g->matrix, cpu))
		return -EINVAL;
	set_cpu_online(g, cpu, true);
	/*
	 * Linux's irq_affinity_online_cpu(): a managed interrupt shut down with its
	 * CPUs starts again here if this CPU is in its mask and it has a handler. A
	 * start that fails leaves it shut down (Linux only warns).
	 */
	for (unsigned i = 0; i < g->nirqs; i++) {
		struct irq_desc *d = &g->irqs[i];

		if (!d->used || !d->vd.shutdown || !g->hot[d->irq].action ||
		    !cpumask_test(d->vd.affinity, cpu))
			continue;
		if (irq_managed_startup(g, d))
			g->stats.managed_restart_failed++;
	}
	return 0;
}

/* ---- invariants ---------------------------------------------------------------------- */

unsigned guest_vectors_in_use(const struct guest *g)
{
	unsigned n = 0;

	for (unsigned c = 0; c < g->ncpus; c++)
		n += irq_matrix_allocated(g->matrix, c);
	return n;
}

void guest_set_observer(struct guest *g, guest_observer_fn fn, void *ctx)
{
	g->observer = fn;
	g->observer_ctx = ctx;
}

int guest_irq_at(const struct guest *g, unsigned cpu, uint8_t vector)
{
	/* A vector maps only a used descriptor (guest_check); VECTOR_UNUSED is -1. */
	return cpu < g->ncpus ? *vector_slot(g, cpu, vector) : -1;
}

int guest_irq_bdf(const struct guest *g, unsigned irq)
{
	return irq < g->nirqs && g->irqs[irq].used ? g->irqs[irq].dev->bdf : -1;
}

unsigned guest_cpu_vectors_free(const struct guest *g, unsigned cpu)
{
	return cpu < g->ncpus ? irq_matrix_cpu_available(g->matrix, cpu) : 0;
}

uint64_t guest_pvir_table(const struct guest *g)
{
	return g->pv ? g->table_gpa : 0;
}

unsigned guest_virtes_in_use(const struct guest *g)
{
	return g->virtes_in_use;
}

/* Vectors that map a descriptor; each used one maps its own, so no stale one may remain. */
static unsigned vectors_mapped(const struct guest *g)
{
	unsigned n = 0;

	for (size_t s = 0; s < (size_t)g->ncpus * GUEST_VECTORS; s++)
		n += g->vector_irq[s] != VECTOR_UNUSED;
	return n;
}

bool guest_check(const struct guest *g)
{
	unsigned vectors = 0, virtes = 0, cleanups = 0;

	if (!irq_matrix_check(g->matrix))
		return false;
	for (unsigned c = 0; c < g->ncpus; c++)
		cleanups += g->cleanups[c];
	for (unsigned i = 0; i < g->nirqs; i++) {
		const struct irq_desc *d = &g->irqs[i];
		const struct vector_data *vd = &d->vd;

		if (!d->used)
			continue;
		virtes += d->virte >= 0;
		cleanups -= vd->cleanup_pending;
		if (vd->activated) {
			vectors++;
			if (*vector_slot(g, vd->cpu, vd->vector) != (int)i ||
			    !irq_matrix_is_allocated(g->matrix, vd->cpu, vd->vector))
				return false;
		}
		if (vd->move_in_progress || vd->cleanup_pending) {
			vectors++;
			if (*vector_slot(g, vd->prev_cpu, vd->prev_vector) != (int)i)
				return false;
		}
	}
	return vectors == guest_vectors_in_use(g) && vectors == vectors_mapped(g) &&
	       virtes + g->virtes_stale == g->virtes_in_use && !cleanups;
}
