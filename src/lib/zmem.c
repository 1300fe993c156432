// SPDX-License-Identifier: MIT
/* Zeroed memory paid for on touch (pvir/zmem.h). */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE, mremap(), MADV_HUGEPAGE, sbrk() */
#include "pvir/zmem.h"

#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE_SIZE ((uintptr_t)2 << 20)

static uintptr_t huge_up(uintptr_t a)
{
	return (a + HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1);
}

static uintptr_t huge_down(uintptr_t a)
{
	return a & ~(HUGE_PAGE_SIZE - 1);
}

/*
 * A mapping of @size bytes at a multiple of 2 MiB: a larger one, trimmed at
 * both ends (address space only; nothing is touched).
 */
static void *map_huge_aligned(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t span = size + HUGE_PAGE_SIZE;
	uintptr_t at, lo, end;
	/* NORESERVE: a large guest is a promise of address space, not of memory */
	void *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	at = (uintptr_t)p;
	lo = huge_up(at);
	end = (lo + size + page - 1) & ~(uintptr_t)(page - 1); /* munmap(@size) takes whole pages */
	if (lo > at)
		(void)munmap(p, lo - at);
	if (at + span > end)
		(void)munmap((void *)end, at + span - end);
	return (void *)lo;
}

void *zmem_alloc(size_t size)
{
	void *p;

	/* aligned so that zmem_prefer_huge_pages() has whole huge pages to advise */
	if (size >= HUGE_PAGE_SIZE && size <= SIZE_MAX / 2)
		return map_huge_aligned(size);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

bool zmem_prefer_huge_pages(void *p, size_t off, size_t len)
{
	uintptr_t lo = huge_up((uintptr_t)p + off), hi = huge_down((uintptr_t)p + off + len);

	return hi > lo && !madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
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

#define GLIBC_MMAP_MAX 65536 /* glibc's default, DEFAULT_MMAP_MAX */

/*
 * The probe's head, below its first whole huge page, stays allocated for the
 * life of the process: it is small pages, and malloc() would hand it out
 * first. On a virtual machine where page faults are dear the difference is
 * large: 2 MiB touched page by page took 5 ms where this was measured, as one
 * huge page 0.2 ms, and fleet.yaml's build took 460 such faults. Shrinking in
 * place gives the rest back to the heap's top; the head is address space,
 * never touched beyond its chunk header.
 */
static void *heap_head;

static void keep_head_below(void *probe, size_t head)
{
	void *kept = realloc(probe, head);

	if (!kept) {
		free(probe);
		return;
	}
	free(heap_head); /* a head kept by an earlier call */
	heap_head = kept;
}

/*
 * The probe is the reserve itself, taken from the heap (mmap() is off while
 * it is taken), so the heap grows by the reserve at once and the range is
 * advised before anything is written into it: glibc writes a chunk header
 * only at each end, outside the advised whole huge pages. (A 2 MiB range
 * that already holds a 4 KiB page is not given a huge page on fault.) Then
 * M_TOP_PAD, set only when the range was advised, keeps the reserve when the
 * probe is freed and grows the heap by as much again if it must grow. glibc
 * does much the same under GLIBC_TUNABLES=glibc.malloc.hugetlb=1; asking here
 * needs no environment.
 */
bool heap_prefer_huge_pages(size_t reserve)
{
	bool advised = false;
	uintptr_t at, head;
	void *probe;

	if (reserve > INT_MAX || !mallopt(M_MMAP_MAX, 0))
		return false; /* a sanitizer's allocator refuses mallopt() */
	probe = malloc(reserve);
	(void)mallopt(M_MMAP_MAX, GLIBC_MMAP_MAX);
	if (!probe)
		return false;
	at = (uintptr_t)probe;
	head = huge_up(at) - at;
	/* below the break, or not from the heap at all (brk was refused) */
	if (at + reserve <= (uintptr_t)sbrk(0))
		advised = zmem_prefer_huge_pages(probe, 0, reserve);
	if (advised)
		(void)mallopt(M_TOP_PAD, (int)reserve); /* else free() gives it all back */
	if (advised && head)
		keep_head_below(probe, head);
	else
		free(probe);
	return advised;
}
