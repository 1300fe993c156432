/* SPDX-License-Identifier: MIT */
/*
 * The VM's state, shared by the host files that make up the VMM: vm.c (VM and
 * vCPUs), vmm.c (assignment, MMIO map, config space), msix_emul.c (trapped
 * MSI-X), hcall.c (the hypercall service), vfio.c (region and IRQ info).
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

/* The guest's MSI-X state while the VMM emulates the table. */
struct msix_emul {
	uint32_t (*vtable)[4];	/* address lo, hi, data, control, as the guest wrote them */
	struct host_irq **irqs; /* the host IRTE behind each entry, or NULL */
	bool enabled;
	bool maskall;
};

struct assigned_dev {
	struct vm *vm;
	struct pci_func *func;
	uint16_t guest_bdf;
	uint64_t bar_gpa[PCI_NUM_BARS];
	enum vmm_storage_mode msix_mode;
	enum vmm_storage_mode ims_mode;
	struct msix_emul emul;
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
};

/* vmm.c */
int vmm_map_storage(struct vm *vm, struct assigned_dev *d);
void vmm_free_devices(struct vm *vm);

/* msix_emul.c */
int msix_emul_init(struct assigned_dev *d);
void msix_emul_free(struct assigned_dev *d);
bool msix_emul_active(const struct assigned_dev *d);
bool msix_emul_in_use(const struct assigned_dev *d);
uint64_t msix_emul_read(struct assigned_dev *d, uint64_t table_off, unsigned size);
void msix_emul_write(struct assigned_dev *d, uint64_t table_off, unsigned size, uint64_t val);
void msix_emul_control(struct assigned_dev *d, uint16_t flags);

/* hcall.c */
void hcall_dispatch(struct vm *vm, struct vcpu *v, struct vcpu_regs *regs);
void hcall_free(struct vm *vm);

/* vfio.c */
bool vfio_msix_mappable(struct host *h, struct pci_func *func);

#endif
