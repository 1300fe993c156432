// SPDX-License-Identifier: MIT
/*
 * The pvir hypercall service, ABI v1 (pvir/hcall_abi.h, docs/abi.md).
 *
 * SYNC is the vIRTE update: each entry is copied out of guest memory once,
 * and only the copy is validated and acted on, so a guest changing the entry
 * meanwhile cannot make the host act on a value it did not check. An entry is
 * validated in full before anything is allocated, allocations are undone if a
 * later step fails, and host_irq_target() leaves the IRTE as it was when it
 * fails: a failed entry keeps its previous host state. A ranged SYNC stops at
 * the first failure and says which entry it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/hcall_abi.h"
#include "pvir/ir_driver.h"
#include "pvir/physmem.h"
#include "vm_internal.h"

/* A vIRTE's guest half, decoded from the copy. */
struct virte {
	uint16_t sid;
	uint16_t flags;
	uint32_t dest;
	uint8_t vector;
	bool rsvd_bytes;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t entry_gpa(const struct vm *vm, uint32_t index)
{
	return vm->hc.table_gpa + (uint64_t)index * PVIR_VIRTE_SIZE;
}

/* The one read of the entry; afterwards the guest may change it at will. */
static int copy_entry(struct vm *vm, uint32_t index, struct virte *ret)
{
	uint8_t raw[PVIR_VIRTE_GUEST_SIZE];
	int err = physmem_read(vm->mem, entry_gpa(vm, index), raw, sizeof(raw));

	if (err)
		return -EFAULT;
	ret->sid = le16(raw + PVIR_VIRTE_SID);
	ret->flags = le16(raw + PVIR_VIRTE_FLAGS);
	ret->dest = le32(raw + PVIR_VIRTE_DEST);
	ret->vector = raw[PVIR_VIRTE_VECTOR];
	ret->rsvd_bytes = false;
	for (unsigned i = PVIR_VIRTE_RSVD; i < PVIR_VIRTE_GUEST_SIZE; i++)
		ret->rsvd_bytes |= raw[i] != 0;
	if (vm->hc.copy_hook)
		vm->hc.copy_hook(vm->hc.copy_hook_ctx, index);
	return 0;
}

/* The host half: the message, and the status. */
static void write_back(struct vm *vm, uint32_t index, const struct msi_msg *m, int status)
{
	uint8_t out[PVIR_VIRTE_SIZE - PVIR_VIRTE_GUEST_SIZE];

	put_le32(out + PVIR_VIRTE_ADDR_LO - PVIR_VIRTE_GUEST_SIZE, m->address_lo);
	put_le32(out + PVIR_VIRTE_ADDR_HI - PVIR_VIRTE_GUEST_SIZE, m->address_hi);
	put_le32(out + PVIR_VIRTE_DATA - PVIR_VIRTE_GUEST_SIZE, m->data);
	put_le32(out + PVIR_VIRTE_STATUS - PVIR_VIRTE_GUEST_SIZE, (uint32_t)status);
	(void)!physmem_write(vm->mem, entry_gpa(vm, index) + PVIR_VIRTE_GUEST_SIZE, out,
			     sizeof(out)); /* inside the table, checked at SET_TABLE */
}

static void write_status(struct vm *vm, uint32_t index, int status)
{
	uint8_t out[4];

	put_le32(out, (uint32_t)status);
	(void)!physmem_write(vm->mem, entry_gpa(vm, index) + PVIR_VIRTE_STATUS, out, sizeof(out));
}

static bool vector_allowed(uint8_t v)
{
	return v >= PVIR_FIRST_VECTOR && v < PVIR_FIRST_SYSTEM_VECTOR &&
	       v != PVIR_IA32_SYSCALL_VECTOR;
}

static void release(struct vm *vm, struct host_irq *hi)
{
	host_irq_free(vm->host, hi);
	vm_irte_uncharge(vm);
}

static void teardown(struct vm *vm, uint32_t index)
{
	struct hc_entry *e = &vm->hc.e[index];

	if (e->hi)
		release(vm, e->hi);
	*e = (struct hc_entry){0};
	write_back(vm, index, &(struct msi_msg){0}, 0);
}

/* Allocates a host IRTE for @dev (charging the quota) when the entry needs a new one. */
static int get_irte(struct vm *vm, struct hc_entry *e, struct assigned_dev *dev,
		    struct host_irq **ret, bool *ret_new)
{
	int err;

