// SPDX-License-Identifier: MIT
/* Zeroed memory paid for on touch (pvir/zmem.h). */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE, mremap() */
#include "pvir/zmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void *zmem_alloc(size_t size)
{
	/* NORESERVE: a large guest is a promise of address space, not of memory */
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void *zmem_grow(void *p, size_t old, size_t size)
{
	void *q = mremap(p, old, size, MREMAP_MAYMOVE);

	return q == MAP_FAILED ? NULL : q;
}

void zmem_free(void *p, size_t size)
{
	if (p)
		(void)munmap(p, size);
}

void *calloc_aligned(size_t align, size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	bytes = n * size;
	if (bytes > SIZE_MAX - align)
		return NULL;
	/* aligned_alloc() wants a whole number of @align */
	bytes = bytes ? (bytes + align - 1) & ~(align - 1) : align;
	p = aligned_alloc(align, bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}
