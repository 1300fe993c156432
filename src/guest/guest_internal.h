/* SPDX-License-Identifier: MIT */
/*
 * The guest kernel's state, shared by its files: guest.c (boot, PCI
 * enumeration, interrupt entry, timers, CPU offline), vector.c (the vector
 * domain), pvir_ir.c (the paravirtual IR domain), msi.c (the MSI-X and IMS
 * bus domains) and irq.c (descriptors and the driver API).
 */
#ifndef PVIR_GUEST_INTERNAL_H
#define PVIR_GUEST_INTERNAL_H

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#include "pvir/guest.h"
#include "pvir/irq_matrix.h"
#include "pvir/msi.h"
#include "pvir/vm.h"

struct physmem;
struct ir_driver;
struct amdvi_driver;

#define GUEST_MAX_DEVS	      32
#define GUEST_VECTORS	      256
#define GUEST_FIRST_VECTOR    0x20
#define GUEST_SYSTEM_START    0xec     /* Linux's FIRST_SYSTEM_VECTOR */
#define GUEST_SYSCALL	      0x80     /* IA32_SYSCALL_VECTOR, a system vector too */
#define GUEST_SHUTDOWN_VECTOR 0xef     /* MANAGED_IRQ_SHUTDOWN_VECTOR: no handler owns it */
#define GUEST_RAM_START	      0x100000 /* below: the kernel's own */
#define GUEST_PAGE	      4096

enum irq_bus {
	IRQ_BUS_MSIX,
	IRQ_BUS_IMS,
	IRQ_BUS_MSI,
};

/* The vector domain's per-irq state (Linux's apic_chip_data). */
struct vector_data {
	unsigned cpu;
	uint8_t vector;
	unsigned prev_cpu;
	uint8_t prev_vector;
	bool activated;
	bool has_reserved;
	bool is_managed;
	bool shutdown; /* managed, every CPU of its mask offline: deactivated */
	bool
	    parked; /* reservation mode: cpu and vector name the shutdown vector until request_irq() */
	bool move_in_progress;		/* a new vector is installed, the old not yet queued */
	bool cleanup_pending;		/* the old vector waits for prev_cpu's timer */
	const struct cpumask *affinity; /* kept once for all who share it: affinity_keep() */
};

struct irq_desc {
	bool used;
	unsigned irq;
	struct guest_pci_dev *dev;
	enum irq_bus bus;
	unsigned index; /* MSI-X entry, IMS slot, or MSI vector */
	struct vector_data vd;
	int virte;     /* vIRTE index, or -1 */
	int vtd_index; /* IRTE index in the vIOMMU's table (`vir-emul`), or -1 */
	struct msi_msg msg;
	bool masked;
	bool deactivated;   /* free_irq() tore its (v)IRTE down: request_irq() activates it again */
	bool remap_pending; /* the host revoked its vIRTE: SYNC again, rewrite the storage */
	int remap_err;	    /* the last such SYNC's error, 0 once mended */
};

/*
 * What an arriving interrupt of an irq reads and writes, in an array of its
 * own beside irqs[]: with tens of thousands of irqs, delivery then touches
 * one small entry, not a whole descriptor and a row of per-CPU counts. Four
 * fit a cache line, none straddles two.
 *   dev_id, action:  what request_irq() installed (Linux's irqaction): the
 *                    handler is g->handlers[action - 1]; 0: none. A guest's
 *                    irqs share a few handlers, so their pointers are kept
 *                    once and each irq names its own by index;
 *   count:           interrupts handled on @count_cpu, not yet added to its
 *                    irq_counts row. An irq's interrupts arrive on the CPU
 *                    it is aimed at, so that count lives here and moves to
 *                    the row only when one arrives on another CPU.
 */
struct irq_hot {
	void *dev_id;
	uint16_t action;
	uint16_t count_cpu;
	unsigned count;
};
_Static_assert(sizeof(struct irq_hot) == 16, "an irq's hot entry: a quarter of a line");
_Static_assert(VM_MAX_VCPUS <= UINT16_MAX + 1, "count_cpu holds any CPU");

#define VECTOR_UNUSED (-1)

