// SPDX-License-Identifier: MIT
/*
 * Vector matrix allocator, Linux's semantics (see pvir/irq_matrix.h and
 * Linux kernel/irq/matrix.c). Where Linux has WARN_ON_ONCE() (or pr_warn()), the
 * call counts a warning and, as there, changes nothing; where Linux BUG()s, an
 * assert, on purpose: a test that trips one found a bug in the guest model.
 */
#include "pvir/irq_matrix.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#define MATRIX_BITS  256
#define MATRIX_WORDS (MATRIX_BITS / 64)
#define NO_CPU	     UINT32_MAX

struct cpumap {
	unsigned available;
	unsigned allocated;
	unsigned managed;
	unsigned managed_allocated;
	bool initialized;
	bool online;
	uint64_t alloc_map[MATRIX_WORDS];
	uint64_t managed_map[MATRIX_WORDS];
};

struct irq_matrix {
	unsigned ncpus;
	unsigned alloc_start;
	unsigned alloc_end;
	unsigned alloc_size;
	unsigned global_available;
	unsigned global_reserved;
	unsigned systembits_inalloc;
	unsigned total_allocated;
	unsigned online_maps;
	unsigned warnings; /* WARN_ON_ONCE() / pr_warn() hits */
	uint64_t system_map[MATRIX_WORDS];
	struct cpumap *maps;
};

static bool test(const uint64_t *map, unsigned bit)
{
	return (map[bit / 64] >> (bit % 64)) & 1;
}

static void assign(uint64_t *map, unsigned bit, bool on)
{
	uint64_t b = UINT64_C(1) << (bit % 64);

	map[bit / 64] = on ? map[bit / 64] | b : map[bit / 64] & ~b;
}

struct irq_matrix *irq_matrix_new(unsigned ncpus, unsigned alloc_start, unsigned alloc_end)
{
	struct irq_matrix *m;

	if (!ncpus || ncpus > CPUMASK_BITS || alloc_start >= alloc_end || alloc_end > MATRIX_BITS)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->maps = calloc(ncpus, sizeof(*m->maps));
	if (!m->maps) {
		free(m);
		return NULL;
	}
	m->ncpus = ncpus;
	m->alloc_start = alloc_start;
	m->alloc_end = alloc_end;
	m->alloc_size = alloc_end - alloc_start;
	return m;
}

void irq_matrix_destroy(struct irq_matrix *m)
{
	if (!m)
		return;
	free(m->maps);
	free(m);
}

/* Linux's WARN_ON_ONCE(@cond): true (and counted) when the call is outside the contract. */
static bool warn_on(struct irq_matrix *m, bool cond)
{
	m->warnings += cond;
	return cond;
}

static struct cpumap *the_online_cpu(struct irq_matrix *m)
{
	for (unsigned c = 0; c < m->ncpus; c++)
		if (m->maps[c].online)
			return &m->maps[c];
	return NULL;
}

void irq_matrix_assign_system(struct irq_matrix *m, unsigned bit, bool replace)
{
	/* Linux BUG()s: the per-CPU counts assume no CPU is up, or only the boot CPU. */
	assert(bit < MATRIX_BITS && (m->online_maps == 0 || (replace && m->online_maps == 1)));
	assign(m->system_map, bit, true);
	if (replace) {
		struct cpumap *cm = the_online_cpu(m);

		assert(cm && test(cm->alloc_map, bit));
		assign(cm->alloc_map, bit, false);
		cm->allocated--;
		m->total_allocated--;
	}
	if (bit >= m->alloc_start && bit < m->alloc_end)
		m->systembits_inalloc++;
}

void irq_matrix_online(struct irq_matrix *m, unsigned cpu)
{
	struct cpumap *cm = &m->maps[cpu];

	if (cm->online)
		return;
	if (!cm->initialized) {
		cm->available = m->alloc_size - cm->managed - m->systembits_inalloc;
		cm->initialized = true;
	}
	m->global_available += cm->available;
	cm->online = true;
	m->online_maps++;
}

void irq_matrix_offline(struct irq_matrix *m, unsigned cpu)
{
	struct cpumap *cm = &m->maps[cpu];

	if (!cm->online)
		return;
	m->global_available -= cm->available;
	cm->online = false;
	m->online_maps--;
}

bool irq_matrix_cpu_online(const struct irq_matrix *m, unsigned cpu)
{
	return cpu < m->ncpus && m->maps[cpu].online;
}

