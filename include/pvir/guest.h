/* SPDX-License-Identifier: MIT */
/*
 * The guest kernel, modelled on Linux's interrupt code (kernel/irq/, arch/x86/kernel/apic/): a vector
 * matrix per VM, irq domains stacked vector -> paravirtual IR -> {PCI/MSI-X,
 * IMS}, irq descriptors with handlers, and the calls drivers make.
 *
 * It reaches the host only through the guest interface of pvir/vm.h and
 * pvir/vmm.h (config space, MMIO, hypercalls, its vAPIC) and its own RAM.
 *
 * With the pvir service (found by QUERY at boot, then SET_TABLE) the IR
 * domain owns a vIRTE table and makes one SYNC per vIRTE update, at
 * activation and at affinity change; the message goes into the device
 * directly and an affinity change writes nothing to the device. Without it
 * (an old VMM, or a guest built without the driver) MSI-X messages are
 * composed in compatibility format and written into the VMM's emulated
 * table, and IMS is refused with -EOPNOTSUPP.
 *
 * Activation and affinity changes can fail; the error reaches the caller and
 * everything allocated on the way is released.
 */
#ifndef PVIR_GUEST_H
#define PVIR_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "pvir/compiler.h"
#include "pvir/cpumask.h"
#include "pvir/pci.h"

struct vm;
struct guest;
struct guest_pci_dev;

typedef void (*irq_handler_t)(struct guest *g, unsigned irq, void *dev_id);

struct guest_config {
	bool pvir_driver;	/* the guest has the paravirtual IR driver */
	bool vtd_driver;	/* without pvir: use a vIOMMU's IR, if the VMM offers one */
	bool amd_iommu;		/* that vIOMMU is AMD-Vi (the firmware's IVRS), not VT-d */
	uint32_t table_entries; /* vIRTEs to register; 0: the quota QUERY gives, 4096 at least */
	/*
	 * A real vector for MSI-X and maskable MSI at allocation, not at request_irq(): the
	 * PCI/MSI domains without MSI_FLAG_MUST_REACTIVATE, one (v)IRTE update per
	 * allocation. Default (false): Linux's reservation mode, which parks them on the
	 * shutdown vector at allocation and updates each (v)IRTE again at request_irq().
	 */
	bool vectors_at_alloc;
};

struct guest_stats {
	uint64_t handled;	    /* interrupts that reached a handler */
	uint64_t spurious;	    /* a vector with no descriptor */
	uint64_t hypercalls;	    /* SYNCs made */
	uint64_t moved;		    /* affinity changes completed */
	uint64_t cleaned;	    /* old vectors freed after a move */
	uint64_t cleanup_deferred;  /* cleanup found the old vector still pending */
	uint64_t remap_events;	    /* the host's remap events taken (docs/migration.md) */
	uint64_t remapped;	    /* entries synced again and rewritten after one */
	uint64_t remap_failed;	    /* ... whose SYNC failed: left masked, retried at the next */
	uint64_t managed_shutdown;  /* managed interrupts shut down: their CPUs all offline */
	uint64_t managed_restarted; /* ... started again when one came back */
	uint64_t managed_restart_failed; /* ... whose start failed: left shut down */
};

/**
 * guest_boot() - bring the guest kernel up on @vm: vector matrix with every
 * vCPU online, the pvir probe (QUERY, SET_TABLE) when @cfg asks for it, and
 * PCI enumeration of bus 0.
 * Return: 0 and *@ret, -ENOMEM, -EINVAL.
 */
int guest_boot(struct vm *vm, const struct guest_config *cfg, struct guest **ret) WARN_UNUSED;
void guest_free(struct guest *g);

/**
 * guest_rebind() - the guest kernel now runs in @vm: a migration's destination, whose RAM
 * holds the guest's (pvir/migrate.h, between the switch and the finish)
 */
void guest_rebind(struct guest *g, struct vm *vm);

/** guest_pvir() - whether the paravirtual IR domain is in use */
bool guest_pvir(const struct guest *g);
/** guest_vtd() - whether an emulated vIOMMU's IR domain (VT-d's or AMD-Vi's) is in use */
bool guest_vtd(const struct guest *g);
/** guest_pvir_probe_result() - what QUERY or SET_TABLE said at boot (0 when in use) */
int guest_pvir_probe_result(const struct guest *g);
const struct guest_stats *guest_stats(const struct guest *g);
/** guest_remap_event_vector() - where the host's remap event arrives; 0: not registered */
uint8_t guest_remap_event_vector(const struct guest *g);
/**
 * guest_irq_remap_error() - the error of @irq's last SYNC after a remap event, 0 when its
 * storage is mended (or it never needed it): what a driver asks of a vector that stays
 * silent. -EINVAL for no such irq.
 */
int guest_irq_remap_error(const struct guest *g, unsigned irq);
unsigned guest_cpus(const struct guest *g);