struct guest_pci_dev {
	uint16_t bdf;
	uint16_t vendor;
	uint16_t device;
	uint64_t bar_gpa[PCI_NUM_BARS];
	uint8_t msix_cap;
	unsigned msix_count;
	unsigned msix_bar;
	uint32_t msix_offset;
	bool msix_enabled;
	unsigned *msix_irqs;
	unsigned nmsix;
	/* MSI: the capability, and the vectors allocated (Linux's one msi_desc for them) */
	uint8_t msi_cap;
	unsigned msi_count; /* Multiple Message Capable */
	bool msi_64bit;
	bool msi_maskbit;
	unsigned msi_multiple; /* log2 of the vectors enabled (Multiple Message Enable) */
	uint32_t msi_mask;     /* the mask bits as last written (Linux's msi_mask cache) */
	unsigned *msi_irqs;
	unsigned nmsi;
	int msi_block;		 /* `vir-emul`: the first IRTE of the vectors' block, or -1 */
	unsigned msi_block_size; /* its IRTEs, a power of two */
	unsigned msi_block_live; /* of them, still activated */
	struct guest_ims_layout ims;
	unsigned *ims_irqs;
	unsigned nims;
	uint64_t ims_ctx_gpa;
};

/*
 * What taking an interrupt reads comes first (guest_handle_interrupts()), with
 * the count it adds to leading @stats: one cache line, as guest_boot() allocates
 * the guest aligned. A fleet's VMs interleave their interrupts, and every line
 * of a guest they touch would miss.
 */
struct guest {
	alignas(64) struct vm *vm;
	unsigned ncpus;
	uint8_t event_vector; /* where the host's remap event arrives (SET_EVENT); 0: none */
	/*
	 * [cpu * GUEST_VECTORS + vector]: the irq it maps, or VECTOR_UNUSED. An
	 * irq number, as Linux kept it before 4.3, is half a pointer's size.
	 */
	int *vector_irq;
	struct irq_hot *hot;	 /* per irq, beside irqs[] */
	irq_handler_t *handlers; /* every handler request_irq() was given, once */
	guest_observer_fn observer;
	void *observer_ctx;
	struct guest_stats stats;
	/*
	 * per irq, per CPU: nirqs rows of ncpus, read only when an irq's interrupt
	 * arrives on another CPU. Linux's kstat_irqs are unsigned int too.
	 */
	unsigned *irq_counts; /* zmem: a row costs only once touched */
	unsigned nhandlers;
	struct physmem *ram;
	struct guest_config cfg;
	struct irq_matrix *matrix;
	/* Linux's cpu_online_mask: kept with the matrix's online CPUs (set_cpu_online()) */
	struct cpumask cpu_online;
	unsigned *cleanups; /* per CPU: old vectors waiting for its cleanup timer */
	struct irq_desc *irqs;
	unsigned nirqs;
	unsigned irqs_free_from; /* no free descriptor below this one */
	size_t irq_counts_bytes;
	uint64_t ram_next;
	struct guest_pci_dev devs[GUEST_MAX_DEVS];
	unsigned ndevs;
	/* the pvir IR domain */
	bool pv;
	bool pv_msi;  /* QUERY offered PVIR_FEAT_MSI: MSI vectors can be vIRTEs */
	bool pv_park; /* QUERY offered PVIR_FEAT_PARK: reservation mode can park vIRTEs */
	int pv_probe;
	uint64_t table_gpa;
	uint32_t table_entries;
	uint64_t *virte_used;
	unsigned virtes_in_use;
	uint64_t *virte_stale; /* torn down, but the host still holds them */
	unsigned virtes_stale;
	/* the VT-d IR domain (`vir-emul`) */
	struct ir_driver *vtd;
	struct amdvi_driver *amd; /* `vir-emul` on an AMD-Vi vIOMMU, instead of @vtd */
	int vtd_probe;
	/*
	 * Every affinity an irq has had, each kept once: tens of thousands of irqs
	 * share a few masks (all CPUs, one, a managed spread), and a 1,024-CPU mask
	 * is 128 bytes. Open addressing by hash; a NULL slot is empty.
	 */
	struct cpumask **masks;
	unsigned masks_cap; /* a power of two */
	unsigned nmasks;
};
_Static_assert(offsetof(struct guest, stats.handled) + sizeof(uint64_t) <= 64,
	       "what taking an interrupt reads: one line");

/* The handler request_irq() installed for the irq of @h; NULL: none. */
static inline irq_handler_t irq_hot_handler(const struct guest *g, const struct irq_hot *h)
{
	return h->action ? g->handlers[h->action - 1] : NULL;
}

/* The handled-interrupt counts of @irq, one per CPU, but for the one kept in g->hot[irq]. */
static inline unsigned *irq_counts_of(const struct guest *g, unsigned irq)
{
	return g->irq_counts + (size_t)irq * g->ncpus;
}

