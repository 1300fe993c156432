// SPDX-License-Identifier: MIT
/*
 * `vir-emul`: an emulated VT-d IOMMU with interrupt remapping, as QEMU's
 * intel-iommu,intremap=on gives a guest (QEMU hw/i386/intel_iommu.c,
 * hw/vfio/pci.c; its costs in docs/cost-model.md).
 *
 * The unit is our own VT-d model (hw/ir_unit.c) with CAP.CM set, its IR
 * table, invalidation queue and fault log in the guest's memory. Every
 * register access is a trapped exit. The guest writes VT-d IRTEs into its own
 * table and invalidates the interrupt-entry cache through the queue; the tail
 * write that submits the descriptors is the exit, and the queue is processed
 * at once, so the guest's wait-descriptor poll needs no further exit.
 *
 * The guest's messages are remappable, carrying handles into its own table;
 * the MSI-X (and IMS) emulation in irq_emul.c asks viommu_resolve() what a
 * message means, as QEMU's MSI route fix-up asks vtd_int_remap(). When the
 * guest invalidates, QEMU translates every MSI route again and commits the
 * table once (kvm_update_msi_routes_all(), whose own comment leaves an
 * explicit update of the one changed route for later); we do the same.
 */
#include <stdlib.h>
#include <errno.h>

#include "pvir/ir_unit.h"
#include "vm_internal.h"

int viommu_create(struct vm *vm)
{
	struct ir_unit_config c = ir_unit_default_config();

	c.caching_mode = true; /* a virtual unit: software must flush even not-present -> present */
	c.posting = false;     /* QEMU's intel-iommu offers no posted interrupts to guests */
	vm->viommu = ir_unit_new(vm->mem, &c);
	return vm->viommu ? 0 : -ENOMEM;
}

void viommu_free(struct vm *vm)
{
	if (vm->viommu)
		ir_unit_free(vm->viommu);
	vm->viommu = NULL;
	free(vm->rt_head); /* every route is gone by now (vmm_free_devices) */
	vm->rt_head = NULL;
}

bool viommu_covers(const struct vm *vm, uint64_t gpa)
{
	return vm->viommu && gpa >= VMM_VIOMMU_BASE && gpa - VMM_VIOMMU_BASE < VMM_VIOMMU_SIZE;
}

bool viommu_ir_enabled(const struct vm *vm)
{
	return vm->viommu &&
	       (ir_unit_read(vm->viommu, DMAR_GSTS_REG, 4) & (UINT32_C(1) << DMA_GSTS_IRES));
}

uint64_t viommu_read(struct vm *vm, uint64_t gpa, unsigned size)
{
	return ir_unit_read(vm->viommu, (uint32_t)(gpa - VMM_VIOMMU_BASE), size);
}

/* What the guest's handles mean changes with an IEC flush, or IR or its table switched. */
struct epoch {
	uint64_t iec;
	bool ir;
	uint32_t entries;
};

static struct epoch epoch_of(const struct vm *vm)
{
	return (struct epoch){.iec = ir_unit_stats(vm->viommu)->iec_invalidations,
			      .ir = viommu_ir_enabled(vm),
			      .entries = ir_unit_table_entries(vm->viommu)};
}

void viommu_write(struct vm *vm, uint64_t gpa, unsigned size, uint64_t val)
{
	struct epoch before = epoch_of(vm), after;

	ir_unit_write(vm->viommu, (uint32_t)(gpa - VMM_VIOMMU_BASE), size, val);
	after = epoch_of(vm);
	if (after.iec != before.iec || after.ir != before.ir || after.entries != before.entries)
		irq_emul_retranslate(vm, after.ir != before.ir || after.entries != before.entries);
}

struct vcpu *viommu_resolve(struct vm *vm, uint16_t guest_sid, const struct msi_msg *m,
			    uint8_t *ret_vector, bool *ret_passthrough, uint32_t *ret_index)
{
	struct ir_result r;

	ir_unit_translate(vm->viommu, m, guest_sid, &r);
	*ret_passthrough = r.outcome == IR_PASSTHROUGH;
	if (r.outcome != IR_REMAPPED || r.irq.dm || r.irq.tm || r.irq.vector < 0x20 ||
	    (r.irq.dlm != MSI_DM_FIXED && r.irq.dlm != MSI_DM_LOWPRI))
		return NULL; /* blocked: the fault is in the guest's vIOMMU log */
	*ret_vector = r.irq.vector;
	*ret_index = r.index;
	return vm_vcpu_by_apic_id(vm, r.irq.dest);
}
