/* SPDX-License-Identifier: MIT */
/* A set of up to 1024 CPUs (the guest's vCPUs), by value. */
#ifndef PVIR_CPUMASK_H
#define PVIR_CPUMASK_H

#include <stdbool.h>
#include <stdint.h>

#define CPUMASK_BITS 1024

struct cpumask {
	uint64_t bits[CPUMASK_BITS / 64];
};

static inline struct cpumask cpumask_of(unsigned cpu)
{
	struct cpumask m = {{0}};

	m.bits[cpu / 64] = UINT64_C(1) << (cpu % 64);
	return m;
}

static inline struct cpumask cpumask_first_n(unsigned n)
{
	struct cpumask m = {{0}};

	for (unsigned i = 0; i < n && i < CPUMASK_BITS; i++)
		m.bits[i / 64] |= UINT64_C(1) << (i % 64);
	return m;
}

static inline bool cpumask_test(const struct cpumask *m, unsigned cpu)
{
	return cpu < CPUMASK_BITS && (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

static inline void cpumask_set(struct cpumask *m, unsigned cpu)
{
	m->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

static inline void cpumask_clear(struct cpumask *m, unsigned cpu)
{
	m->bits[cpu / 64] &= ~(UINT64_C(1) << (cpu % 64));
}

static inline struct cpumask cpumask_and(const struct cpumask *a, const struct cpumask *b)
{
	struct cpumask m;

	for (unsigned i = 0; i < CPUMASK_BITS / 64; i++)
		m.bits[i] = a->bits[i] & b->bits[i];
	return m;
}

static inline bool cpumask_empty(const struct cpumask *m)
{
	for (unsigned i = 0; i < CPUMASK_BITS / 64; i++)
		if (m->bits[i])
			return false;
	return true;
}

static inline bool cpumask_equal(const struct cpumask *a, const struct cpumask *b)
{
	for (unsigned i = 0; i < CPUMASK_BITS / 64; i++)
		if (a->bits[i] != b->bits[i])
			return false;
	return true;
}

/* The first CPU in @m at or after @from, or CPUMASK_BITS. */
static inline unsigned cpumask_next(const struct cpumask *m, unsigned from)
{
	for (unsigned w = from / 64; from < CPUMASK_BITS && w < CPUMASK_BITS / 64; w++) {
		/* the word's bits at or after @from (only the first word has any below it) */
		uint64_t bits = m->bits[w] & (~UINT64_C(0) << (w == from / 64 ? from % 64 : 0));

		if (bits)
			return w * 64 + (unsigned)__builtin_ctzll(bits);
	}
	return CPUMASK_BITS;
}

#define for_each_cpu(cpu, mask)                                          \
	for (unsigned cpu = cpumask_next((mask), 0); cpu < CPUMASK_BITS; \
	     cpu = cpumask_next((mask), cpu + 1))

#endif
