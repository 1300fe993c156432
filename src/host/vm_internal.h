/* SPDX-License-Identifier: MIT */
/*
 * The VM's state, shared by the host files that make up the VMM: vm.c (VM and
 * vCPUs), vmm.c (assignment, MMIO map, config space), irq_emul.c (trapped
 * MSI-X and IMS), viommu.c (the emulated VT-d IR of `vir-emul`), hcall.c (the
 * hypercall service), vfio.c (region and IRQ info).
 * Nothing outside src/host/ includes this.
 */
#ifndef PVIR_VM_INTERNAL_H
#define PVIR_VM_INTERNAL_H

#include "pvir/host.h"
#include "pvir/pci.h"
#include "pvir/vm.h"
#include "pvir/vmm.h"

#define VM_MAX_REGIONS (VM_MAX_DEVICES * 8)

/* A guest-physical range that reaches one device BAR. */
struct mmio_region {
	uint64_t gpa;
	uint64_t len;
	struct assigned_dev *dev;
	unsigned bar;
	uint64_t bar_offset; /* of @gpa within the BAR */
	bool trapped;
};

/*
 * Interrupt storage while the VMM emulates it: the MSI-X table, or an
 * accelerator's device-resident IMS slots (the same entry layout).
 */
struct emul_store {
	bool ims;
	unsigned bar;
	uint64_t off;
	unsigned n;
	uint32_t (*vtable)[4];	/* address lo, hi, data, control, as the guest wrote them */
	struct host_irq **irqs; /* the host IRTE (and GSI route) behind each entry, or NULL */
	struct msi_msg *routed; /* the guest message each route was made from */
	bool enabled;		/* MSI-X: from config space; IMS slots: always */
	bool maskall;
};

struct assigned_dev {
	struct vm *vm;
	struct pci_func *func;
	uint16_t guest_bdf;
	uint64_t bar_gpa[PCI_NUM_BARS];
	enum vmm_storage_mode msix_mode;
	enum vmm_storage_mode ims_mode;
	struct emul_store msix;
	struct emul_store ims;
};

/* One vIRTE's host side. */
struct hc_entry {
	struct host_irq *hi;
	struct assigned_dev *dev;
};

struct hc_state {
	bool table_set;
	uint64_t table_gpa;
	uint32_t entries;
	struct hc_entry *e;
	void (*copy_hook)(void *ctx, uint32_t index);
	void *copy_hook_ctx;
};

struct vm {
	struct host *host;
	char name[VM_NAME_MAX];
	unsigned nvcpus;
	struct vcpu *vcpus;
	struct physmem *mem;
	struct vm_exits exits;
	uint32_t quota;
	uint32_t used;
	bool pvir_service;
	struct assigned_dev *devs[VM_MAX_DEVICES];
	unsigned ndevs;
	struct mmio_region regions[VM_MAX_REGIONS];
	unsigned nregions;
	struct vmm_stats stats;
	struct hc_state hc;
	struct ir_unit *viommu; /* `vir-emul`: the emulated VT-d unit, over guest memory */
};

/* vmm.c */
int vmm_map_storage(struct vm *vm, struct assigned_dev *d);
void vmm_free_devices(struct vm *vm);

/* irq_emul.c */
int irq_emul_init(struct assigned_dev *d);
void irq_emul_free(struct assigned_dev *d);
bool irq_emul_msix_active(const struct assigned_dev *d);
bool irq_emul_in_use(const struct assigned_dev *d);
/* The emulated store holding BAR @bar offset @off, and the offset in it; NULL if none. */
struct emul_store *irq_emul_store_at(struct assigned_dev *d, unsigned bar, uint64_t off,
				     uint64_t *ret_rel);
uint64_t irq_emul_read(struct assigned_dev *d, struct emul_store *s, uint64_t rel, unsigned size);
void irq_emul_write(struct assigned_dev *d, struct emul_store *s, uint64_t rel, unsigned size,
		    uint64_t val);
void irq_emul_msix_control(struct assigned_dev *d, uint16_t flags);
bool irq_emul_msix_enabled(const struct assigned_dev *d);
bool irq_emul_msix_maskall(const struct assigned_dev *d);
void irq_emul_retranslate(struct vm *vm);

/* viommu.c */
int viommu_create(struct vm *vm);
void viommu_free(struct vm *vm);
bool viommu_ir_enabled(const struct vm *vm);
bool viommu_covers(const struct vm *vm, uint64_t gpa);
uint64_t viommu_read(struct vm *vm, uint64_t gpa, unsigned size);
void viommu_write(struct vm *vm, uint64_t gpa, unsigned size, uint64_t val);
/*
 * The vCPU and vector the guest's vIRTE gives message @m from @guest_sid, or
 * NULL (a fault, in the guest's vIOMMU log). *@ret_passthrough: the unit let a
 * compatibility-format message through, to be read as such.
 */
struct vcpu *viommu_resolve(struct vm *vm, uint16_t guest_sid, const struct msi_msg *m,
			    uint8_t *ret_vector, bool *ret_passthrough);

/* hcall.c */
void hcall_dispatch(struct vm *vm, struct vcpu *v, struct vcpu_regs *regs);
void hcall_free(struct vm *vm);

/* vfio.c */
bool vfio_msix_mappable(struct host *h, struct pci_func *func);

#endif
