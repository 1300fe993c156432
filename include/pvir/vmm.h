/* SPDX-License-Identifier: MIT */
/*
 * The VMM's side of device assignment: a physical function given to a VM at
 * a guest BDF, its BARs placed in guest-physical space, and the exit handlers
 * behind the guest interface of pvir/vm.h.
 *
 * An assigned device's MSI-X table (and its IMS storage) starts trapped: the
 * VMM emulates it as today's VFIO users do (MSI-X: translate the guest's
 * compatibility-format messages into host IRTEs). Only when the guest has
 * opted in to the pvir hypercalls (PVIR_HC_SET_TABLE) and VFIO offers the
 * table as mappable — which it does only while host interrupt remapping is on
 * with compatibility format blocked — does the VMM map it into the guest
 * directly. A guest that never opts in keeps working the old way.
 */
#ifndef PVIR_VMM_H
#define PVIR_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "pvir/compiler.h"
#include "pvir/vm.h"

struct pci_func;
struct assigned_dev;

/* Guest-physical window for assigned devices' BARs. */
#define VMM_MMIO_BASE	    UINT64_C(0xe0000000)
#define VMM_MMIO_PER_DEVICE UINT64_C(0x1000000)

/*
 * The emulated vIOMMU's register page (VT-d §10.4 layout), where a DMAR
 * table would place it; QEMU's intel-iommu sits at the same address.
 */
#define VMM_VIOMMU_BASE	    UINT64_C(0xfed90000)
#define VMM_VIOMMU_SIZE	    UINT64_C(0x1000)
/* The AMD-Vi vIOMMU's registers, where QEMU's amd-iommu puts them (AMDVI_BASE_ADDR, 16 KiB). */
#define VMM_VIOMMU_AMD_BASE UINT64_C(0xfed80000)
#define VMM_VIOMMU_AMD_SIZE UINT64_C(0x4000)

/*
 * KVM_MAX_IRQ_ROUTES: GSI routes a VM may hold (include/linux/kvm_host.h),
 * of which QEMU's split irqchip reserves one per IOAPIC pin
 * (kvm_arch_init_irq_routing, target/i386/kvm/kvm.c).
 */
#define VM_MAX_ROUTES	 4096
#define VM_IOAPIC_ROUTES 24

/* How an assigned device's MSI-X table and IMS storage reach the device. */
enum vmm_storage_mode {
	VMM_STORAGE_TRAPPED,  /* every guest access exits; the VMM emulates */
	VMM_STORAGE_DIRECT,   /* mapped into the guest: no exit */
	VMM_STORAGE_MEDIATED, /* opted in, but the requester-id is shared with another VM:
				 every write exits, and only handles granted to the
				 function reach it (docs/design.md §5) */
};

struct vmm_stats {
	uint64_t device_writes; /* guest MMIO writes that reached a device */
	uint64_t device_reads;
	uint64_t
	    emul_errors; /* guest writes the emulation could not honour (the guest never knows) */
	/* the host kernel's work for this VM (docs/host-kernel.md) */
	uint64_t set_irqs;	 /* VFIO_DEVICE_SET_IRQS calls */
	uint64_t vfio_setups;	 /* triggers attached: request_irq, eventfd, bypass producer */
	uint64_t irqfds;	 /* KVM_IRQFD assignments */
	uint32_t irqfds_held;	 /* irqfds bound now */
	uint32_t routes;	 /* GSI routes in the table now, the IOAPIC's included */
	uint64_t route_commits;	 /* KVM_SET_GSI_ROUTING calls */
	uint64_t routes_walked;	 /* irqfds a commit walked, summed over the commits */
	uint64_t pi_updates;	 /* IRTEs KVM re-aimed through IRQ bypass (pi_update_irte) */
	uint64_t msi_updates;	 /* tuned: MSI irqfds updated alone, no commit */
	uint64_t route_refusals; /* routes refused at VM_MAX_ROUTES */
	uint64_t msg_reads;	 /* host messages read with the guest-storage feature */
	uint64_t bypass_reports; /* commits asking KVM to report an IRTE left behind */
	uint64_t ims_set_irqs;	 /* SET_IRQS calls on the VFIO IMS index */
	uint64_t irte_hints;	 /* VFIO IRTE-index hints set (a migration's destination) */
	uint64_t
	    foreign_refused; /* mediated storage: entries held masked, their message not granted */
	uint64_t revoked;    /* vIRTEs the host let go of, for the guest to SYNC again */
	uint64_t remap_events;	 /* remap events sent */
	uint64_t retranslations; /* routes translated again after a vIOMMU IEC flush */
};

