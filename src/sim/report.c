// SPDX-License-Identifier: MIT
/* The engine's report: its memory, its percentiles, and the names it prints. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/compiler.h"
#include "pvir/hcall_abi.h"
#include "pvir/sim.h"

void sim_report_done(struct sim_report *r)
{
	sim_latency_free(&r->setup);
	sim_latency_free(&r->affinity);
	sim_latency_free(&r->delivery);
	free(r->ops);
	r->ops = NULL;
	r->nops = 0;
}

static const char *const design_names[SIM_DESIGN_COUNT] = {
    [SIM_DESIGN_TRAP] = "trap",
    [SIM_DESIGN_VIR_EMUL] = "vir-emul",
    [SIM_DESIGN_HCALL] = "hcall",
};

const char *sim_design_name(enum sim_design d)
{
	return d < SIM_DESIGN_COUNT ? design_names[d] : "unknown";
}

bool sim_design_parse(const char *name, enum sim_design *ret)
{
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		if (!strcmp(name, design_names[d])) {
			*ret = (enum sim_design)d;
			return true;
		}
	return false;
}

const char *sim_errno_name(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
	    {-EPERM, "EPERM"},
	    {-ENOENT, "ENOENT"},
	    {-EIO, "EIO"},
	    {-E2BIG, "E2BIG"},
	    {-EAGAIN, "EAGAIN"},
	    {-ENOMEM, "ENOMEM"},
	    {-EFAULT, "EFAULT"},
	    {-EBUSY, "EBUSY"},
	    {-EEXIST, "EEXIST"},
	    {-ENODEV, "ENODEV"},
	    {-EINVAL, "EINVAL"},
	    {-ENOSPC, "ENOSPC"},
	    {-ERANGE, "ERANGE"},
	    {-ENOSYS, "ENOSYS"},
	    {-EOPNOTSUPP, "EOPNOTSUPP"},
	    {-EDQUOT, "EDQUOT"},
	    {-PVIR_KVM_ENOSYS, "KVM_ENOSYS"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	return "EUNKNOWN";
}

/* ---- latency histograms ---------------------------------------------------- */

#define PEND_MIN   4096 /* samples buffered before a merge, at least */
#define RADIX_BITS 8
#define RADIX_SIZE (1u << RADIX_BITS)

void sim_latency_free(struct latency *l)
{
	free(l->bins);
	free(l->pend);
	free(l->direct);
	*l = (struct latency){0};
}

/* One stable counting pass on the digit at @shift, @src to @dst. */
static void radix_pass(const uint64_t *src, uint64_t *dst, size_t n, unsigned shift)
{
	size_t count[RADIX_SIZE] = {0}, at = 0;

	for (size_t i = 0; i < n; i++)
		count[(src[i] >> shift) & (RADIX_SIZE - 1)]++;
	for (size_t d = 0; d < RADIX_SIZE; d++) {
		size_t c = count[d];

		count[d] = at;
		at += c;
	}
	for (size_t i = 0; i < n; i++)
		dst[count[(src[i] >> shift) & (RADIX_SIZE - 1)]++] = src[i];
}

/* LSD radix over the digits the largest value has, through @tmp (n more words). */
static void radix_sort(uint64_t *v, size_t n, uint64_t *tmp)
{
	uint64_t max = 0, *src = v, *dst = tmp;

	for (size_t i = 0; i < n; i++)
		max = v[i] > max ? v[i] : max;
	for (unsigned shift = 0; shift < 64 && (shift == 0 || max >> shift); shift += RADIX_BITS) {
		uint64_t *t = src;

		radix_pass(src, dst, n, shift);
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

/*
 * The buffered samples, sorted, merged into the sorted bins: one pass over
 * both, equal values counted in one bin. Sequential where a hash table of
 * bins is random: an overcommitted run's delivery latencies include slice
 * waits and are nearly all distinct, a million bins and more.
 */
static int flush(struct latency *l)
{
	struct latency_bin *out;
	size_t i = 0, j = 0, k = 0;

	if (!l->npend)
		return 0;
	radix_sort(l->pend, l->npend, l->pend + l->pend_cap);
	out = malloc((l->nbins + l->npend) * sizeof(*out));
	if (!out)
		return -ENOMEM;
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
	free(l->bins);
	l->bins = out;
	l->nbins = k;
	l->npend = 0;
	return 0;
}

/* A direct count for every value below @value + 1, up to LATENCY_DIRECT. */
static int direct_grow(struct latency *l, uint64_t value)
{
	size_t cap = pow2_at_least(value + 1);
	uint64_t *d;

	if (cap < 1024)
		cap = 1024;
	d = realloc(l->direct, cap * sizeof(*d));
	if (!d)
		return -ENOMEM;
	memset(d + l->direct_cap, 0, (cap - l->direct_cap) * sizeof(*d));
	l->direct = d;
	l->direct_cap = cap;
	return 0;
}

/* A value past the direct counts: buffered, merged into the sorted bins when the buffer fills. */
static int add_far(struct latency *l, uint64_t value)
{
	if (l->npend == l->pend_cap) {
		/* as many buffered as binned, so each merge's pass is paid for by its samples */
		size_t cap = l->nbins > PEND_MIN ? l->nbins : PEND_MIN;
		uint64_t *p;

		if (flush(l))
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

int sim_latency_add(struct latency *l, uint64_t value)
{
	if (l->sorted)
		return -EINVAL; /* the report is made; its histogram is closed */
	if (value < LATENCY_DIRECT) {
		if (value >= l->direct_cap && direct_grow(l, value))
			return -ENOMEM;
		l->direct[value]++;
	} else if (add_far(l, value)) {
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

/* Return: 0, or -ENOMEM: then the samples still buffered are not in the bins. */
/* The direct counts' values, ascending, in front of the far bins (all larger). */
static int prepend_direct(struct latency *l)
{
	size_t k = 0, nd = 0;
	struct latency_bin *out;

	for (size_t v = 0; v < l->direct_cap; v++)
		nd += l->direct[v] != 0;
	if (!nd)
		return 0;
	out = malloc((nd + l->nbins) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t v = 0; v < l->direct_cap; v++)
		if (l->direct[v])
			out[k++] = (struct latency_bin){.value = v, .count = l->direct[v]};
	if (l->nbins)
		memcpy(out + k, l->bins, l->nbins * sizeof(*out));
	free(l->bins);
	l->bins = out;
	l->nbins += nd;
	return 0;
}

int sim_latency_sort(struct latency *l)
{
	int err = 0;

	if (!l->sorted) {
		err = flush(l);
		if (!err)
			err = prepend_direct(l);
	}
	free(l->pend);
	free(l->direct);
	l->pend = l->direct = NULL;
	l->pend_cap = l->npend = l->direct_cap = 0;
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
	for (size_t i = 0; i < l->nbins; i++) {
		seen += l->bins[i].count;
		if (seen >= rank)
			return l->bins[i].value;
	}
	return l->bins[l->nbins - 1].value;
}