/* ---- PCI ------------------------------------------------------------------- */

struct guest_pci_dev *guest_pci_find(struct guest *g, uint16_t bdf);
unsigned guest_pci_msix_count(const struct guest_pci_dev *d);

/* ---- allocation (pci_alloc_irq_vectors and IMS) ----------------------------- */

/* How the guest knows a device's IMS storage (device-specific driver knowledge). */
struct guest_ims_layout {
	enum ims_storage storage;
	unsigned bar;
	uint32_t offset; /* slots (device kind) or registers (memory kind) in the BAR */
	unsigned entries;
};

/**
 * pci_alloc_irq_vectors() - allocate and activate between @min and @max MSI-X
 * vectors on @d, each with the affinity of one CPU, spread round-robin over
 * @affinity (NULL: all online CPUs). If the host grants fewer than @max
 * (-EDQUOT with a quota left of at least @min), it asks again for what is
 * left, as Linux's allocator retries.
 * Return: the number of vectors, or -ENOSPC, -EDQUOT, -EINVAL, ... with
 * nothing allocated.
 */
int pci_alloc_irq_vectors(struct guest *g, struct guest_pci_dev *d, unsigned min, unsigned max,
			  const struct cpumask *affinity) WARN_UNUSED;
/**
 * pci_alloc_irq_vectors_managed() - pci_alloc_irq_vectors() with PCI_IRQ_AFFINITY:
 * at most one vector per CPU (irq_calc_affinity_vectors()), vector i managed on the
 * i-th group of group_cpus_evenly(). A managed vector keeps that mask: affinity
 * changes are refused, and when every CPU of it goes offline it is shut down and
 * started again when one comes back (guest_cpu_offline(), guest_cpu_online()).
 * Return: the number of vectors, or -errno with nothing allocated.
 */
int pci_alloc_irq_vectors_managed(struct guest *g, struct guest_pci_dev *d, unsigned min,
				  unsigned max) WARN_UNUSED;
/**
 * pci_alloc_irq_vectors_msi() - pci_alloc_irq_vectors() with PCI_IRQ_MSI: between @min
 * and @max vectors of @d's MSI capability, spread as pci_alloc_irq_vectors() spreads
 * them. More than one only under interrupt remapping (the pvir domain, with the host's
 * PVIR_FEAT_MSI, or a vIOMMU's), as x86 Linux: the vectors' (v)IRTEs are one block and
 * the capability holds the first one's message. Not on a device whose MSI-X is in use.
 * Return: the number of vectors; -ENOSPC (fewer than @min possible); -EOPNOTSUPP (the
 * pvir domain on a host without PVIR_FEAT_MSI); or another -errno with nothing kept.
 */
int pci_alloc_irq_vectors_msi(struct guest *g, struct guest_pci_dev *d, unsigned min, unsigned max,
			      const struct cpumask *affinity) WARN_UNUSED;
/** guest_pci_msi_count() - the vectors @d's MSI capability offers (0: none) */
unsigned guest_pci_msi_count(const struct guest_pci_dev *d);
/** pci_irq_vector() - the irq number of vector @n of @d (MSI or MSI-X), or -EINVAL */
int pci_irq_vector(struct guest_pci_dev *d, unsigned n);
/** pci_free_irq_vectors() - deactivate and free every MSI or MSI-X vector of @d */
void pci_free_irq_vectors(struct guest *g, struct guest_pci_dev *d);
/**
 * pci_free_irq_vectors_last() - free the last @count MSI-X vectors of @d; MSI, which
 * Linux cannot free in part, goes whole
 */
void pci_free_irq_vectors_last(struct guest *g, struct guest_pci_dev *d, unsigned count);

/**
 * guest_ims_alloc() - allocate and activate between @min and @max more IMS entries
 * of @d, after those it has, with one SYNC for the whole batch. If the host grants
 * fewer than asked (-EDQUOT with a quota left of at least @min), it asks again for
 * what is left, as pci_alloc_irq_vectors() does.
 * Return: the number of entries (their irqs: guest_ims_irq() from the count before
 * the call), -EOPNOTSUPP without the pvir service, or another -errno with nothing
 * allocated.
 */
int guest_ims_alloc(struct guest *g, struct guest_pci_dev *d, const struct guest_ims_layout *l,
		    unsigned min, unsigned max, const struct cpumask *affinity) WARN_UNUSED;
/** guest_ims_irq() - the irq of IMS entry @n of @d, or -EINVAL */
int guest_ims_irq(struct guest_pci_dev *d, unsigned n);
void guest_ims_free_last(struct guest *g, struct guest_pci_dev *d, unsigned count);
unsigned guest_ims_count(const struct guest_pci_dev *d);

/* ---- the irq API ----------------------------------------------------------- */

