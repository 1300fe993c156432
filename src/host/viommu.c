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
 *
 * On an AMD-Vi host the unit is QEMU's amd-iommu,intremap=on instead: our AMD-Vi model
 * with the 128-bit format (GASup) but no guest mode, faults not logged (QEMU's
 * amdvi_mem_ir_write() leaves them for later), and 2048 entries per device only where the
 * host has them (QEMU's numint2k follows the host's control register). QEMU notifies a
 * global invalidation for INVALIDATE_INTERRUPT_TABLE and INVALIDATE_ALL
 * (amdvi_intremap_inval_notify_all()), so every route is translated again then too.
 */
#include <stdlib.h>
#include <errno.h>

#include "pvir/amdvi_driver.h"
#include "pvir/amdvi_unit.h"
#include "pvir/ir_unit.h"
#include "vm_internal.h"

static int viommu_create_amd(struct vm *vm)
{
	struct amdvi_unit_config c = amdvi_unit_default_config();
	struct amdvi_driver *host = host_amdvi_driver(vm->host);

	c.gam = false;	      /* "guest mode is not zero": refused */
	c.log_faults = false; /* remapping faults never reach the guest's event log */
	c.intr_2k = amdvi_driver_table_entries(host) == 2048;
	vm->viommu_amd = amdvi_unit_new(vm->mem, &c);
	return vm->viommu_amd ? 0 : -ENOMEM;
}

int viommu_create(struct vm *vm)
{
	struct ir_unit_config c = ir_unit_default_config();

	if (host_iommu(vm->host) == HOST_IOMMU_AMDVI)
		return viommu_create_amd(vm);
	c.caching_mode = true; /* a virtual unit: software must flush even not-present -> present */
	c.posting = false;     /* QEMU's intel-iommu offers no posted interrupts to guests */
	vm->viommu = ir_unit_new(vm->mem, &c);
	return vm->viommu ? 0 : -ENOMEM;
}

int viommu_restore(struct vm *dst, const struct vm *src)
{
	if (src->viommu && dst->viommu)
		return ir_unit_restore(dst->viommu, src->viommu);
	if (src->viommu_amd && dst->viommu_amd)
		return amdvi_unit_restore(dst->viommu_amd, src->viommu_amd);
	return src->viommu || src->viommu_amd ? -EOPNOTSUPP : 0; /* another kind of IOMMU */
}

void viommu_free(struct vm *vm)
{
	if (vm->viommu)
		ir_unit_free(vm->viommu);
	vm->viommu = NULL;
	amdvi_unit_free(vm->viommu_amd);
	vm->viommu_amd = NULL;
	free(vm->rt_head); /* every route is gone by now (vmm_free_devices) */
	vm->rt_head = NULL;
}

/* Where the unit's registers are: VT-d's page, or AMD-Vi's 16 KiB. */
static uint64_t base_of(const struct vm *vm)
{
	return vm->viommu_amd ? VMM_VIOMMU_AMD_BASE : VMM_VIOMMU_BASE;
}

bool viommu_covers(const struct vm *vm, uint64_t gpa)
{
	uint64_t size = vm->viommu_amd ? VMM_VIOMMU_AMD_SIZE : VMM_VIOMMU_SIZE;

	return (vm->viommu || vm->viommu_amd) && gpa >= base_of(vm) && gpa - base_of(vm) < size;
}

bool viommu_ir_enabled(const struct vm *vm)
{
	if (vm->viommu_amd)
		return amdvi_unit_read(vm->viommu_amd, AMDVI_MMIO_CONTROL, 8) &
		       (UINT64_C(1) << AMDVI_CTRL_IOMMU_EN);
	return vm->viommu &&
	       (ir_unit_read(vm->viommu, DMAR_GSTS_REG, 4) & (UINT32_C(1) << DMA_GSTS_IRES));
}

uint64_t viommu_read(struct vm *vm, uint64_t gpa, unsigned size)
{
	uint32_t off = (uint32_t)(gpa - base_of(vm));

	return vm->viommu_amd ? amdvi_unit_read(vm->viommu_amd, off, size)
			      : ir_unit_read(vm->viommu, off, size);
}

/*
 * What the guest's handles mean changes with an invalidation (VT-d's IEC, AMD-Vi's
 * interrupt table or all), or when remapping or its table is switched.
 */
struct epoch {
	uint64_t inval;
	bool ir;
	uint64_t table;
};

static struct epoch epoch_of(const struct vm *vm)
{
	if (vm->viommu_amd) {
		const struct amdvi_unit_stats *s = amdvi_unit_stats(vm->viommu_amd);

		return (struct epoch){
		    .inval = s->irt_invalidations,
		    .ir = viommu_ir_enabled(vm),
		    .table = s->flushes ^ amdvi_unit_read(vm->viommu_amd, AMDVI_MMIO_DEV_TABLE, 8)};
	}
	return (struct epoch){.inval = ir_unit_stats(vm->viommu)->iec_invalidations,
			      .ir = viommu_ir_enabled(vm),
			      .table = ir_unit_table_entries(vm->viommu)};
}

void viommu_write(struct vm *vm, uint64_t gpa, unsigned size, uint64_t val)
{
	struct epoch before = epoch_of(vm), after;
	uint32_t off = (uint32_t)(gpa - base_of(vm));

	if (vm->viommu_amd)
		amdvi_unit_write(vm->viommu_amd, off, size, val);
	else
		ir_unit_write(vm->viommu, off, size, val);
	after = epoch_of(vm);
	if (after.inval != before.inval || after.ir != before.ir || after.table != before.table)
		irq_emul_retranslate(vm, after.ir != before.ir || after.table != before.table ||
					     vm->viommu_amd);
}

/* AMD-Vi: an index names an entry of one device's table only, so no route is keyed by it. */
static struct vcpu *resolve_amd(struct vm *vm, uint16_t guest_sid, const struct msi_msg *m,
				uint8_t *ret_vector, bool *ret_passthrough, uint32_t *ret_index)
{
	struct amdvi_result r;

	amdvi_unit_translate(vm->viommu_amd, m, guest_sid, &r);
	*ret_passthrough = r.outcome == IR_PASSTHROUGH;
	if (r.outcome != IR_REMAPPED || r.irq.dm || r.irq.vector < 0x20 ||
	    (r.irq.dlm != MSI_DM_FIXED && r.irq.dlm != MSI_DM_LOWPRI))
		return NULL; /* blocked; QEMU logs nothing */
	*ret_vector = r.irq.vector;
	*ret_index = IR_MAX_ENTRIES; /* past every VT-d index: redone on every flush */
	return vm_vcpu_by_apic_id(vm, r.irq.dest);
}

struct vcpu *viommu_resolve(struct vm *vm, uint16_t guest_sid, const struct msi_msg *m,
			    uint8_t *ret_vector, bool *ret_passthrough, uint32_t *ret_index)
{
	struct ir_result r;

	if (vm->viommu_amd)
		return resolve_amd(vm, guest_sid, m, ret_vector, ret_passthrough, ret_index);
	ir_unit_translate(vm->viommu, m, guest_sid, &r);
	*ret_passthrough = r.outcome == IR_PASSTHROUGH;
	if (r.outcome != IR_REMAPPED || r.irq.dm || r.irq.tm || r.irq.vector < 0x20 ||
	    (r.irq.dlm != MSI_DM_FIXED && r.irq.dlm != MSI_DM_LOWPRI))
		return NULL; /* blocked: the fault is in the guest's vIOMMU log */
	*ret_vector = r.irq.vector;
	*ret_index = r.index;
	return vm_vcpu_by_apic_id(vm, r.irq.dest);
}
