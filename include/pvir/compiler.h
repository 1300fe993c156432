/* SPDX-License-Identifier: MIT */
/*
 * Attribute macros and bit-field helpers shared by every world. Register
 * layouts in the hardware models are written as (high bit, low bit) pairs
 * taken straight from the specification tables, so the helpers below take
 * the same pairs instead of pre-shifted masks.
 */
#ifndef PVIR_COMPILER_H
#define PVIR_COMPILER_H

#include <stdbool.h>
#include <stdint.h>

#define WARN_UNUSED   __attribute__((warn_unused_result))
/* Off the hot path (tracing, say): kept out of line, so callers stay small. */
#define COLD	      __attribute__((cold, noinline))
/*
 * On the interrupt path: every call inside is inlined, across files too in the
 * link-time optimised build, whatever the inliner's budget says elsewhere.
 */
#define HOT_FLAT      __attribute__((flatten))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CACHE_LINE    64

/*
 * A dword or qword register access at an offset aligned to its size, as
 * the models' MMIO registers and tables take them. (A mask, not `%`: the
 * size is a variable, and a division costs more than the rest of the check.)
 */
static inline bool dword_or_qword_aligned(uint64_t offset, unsigned size)
{
	return (size == 4 || size == 8) && !(offset & (size - 1));
}

/*
 * For a table the simulation walks an entry at a time, each walk a traffic
 * source's raises in turn, dozens of them interleaved: the line after @p's
 * is asked for now, and is in cache when the walk reaches it some sixty
 * interrupts later. A hint to the CPU running the simulation, not something
 * the modelled hardware does; it reads nothing (an address past the table is
 * only not fetched).
 */
static inline void prefetch_next_line(const void *p)
{
	__builtin_prefetch((const void *)((uintptr_t)p + CACHE_LINE));
}

/* Mask of bits hi..lo (inclusive) of a 64-bit word. */
static inline uint64_t bits_mask(unsigned hi, unsigned lo)
{
	return (~UINT64_C(0) >> (63 - hi)) & (~UINT64_C(0) << lo);
}

/* Field hi..lo of @v, shifted down to bit 0. */
static inline uint64_t bits_get(uint64_t v, unsigned hi, unsigned lo)
{
	return (v & bits_mask(hi, lo)) >> lo;
}

/* @v with field hi..lo replaced by @field (which must fit). */
static inline uint64_t bits_set(uint64_t v, unsigned hi, unsigned lo, uint64_t field)
{
	return (v & ~bits_mask(hi, lo)) | ((field << lo) & bits_mask(hi, lo));
}

static inline bool bit_get(uint64_t v, unsigned bit)
{
	return (v >> bit) & 1;
}

static inline uint64_t bit_set(uint64_t v, unsigned bit, bool on)
{
	return on ? v | (UINT64_C(1) << bit) : v & ~(UINT64_C(1) << bit);
}

/* Bit @n of a bitmap of 64-bit words. */
static inline bool bitmap_test(const uint64_t *map, unsigned n)
{
	return bit_get(map[n / 64], n % 64);
}

static inline void bitmap_assign(uint64_t *map, unsigned n, bool on)
{
	map[n / 64] = bit_set(map[n / 64], n % 64, on);
}

/* The base-2 logarithm of @v, rounded down; @v is not 0. */
static inline unsigned log2_u32(uint32_t v)
{
	return 31u - (unsigned)__builtin_clz(v);
}

/* The smallest power of two at least @n (1 for 0). */
static inline uint64_t pow2_at_least(uint64_t n)
{
	uint64_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* True when @field fits in a field of @width bits. */
static inline bool bits_fit(uint64_t field, unsigned width)
{
	return width >= 64 || field >> width == 0;
}

#endif
