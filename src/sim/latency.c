// SPDX-License-Identifier: MIT
/*
 * Latency histograms with exact nearest-rank percentiles, in memory bounded by
 * the range of values, not by the samples.
 *
 * Values below 2^32 ns fall in buckets of 65,536 consecutive values. A bucket
 * starts as a list of its samples' low 16 bits, appended in arrival order: an
 * overcommitted run's delivery latencies include slice waits and are nearly
 * all distinct, and an append to one of a few hundred list tails stays in the
 * caches where a count per value or a bin per value would not. A bucket whose
 * list reaches LIST_MAX turns into a count per value, so that a long run stops
 * growing. Closing the histogram sorts each list.
 *
 * Values of 2^32 ns and more (seconds: only a hostile cost table makes them)
 * wait in a buffer and are sorted and merged into bins, one per distinct value.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/compiler.h"
#include "pvir/sim.h"

#define BUCKET_BITS 16
#define BUCKET_SIZE (1u << BUCKET_BITS)
#define BUCKET_MASK (BUCKET_SIZE - 1)
#define BUCKETS_MAX (1u << 16) /* buckets cover values below 2^32 */
#define LIST_FIRST  64
#define LIST_MAX    32768 /* a list's samples before its bucket counts per value */
#define PEND_MIN    4096  /* far samples buffered before a merge, at least */
#define RADIX_BITS  8
#define RADIX_SIZE  (1u << RADIX_BITS)

/* a list doubles from LIST_FIRST and must land on LIST_MAX, or it never stops growing */
_Static_assert((LIST_MAX & (LIST_MAX - 1)) == 0 && LIST_MAX % LIST_FIRST == 0,
	       "LIST_MAX: LIST_FIRST times a power of two");

/*
 * One stable counting pass on the byte at @shift, @src to @dst: the lists' 16-bit
 * samples and the far 64-bit ones sort alike.
 */
#define DEFINE_RADIX_PASS(name, T)                                                   \
	static void name(const T *src, T *dst, size_t n, unsigned shift)             \
	{                                                                            \
		size_t count[RADIX_SIZE] = {0}, at = 0;                              \
                                                                                     \
		for (size_t i = 0; i < n; i++)                                       \
			count[(src[i] >> shift) & (RADIX_SIZE - 1)]++;               \
		for (size_t d = 0; d < RADIX_SIZE; d++) {                            \
			size_t c = count[d];                                         \
                                                                                     \
			count[d] = at;                                               \
			at += c;                                                     \
		}                                                                    \
		for (size_t i = 0; i < n; i++)                                       \
			dst[count[(src[i] >> shift) & (RADIX_SIZE - 1)]++] = src[i]; \
	}

DEFINE_RADIX_PASS(radix_pass16, uint16_t)
DEFINE_RADIX_PASS(radix_pass64, uint64_t)

static void bucket_free(struct latency_bucket *b)
{
	free(b->low);
	free(b->counts);
	*b = (struct latency_bucket){0};
}

void sim_latency_free(struct latency *l)
{
	for (size_t k = 0; k < l->nbuckets; k++)
		bucket_free(&l->buckets[k]);
	free(l->buckets);
	free(l->bins);
	free(l->spare);
	free(l->pend);
	*l = (struct latency){0};
}

/* ---- buckets ------------------------------------------------------------------------------- */

/* Buckets up to index @k; Return: 0, or -ENOMEM with the histogram as it was. */
static int buckets_grow(struct latency *l, size_t k)
{
	size_t n = pow2_at_least(k + 1);
	struct latency_bucket *b;

	n = n < 8 ? 8 : n;
	b = realloc(l->buckets, n * sizeof(*b));
	if (!b)
		return -ENOMEM;
	memset(b + l->nbuckets, 0, (n - l->nbuckets) * sizeof(*b));
	l->buckets = b;
	l->nbuckets = n;
	return 0;
}

