/* SPDX-License-Identifier: MIT */
/*
 * Test helpers that act as a guest would, through the guest interface only
 * (config space, MMIO, hypercalls, guest RAM): libqos-style, they read like
 * the steps of a driver.
 */
#ifndef PVIR_TEST_VMM_HELPERS_H
#define PVIR_TEST_VMM_HELPERS_H

#include <string.h>

#include "pvir/hcall_abi.h"
#include "pvir/msi.h"
#include "pvir/pci.h"
#include "pvir/physmem.h"
#include "pvir/vm.h"
#include "pvir/vmm.h"

static inline struct vcpu_regs hcall(struct vm *vm, uint64_t nr, uint64_t rbx, uint64_t rcx)
{
	struct vcpu_regs r = {.rax = nr, .rbx = rbx, .rcx = rcx};

	vm_hypercall(vm, vm_vcpu(vm, 0), &r);
	return r;
}

static inline int64_t hret(const struct vcpu_regs *r)
{
	return (int64_t)r->rax;
}

/* The result of a call, for one-line checks. */
static inline int64_t rc(struct vcpu_regs r)
{
	return (int64_t)r.rax;
}

/* Writes the guest half of vIRTE @idx of the table at @table. */
static inline void virte_put(struct vm *vm, uint64_t table, uint32_t idx, uint16_t sid,
			     uint16_t flags, uint32_t dest, uint8_t vector)
{
	uint8_t e[PVIR_VIRTE_GUEST_SIZE] = {0};

	e[PVIR_VIRTE_SID] = (uint8_t)sid;
	e[PVIR_VIRTE_SID + 1] = (uint8_t)(sid >> 8);
	e[PVIR_VIRTE_FLAGS] = (uint8_t)flags;
	e[PVIR_VIRTE_FLAGS + 1] = (uint8_t)(flags >> 8);
	memcpy(e + PVIR_VIRTE_DEST, &dest, 4); /* little-endian host */
	e[PVIR_VIRTE_VECTOR] = vector;
	assert_int_equal(
	    physmem_write(vm_memory(vm), table + (uint64_t)idx * PVIR_VIRTE_SIZE, e, sizeof(e)), 0);
}

/* The host half of vIRTE @idx: message and status. */
static inline struct msi_msg virte_msg(struct vm *vm, uint64_t table, uint32_t idx,
				       int32_t *ret_status)
{
	uint32_t w[4];

	assert_int_equal(physmem_read(vm_memory(vm),
				      table + (uint64_t)idx * PVIR_VIRTE_SIZE + PVIR_VIRTE_ADDR_LO,
				      w, sizeof(w)),
			 0);
	if (ret_status)
		*ret_status = (int32_t)w[3];
	return (struct msi_msg){w[0], w[1], w[2]};
}

static inline void guest_mmio_write32(struct vm *vm, uint64_t gpa, uint32_t v)
{
	assert_int_equal(vm_mmio_write(vm, vm_vcpu(vm, 0), gpa, 4, v), 0);
}

/* Linux's order for one MSI-X entry: mask, address, data, unmask, read back. */
static inline void guest_msix_write(struct vm *vm, struct assigned_dev *d, unsigned n,
				    const struct msi_msg *m)
{
	uint64_t e = assigned_dev_bar_gpa(d, 0) + (uint64_t)n * PCI_MSIX_ENTRY_SIZE;
	uint64_t back;

	guest_mmio_write32(vm, e + PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	guest_mmio_write32(vm, e + PCI_MSIX_ENTRY_LOWER_ADDR, m->address_lo);
	guest_mmio_write32(vm, e + PCI_MSIX_ENTRY_UPPER_ADDR, m->address_hi);
	guest_mmio_write32(vm, e + PCI_MSIX_ENTRY_DATA, m->data);
	guest_mmio_write32(vm, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	assert_int_equal(vm_mmio_read(vm, vm_vcpu(vm, 0), e + PCI_MSIX_ENTRY_DATA, 4, &back), 0);
}

/* Enables the function (memory, bus master) and its MSI-X, via config space. */
static inline void guest_msix_enable(struct vm *vm, uint16_t bdf)
{
	struct vcpu *v = vm_vcpu(vm, 0);
	uint8_t cap = (uint8_t)vm_cfg_read(vm, v, bdf, PCI_CAPABILITY_LIST, 1);

	while (cap && vm_cfg_read(vm, v, bdf, cap, 1) != PCI_CAP_ID_MSIX)
		cap = (uint8_t)vm_cfg_read(vm, v, bdf, cap + 1u, 1);
	assert_int_not_equal(cap, 0);
	vm_cfg_write(vm, v, bdf, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	vm_cfg_write(vm, v, bdf, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
}

#endif
