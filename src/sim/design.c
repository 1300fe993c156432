// SPDX-License-Identifier: MIT
/*
 * The three designs run the same hardware, host and guest code; only the
 * glue differs, and this is where the engine picks it (docs/design.md §3):
 *
 *  trap      The VMM has no pvir service and no vIOMMU; the guest's vector
 *            domain composes compatibility-format messages. The VMM traps
 *            the MSI-X table and device-resident IMS slots and programs host
 *            IRTEs from what the guest writes (src/host/irq_emul.c; guest
 *            side: compose_compat() in src/guest/msi.c).
 *  vir-emul  The VMM emulates a vIOMMU with IR (src/host/viommu.c), VT-d's
 *            or, on an AMD-Vi host, AMD-Vi's; the guest runs that IR driver
 *            on it (src/guest/vtd_ir.c, amd_ir.c) and writes handles into
 *            the same trapped storage.
 *  hcall     The VMM serves the pvir hypercalls (src/host/hcall.c) and maps
 *            the storage into a guest that opted in (src/guest/pvir_ir.c).
 *            A scenario may make a VM's guest or VMM old (`pvir:`): it then
 *            falls back as docs/design.md §4 says, to the `trap` glue.
 */
#include "design.h"

void design_configure(enum sim_design d, const struct sc_vm *v, struct vm_config *vc,
		      struct guest_config *gc)
{
	vc->pvir_service = d == SIM_DESIGN_HCALL && v->vmm_pvir;
	vc->viommu = d == SIM_DESIGN_VIR_EMUL;
	gc->pvir_driver = d == SIM_DESIGN_HCALL && v->guest_pvir;
	gc->vtd_driver = d == SIM_DESIGN_VIR_EMUL;
	gc->vectors_at_alloc = v->vectors_at_alloc; /* the guest's own, in every design */
}
