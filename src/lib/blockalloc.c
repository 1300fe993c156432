// SPDX-License-Identifier: MIT
/* Aligned power-of-two blocks over a table; see pvir/blockalloc.h. */
#include "pvir/blockalloc.h"

#include <errno.h>
#include <stdlib.h>

#define BITS_PER_WORD 64
#define WORD_FULL     (~UINT64_C(0))

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

int blockalloc_init(struct blockalloc *a, uint32_t entries)
{
	*a = (struct blockalloc){.entries = entries};
	if (!entries)
		return -EINVAL;
	a->words = (entries + BITS_PER_WORD - 1) / BITS_PER_WORD;
	a->used = calloc(a->words, sizeof(*a->used));
	a->full = calloc((a->words + BITS_PER_WORD - 1) / BITS_PER_WORD, sizeof(*a->full));
	a->order = calloc(entries, sizeof(*a->order));
	if (!a->used || !a->full || !a->order) {
		blockalloc_destroy(a);
		return -ENOMEM;
	}
	if (entries % BITS_PER_WORD) /* the bits beyond the table are never free */
		a->used[a->words - 1] = ~bits_mask(entries % BITS_PER_WORD - 1, 0);
	return 0;
}

void blockalloc_destroy(struct blockalloc *a)
{
	free(a->used);
	free(a->full);
	free(a->order);
	*a = (struct blockalloc){0};
}

static void update_full(struct blockalloc *a, uint32_t w)
{
	uint64_t bit = UINT64_C(1) << (w % BITS_PER_WORD);

	if (a->used[w] == WORD_FULL)
		a->full[w / BITS_PER_WORD] |= bit;
	else
		a->full[w / BITS_PER_WORD] &= ~bit;
}

/* Marks [index, index + count) used or free. */
static void mark(struct blockalloc *a, uint32_t index, uint32_t count, bool used)
{
	for (uint32_t i = index; i < index + count;) {
		uint32_t w = i / BITS_PER_WORD, b = i % BITS_PER_WORD;
		uint32_t n = count - (i - index) < BITS_PER_WORD - b ? count - (i - index)
								     : BITS_PER_WORD - b;
		uint64_t m = bits_mask(b + n - 1, b);

		a->used[w] = used ? a->used[w] | m : a->used[w] & ~m;
		update_full(a, w);
		i += n;
	}
}

void blockalloc_reserve(struct blockalloc *a, uint32_t index)
{
	if (index < a->entries)
		mark(a, index, 1, true);
}

/* First word at or after @from that is not full, or a->words. */
static uint32_t next_nonfull_word(const struct blockalloc *a, uint32_t from)
{
	for (uint32_t s = from / BITS_PER_WORD; s * BITS_PER_WORD < a->words; s++) {
		uint64_t candidates = ~a->full[s];

		if (s == from / BITS_PER_WORD)
			candidates &= WORD_FULL << (from % BITS_PER_WORD);
		if (candidates) {
			uint32_t w = s * BITS_PER_WORD + (uint32_t)__builtin_ctzll(candidates);

			return w < a->words ? w : a->words;
		}
	}
	return a->words;
}

/* An aligned run of @count (<= 64) free bits in word @w, or -1. */
static int find_in_word(uint64_t used, uint32_t count)
{
	uint64_t block = count == BITS_PER_WORD ? WORD_FULL : bits_mask(count - 1, 0);

	if (count == 1)
		return used == WORD_FULL ? -1 : __builtin_ctzll(~used);
	for (uint32_t at = 0; at < BITS_PER_WORD; at += count)
		if (!(used & (block << at)))
			return (int)at;
	return -1;
}

static int alloc_small(const struct blockalloc *a, uint32_t count, uint32_t *ret_index)
{
	for (uint32_t w = next_nonfull_word(a, 0); w < a->words; w = next_nonfull_word(a, w + 1)) {
		int at = find_in_word(a->used[w], count);

		if (at >= 0) {
			*ret_index = w * BITS_PER_WORD + (uint32_t)at;
			return 0;
		}
	}
	return -ENOSPC;
}

static int alloc_large(const struct blockalloc *a, uint32_t count, uint32_t *ret_index)
{
	uint32_t span = count / BITS_PER_WORD;

	for (uint32_t w = 0; w + span <= a->words; w += span) {
		uint32_t i = 0;

		while (i < span && a->used[w + i] == 0)
			i++;
		if (i == span) {
			*ret_index = w * BITS_PER_WORD;
			return 0;
		}
	}
	return -ENOSPC;
}

static void take(struct blockalloc *a, uint32_t index, uint32_t count)
{
	mark(a, index, count, true);
	a->order[index] = (uint8_t)(log2_u32(count) + 1);
	a->in_use += count;
}

int blockalloc_alloc(struct blockalloc *a, uint32_t count, uint32_t *ret_index)
{
	uint32_t index;
	int err;

	if (!is_pow2(count) || count > a->entries)
		return -EINVAL;
	err =
	    count <= BITS_PER_WORD ? alloc_small(a, count, &index) : alloc_large(a, count, &index);
	if (err)
		return err;
	take(a, index, count);
	*ret_index = index;
	return 0;
}

static bool range_free(const struct blockalloc *a, uint32_t index, uint32_t count)
{
	for (uint32_t i = index; i < index + count; i++)
		if (blockalloc_used(a, i))
			return false;
	return true;
}

int blockalloc_alloc_at(struct blockalloc *a, uint32_t index, uint32_t count)
{
	if (!is_pow2(count) || count > a->entries || index % count || index > a->entries - count)
		return -EINVAL;
	if (!range_free(a, index, count))
		return -EBUSY;
	take(a, index, count);
	return 0;
}

bool blockalloc_is_block(const struct blockalloc *a, uint32_t index, uint32_t count)
{
	return index < a->entries && is_pow2(count) && a->order[index] == log2_u32(count) + 1;
}

int blockalloc_free(struct blockalloc *a, uint32_t index, uint32_t count)
{
	if (!blockalloc_is_block(a, index, count))
		return -EINVAL;
	a->order[index] = 0;
	mark(a, index, count, false);
	a->in_use -= count;
	return 0;
}

bool blockalloc_used(const struct blockalloc *a, uint32_t index)
{
	return index < a->entries && bit_get(a->used[index / BITS_PER_WORD], index % BITS_PER_WORD);
}