/* First free vector not in use, managed or system; marked in the right map. */
static unsigned alloc_area(struct irq_matrix *m, struct cpumap *cm, bool managed)
{
	for (unsigned w = m->alloc_start / 64; w * 64 < m->alloc_end; w++) {
		uint64_t free = ~(cm->alloc_map[w] | cm->managed_map[w] | m->system_map[w]);
		unsigned bit;

		if (w == m->alloc_start / 64)
			free &= ~UINT64_C(0) << (m->alloc_start % 64);
		if (!free)
			continue;
		bit = w * 64 + (unsigned)__builtin_ctzll(free);
		if (bit >= m->alloc_end)
			break;
		assign(managed ? cm->managed_map : cm->alloc_map, bit, true);
		return bit;
	}
	return m->alloc_end;
}

/* Most available vectors; a strictly larger count wins, so ties go to the lowest CPU. */
static unsigned find_best_cpu(const struct irq_matrix *m, const struct cpumask *msk)
{
	unsigned best = NO_CPU, maxavl = 0;

	for_each_cpu(cpu, msk)
	{
		const struct cpumap *cm;

		if (cpu >= m->ncpus)
			break;
		cm = &m->maps[cpu];
		if (!cm->online || cm->available <= maxavl)
			continue;
		best = cpu;
		maxavl = cm->available;
	}
	return best;
}

/* Fewest managed vectors allocated; equal counts do not skip, so ties go to the last CPU. */
static unsigned find_best_cpu_managed(const struct irq_matrix *m, const struct cpumask *msk)
{
	unsigned best = NO_CPU, allocated = UINT32_MAX;

	for_each_cpu(cpu, msk)
	{
		const struct cpumap *cm;

		if (cpu >= m->ncpus)
			break;
		cm = &m->maps[cpu];
		if (!cm->online || cm->managed_allocated > allocated)
			continue;
		best = cpu;
		allocated = cm->managed_allocated;
	}
	return best;
}

static void remove_managed_cpu(struct irq_matrix *m, unsigned cpu)
{
	struct cpumap *cm = &m->maps[cpu];

	if (warn_on(m, !cm->managed))
		return;
	for (unsigned bit = 0; bit < m->alloc_end; bit++) {
		if (!test(cm->managed_map, bit) || test(cm->alloc_map, bit))
			continue;
		assign(cm->managed_map, bit, false);
		cm->managed--;
		if (cm->online) {
			cm->available++;
			m->global_available++;
		}
		return;
	}
	m->warnings++; /* every managed vector allocated: nothing to remove */
}

int irq_matrix_reserve_managed(struct irq_matrix *m, const struct cpumask *mask)
{
	for_each_cpu(cpu, mask)
	{
		struct cpumap *cm;

		if (cpu >= m->ncpus)
			break;
		cm = &m->maps[cpu];
		if (alloc_area(m, cm, true) >= m->alloc_end) {
			/* undo the CPUs before this one */
			for_each_cpu(done, mask)
			{
				if (done == cpu)
					break;
				remove_managed_cpu(m, done);
			}
			return -ENOSPC;
		}
		cm->managed++;
		if (cm->online) {
			cm->available--;
			m->global_available--;
		}
	}
	return 0;
}

void irq_matrix_remove_managed(struct irq_matrix *m, const struct cpumask *mask)
{
	for_each_cpu(cpu, mask)
	{
		if (cpu >= m->ncpus)
			break;
		remove_managed_cpu(m, cpu);
	}
}

int irq_matrix_alloc_managed(struct irq_matrix *m, const struct cpumask *mask, unsigned *ret_cpu)
{
	unsigned cpu;
	struct cpumap *cm;

	if (cpumask_empty(mask))
		return -EINVAL;
	cpu = find_best_cpu_managed(m, mask);
	if (cpu == NO_CPU)
		return -ENOSPC;
	cm = &m->maps[cpu];
	for (unsigned bit = 0; bit < m->alloc_end; bit++) {
		if (!test(cm->managed_map, bit) || test(cm->alloc_map, bit))
			continue;
		assign(cm->alloc_map, bit, true);
		cm->allocated++;
		cm->managed_allocated++;
		m->total_allocated++;
		*ret_cpu = cpu;
		return (int)bit;
	}
	return -ENOSPC;
}