/**
 * vm_assign_device() - give @func to @vm at @guest_bdf
 *
 * Places the BARs in the guest-physical window, maps them (MSI-X table and
 * IMS storage trapped), and points the function's DMA (memory-resident IMS)
 * at guest memory.
 * Return: 0 and *@ret (may be NULL), -EBUSY (BDF taken, or function already
 * assigned), -ENOSPC (too many devices), -ENOMEM.
 */
int vm_assign_device(struct vm *vm, struct pci_func *func, uint16_t guest_bdf,
		     struct assigned_dev **ret) WARN_UNUSED;

struct assigned_dev *vm_device_by_bdf(struct vm *vm, uint16_t guest_bdf);
struct pci_func *assigned_dev_func(const struct assigned_dev *d);
uint16_t assigned_dev_guest_bdf(const struct assigned_dev *d);
uint64_t assigned_dev_bar_gpa(const struct assigned_dev *d, unsigned bar);
enum vmm_storage_mode assigned_dev_msix_mode(const struct assigned_dev *d);
const struct vmm_stats *vm_vmm_stats(const struct vm *vm);
/** vm_vmm_pending() - interrupts the VMM holds in emulated pending bits, to inject later */
unsigned vm_vmm_pending(const struct vm *vm);
/** vm_hcall_entries() - vIRTEs with a host side (present) */
uint32_t vm_hcall_entries(const struct vm *vm);
/**
 * vm_routes_consistent() - KVM's routing table and irqfds agree with what
 * the VMM committed: KVM holds the VMM's route at every GSI not touched
 * since, each route irqfd holds its GSI's route and is listed under it.
 */
bool vm_routes_consistent(const struct vm *vm);

/* ---- the exit handlers: the guest's only ways in ------------------------- */

/** vm_cfg_read() - a config-space read (an exit); absent functions read all-ones */
uint32_t vm_cfg_read(struct vm *vm, struct vcpu *v, uint16_t bdf, uint16_t off, unsigned size);
void vm_cfg_write(struct vm *vm, struct vcpu *v, uint16_t bdf, uint16_t off, unsigned size,
		  uint32_t val);

/**
 * vm_mmio_read() / vm_mmio_write() - a guest load/store to guest-physical @gpa
 * outside RAM: direct regions reach the device with no exit, trapped ones exit
 * to the VMM. Return: 0, or -EFAULT for an address nothing is mapped at (the
 * access is dropped; reads return all-ones), or the device's error.
 */
int vm_mmio_read(struct vm *vm, struct vcpu *v, uint64_t gpa, unsigned size, uint64_t *ret);
int vm_mmio_write(struct vm *vm, struct vcpu *v, uint64_t gpa, unsigned size, uint64_t val);

/** vm_hypercall() - the hypercall instruction: an exit, then the service */
void vm_hypercall(struct vm *vm, struct vcpu *v, struct vcpu_regs *regs);

/**
 * vm_hcall_copy_hook() - test hook: called after the host has copied a vIRTE
 * out of guest memory and before it acts on the copy, so a test can change
 * the guest's entry underneath and show the copy is what counts.
 */
void vm_hcall_copy_hook(struct vm *vm, void (*hook)(void *ctx, uint32_t index), void *ctx);

/**
 * vm_pvir_revoke() - the host lets go of vIRTEs [@first, @first + @count): what a
 * destination does with an entry whose handle it could not keep (docs/migration.md). The
 * host side goes as a SYNC of a not-present entry takes it; the entry's status says
 * -PVIR_ESTALE and its message is cleared. Storage that held the handle is kept from
 * sending it: a device's MSI-X table or IMS slots are mediated until the guest has synced
 * again (an entry whose message is not granted is held masked), memory-resident IMS
 * slots are masked in guest memory. A raise latches; none goes out with the old handle.
 * Return: 0, -EINVAL (no table, a range outside it), -ENOMEM with nothing changed.
 */
int vm_pvir_revoke(struct vm *vm, uint32_t first, uint32_t count) WARN_UNUSED;

/**
 * vm_pvir_remap_event() - send the guest's remap event (the vector it gave SET_EVENT)
 * Return: 0, or -ENOENT when the guest registered none.
 */
int vm_pvir_remap_event(struct vm *vm) WARN_UNUSED;

#endif
