/* SPDX-License-Identifier: MIT */
/*
 * A whole stack for tests that drive a guest kernel under each design: a
 * host, and a tenant VM with a booted guest and three assigned functions —
 * a NIC (MSI-X), an accelerator with device-resident IMS and one with
 * memory-resident IMS — and their drivers; optionally a second tenant, a
 * victim with a NIC only. Designs are set as the engine sets them
 * (src/sim/design.c).
 */
#ifndef PVIR_TEST_WORLD_H
#define PVIR_TEST_WORLD_H

#include <stdlib.h>

#include "pvir/guest.h"
#include "pvir/guest_drivers.h"
#include "pvir/host.h"
#include "pvir/pci.h"
#include "pvir/vm.h"
#include "pvir/vmm.h"
#include "test.h"

#define NIC_BDF	    0x0020 /* 00:04.0 */
#define DSA_BDF	    0x0028 /* 00:05.0 */
#define MEMDSA_BDF  0x0030 /* 00:06.0 */
#define DSA_IMS	    0x8000
#define DSA_SLOTS   64
#define NIC_VECTORS 16

enum design { TRAP, VIR_EMUL, HCALL };

static const char *const design_names[] = {"trap", "vir-emul", "hcall"};

struct tenant {
	struct vm *vm;
	struct guest *g;
	struct pci_func *nic, *dsa, *memdsa; /* dsa, memdsa: the first tenant's only */
	struct nic_driver nic_drv;
	struct accel_driver dsa_drv, mem_drv;
};

struct world {
	enum design d;
	struct host *h;
	struct tenant t;      /* the one under test */
	struct tenant victim; /* vm NULL unless asked for */
	bool remap_event;     /* the VMs' VMMs offer the remap event */
};

struct world_opts {
	uint32_t irte_entries; /* 0: 512 */
	bool victim;
	enum host_iommu iommu; /* HOST_IOMMU_VTD unless asked */
	uint32_t amd_table;    /* AMD-Vi: entries per device; 0: the host's default */
	bool remap_event;      /* the VMMs offer PVIR_FEAT_REMAP_EVENT */
};

static const struct guest_ims_layout dsa_layout = {IMS_DEVICE, 0, DSA_IMS, DSA_SLOTS};
static const struct guest_ims_layout memdsa_layout = {IMS_MEMORY, 0, 0, 64};

static inline struct pci_func *world_device(struct world *w, uint16_t rid, enum ims_storage ims)
{
	struct pci_func_config c = {.rid = rid,
				    .bars = {[0] = {.size = 0x10000}},
				    .msix_vectors = ims ? 0 : NIC_VECTORS,
				    .msix_pba_offset = 0x2000,
				    .ims_storage = ims,
				    .ims_entries = ims ? DSA_SLOTS : 0,
				    .ims_offset = ims == IMS_DEVICE ? DSA_IMS : 0};
	struct pci_func *f = NULL;

	assert_int_equal(host_add_device(w->h, &c, &f), 0);
	return f;
}

static inline struct vm *world_vm(struct world *w, const char *name, const unsigned *pin)
{
	struct vm_config vc = {.name = name,
			       .vcpus = 2,
			       .pin = pin,
			       .mem_size = 8u << 20,
			       .irte_quota = 256,
			       .pvir_service = w->d == HCALL,
			       .remap_event = w->remap_event,
			       .viommu = w->d == VIR_EMUL};
	struct vm *vm = NULL;

	assert_int_equal(vm_create(w->h, &vc, &vm), 0);
	return vm;
}

static inline int tenant_boot(struct world *w, struct tenant *t)
{
	struct guest_config gc = {.pvir_driver = w->d == HCALL,
				  .vtd_driver = w->d == VIR_EMUL,
				  .amd_iommu = host_iommu(w->h) == HOST_IOMMU_AMDVI};

	return guest_boot(t->vm, &gc, &t->g);
}

/* Host, tenant VM and devices; the tenant's guest boots separately (its opt-in is an operation). */
static inline struct world *world_new(enum design d, struct world_opts o)
{
	static const unsigned pin_t[] = {0, 1}, pin_victim[] = {2, 3};
	struct host_config hc = host_default_config();
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->d = d;
	w->remap_event = o.remap_event;
	hc.pcpus = 4;
	hc.irte_entries = o.irte_entries ? o.irte_entries : 512;
	hc.iommu = o.iommu;
	if (o.amd_table)
		hc.amd_table = o.amd_table;
	assert_int_equal(host_create(&hc, &w->h), 0);
	w->t.nic = world_device(w, 0x0300, IMS_NONE);
	w->t.dsa = world_device(w, 0x6a08, IMS_DEVICE);
	w->t.memdsa = world_device(w, 0x6a10, IMS_MEMORY);
	w->t.vm = world_vm(w, "web", pin_t);
	assert_int_equal(vm_assign_device(w->t.vm, w->t.nic, NIC_BDF, NULL), 0);
	assert_int_equal(vm_assign_device(w->t.vm, w->t.dsa, DSA_BDF, NULL), 0);
	assert_int_equal(vm_assign_device(w->t.vm, w->t.memdsa, MEMDSA_BDF, NULL), 0);
	if (o.victim) {
		w->victim.nic = world_device(w, 0x0400, IMS_NONE);
		w->victim.vm = world_vm(w, "victim", pin_victim);
		assert_int_equal(vm_assign_device(w->victim.vm, w->victim.nic, NIC_BDF, NULL), 0);
		assert_int_equal(tenant_boot(w, &w->victim), 0);
	}
	return w;
}

static inline void tenant_remove_drivers(struct tenant *t)
{
	if (t->nic_drv.handled)
		nic_remove(&t->nic_drv);
	if (t->dsa_drv.handled)
		accel_remove(&t->dsa_drv);
	if (t->mem_drv.handled)
		accel_remove(&t->mem_drv);
	t->nic_drv = (struct nic_driver){0};
	t->dsa_drv = t->mem_drv = (struct accel_driver){0};
}

static inline void tenant_free(struct tenant *t)
{
	tenant_remove_drivers(t);
	guest_free(t->g);
	vm_free(t->vm);
}

static inline void world_free(struct world *w)
{
	tenant_free(&w->t);
	if (w->victim.vm)
		tenant_free(&w->victim);
	host_free(w->h);
	free(w);
}

/* Every vCPU of @t runs its pending interrupts' handlers. */
static inline unsigned tenant_run_all(struct tenant *t)
{
	unsigned n = 0;

	for (unsigned c = 0; c < guest_cpus(t->g); c++)
		n += guest_handle_interrupts(t->g, c);
	return n;
}

static inline uint64_t handled_sum(const uint64_t *counts, unsigned n)
{
	uint64_t sum = 0;

	for (unsigned i = 0; counts && i < n; i++)
		sum += counts[i];
	return sum;
}

#endif
