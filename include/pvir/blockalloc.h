/* SPDX-License-Identifier: MIT */
/*
 * Naturally aligned power-of-two blocks out of a table of entries: the allocator both
 * interrupt remapping drivers use, VT-d's over its one table and AMD-Vi's over each
 * device's. A bitmap with a summary bitmap of full words, so a single entry (every MSI-X
 * vector and IMS entry) is found in two ctz steps instead of a scan of the table;
 * multi-entry blocks scan only words that are not full.
 */
#ifndef PVIR_BLOCKALLOC_H
#define PVIR_BLOCKALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "pvir/compiler.h"

struct blockalloc {
	uint32_t entries;
	uint32_t words;
	uint32_t in_use; /* entries in allocated blocks */
	uint64_t *used;	 /* one bit per entry */
	uint64_t *full;	 /* one bit per word of @used that is all ones */
	uint8_t *order;	 /* log2(block size) + 1 at each block start, else 0 */
};

/** blockalloc_init() - @entries (at least 1) all free. Return: 0 or -EINVAL, -ENOMEM */
int blockalloc_init(struct blockalloc *a, uint32_t entries) WARN_UNUSED;
void blockalloc_destroy(struct blockalloc *a);

/** blockalloc_reserve() - take entry @index out of use for good (not a block, not counted) */
void blockalloc_reserve(struct blockalloc *a, uint32_t index);

/**
 * blockalloc_alloc() - the lowest free aligned block of @count entries
 * Return: 0 and *@ret_index, -EINVAL unless @count is a power of two no larger than the
 * table, -ENOSPC when no block is free.
 */
int blockalloc_alloc(struct blockalloc *a, uint32_t count, uint32_t *ret_index) WARN_UNUSED;

/**
 * blockalloc_alloc_at() - the block of @count entries at @index, if it is free: a table
 * restored on another host keeps its indices where it can (docs/migration.md)
 * Return: 0; -EINVAL unless @count is a power of two, @index a multiple of it and the
 * block inside the table; -EBUSY when any entry of it is allocated or reserved.
 */
int blockalloc_alloc_at(struct blockalloc *a, uint32_t index, uint32_t count) WARN_UNUSED;

/** blockalloc_is_block() - whether [@index, @index + @count) is an allocated block */
bool blockalloc_is_block(const struct blockalloc *a, uint32_t index, uint32_t count);

/** blockalloc_free() - release a block blockalloc_is_block() names. Return: 0 or -EINVAL */
int blockalloc_free(struct blockalloc *a, uint32_t index, uint32_t count) WARN_UNUSED;

/** blockalloc_used() - whether entry @index is allocated or reserved */
bool blockalloc_used(const struct blockalloc *a, uint32_t index);

#endif
