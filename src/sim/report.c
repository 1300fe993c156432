// SPDX-License-Identifier: MIT
/* The engine's report: its memory, its percentiles, and the names it prints. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/hcall_abi.h"
#include "pvir/sim.h"

void sim_report_done(struct sim_report *r)
{
	free(r->setup.v);
	free(r->affinity.v);
	free(r->delivery.v);
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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void sim_latency_sort(struct latency *l)
{
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), cmp_u64);
}

/* Nearest rank: the smallest sample with at least p% of samples at or below it. */
uint64_t sim_percentile(const struct latency *l, unsigned p)
{
	size_t rank;

	if (!l->n)
		return 0;
	rank = ((size_t)p * l->n + 99) / 100;
	return l->v[rank ? rank - 1 : 0];
}