/* Count an interrupt of @irq handled on @cpu (Linux's kstat_incr_irqs_this_cpu). */
static inline void irq_count_handled(struct guest *g, unsigned irq, unsigned cpu)
{
	struct irq_hot *h = &g->hot[irq];

	if (h->count_cpu != cpu) {
		if (h->count)
			irq_counts_of(g, irq)[h->count_cpu] += h->count;
		h->count_cpu = (uint16_t)cpu;
		h->count = 0;
	}
	h->count++;
}

/* guest.c */
struct vcpu *guest_vcpu(struct guest *g, unsigned cpu);
uint64_t guest_alloc_ram(struct guest *g, uint64_t bytes);
void guest_mmio_write(struct guest *g, uint64_t gpa, unsigned size, uint64_t val);
uint64_t guest_mmio_read(struct guest *g, uint64_t gpa, unsigned size);
int *vector_slot(const struct guest *g, unsigned cpu, unsigned vector);

/* vector.c */
/* @m kept for good, shared with every irq that names the same CPUs; NULL without memory. */
const struct cpumask *affinity_keep(struct guest *g, const struct cpumask *m);
void affinity_masks_free(struct guest *g);
int vector_alloc(struct guest *g, struct irq_desc *d, const struct cpumask *aff,
		 bool managed) WARN_UNUSED;
void vector_free(struct guest *g, struct irq_desc *d);
int vector_activate(struct guest *g, struct irq_desc *d) WARN_UNUSED;
void vector_deactivate(struct guest *g, struct irq_desc *d);
void vector_park(struct guest *g, struct irq_desc *d);
/*
 * Return: 0 moved (old vector kept as prev), 1 nothing to do, or -errno. A managed
 * interrupt moves only at @hotplug, within its mask, which it keeps.
 */
int vector_set_affinity(struct guest *g, struct irq_desc *d, const struct cpumask *mask,
			bool hotplug) WARN_UNUSED;
/*
 * The vector @d kept while deactivated, at its activation (assign_irq_vector_any_locked()):
 * Return: 1 if it stays (its CPU online and in the affinity), 0 if a new one was taken
 * as a move is (vector_schedule_cleanup() or vector_move_rollback() next), -errno.
 */
int vector_place_kept(struct guest *g, struct irq_desc *d) WARN_UNUSED;
/* @old_aff: the affinity @d had before the move, as affinity_keep() gave it. */
void vector_move_rollback(struct guest *g, struct irq_desc *d, const struct cpumask *old_aff);
void vector_schedule_cleanup(struct guest *g, struct irq_desc *d);
void vector_cleanup(struct guest *g, unsigned cpu, bool force);

/* pvir_ir.c */
void pvir_probe(struct guest *g);
void pvir_free(struct guest *g);
int virte_alloc(struct guest *g, unsigned count, uint32_t *ret_base) WARN_UNUSED;
void virte_free(struct guest *g, uint32_t base, unsigned count);
void virte_write(struct guest *g, const struct irq_desc *d, bool present);
void virte_teardown(struct guest *g, uint32_t first, uint32_t count);
void virte_reap(struct guest *g);
bool virte_is_stale(const struct guest *g, uint32_t i);
/* A stale vIRTE synced present again: the host holds it for the guest, not for the reaper. */
void virte_revive(struct guest *g, uint32_t i);
struct msi_msg virte_msg(struct guest *g, uint32_t idx);
int virte_status(struct guest *g, uint32_t idx);
void pvir_remap_event(struct guest *g);
/* Return: 0, or the errno with *@ret_failed the failing index and *@ret_left the quota left */
int pvir_sync(struct guest *g, uint32_t first, uint32_t count, uint64_t *ret_failed,
	      uint64_t *ret_left) WARN_UNUSED;

/* vtd_ir.c */
void vtd_probe(struct guest *g);
void vtd_free(struct guest *g);
int vtd_activate(struct guest *g, struct irq_desc *d) WARN_UNUSED;
int vtd_activate_msi(struct guest *g, struct irq_desc **ds, unsigned n) WARN_UNUSED;
int vtd_retarget(struct guest *g, struct irq_desc *d) WARN_UNUSED;
void vtd_deactivate(struct guest *g, struct irq_desc *d);
void vtd_clear(struct guest *g, struct irq_desc *d);
void vtd_release(struct guest *g, struct irq_desc *d);