/* The list, counted per value: from now on a sample is an increment. */
static int bucket_to_counts(struct latency_bucket *b)
{
	uint64_t *c = calloc(BUCKET_SIZE, sizeof(*c));

	if (!c)
		return -ENOMEM;
	for (uint32_t i = 0; i < b->nlow; i++)
		c[b->low[i]]++;
	free(b->low);
	b->low = NULL;
	b->nlow = b->low_cap = 0;
	b->counts = c;
	return 0;
}

/* Room for one more sample in @b's list, or its counts. */
static int bucket_room(struct latency_bucket *b)
{
	uint32_t cap = b->low_cap ? 2 * b->low_cap : LIST_FIRST;
	uint16_t *low;

	if (b->counts || b->nlow < b->low_cap)
		return 0;
	if (b->low_cap == LIST_MAX)
		return bucket_to_counts(b);
	low = realloc(b->low, cap * sizeof(*low));
	if (!low)
		return -ENOMEM;
	b->low = low;
	b->low_cap = cap;
	return 0;
}

static int bucket_add(struct latency *l, uint64_t value)
{
	size_t k = value >> BUCKET_BITS;
	struct latency_bucket *b;

	if (k >= l->nbuckets && buckets_grow(l, k))
		return -ENOMEM;
	b = &l->buckets[k];
	if (bucket_room(b))
		return -ENOMEM;
	if (b->counts)
		b->counts[value & BUCKET_MASK]++;
	else
		b->low[b->nlow++] = (uint16_t)value;
	b->total++;
	return 0;
}

/* A list's low bits ascending: a counting pass on each byte, through @tmp and back. */
static void list_sort(uint16_t *v, uint32_t n, uint16_t *tmp)
{
	radix_pass16(v, tmp, n, 0);
	radix_pass16(tmp, v, n, RADIX_BITS);
}

static int buckets_sort(struct latency *l)
{
	uint16_t *tmp = NULL;

	for (size_t k = 0; k < l->nbuckets; k++) {
		struct latency_bucket *b = &l->buckets[k];

		if (b->nlow < 2)
			continue;
		if (!tmp && !(tmp = malloc(LIST_MAX * sizeof(*tmp))))
			return -ENOMEM;
		list_sort(b->low, b->nlow, tmp);
	}
	free(tmp);
	return 0;
}

/* The @rank-th smallest sample of bucket @k (1 ≤ @rank ≤ its total), sorted. */
static uint64_t bucket_value(const struct latency_bucket *b, size_t k, uint64_t rank)
{
	uint64_t base = (uint64_t)k << BUCKET_BITS, seen = 0;

	if (!b->counts)
		return base + b->low[rank - 1];
	for (uint32_t v = 0; v < BUCKET_SIZE; v++) {
		seen += b->counts[v];
		if (seen >= rank)
			return base + v;
	}
	return base + BUCKET_MASK; /* not reached: the counts sum to the total */
}

static size_t bucket_distinct(const struct latency_bucket *b)
{
	size_t d = 0;

	if (b->counts) {
		for (uint32_t v = 0; v < BUCKET_SIZE; v++)
			d += b->counts[v] != 0;
		return d;
	}
	for (uint32_t i = 0; i < b->nlow; i++)
		d += i == 0 || b->low[i] != b->low[i - 1];
	return d;
}

/* ---- far values: a buffer sorted and merged into bins ------------------------------------ */

