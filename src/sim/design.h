/* SPDX-License-Identifier: MIT */
/* What each design of docs/design.md §3 sets up: the one place that says it (design.c). */
#ifndef PVIR_SIM_DESIGN_H
#define PVIR_SIM_DESIGN_H

#include "pvir/guest.h"
#include "pvir/scenario.h"
#include "pvir/sim.h"
#include "pvir/vm.h"

/** design_configure() - the VMM and guest kernel @v runs under design @d */
void design_configure(enum sim_design d, const struct sc_vm *v, struct vm_config *vc,
		      struct guest_config *gc);

#endif