/**
 * request_irq() - start @irq if it is not active (parked by reservation mode, or
 * deactivated by free_irq(); a managed one only with a CPU of its mask online, else it
 * stays shut down until one comes back), install @handler and unmask
 * Return: 0; -EINVAL (no such irq, no handler); -EBUSY (a handler is installed, or the
 * vector it kept is still moving); -ENOSPC (no vector, or 65,535 distinct handlers
 * installed before); -ENOMEM; or the hypercall's error. On error nothing is changed.
 */
int request_irq(struct guest *g, unsigned irq, irq_handler_t handler, void *dev_id) WARN_UNUSED;
/**
 * free_irq() - mask @irq, remove its handler and deactivate it, as Linux's __free_irq():
 * a zero message in its storage, its (v)IRTE cleared (under `hcall` a SYNC), its vector
 * given back if reservation mode reserved it, kept otherwise
 */
void free_irq(struct guest *g, unsigned irq);

/**
 * irq_set_affinity() - move @irq to a CPU of @mask
 * Return: 0; -EINVAL (no online CPU in @mask, not activated); -EBUSY (an
 * earlier move still pending); -ENOSPC (no vector); or the hypercall's error.
 * On failure the interrupt stays where it was.
 */
int irq_set_affinity(struct guest *g, unsigned irq, const struct cpumask *mask) WARN_UNUSED;

/** irq_effective_cpu() - where @irq is delivered now, or -1 */
int irq_effective_cpu(const struct guest *g, unsigned irq);
int irq_effective_vector(const struct guest *g, unsigned irq);
/** irq_count() - interrupts @irq's handler ran for on @cpu */
uint64_t irq_count(const struct guest *g, unsigned irq, unsigned cpu);
/** irq_move_pending() - an old vector is still allocated for @irq */
bool irq_move_pending(const struct guest *g, unsigned irq);

/* ---- running -------------------------------------------------------------- */

/* Called for every interrupt a vCPU takes; @irq is -1 when no handler owns it. */
typedef void (*guest_observer_fn)(void *ctx, unsigned cpu, uint8_t vector, int irq);
void guest_set_observer(struct guest *g, guest_observer_fn fn, void *ctx);

/** guest_irq_at() - the irq that (@cpu, @vector) belongs to now (current or old vector), or -1 */
int guest_irq_at(const struct guest *g, unsigned cpu, uint8_t vector);
/** guest_irq_bdf() - the guest BDF of @irq's device, or -1 */
int guest_irq_bdf(const struct guest *g, unsigned irq);

/** guest_handle_interrupts() - vCPU @cpu takes every deliverable interrupt; Return: how many */
unsigned guest_handle_interrupts(struct guest *g, unsigned cpu);
/** guest_timer_tick() - vCPU @cpu's timer: frees old vectors no interrupt can still use */
void guest_timer_tick(struct guest *g, unsigned cpu);
/**
 * guest_cpu_offline() - take @cpu offline, as Linux's CPU hotplug does: refused
 * first if the other CPUs lack room for its vectors; its interrupts move to the online
 * CPUs of their affinity (any online CPU when none is left or none has room), except a
 * managed one with no other CPU in its mask: that one is shut down, its (v)IRTE torn
 * down, and what its device raises meanwhile latches there. Moves of its interrupts
 * still under way are finished first: the CPUs holding their old vectors take what is
 * pending there, as Linux's CPUs do before they stop for the unplug.
 * Return: 0, -EINVAL (last CPU, already offline), -ENOSPC (no room: nothing moved),
 * -EBUSY (an old vector still holds an interrupt its vCPU, not running, has not taken:
 * nothing moved), or a hypercall error when an interrupt could not move (the CPU then
 * stays online, nothing moved back is lost).
 */
int guest_cpu_offline(struct guest *g, unsigned cpu) WARN_UNUSED;
/**
 * guest_cpu_online() - bring @cpu back: new interrupts may go there, and each managed
 * interrupt shut down with its mask's CPUs and holding a handler starts again on it.
 * Return: 0, or -EINVAL for no such CPU or one online.
 */
int guest_cpu_online(struct guest *g, unsigned cpu) WARN_UNUSED;

/** guest_check() - accounting invariants (matrix, vectors, vIRTEs); Return: true if sound */
bool guest_check(const struct guest *g);
/** guest_cpu_vectors_free() - vectors still available on @cpu (the matrix's count) */
unsigned guest_cpu_vectors_free(const struct guest *g, unsigned cpu);
/** guest_pvir_table() - guest-physical address of the vIRTE table, 0 without one */
uint64_t guest_pvir_table(const struct guest *g);
/** guest_vectors_in_use() - vectors the matrix holds allocated, all CPUs */
unsigned guest_vectors_in_use(const struct guest *g);
/** guest_virtes_in_use() - vIRTEs the IR domain holds */
unsigned guest_virtes_in_use(const struct guest *g);

#endif
