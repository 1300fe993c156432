/* SPDX-License-Identifier: MIT */
/*
 * Zeroed memory. Large: what costs only where it is touched, for guest and
 * host RAM and the guest's per-CPU interrupt counts. An anonymous private
 * mapping, so the kernel supplies zero pages on first touch and takes them
 * back whole at zmem_free(). (calloc gives the same only while glibc serves the size from
 * mmap; after the first free its threshold rises and every calloc of that
 * size memsets the whole block.)
 */
#ifndef PVIR_ZMEM_H
#define PVIR_ZMEM_H

#include <stdbool.h>
#include <stddef.h>

/*
 * @size bytes of zeroes, page aligned, and 2 MiB aligned from 2 MiB up; NULL
 * if the mapping fails.
 */
void *zmem_alloc(size_t size);
/*
 * Asks for transparent huge pages (MADV_HUGEPAGE) in the whole 2 MiB pages
 * of [@p + @off, @p + @off + @len), @p from zmem_alloc() (which aligns
 * mappings of 2 MiB and more for it) or the heap: for a range that will be
 * touched nearly all, one fault then maps 2 MiB, not 4 KiB. Only a hint.
 * Return: whether a range was advised (none is whole, or a kernel without
 * transparent huge pages: false).
 */
bool zmem_prefer_huge_pages(void *p, size_t off, size_t len);
/*
 * @p from zmem_alloc(@old), grown to @size bytes, moved if it must be: the
 * pages keep what they held without a copy (the kernel moves the page
 * tables), and the new ones are zeroes, paid for on touch as before.
 * Return: the new address, or NULL with @p as it was.
 */
void *zmem_grow(void *p, size_t old, size_t size);
/* @p from zmem_alloc(@size) or zmem_grow(.., @size); NULL is ignored. */
void zmem_free(void *p, size_t size);

/*
 * calloc() for a struct laid out by cache line: @n zeroed objects of @size
 * bytes at an address aligned to @align (a power of two, at least
 * sizeof(void *)); release it with free(). NULL if out of memory or if the
 * size overflows.
 */
void *calloc_aligned(size_t align, size_t n, size_t size);

/*
 * Asks for transparent huge pages for the next @reserve bytes of malloc's
 * heap: grows the heap by that much address space at once (paid for on
 * touch, as ever) and advises it MADV_HUGEPAGE, so that one fault maps
 * 2 MiB, not 4 KiB. For a process that is about to build a large machine:
 * what malloc() hands out from blocks freed before the call stays in small
 * pages, and the part of the reserve below its first whole huge page is kept
 * allocated (unused address space) so that new blocks start above it.
 * Return: whether a range was advised (false under an allocator that does
 * not use the heap, such as a sanitizer's, or a kernel without transparent
 * huge pages; the heap is then not padded).
 */
bool heap_prefer_huge_pages(size_t reserve);

#endif
