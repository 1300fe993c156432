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

/**
 * irq_matrix_new() - a matrix for @ncpus CPUs, vectors [@alloc_start, @alloc_end)
 * All CPUs start offline. Return: the matrix, or NULL.
 */
struct irq_matrix *irq_matrix_new(unsigned ncpus, unsigned alloc_start, unsigned alloc_end);
void irq_matrix_free(struct irq_matrix *m);

/** irq_matrix_assign_system() - exclude @bit on every CPU (before CPUs come online) */
void irq_matrix_assign_system(struct irq_matrix *m, unsigned bit);

void irq_matrix_online(struct irq_matrix *m, unsigned cpu);
void irq_matrix_offline(struct irq_matrix *m, unsigned cpu);
bool irq_matrix_cpu_online(const struct irq_matrix *m, unsigned cpu);

/** irq_matrix_reserve_managed() - set a vector aside on every CPU of @mask; -ENOSPC rolls back */
int irq_matrix_reserve_managed(struct irq_matrix *m, const struct cpumask *mask) WARN_UNUSED;
/** irq_matrix_remove_managed() - give back one unallocated managed vector per CPU of @mask */
void irq_matrix_remove_managed(struct irq_matrix *m, const struct cpumask *mask);

/** irq_matrix_alloc_managed() - Return: the vector, its CPU in *@ret_cpu; or -ENOSPC */
int irq_matrix_alloc_managed(struct irq_matrix *m, const struct cpumask *mask,
			     unsigned *ret_cpu) WARN_UNUSED;

/**
 * irq_matrix_alloc() - a non-managed vector on the best online CPU of @mask
 * @reserved:	the caller holds a global reservation, now made good
 * Return: the vector, its CPU in *@ret_cpu; -EINVAL (empty mask), -ENOSPC.
 */
int irq_matrix_alloc(struct irq_matrix *m, const struct cpumask *mask, bool reserved,
		     unsigned *ret_cpu) WARN_UNUSED;

/** irq_matrix_release() - Linux's irq_matrix_free(): give a vector back */
void irq_matrix_release(struct irq_matrix *m, unsigned cpu, unsigned bit, bool managed);

void irq_matrix_reserve(struct irq_matrix *m);
void irq_matrix_remove_reserved(struct irq_matrix *m);

unsigned irq_matrix_available(const struct irq_matrix *m);
unsigned irq_matrix_allocated(const struct irq_matrix *m);
unsigned irq_matrix_reserved(const struct irq_matrix *m);
unsigned irq_matrix_cpu_available(const struct irq_matrix *m, unsigned cpu);
unsigned irq_matrix_cpu_allocated(const struct irq_matrix *m, unsigned cpu);
bool irq_matrix_is_allocated(const struct irq_matrix *m, unsigned cpu, unsigned bit);

/**
 * irq_matrix_check() - recount every per-CPU bitmap and compare with the
 * counters (the accounting invariant). Return: true if consistent.
 */
bool irq_matrix_check(const struct irq_matrix *m);

#endif
