// SPDX-License-Identifier: MIT
/* Zeroed memory paid for on touch (pvir/zmem.h). */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE, mremap() */
#include "pvir/zmem.h"

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
