// SPDX-License-Identifier: MIT
/* The engine's report: its memory, and the names it prints (latency.c has its histograms). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