	*ret_new = !e->hi || e->dev != dev; /* another device: another source-id */
	if (!*ret_new) {
		*ret = e->hi;
		return 0;
	}
	err = vm_irte_charge(vm);
	if (err)
		return err;
	err = host_irq_alloc(vm->host, pci_func_rid(dev->func), ret);
	if (err)
		vm_irte_uncharge(vm);
	return err;
}

static int sync_entry(struct vm *vm, uint32_t index)
{
	struct hc_entry *e = &vm->hc.e[index];
	struct assigned_dev *dev;
	struct host_irq *hi;
	struct virte ve;
	struct vcpu *v;
	struct msi_msg m;
	bool fresh;
	int err = copy_entry(vm, index, &ve);

	if (err)
		return err;
	/* One rule per check, all before any state changes. */
	if ((ve.flags & PVIR_VIRTE_FLAGS_RSVD) || ve.rsvd_bytes)
		return -EINVAL; /* reserved bits */
	if (ve.flags & PVIR_VIRTE_LEVEL)
		return -EINVAL; /* MSI is edge-triggered */
	if (!(ve.flags & PVIR_VIRTE_PRESENT)) {
		teardown(vm, index);
		return 0;
	}
	if (!vector_allowed(ve.vector))
		return -EINVAL; /* exception or system vector */
	v = vm_vcpu_by_apic_id(vm, ve.dest);
	if (!v)
		return -ENOENT; /* no such vCPU */
	dev = vm_device_by_bdf(vm, ve.sid);
	if (!dev)
		return -EPERM; /* not a device of this VM */
	err = get_irte(vm, e, dev, &hi, &fresh);
	if (err)
		return err; /* -EDQUOT or -ENOSPC */
	err = host_irq_target(vm->host, hi, v, ve.vector, ve.flags & PVIR_VIRTE_URGENT);
	if (err) {
		if (fresh)
			release(vm, hi);
		return err;
	}
	if (fresh && e->hi)
		release(vm, e->hi);
	e->hi = hi;
	e->dev = dev;
	m = host_irq_msg(hi);
	write_back(vm, index, &m, 0);
	return 0;
}

/* ---- the calls ------------------------------------------------------------- */

static uint64_t quota_left(const struct vm *vm)
{
	return vm->quota - vm->used;
}

static void query(struct vm *vm, struct vcpu_regs *regs)
{
	regs->rax = 0;
	regs->rbx = PVIR_ABI_VERSION;
	regs->rcx =
	    PVIR_FEAT_BATCH | (ir_driver_posting(host_ir_driver(vm->host)) ? PVIR_FEAT_POSTED : 0);
	regs->rdx = vm->quota;
}

static bool any_entry_active(const struct vm *vm)
{
	for (uint32_t i = 0; vm->hc.e && i < vm->hc.entries; i++)
		if (vm->hc.e[i].hi)
			return true;
	return false;
}

static bool emulation_in_use(const struct vm *vm)
{
	for (unsigned d = 0; d < vm->ndevs; d++)
		if (irq_emul_in_use(vm->devs[d]))
			return true;
	return false;
}

/* Maps (or unmaps) every device's interrupt storage into the guest. */
static void set_storage_mode(struct vm *vm, enum vmm_storage_mode mode)
{
	for (unsigned d = 0; d < vm->ndevs; d++) {
		struct assigned_dev *dev = vm->devs[d];

		dev->msix_mode = mode;
		dev->ims_mode = mode;
		/* Direct pages only merge regions: this cannot run out of them. */
		(void)!vmm_map_storage(vm, dev);
	}
}

static int set_table(struct vm *vm, uint64_t gpa, uint64_t entries)
{
	struct hc_entry *e;

	if (any_entry_active(vm))
		return -EBUSY; /* replace or drop a table only when it is idle */
	if (!entries) {
		free(vm->hc.e);
		vm->hc = (struct hc_state){.copy_hook = vm->hc.copy_hook,
					   .copy_hook_ctx = vm->hc.copy_hook_ctx};
		set_storage_mode(vm, VMM_STORAGE_TRAPPED);
		return 0;
	}
	if (gpa % PVIR_TABLE_ALIGN || entries > PVIR_TABLE_MAX_ENTRIES)
		return -EINVAL;
	if (!physmem_range_ok(vm->mem, gpa, entries * PVIR_VIRTE_SIZE))
		return -EFAULT;
	if (!ir_driver_remapping_secure(host_ir_driver(vm->host)))
		return -EOPNOTSUPP; /* VFIO would not offer MSIX_MAPPABLE */
	if (emulation_in_use(vm))
		return -EBUSY; /* the guest is using emulated MSI-X: finish that first */
	e = calloc(entries, sizeof(*e));
	if (!e)
		return -ENOMEM;
	free(vm->hc.e);
	vm->hc.e = e;
	vm->hc.table_set = true;
	vm->hc.table_gpa = gpa;
	vm->hc.entries = (uint32_t)entries;
	set_storage_mode(vm, VMM_STORAGE_DIRECT);
	return 0;
}

static void sync(struct vm *vm, struct vcpu_regs *regs)
{
	uint64_t first = regs->rbx, count = regs->rcx;
	int err = 0;
	uint64_t i = first;

	if (!vm->hc.table_set || !count || first >= vm->hc.entries ||
	    count > vm->hc.entries - first) {
		err = -EINVAL;
	} else {
		for (; i < first + count; i++) {
			err = sync_entry(vm, (uint32_t)i);
			if (err) {
				write_status(vm, (uint32_t)i, err);
				break;
			}
		}
	}
	regs->rax = (uint64_t)(int64_t)err;
	regs->rbx = err ? i : first + count;
	regs->rcx = quota_left(vm);
}

void hcall_dispatch(struct vm *vm, struct vcpu *v, struct vcpu_regs *regs)
{
	(void)v;
	if (!vm->pvir_service) { /* an older VMM: KVM's answer to any unknown call */
		regs->rax = (uint64_t) - (int64_t)PVIR_KVM_ENOSYS;
		return;
	}
	switch (regs->rax) {
	case PVIR_HC_QUERY:
		query(vm, regs);
		break;
	case PVIR_HC_SET_TABLE:
		regs->rax = (uint64_t)(int64_t)set_table(vm, regs->rbx, regs->rcx);
		break;
	case PVIR_HC_SYNC:
		sync(vm, regs);
		break;
	default:
		regs->rax = (uint64_t) - (int64_t)PVIR_KVM_ENOSYS;
	}
}

void hcall_free(struct vm *vm)
{
	for (uint32_t i = 0; vm->hc.e && i < vm->hc.entries; i++)
		if (vm->hc.e[i].hi)
			release(vm, vm->hc.e[i].hi);
	free(vm->hc.e);
	vm->hc.e = NULL;
}
