/* SPDX-License-Identifier: MIT */
/*
 * A physical address space backed by memory: the host's RAM (where the IR
 * table and posted-interrupt descriptors live) or one guest's RAM (where the
 * vIRTE table and memory-resident IMS contexts live). Byte addresses are
 * little-endian, as on x86. Every access is atomic at its natural size so that
 * hardware models (the IOMMU posting into a descriptor) and software (a vCPU
 * harvesting it) may run on different threads; nothing here takes a lock.
 *
 * Not modelled: caching attributes, MMIO holes, DMA remapping. An access
 * outside the space is an error (-EFAULT), which the callers turn into the
 * architectural outcome (e.g. VT-d fault 0x23 for an IR table read).
 */
#ifndef PVIR_PHYSMEM_H
#define PVIR_PHYSMEM_H

#include <stddef.h>
#include <stdint.h>

#include "pvir/compiler.h"

struct physmem;

/**
 * physmem_new() - create a zero-filled physical address space
 * @size:	bytes; a non-zero multiple of 16
 *
 * Return: the space, or NULL when @size is invalid or memory is short.
 */
struct physmem *physmem_new(uint64_t size);

/** physmem_free() - destroy a space created by physmem_new(); NULL is fine */
void physmem_free(struct physmem *pm);

/**
 * physmem_prefer_huge_pages() - back the whole 2 MiB pages of a range that
 * will be touched nearly all with huge pages (zmem_prefer_huge_pages()); a
 * hint that changes no contents
 * Return: whether a range was advised; false for one outside the space.
 */
bool physmem_prefer_huge_pages(struct physmem *pm, uint64_t pa, uint64_t len);

uint64_t physmem_size(const struct physmem *pm);

/**
 * physmem_prefetch() - ask the CPU running the simulation for @pa's line
 * (prefetch_next_line()); nothing is read, and an address outside the space
 * is ignored
 */
void physmem_prefetch(const struct physmem *pm, uint64_t pa);

/** physmem_range_ok() - whether [@pa, @pa + @len) lies inside the space */
bool physmem_range_ok(const struct physmem *pm, uint64_t pa, uint64_t len);

/**
 * physmem_read() - copy bytes out; the bytes of each qword are read in one
 * atomic access, so no byte is ever torn
 * Return: 0, or -EFAULT when the range is outside the space.
 */
int physmem_read(const struct physmem *pm, uint64_t pa, void *buf, size_t len) WARN_UNUSED;

/**
 * physmem_write() - copy bytes in; the bytes that fall in one qword are written
 * in one atomic access, leaving its other bytes as concurrent writers left them
 * Return: 0, or -EFAULT when the range is outside the space.
 */
int physmem_write(struct physmem *pm, uint64_t pa, const void *buf, size_t len) WARN_UNUSED;

/**
 * physmem_copy() - make @dst hold what @src holds, qword by qword
 *
 * A qword @dst already holds is not stored again, so pages zero in both stay
 * untouched and cost nothing (a fresh space reads as zero).
 *
 * Return: 0, or -EINVAL when the two spaces differ in size.
 */
int physmem_copy(struct physmem *dst, const struct physmem *src) WARN_UNUSED;

/*
 * Naturally aligned 64-bit accesses. Return 0, -EFAULT (outside the space)
 * or -EINVAL (not 8-byte aligned); outputs are untouched on error.
 */
int physmem_load64(const struct physmem *pm, uint64_t pa, uint64_t *ret) WARN_UNUSED;
int physmem_store64(struct physmem *pm, uint64_t pa, uint64_t val) WARN_UNUSED;
int physmem_fetch_or64(struct physmem *pm, uint64_t pa, uint64_t bits,
		       uint64_t *ret_old) WARN_UNUSED;
int physmem_fetch_and64(struct physmem *pm, uint64_t pa, uint64_t mask,
			uint64_t *ret_old) WARN_UNUSED;
int physmem_xchg64(struct physmem *pm, uint64_t pa, uint64_t val, uint64_t *ret_old) WARN_UNUSED;

/**
 * physmem_harvest64() - take and clear @n consecutive aligned qwords
 * @ret:	the values taken, @n of them
 *
 * Each qword is read first and exchanged with zero only when it is not zero, so that only
 * the words that hold something cost a locked operation. A bit set after its word read
 * zero stays in memory for the next harvest. Return: 0, or -EFAULT or -EINVAL as above.
 */
int physmem_harvest64(struct physmem *pm, uint64_t pa, unsigned n, uint64_t *ret) WARN_UNUSED;

/**
 * physmem_cmpxchg64() - compare-and-exchange one aligned qword
 * @expected:	in: the value assumed; out (on -EAGAIN): the value found
 *
 * Return: 0 when swapped, -EAGAIN when the qword held another value,
 * -EFAULT or -EINVAL as above.
 */
int physmem_cmpxchg64(struct physmem *pm, uint64_t pa, uint64_t *expected,
		      uint64_t desired) WARN_UNUSED;

/*
 * Naturally aligned 128-bit accesses, value[0] being the low qword. These are
 * single-copy atomic: a reader never sees half of a cmpxchg128.
 */
int physmem_load128(const struct physmem *pm, uint64_t pa, uint64_t ret[2]) WARN_UNUSED;
int physmem_cmpxchg128(struct physmem *pm, uint64_t pa, uint64_t expected[2],
		       const uint64_t desired[2]) WARN_UNUSED;

#endif
