// SPDX-License-Identifier: MIT
/* The engine's report: its memory, its percentiles, and the names it prints. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/hcall_abi.h"
#include "pvir/sim.h"

void sim_report_done(struct sim_report *r)
{
	free(r->setup.bins);
	free(r->affinity.bins);
	free(r->delivery.bins);
	free(r->ops);
	r->setup = r->affinity = r->delivery = (struct latency){0};
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

static size_t slot_of(uint64_t value, size_t cap)
{
	/* Fibonacci hashing: the top bits of the product spread nearby values */
	return (size_t)((value * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (cap - 1);
}

static struct latency_bin *find_bin(struct latency_bin *bins, size_t cap, uint64_t value)
{
	size_t i = slot_of(value, cap);

	while (bins[i].count && bins[i].value != value)
		i = (i + 1) & (cap - 1);
	return &bins[i];
}

/* Twice the bins, every one moved to its slot in the new table. */
static int grow(struct latency *l)
{
	size_t cap = l->cap ? 2 * l->cap : 64;
	struct latency_bin *bins = calloc(cap, sizeof(*bins));

	if (!bins)
		return -ENOMEM;
	for (size_t i = 0; i < l->cap; i++)
		if (l->bins[i].count)
			*find_bin(bins, cap, l->bins[i].value) = l->bins[i];
	free(l->bins);
	l->bins = bins;
	l->cap = cap;
	return 0;
}

int sim_latency_add(struct latency *l, uint64_t value)
{
	struct latency_bin *b;

	if (l->sorted)
		return -EINVAL; /* the report is made; its histogram is closed */
	if (2 * (l->nbins + 1) > l->cap && grow(l))
		return -ENOMEM;
	b = find_bin(l->bins, l->cap, value);
	if (!b->count) {
		b->value = value;
		l->nbins++;
	}
	b->count++;
	l->n++;
	return 0;
}

static int cmp_bin(const void *a, const void *b)
{
	uint64_t x = ((const struct latency_bin *)a)->value;
	uint64_t y = ((const struct latency_bin *)b)->value;

	return (x > y) - (x < y);
}

void sim_latency_sort(struct latency *l)
{
	size_t used = 0;

	if (l->sorted)
		return;
	for (size_t i = 0; i < l->cap; i++)
		if (l->bins[i].count)
			l->bins[used++] = l->bins[i];
	if (used)
		qsort(l->bins, used, sizeof(*l->bins), cmp_bin);
	l->sorted = true;
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