/* amd_ir.c */
void amd_ir_probe(struct guest *g);
void amd_ir_free(struct guest *g);
int amd_ir_activate(struct guest *g, struct irq_desc *d) WARN_UNUSED;
int amd_ir_activate_msi(struct guest *g, struct irq_desc **ds, unsigned n) WARN_UNUSED;
int amd_ir_retarget(struct guest *g, struct irq_desc *d) WARN_UNUSED;
void amd_ir_deactivate(struct guest *g, struct irq_desc *d);
void amd_ir_clear(struct guest *g, struct irq_desc *d);
void amd_ir_release(struct guest *g, struct irq_desc *d);

/*
 * The bookkeeping both vIOMMU IR domains share. A multi-message MSI's @n vectors hold
 * the block [@base, @base + @size) of IRTEs, which goes whole, with its last vector.
 */
static inline void msi_block_hold(struct guest_pci_dev *dev, uint32_t base, uint32_t size,
				  unsigned n)
{
	dev->msi_block = (int)base;
	dev->msi_block_size = size;
	dev->msi_block_live = n;
}

/*
 * @d gives its IRTE index up (free_irte()). Return: true with the IRTEs now to free —
 * its own, or for MSI the block once its last vector goes — in *@first, *@count.
 */
static inline bool irte_index_put(struct irq_desc *d, uint32_t *first, uint32_t *count)
{
	struct guest_pci_dev *dev = d->dev;
	bool own = d->bus != IRQ_BUS_MSI;

	if (d->vtd_index < 0)
		return false;
	*first = own ? (uint32_t)d->vtd_index : (uint32_t)dev->msi_block;
	*count = own ? 1 : dev->msi_block_size;
	d->vtd_index = -1;
	if (own || --dev->msi_block_live)
		return own;
	dev->msi_block = -1;
	return true;
}

/* The IR domain of the emulated vIOMMU (`vir-emul`): VT-d's or AMD-Vi's, whichever probed. */
static inline bool viommu_ir(const struct guest *g)
{
	return g->vtd || g->amd;
}

static inline int viommu_ir_activate(struct guest *g, struct irq_desc *d)
{
	return g->amd ? amd_ir_activate(g, d) : vtd_activate(g, d);
}

/* A device's MSI vectors @ds[0..n): one block of IRTEs, vector i at its i-th. */
static inline int viommu_ir_activate_msi(struct guest *g, struct irq_desc **ds, unsigned n)
{
	return g->amd ? amd_ir_activate_msi(g, ds, n) : vtd_activate_msi(g, ds, n);
}

static inline int viommu_ir_retarget(struct guest *g, struct irq_desc *d)
{
	return g->amd ? amd_ir_retarget(g, d) : vtd_retarget(g, d);
}

/* @d's IRTE zeroed and flushed, its index kept for the irq (Linux's IR deactivate). */
static inline void viommu_ir_clear(struct guest *g, struct irq_desc *d)
{
	if (g->amd)
		amd_ir_clear(g, d);
	else
		vtd_clear(g, d);
}

/* @d's IRTE index given back, the entry cleared and flushed (Linux's free_irte()). */
static inline void viommu_ir_free(struct guest *g, struct irq_desc *d)
{
	if (g->amd)
		amd_ir_release(g, d);
	else
		vtd_release(g, d);
}

static inline void viommu_ir_deactivate(struct guest *g, struct irq_desc *d)
{
	if (g->amd)
		amd_ir_deactivate(g, d);
	else
		vtd_deactivate(g, d);
}

/* irq.c: what CPU hotplug does to an interrupt (kernel/irq/cpuhotplug.c) */
int irq_do_set_affinity(struct guest *g, struct irq_desc *d, const struct cpumask *mask,
			bool hotplug) WARN_UNUSED;
void irq_managed_shutdown(struct guest *g, struct irq_desc *d);
int irq_managed_startup(struct guest *g, struct irq_desc *d) WARN_UNUSED;

/* msi.c */
void msix_enable(struct guest *g, struct guest_pci_dev *dev, bool on);
void msi_set_enable(struct guest *g, struct guest_pci_dev *dev, bool on);
/* pci_msi_update_mask(): vectors @clear unmasked, @set masked, in one config write */
void msi_update_mask(struct guest *g, struct guest_pci_dev *dev, uint32_t clear, uint32_t set);
void irq_write_msg(struct guest *g, struct irq_desc *d);
void irq_mask(struct guest *g, struct irq_desc *d, bool mask);
/* The storage's mask bit alone: the driver's view (d->masked) stays as it is. */
void irq_write_ctrl(struct guest *g, struct irq_desc *d, bool mask);
void ims_setup(struct guest *g, struct guest_pci_dev *dev);
struct msi_msg compose_compat(const struct irq_desc *d);

#endif
