/* SPDX-License-Identifier: MIT */
/*
 * The x86 vector allocation matrix, with the semantics of Linux's
 * kernel/irq/matrix.c: per-CPU bitmaps of allocated and managed
 * vectors, system vectors excluded everywhere, managed reservations (one
 * vector set aside on every CPU of a mask) and global reservations
 * ("reservation mode": a promise of a vector somewhere, made good at
 * activation). The best-CPU rules and their tie-breaks are Linux's, so runs
 * replay the same choices:
 *
 *   non-managed: the online CPU in the mask with the most available vectors,
 *                ties to the lowest-numbered;
 *   managed:     the online CPU with the fewest managed vectors allocated,
 *                ties to the highest-numbered.
 */
#ifndef PVIR_IRQ_MATRIX_H
#define PVIR_IRQ_MATRIX_H

#include <stdbool.h>

#include "pvir/compiler.h"
#include "pvir/cpumask.h"

struct irq_matrix;

/*
 * The calls are Linux's, with Linux's names and meanings. Where Linux acts on
 * the CPU it runs on (this_cpu_ptr), the CPU is an argument here: a simulated
 * kernel has no current CPU. Where Linux has WARN_ON_ONCE() the call changes
 * nothing and counts one warning (irq_matrix_warnings()); where it has BUG_ON()
 * it is an assert.
 */

/**
 * irq_matrix_new() - Linux's irq_alloc_matrix(): @ncpus CPUs, vectors
 * [@alloc_start, @alloc_end) All CPUs start offline. Return: the matrix, or NULL.
 */
struct irq_matrix *irq_matrix_new(unsigned ncpus, unsigned alloc_start, unsigned alloc_end);
/** irq_matrix_destroy() - free the matrix (Linux never frees its one) */
void irq_matrix_destroy(struct irq_matrix *m);

/**
 * irq_matrix_assign_system() - make @bit a system vector on every CPU
 * @replace:	@bit is allocated on the one CPU online (Linux's boot CPU, taking a
 *		legacy vector over); it moves from that CPU's allocations. Without
 *		@replace no CPU may be online; with it, at most one (Linux BUG()s).
 */
void irq_matrix_assign_system(struct irq_matrix *m, unsigned bit, bool replace);

/** irq_matrix_online() / _offline() - @cpu comes online, or goes offline */
void irq_matrix_online(struct irq_matrix *m, unsigned cpu);
void irq_matrix_offline(struct irq_matrix *m, unsigned cpu);
bool irq_matrix_cpu_online(const struct irq_matrix *m, unsigned cpu);

/**
 * irq_matrix_reserve_managed() - set a vector aside on every CPU of @mask, offline
 * ones included. Return: 0, or -ENOSPC with the CPUs before the full one rolled back.
 */
int irq_matrix_reserve_managed(struct irq_matrix *m, const struct cpumask *mask) WARN_UNUSED;
/** irq_matrix_remove_managed() - give back one unallocated managed vector per CPU of @mask */
void irq_matrix_remove_managed(struct irq_matrix *m, const struct cpumask *mask);

/**
 * irq_matrix_alloc_managed() - a reserved managed vector on the online CPU of @mask
 * with the fewest managed vectors allocated (ties: the highest-numbered).
 * Return: the vector, its CPU in *@ret_cpu; -EINVAL (empty mask), -ENOSPC.
 */
int irq_matrix_alloc_managed(struct irq_matrix *m, const struct cpumask *mask,
			     unsigned *ret_cpu) WARN_UNUSED;

/**
 * irq_matrix_assign() - mark @bit allocated on @cpu (Linux: the local CPU), a vector
 * set up before the allocator ran; a warning if it is outside the range or taken.
 */
void irq_matrix_assign(struct irq_matrix *m, unsigned cpu, unsigned bit);

/** irq_matrix_reserve() - a global reservation: a vector promised, given at activation */
void irq_matrix_reserve(struct irq_matrix *m);
void irq_matrix_remove_reserved(struct irq_matrix *m);

/**
 * irq_matrix_alloc() - a non-managed vector on the online CPU of @mask with the most
 * available (ties: the lowest-numbered), its lowest free vector
 * @reserved:	the caller holds a global reservation, now made good
 * Return: the vector, its CPU in *@ret_cpu; -EINVAL (empty mask), -ENOSPC.
 */
int irq_matrix_alloc(struct irq_matrix *m, const struct cpumask *mask, bool reserved,
		     unsigned *ret_cpu) WARN_UNUSED;

/**
 * irq_matrix_free() - give @bit on @cpu back; @managed: it goes back to the CPU's
 * managed reservation, not to its available vectors. A CPU offline is allowed.
 */
void irq_matrix_free(struct irq_matrix *m, unsigned cpu, unsigned bit, bool managed);

/**
 * irq_matrix_available() - vectors available on the online CPUs; with @cpudown,
 * less those of @cpu (Linux: the local CPU, about to go down)
 */
unsigned irq_matrix_available(const struct irq_matrix *m, bool cpudown, unsigned cpu);
unsigned irq_matrix_reserved(const struct irq_matrix *m);
/** irq_matrix_allocated() - vectors allocated on @cpu (Linux: the local CPU) */
unsigned irq_matrix_allocated(const struct irq_matrix *m, unsigned cpu);

/*
 * What Linux's debugfs file shows (irq_matrix_debug_show()): the total allocated,
 * and per CPU its available, managed and managed-allocated counts.
 */
unsigned irq_matrix_total_allocated(const struct irq_matrix *m);
unsigned irq_matrix_cpu_available(const struct irq_matrix *m, unsigned cpu);
unsigned irq_matrix_cpu_managed(const struct irq_matrix *m, unsigned cpu);
unsigned irq_matrix_cpu_managed_allocated(const struct irq_matrix *m, unsigned cpu);
bool irq_matrix_is_allocated(const struct irq_matrix *m, unsigned cpu, unsigned bit);

/** irq_matrix_warnings() - calls outside the contract, where Linux WARNs */
unsigned irq_matrix_warnings(const struct irq_matrix *m);

/**
 * irq_matrix_check() - recount every per-CPU bitmap and compare with the
 * counters (the accounting invariant). Return: true if consistent.
 */
bool irq_matrix_check(const struct irq_matrix *m);

#endif