int irq_matrix_alloc(struct irq_matrix *m, const struct cpumask *mask, bool reserved,
		     unsigned *ret_cpu)
{
	unsigned cpu, bit;
	struct cpumap *cm;

	if (cpumask_empty(mask))
		return -EINVAL;
	cpu = find_best_cpu(m, mask);
	if (cpu == NO_CPU)
		return -ENOSPC;
	cm = &m->maps[cpu];
	bit = alloc_area(m, cm, false);
	if (bit >= m->alloc_end)
		return -ENOSPC;
	cm->allocated++;
	cm->available--;
	m->total_allocated++;
	m->global_available--;
	if (reserved)
		m->global_reserved--;
	*ret_cpu = cpu;
	return (int)bit;
}

void irq_matrix_assign(struct irq_matrix *m, unsigned cpu, unsigned bit)
{
	struct cpumap *cm = cpu < m->ncpus ? &m->maps[cpu] : NULL;

	/* Linux's local CPU is online by definition: an offline one is outside it too */
	if (warn_on(m, !cm || !cm->online) ||
	    warn_on(m, bit < m->alloc_start || bit >= m->alloc_end) ||
	    warn_on(m, test(cm->alloc_map, bit)))
		return;
	assign(cm->alloc_map, bit, true);
	cm->allocated++;
	m->total_allocated++;
	cm->available--;
	m->global_available--;
}

void irq_matrix_free(struct irq_matrix *m, unsigned cpu, unsigned bit, bool managed)
{
	struct cpumap *cm = cpu < m->ncpus ? &m->maps[cpu] : NULL;

	if (warn_on(m, !cm) || warn_on(m, bit < m->alloc_start || bit >= m->alloc_end) ||
	    warn_on(m, !test(cm->alloc_map, bit)))
		return;
	assign(cm->alloc_map, bit, false);
	cm->allocated--;
	if (managed)
		cm->managed_allocated--;
	if (cm->online)
		m->total_allocated--;
	if (!managed) {
		cm->available++;
		if (cm->online)
			m->global_available++;
	}
}

void irq_matrix_reserve(struct irq_matrix *m)
{
	/* Linux: pr_warn("Interrupt reservation exceeds available resources") */
	warn_on(m, m->global_reserved == m->global_available);
	m->global_reserved++;
}

void irq_matrix_remove_reserved(struct irq_matrix *m)
{
	m->global_reserved--;
}

unsigned irq_matrix_available(const struct irq_matrix *m, bool cpudown, unsigned cpu)
{
	if (!cpudown || cpu >= m->ncpus)
		return m->global_available;
	return m->global_available - m->maps[cpu].available;
}

unsigned irq_matrix_allocated(const struct irq_matrix *m, unsigned cpu)
{
	return cpu < m->ncpus ? m->maps[cpu].allocated : 0;
}

unsigned irq_matrix_total_allocated(const struct irq_matrix *m)
{
	return m->total_allocated;
}

unsigned irq_matrix_reserved(const struct irq_matrix *m)
{
	return m->global_reserved;
}

unsigned irq_matrix_cpu_available(const struct irq_matrix *m, unsigned cpu)
{
	return m->maps[cpu].available;
}

unsigned irq_matrix_cpu_managed(const struct irq_matrix *m, unsigned cpu)
{
	return m->maps[cpu].managed;
}

unsigned irq_matrix_cpu_managed_allocated(const struct irq_matrix *m, unsigned cpu)
{
	return m->maps[cpu].managed_allocated;
}

unsigned irq_matrix_warnings(const struct irq_matrix *m)
{
	return m->warnings;
}

bool irq_matrix_is_allocated(const struct irq_matrix *m, unsigned cpu, unsigned bit)
{
	return cpu < m->ncpus && bit < MATRIX_BITS && test(m->maps[cpu].alloc_map, bit);
}

static unsigned popcount_and(const uint64_t *a, const uint64_t *b)
{
	unsigned n = 0;

	for (unsigned w = 0; w < MATRIX_WORDS; w++)
		n += (unsigned)__builtin_popcountll(a[w] & (b ? b[w] : ~UINT64_C(0)));
	return n;
}

bool irq_matrix_check(const struct irq_matrix *m)
{
	unsigned global = 0;

	for (unsigned cpu = 0; cpu < m->ncpus; cpu++) {
		const struct cpumap *cm = &m->maps[cpu];

		/*
		 * `available` is not recomputed here: like Linux, a managed
		 * reservation made while a CPU is offline does not reduce it.
		 */
		if (cm->allocated != popcount_and(cm->alloc_map, NULL) ||
		    cm->managed != popcount_and(cm->managed_map, NULL) ||
		    cm->managed_allocated != popcount_and(cm->alloc_map, cm->managed_map))
			return false;
		if (cm->online)
			global += cm->available;
	}
	return global == m->global_available;
}
