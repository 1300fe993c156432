/* SPDX-License-Identifier: MIT */
/*
 * A host with a NIC, another function and a two-vCPU VM, for the host tests of
 * either IOMMU: make it, bind a NIC vector to a guest vector, raise it.
 */
#ifndef PVIR_TEST_HOST_HELPERS_H
#define PVIR_TEST_HOST_HELPERS_H

#include <stdlib.h>

#include "pvir/host.h"
#include "pvir/pci.h"
#include "pvir/vm.h"

#define RID	  0x0300
#define OTHER_RID 0x0400
#define TABLE_BAR 0

struct fx {
	struct host *h;
	struct pci_func *nic;
	struct pci_func *other;
	struct vm *vm;
	struct host_irq *hi[4];
};

static const unsigned fx_pin[] = {1, 2};

static inline struct pci_func *add_msix_device(struct host *h, uint16_t rid)
{
	struct pci_func_config c = {.rid = rid,
				    .bars = {[0] = {.size = 0x4000}},
				    .msix_vectors = 8,
				    .msix_table_bar = TABLE_BAR,
				    .msix_table_offset = 0,
				    .msix_pba_bar = TABLE_BAR,
				    .msix_pba_offset = 0x2000};
	struct pci_func *f;

	assert_int_equal(host_add_device(h, &c, &f), 0);
	pci_cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	pci_cfg_write(f, pci_find_capability(f, PCI_CAP_ID_MSIX) + PCI_MSIX_FLAGS, 2,
		      PCI_MSIX_FLAGS_ENABLE);
	return f;
}

/* What VFIO does for a vector: the host message into the physical entry, unmasked. */
static inline void program_entry(struct pci_func *f, unsigned n, const struct msi_msg *m)
{
	uint64_t at = (uint64_t)n * PCI_MSIX_ENTRY_SIZE;

	assert_int_equal(pci_mmio_write(f, TABLE_BAR, at, 4, m->address_lo), 0);
	assert_int_equal(pci_mmio_write(f, TABLE_BAR, at + 4, 4, m->address_hi), 0);
	assert_int_equal(pci_mmio_write(f, TABLE_BAR, at + 8, 4, m->data), 0);
	assert_int_equal(pci_mmio_write(f, TABLE_BAR, at + 12, 4, 0), 0);
}

/* A host as @hc says (four pCPUs), a NIC and another function, and a VM of two vCPUs. */
static inline struct fx *fx_create(struct host_config hc, uint32_t irte_quota)
{
	struct vm_config vc = {.name = "web",
			       .vcpus = 2,
			       .pin = fx_pin,
			       .mem_size = 1 << 20,
			       .irte_quota = irte_quota};
	struct fx *f = calloc(1, sizeof(*f));

	hc.pcpus = 4;
	assert_int_equal(host_create(&hc, &f->h), 0);
	f->nic = add_msix_device(f->h, RID);
	f->other = add_msix_device(f->h, OTHER_RID);
	assert_int_equal(vm_create(f->h, &vc, &f->vm), 0);
	return f;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;

	for (unsigned i = 0; i < 4; i++)
		if (f->hi[i])
			host_irq_free(f->h, f->hi[i]);
	vm_free(f->vm);
	host_free(f->h);
	free(f);
	return 0;
}

/* Binds NIC vector @n to guest (@vcpu, @vector) and programs the entry. */
static inline void bind(struct fx *f, unsigned n, unsigned vcpu, uint8_t vector)
{
	struct msi_msg m;

	assert_int_equal(host_irq_alloc(f->h, RID, &f->hi[n]), 0);
	assert_int_equal(host_irq_target(f->h, f->hi[n], vm_vcpu(f->vm, vcpu), vector, false), 0);
	m = host_irq_msg(f->hi[n]);
	program_entry(f->nic, n, &m);
}

static inline void raise(struct pci_func *dev, unsigned n)
{
	enum pci_irq_result r;

	assert_int_equal(pci_func_raise_msix(dev, n, &r), 0);
	assert_int_equal(r, PCI_IRQ_SENT);
}

#endif