/* LSD radix over the digits the largest value has, through @tmp (n more words). */
static void radix_sort(uint64_t *v, size_t n, uint64_t *tmp)
{
	uint64_t max = 0, *src = v, *dst = tmp;

	for (size_t i = 0; i < n; i++)
		max = v[i] > max ? v[i] : max;
	for (unsigned shift = 0; shift < 64 && (shift == 0 || max >> shift); shift += RADIX_BITS) {
		uint64_t *t = src;

		radix_pass64(src, dst, n, shift);
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

/* Room for @need bins in the spare array; what it held is not kept. */
static int spare_reserve(struct latency *l, size_t need)
{
	size_t cap = pow2_at_least(need);
	struct latency_bin *s;

	if (need <= l->spare_cap)
		return 0;
	s = malloc(cap * sizeof(*s));
	if (!s)
		return -ENOMEM;
	free(l->spare);
	l->spare = s;
	l->spare_cap = cap;
	return 0;
}

/* The sorted bins and the sorted buffer, merged into @out: equal values in one bin. */
static size_t merge(const struct latency *l, struct latency_bin *out)
{
	size_t i = 0, j = 0, k = 0;

	while (i < l->nbins || j < l->npend) {
		uint64_t v = j == l->npend || (i < l->nbins && l->bins[i].value <= l->pend[j])
				 ? l->bins[i].value
				 : l->pend[j];
		uint64_t c = 0;

		if (i < l->nbins && l->bins[i].value == v)
			c += l->bins[i++].count;
		for (; j < l->npend && l->pend[j] == v; j++)
			c++;
		out[k++] = (struct latency_bin){.value = v, .count = c};
	}
	return k;
}

/*
 * The buffered samples, sorted, merged into the sorted bins, written into a
 * spare array kept from the last merge. Return: 0, or -ENOMEM: then the bins
 * are as they were, the samples still buffered.
 */
static int merge_pending(struct latency *l)
{
	struct latency_bin *done;
	size_t k, cap;

	if (!l->npend)
		return 0;
	radix_sort(l->pend, l->npend, l->pend + l->pend_cap);
	if (spare_reserve(l, l->nbins + l->npend))
		return -ENOMEM;
	k = merge(l, l->spare);
	done = l->spare;
	cap = l->spare_cap;
	l->spare = l->bins;
	l->spare_cap = l->bins_cap;
	l->bins = done;
	l->bins_cap = cap;
	l->nbins = k;
	l->npend = 0;
	return 0;
}

static int add_far(struct latency *l, uint64_t value)
{
	if (l->npend == l->pend_cap) {
		/* as many buffered as binned, so each merge's pass is paid for by its samples */
		size_t cap = l->nbins > PEND_MIN ? l->nbins : PEND_MIN;
		uint64_t *p;

		if (merge_pending(l))
			return -ENOMEM;
		if (cap > l->pend_cap) {
			p = realloc(l->pend,
				    2 * cap * sizeof(*p)); /* the second half: the sort's */
			if (!p)
				return -ENOMEM;
			l->pend = p;
			l->pend_cap = cap;
		}
	}
	l->pend[l->npend++] = value;
	return 0;
}

/* ---- the histogram ------------------------------------------------------------------------- */

int sim_latency_add(struct latency *l, uint64_t value)
{
	int err;

	if (l->sorted)
		return -EINVAL; /* the report is made; its histogram is closed */
	err = value >> BUCKET_BITS < BUCKETS_MAX ? bucket_add(l, value) : add_far(l, value);
	if (!err)
		l->n++;
	return err;
}

int sim_latency_sort(struct latency *l)
{
	int err = 0;

	if (!l->sorted) {
		err = buckets_sort(l);
		if (!err)
			err = merge_pending(l);
	}
	free(l->pend);
	free(l->spare);
	l->pend = NULL;
	l->spare = NULL;
	l->pend_cap = l->npend = l->spare_cap = 0;
	l->sorted = true;
	return err;
}

/* Nearest rank: the smallest sample with at least p% of samples at or below it. */
uint64_t sim_percentile(const struct latency *l, unsigned p)
{
	uint64_t rank, seen = 0;

	if (!l->n || !l->sorted)
		return 0;
	rank = ((uint64_t)p * l->n + 99) / 100;
	if (!rank)
		rank = 1;
	for (size_t k = 0; k < l->nbuckets; k++) {
		const struct latency_bucket *b = &l->buckets[k];

		if (seen + b->total >= rank)
			return bucket_value(b, k, rank - seen);
		seen += b->total;
	}
	for (size_t i = 0; i < l->nbins; i++) {
		seen += l->bins[i].count;
		if (seen >= rank)
			return l->bins[i].value;
	}
	return l->nbins ? l->bins[l->nbins - 1].value : 0;
}

size_t sim_latency_distinct(const struct latency *l)
{
	size_t d = l->nbins;

	for (size_t k = 0; k < l->nbuckets; k++)
		d += bucket_distinct(&l->buckets[k]);
	return d;
}
