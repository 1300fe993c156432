// SPDX-License-Identifier: MIT
/*
 * The VMM under a guest that speaks to it only through config space, MMIO,
 * hypercalls and its own RAM: VFIO region info, discovery, the hypercall
 * service with every error path, MSI-X emulation for guests that do not opt
 * in, direct MSI-X and IMS after opting in, and what a guest can and cannot
 * raise by writing its own interrupt storage.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "pvir/host.h"
#include "pvir/ir_driver.h"
#include "pvir/ir_unit.h"
#include "pvir/vfio_dev.h"
#include "vmm_helpers.h"

#define NIC_BDF 0x0020 /* 00:04.0 */
#define DSA_BDF 0x0028 /* 00:05.0 */
#define TABLE	0x100000
#define ENTRIES 4096
#define IMS_OFF 0x8000
#define MEM	(16u << 20)

struct fx {
	struct host *h;
	struct pci_func *nic, *dsa, *other_nic;
	struct vm *vm, *other;
	struct assigned_dev *nic_d, *dsa_d, *other_d;
};

struct fx_opts {
	bool old_vmm;
	uint32_t quota;
	uint32_t irte_entries;
	unsigned pcpus; /* 0: 4 */
	bool noresize;	/* VFIO without dynamic MSI-X */
	enum host_kernel kernel;
};

static const struct pci_func_config nic_cfg = {
    .rid = 0x0300,
    .bars = {[0] = {.size = 0x4000}, [2] = {.size = 0x4000}},
    .msix_vectors = 64,
    .msix_table_bar = 0,
    .msix_pba_bar = 0,
    .msix_pba_offset = 0x2000,
};

static const struct pci_func_config dsa_cfg = {
    .rid = 0x6a08,
    .bars = {[0] = {.size = 0x10000}},
    .ims_storage = IMS_DEVICE,
    .ims_entries = 2048,
    .ims_bar = 0,
    .ims_offset = IMS_OFF,
};

static struct fx *fx_new(struct fx_opts o)
{
	struct host_config hc = host_default_config();
	struct vm_config vc = {.name = "web",
			       .vcpus = 2,
			       .pin = (const unsigned[]){1, 2},
			       .mem_size = MEM,
			       .irte_quota = o.quota ? o.quota : 4096,
			       .pvir_service = !o.old_vmm};
	struct vm_config oc = {.name = "other",
			       .vcpus = 1,
			       .pin = (const unsigned[]){3},
			       .mem_size = 1 << 20,
			       .irte_quota = 64,
			       .pvir_service = true};
	struct pci_func_config other_cfg = nic_cfg;
	struct fx *f = calloc(1, sizeof(*f));

	hc.pcpus = o.pcpus ? o.pcpus : 4;
	hc.msix_noresize = o.noresize;
	hc.kernel = o.kernel;
	if (o.irte_entries)
		hc.irte_entries = o.irte_entries;
	other_cfg.rid = 0x0400;
	assert_int_equal(host_create(&hc, &f->h), 0);
	assert_int_equal(host_add_device(f->h, &nic_cfg, &f->nic), 0);
	assert_int_equal(host_add_device(f->h, &dsa_cfg, &f->dsa), 0);
	assert_int_equal(host_add_device(f->h, &other_cfg, &f->other_nic), 0);
	assert_int_equal(vm_create(f->h, &vc, &f->vm), 0);
	assert_int_equal(vm_create(f->h, &oc, &f->other), 0);
	assert_int_equal(vm_assign_device(f->vm, f->nic, NIC_BDF, &f->nic_d), 0);
	assert_int_equal(vm_assign_device(f->vm, f->dsa, DSA_BDF, &f->dsa_d), 0);
	assert_int_equal(vm_assign_device(f->other, f->other_nic, NIC_BDF, &f->other_d), 0);
	return f;
}

static int setup(void **state)
{
	*state = fx_new((struct fx_opts){0});
	return 0;
}

static int setup_old_vmm(void **state)
{
	*state = fx_new((struct fx_opts){.old_vmm = true});
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vm_free(f->vm);
	vm_free(f->other);
	host_free(f->h);
	free(f);
	return 0;
}

static void opt_in(struct fx *f)
{
	struct vcpu_regs r = hcall(f->vm, PVIR_HC_SET_TABLE, TABLE, ENTRIES);

	assert_int_equal(hret(&r), 0);
}

static struct vcpu_regs sync(struct fx *f, uint64_t first, uint64_t count)
{
	return hcall(f->vm, PVIR_HC_SYNC, first, count);
}

static void raise_msix(struct pci_func *dev, unsigned n)
{
	enum pci_irq_result r;

	assert_int_equal(pci_func_raise_msix(dev, n, &r), 0);
	assert_int_equal(r, PCI_IRQ_SENT);
}

static bool got(struct fx *f, unsigned vcpu, uint8_t vector)
{
	return vm_vcpu_irr_test(vm_vcpu(f->vm, vcpu), vector);
}

static uint64_t faults(struct fx *f, unsigned reason)
{
	return ir_unit_stats(host_ir_unit(f->h))->faults[reason - IR_FAULT_FIRST];
}

/* ---- VFIO ------------------------------------------------------------------- */

static void region_info_msix_mappable(void **state)
{
	struct fx *f = *state;
	union {
		struct vfio_region_info info;
		uint8_t buf[256];
	} u = {.info = {.argsz = sizeof(struct vfio_region_info), .index = 0}};
	struct vfio_info_cap_header cap;

	/* first call: room for the struct only -> told how much to ask for */
	assert_int_equal(vfio_region_info(f->h, f->nic, &u.info), 0);
	assert_true(u.info.flags & VFIO_REGION_INFO_FLAG_CAPS);
	assert_int_equal(u.info.argsz, sizeof(struct vfio_region_info) + sizeof(cap));
	assert_int_equal(u.info.cap_offset, 0);
	u.info.argsz = sizeof(u);
	assert_int_equal(vfio_region_info(f->h, f->nic, &u.info), 0);
	assert_int_equal(u.info.cap_offset, sizeof(struct vfio_region_info));
	memcpy(&cap, u.buf + u.info.cap_offset, sizeof(cap));
	assert_int_equal(cap.id, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
	assert_int_equal(cap.next, 0);
	assert_int_equal(u.info.size, 0x4000);
	assert_int_equal(u.info.offset, 0);
	assert_true(u.info.flags & VFIO_REGION_INFO_FLAG_MMAP);
	/* BAR2 has no table: no capabilities */
	u.info = (struct vfio_region_info){.argsz = sizeof(u), .index = 2};
	assert_int_equal(vfio_region_info(f->h, f->nic, &u.info), 0);
	assert_false(u.info.flags & VFIO_REGION_INFO_FLAG_CAPS);
	assert_int_equal(u.info.offset, UINT64_C(2) << 40);
	u.info = (struct vfio_region_info){.argsz = sizeof(u), .index = 9};
	assert_int_equal(vfio_region_info(f->h, f->nic, &u.info), -EINVAL);
}

static void region_info_sparse_when_insecure(void **state)
{
	struct fx *f = *state;
	union {
		struct vfio_region_info info;
		uint8_t buf[256];
	} u = {.info = {.argsz = sizeof(u), .index = 0}};
	struct vfio_region_info_cap_sparse_mmap sparse;
	struct vfio_region_sparse_mmap_area area;

	/* Compatibility format allowed (CFI set): a guest could inject anything. */
	ir_unit_write(host_ir_unit(f->h), DMAR_GCMD_REG, 4,
		      (UINT32_C(1) << DMA_GCMD_QIE) | (UINT32_C(1) << DMA_GCMD_IRE) |
			  (UINT32_C(1) << DMA_GCMD_CFI));
	assert_false(ir_driver_remapping_secure(host_ir_driver(f->h)));
	assert_int_equal(vfio_region_info(f->h, f->nic, &u.info), 0);
	memcpy(&sparse, u.buf + u.info.cap_offset, sizeof(sparse));
	assert_int_equal(sparse.header.id, VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	assert_int_equal(sparse.nr_areas, 1); /* the table's page is left out */
	memcpy(&area, u.buf + u.info.cap_offset + sizeof(sparse), sizeof(area));
	assert_int_equal(area.offset, 0x1000);
	assert_int_equal(area.size, 0x3000);
	/* and the VMM refuses to let a guest opt in */
	assert_int_equal(rc(hcall(f->vm, PVIR_HC_SET_TABLE, TABLE, 8)), -EOPNOTSUPP);
}

static void irq_info(void **state)
{
	struct fx *f = *state;
	struct vfio_irq_info i = {.argsz = sizeof(i), .index = VFIO_PCI_MSIX_IRQ_INDEX};

	assert_int_equal(vfio_irq_info(f->h, f->nic, &i), 0);
	assert_int_equal(i.count, 64);
	assert_int_equal(i.flags, VFIO_IRQ_INFO_EVENTFD); /* can grow: no NORESIZE */
	i.index = VFIO_PCI_MSI_IRQ_INDEX;
	assert_int_equal(vfio_irq_info(f->h, f->nic, &i), 0);
	assert_int_equal(i.count, 0);
	i.index = 42;
	assert_int_equal(vfio_irq_info(f->h, f->nic, &i), -EINVAL);
}

/* ---- assignment and config space --------------------------------------------- */

static void config_space_view(void **state)
{
	struct fx *f = *state;
	struct vcpu *v = vm_vcpu(f->vm, 0);
	uint64_t bar0 = assigned_dev_bar_gpa(f->nic_d, 0);

	assert_int_equal(bar0, VMM_MMIO_BASE);
	assert_int_equal(assigned_dev_bar_gpa(f->nic_d, 2), VMM_MMIO_BASE + 0x4000);
	assert_int_equal(assigned_dev_bar_gpa(f->dsa_d, 0), VMM_MMIO_BASE + VMM_MMIO_PER_DEVICE);
	assert_int_equal(vm_cfg_read(f->vm, v, NIC_BDF, PCI_BASE_ADDRESS_0, 4), (uint32_t)bar0);
	vm_cfg_write(f->vm, v, NIC_BDF, PCI_BASE_ADDRESS_0, 4, 0x12340000); /* ignored */
	assert_int_equal(vm_cfg_read(f->vm, v, NIC_BDF, PCI_BASE_ADDRESS_0, 4), (uint32_t)bar0);
	assert_int_equal(vm_cfg_read(f->vm, v, 0x0030, PCI_VENDOR_ID, 2), 0xffffffff);
	assert_int_equal(vm_exits(f->vm)->cfg, 4);
	assert_int_equal(vm_assign_device(f->vm, f->nic, 0x0040, NULL), -EBUSY);
	assert_int_equal(vm_assign_device(f->vm, f->other_nic, NIC_BDF, NULL), -EBUSY);
}

/*
 * A hostile guest writes a device's MSI capability: 4 vectors, an address, data,
 * every mask bit. It reads back its own view, with the read-only bits kept and only
 * the writable ones changed; the device's registers are untouched but for the mask
 * bits, which VFIO passes through (only the 4 the function has), and the device,
 * still disabled, sends nothing. Its pending bits read through, as they are.
 */
static void msi_capability_is_the_guests_view(void **state)
{
	const struct pci_func_config cfg = {.rid = 0x0500,
					    .bars = {[0] = {.size = 0x1000}},
					    .msi_vectors = 4,
					    .msi_64bit = true,
					    .msi_per_vector_mask = true};
	struct host *h;
	struct pci_func *f;
	struct vm *vm;
	struct vm_config vc = {.name = "h", .vcpus = 1, .mem_size = 1 << 20, .irte_quota = 8};
	struct host_config hc = host_default_config();
	enum pci_irq_result r;
	unsigned cap;

	(void)state;
	assert_int_equal(host_create(&hc, &h), 0);
	assert_int_equal(host_add_device(h, &cfg, &f), 0);
	assert_int_equal(vm_create(h, &vc, &vm), 0);
	assert_int_equal(vm_assign_device(vm, f, NIC_BDF, NULL), 0);
	cap = pci_find_capability(f, PCI_CAP_ID_MSI);
	assert_true(cap != 0);
	/* 64-bit, maskable, 4 vectors capable: 0x0184 */
	assert_int_equal(vm_cfg_read(vm, vm_vcpu(vm, 0), NIC_BDF, cap + PCI_MSI_FLAGS, 2), 0x0184);
	vm_cfg_write(vm, vm_vcpu(vm, 0), NIC_BDF, cap + PCI_MSI_FLAGS, 2, 0xfe20);
	vm_cfg_write(vm, vm_vcpu(vm, 0), NIC_BDF, cap + PCI_MSI_ADDRESS_LO, 4, 0xfee00003);
	vm_cfg_write(vm, vm_vcpu(vm, 0), NIC_BDF, cap + PCI_MSI_ADDRESS_HI, 4, 0x1);
	vm_cfg_write(vm, vm_vcpu(vm, 0), NIC_BDF, cap + PCI_MSI_DATA_64, 2, 0x1234);
	vm_cfg_write(vm, vm_vcpu(vm, 0), NIC_BDF, cap + PCI_MSI_MASK_64, 4, 0xffffffff);
	/* 4 vectors taken; the capability bits kept; reserved ones dropped */
	assert_int_equal(vm_cfg_read(vm, vm_vcpu(vm, 0), NIC_BDF, cap + PCI_MSI_FLAGS, 2), 0x01a4);
	assert_int_equal(vm_cfg_read(vm, vm_vcpu(vm, 0), NIC_BDF, cap + PCI_MSI_ADDRESS_LO, 4),
			 0xfee00000);
	assert_int_equal(vm_cfg_read(vm, vm_vcpu(vm, 0), NIC_BDF, cap + PCI_MSI_ADDRESS_HI, 4), 1);
	assert_int_equal(vm_cfg_read(vm, vm_vcpu(vm, 0), NIC_BDF, cap + PCI_MSI_DATA_64, 2),
			 0x1234);
	assert_int_equal(vm_cfg_read(vm, vm_vcpu(vm, 0), NIC_BDF, cap + PCI_MSI_MASK_64, 4), 0xf);
	/* the device's own registers: as VFIO left them */
	assert_int_equal(pci_cfg_read(f, (uint16_t)(cap + PCI_MSI_FLAGS), 2), 0x0184);
	assert_int_equal(pci_cfg_read(f, (uint16_t)(cap + PCI_MSI_ADDRESS_LO), 4), 0);
	assert_int_equal(pci_cfg_read(f, (uint16_t)(cap + PCI_MSI_DATA_64), 2), 0);
	assert_int_equal(pci_cfg_read(f, (uint16_t)(cap + PCI_MSI_MASK_64), 4), 0xf);
	assert_int_equal(pci_func_raise_msi(f, 0, &r), 0);
	assert_int_equal(r, PCI_IRQ_DISABLED);
	assert_int_equal(vm_cfg_read(vm, vm_vcpu(vm, 0), NIC_BDF, cap + PCI_MSI_PENDING_64, 4), 0);
	vm_free(vm);
	host_free(h);
}

/* ---- discovery ------------------------------------------------------------------ */

static void query_new_vmm(void **state)
{
	struct fx *f = *state;
	struct vcpu_regs r = hcall(f->vm, PVIR_HC_QUERY, 0, 0);

	assert_int_equal(hret(&r), 0);
	assert_int_equal(r.rbx, PVIR_ABI_VERSION);
	assert_int_equal(r.rcx,
			 PVIR_FEAT_POSTED | PVIR_FEAT_BATCH | PVIR_FEAT_MSI | PVIR_FEAT_PARK);
	assert_int_equal(r.rdx, 4096);
	assert_int_equal(vm_exits(f->vm)->hypercall, 1);
	r = hcall(f->vm, PVIR_HC_BASE + 99, 0, 0);
	assert_int_equal(hret(&r), -PVIR_KVM_ENOSYS);
}

static void query_old_vmm(void **state)
{
	struct fx *f = *state;
	struct vcpu_regs r = hcall(f->vm, PVIR_HC_QUERY, 0, 0);

	assert_int_equal(hret(&r), -PVIR_KVM_ENOSYS); /* what KVM says to any unknown call */
	r = hcall(f->vm, PVIR_HC_SET_TABLE, TABLE, 8);
	assert_int_equal(hret(&r), -PVIR_KVM_ENOSYS);
	assert_int_equal(assigned_dev_msix_mode(f->nic_d), VMM_STORAGE_TRAPPED);
}

/* ---- MSI-X emulation: guests that have not opted in ------------------------------ */

static void emulated_msix_delivers(void **state)
{
	struct fx *f = *state;
	struct msi_msg m;
	uint64_t before;

	assert_int_equal(msi_compat_encode(&(struct msi_compat){.dest_id = 1, .vector = 0x41}, &m),
			 0);
	guest_msix_enable(f->vm, NIC_BDF);
	before = vm_exits(f->vm)->mmio_trap;
	guest_msix_write(f->vm, f->nic_d, 3, &m);
	/* every access to the table exited: mask, 3 dwords, unmask, read-back */
	assert_int_equal(vm_exits(f->vm)->mmio_trap - before, 6);
	/*
	 * As QEMU over VFIO and KVM: SET_IRQS at enable (vector 0, fd -1) and for
	 * entry 3; one route committed, one irqfd; two host interrupts held,
	 * vector 0's from the enable and entry 3's.
	 */
	assert_int_equal(vm_vmm_stats(f->vm)->set_irqs, 2);
	assert_int_equal(vm_vmm_stats(f->vm)->vfio_setups, 1);
	assert_int_equal(vm_vmm_stats(f->vm)->irqfds, 1);
	assert_int_equal(vm_vmm_stats(f->vm)->route_commits, 1);
	assert_int_equal(vm_irte_used(f->vm), 2);
	raise_msix(f->nic, 3);
	assert_true(got(f, 1, 0x41));
	assert_int_equal(host_stats(f->h)->posted, 1);
}

static void emulated_msix_masked_latches(void **state)
{
	struct fx *f = *state;
	uint64_t e3 = assigned_dev_bar_gpa(f->nic_d, 0) + 3 * PCI_MSIX_ENTRY_SIZE;
	struct msi_msg m;
	enum pci_irq_result r;

	assert_int_equal(msi_compat_encode(&(struct msi_compat){.dest_id = 0, .vector = 0x42}, &m),
			 0);
	guest_msix_enable(f->vm, NIC_BDF);
	guest_msix_write(f->vm, f->nic_d, 3, &m);
	guest_mmio_write32(f->vm, e3 + PCI_MSIX_ENTRY_VECTOR_CTRL, 1); /* mask */
	assert_int_equal(pci_func_raise_msix(f->nic, 3, &r), 0);
	assert_int_equal(r, PCI_IRQ_PENDING); /* latched in the physical PBA */
	assert_false(got(f, 0, 0x42));
	guest_mmio_write32(f->vm, e3 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	assert_true(got(f, 0, 0x42));
}

static void emulated_msix_errors_are_lost(void **state)
{
	struct fx *f = *state;
	struct msi_msg bad_dest, remappable = {0xfee00018, 0, 0};
	enum pci_irq_result r;

	assert_int_equal(
	    msi_compat_encode(&(struct msi_compat){.dest_id = 9, .vector = 0x41}, &bad_dest), 0);
	guest_msix_enable(f->vm, NIC_BDF);
	guest_msix_write(f->vm, f->nic_d, 0, &bad_dest);   /* no vCPU 9 */
	guest_msix_write(f->vm, f->nic_d, 1, &remappable); /* no vIOMMU to resolve it */
	assert_int_equal(vm_vmm_stats(f->vm)->emul_errors, 2);
	/* only vector 0's host interrupt, from enabling MSI-X (QEMU's fd -1 trick) */
	assert_int_equal(vm_irte_used(f->vm), 1);
	assert_int_equal(vm_vmm_stats(f->vm)->vfio_setups, 0);
	/* the entries stay masked on the device: nothing reaches anyone */
	assert_int_equal(pci_func_raise_msix(f->nic, 0, &r), 0);
	assert_int_equal(r, PCI_IRQ_PENDING);
}

/* ---- opting in -------------------------------------------------------------------- */

static void set_table_errors(void **state)
{
	struct fx *f = *state;
	struct msi_msg m;

	assert_int_equal(rc(hcall(f->vm, PVIR_HC_SET_TABLE, TABLE + 8, 8)), -EINVAL);
	assert_int_equal(rc(hcall(f->vm, PVIR_HC_SET_TABLE, TABLE, 65537)), -EINVAL);
	assert_int_equal(rc(hcall(f->vm, PVIR_HC_SET_TABLE, MEM - 4096, 256)), -EFAULT);
	assert_int_equal(rc(sync(f, 0, 1)), -EINVAL); /* no table */
	/* MSI-X in use through emulation: finish with it first */
	assert_int_equal(msi_compat_encode(&(struct msi_compat){.dest_id = 1, .vector = 0x41}, &m),
			 0);
	guest_msix_enable(f->vm, NIC_BDF);
	guest_msix_write(f->vm, f->nic_d, 0, &m);
	assert_int_equal(rc(hcall(f->vm, PVIR_HC_SET_TABLE, TABLE, 8)), -EBUSY);
	assert_int_equal(assigned_dev_msix_mode(f->nic_d), VMM_STORAGE_TRAPPED);
}

static void opt_in_maps_table_directly(void **state)
{
	struct fx *f = *state;
	uint64_t before;

	opt_in(f);
	assert_int_equal(assigned_dev_msix_mode(f->nic_d), VMM_STORAGE_DIRECT);
	before = vm_exits(f->vm)->total;
	guest_msix_write(f->vm, f->nic_d, 0, &(struct msi_msg){0xfee00018, 0, 0});
	assert_int_equal(vm_exits(f->vm)->total, before); /* no exit */
	assert_int_equal(vm_vmm_stats(f->vm)->device_writes, 5);
}

/* ---- SYNC ------------------------------------------------------------------------- */

/* Programs vIRTE @idx for @sid to (@vcpu, @vector) and writes its message into NIC entry @n. */
static struct msi_msg activate(struct fx *f, uint32_t idx, unsigned n, unsigned vcpu,
			       uint8_t vector)
{
	struct vcpu_regs r;
	struct msi_msg m;
	int32_t status;

	virte_put(f->vm, TABLE, idx, NIC_BDF, PVIR_VIRTE_PRESENT, vcpu, vector);
	r = sync(f, idx, 1);
	assert_int_equal(hret(&r), 0);
	assert_int_equal(r.rbx, idx + 1);
	m = virte_msg(f->vm, TABLE, idx, &status);
	assert_int_equal(status, 0);
	assert_int_equal(msi_format_of(&m), MSI_FORMAT_REMAPPABLE);
	guest_msix_write(f->vm, f->nic_d, n, &m);
	return m;
}

static void sync_activates_posted(void **state)
{
	struct fx *f = *state;
	struct vcpu_regs r;
	uint64_t before;

	opt_in(f);
	guest_msix_enable(f->vm, NIC_BDF);
	activate(f, 0, 5, 1, 0x41);
	r = sync(f, 0, 1); /* again: idempotent, quota unchanged */
	assert_int_equal(r.rcx, 4096 - 1);
	assert_int_equal(vm_irte_used(f->vm), 1);
	before = vm_exits(f->vm)->total;
	raise_msix(f->nic, 5);
	assert_true(got(f, 1, 0x41));
	assert_int_equal(host_stats(f->h)->posted, 1);
	assert_int_equal(vm_exits(f->vm)->total, before); /* posted while running: no exit */
}

static void affinity_change_keeps_message(void **state)
{
	struct fx *f = *state;
	struct msi_msg before, after;
	uint64_t writes;

	opt_in(f);
	guest_msix_enable(f->vm, NIC_BDF);
	before = activate(f, 7, 2, 0, 0x41);
	writes = vm_vmm_stats(f->vm)->device_writes;
	virte_put(f->vm, TABLE, 7, NIC_BDF, PVIR_VIRTE_PRESENT, 1, 0x55);
	assert_int_equal(rc(sync(f, 7, 1)), 0);
	after = virte_msg(f->vm, TABLE, 7, NULL);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(vm_vmm_stats(f->vm)->device_writes, writes); /* no device write */
	raise_msix(f->nic, 2);
	assert_true(got(f, 1, 0x55));
	assert_false(got(f, 0, 0x41));
	assert_int_equal(vm_irte_used(f->vm), 1);
}

static void sync_teardown(void **state)
{
	struct fx *f = *state;
	struct msi_msg m;
	uint32_t in_use;

	opt_in(f);
	guest_msix_enable(f->vm, NIC_BDF);
	activate(f, 1, 0, 0, 0x41);
	in_use = ir_driver_in_use(host_ir_driver(f->h));
	virte_put(f->vm, TABLE, 1, NIC_BDF, 0, 0, 0);
	assert_int_equal(rc(sync(f, 1, 1)), 0);
	assert_int_equal(ir_driver_in_use(host_ir_driver(f->h)), in_use - 1);
	assert_int_equal(vm_irte_used(f->vm), 0);
	m = virte_msg(f->vm, TABLE, 1, NULL);
	assert_int_equal(m.address_lo | m.data, 0);
	raise_msix(f->nic, 0); /* the device still has the old handle: blocked */
	assert_int_equal(faults(f, IR_FAULT_NOT_PRESENT), 1);
	assert_false(got(f, 0, 0x41));
}

/* Re-pointing a vIRTE at another device needs another source-id: a new IRTE. */
static void sync_moves_entry_to_another_device(void **state)
{
	struct fx *f = *state;
	struct msi_msg nic_msg, dsa_msg;
	uint32_t in_use;

	opt_in(f);
	guest_msix_enable(f->vm, NIC_BDF);
	nic_msg = activate(f, 6, 0, 0, 0x41);
	in_use = ir_driver_in_use(host_ir_driver(f->h));
	virte_put(f->vm, TABLE, 6, DSA_BDF, PVIR_VIRTE_PRESENT, 0, 0x41);
	assert_int_equal(rc(sync(f, 6, 1)), 0);
	dsa_msg = virte_msg(f->vm, TABLE, 6, NULL);
	assert_int_not_equal(dsa_msg.address_lo, nic_msg.address_lo);
	assert_int_equal(ir_driver_in_use(host_ir_driver(f->h)), in_use); /* old one freed */
	assert_int_equal(vm_irte_used(f->vm), 1);
	raise_msix(f->nic, 0); /* the NIC's old handle is gone */
	assert_int_equal(faults(f, IR_FAULT_NOT_PRESENT), 1);
}

/* Every error leaves host and guest as they were, and says which entry failed. */
struct sync_err_row {
	uint16_t sid;
	uint16_t flags;
	uint32_t dest;
	uint8_t vector;
	uint8_t rsvd_byte; /* written at PVIR_VIRTE_RSVD */
	int err;
};

static const struct sync_err_row sync_err_rows[] = {
    {NIC_BDF, PVIR_VIRTE_PRESENT | 0x8, 0, 0x41, 0, -EINVAL}, /* reserved flag */
    {NIC_BDF, PVIR_VIRTE_PRESENT, 0, 0x41, 1, -EINVAL},	      /* reserved byte */
    {NIC_BDF, PVIR_VIRTE_PRESENT | PVIR_VIRTE_LEVEL, 0, 0x41, 0, -EINVAL},
    {NIC_BDF, PVIR_VIRTE_PRESENT, 0, 0x1f, 0, -EINVAL}, /* exception vector */
    {NIC_BDF, PVIR_VIRTE_PRESENT, 0, 0xec, 0, -EINVAL}, /* system vector */
    {NIC_BDF, PVIR_VIRTE_PRESENT, 0, 0x80, 0, -EINVAL}, /* IA32 syscall */
    {NIC_BDF, PVIR_VIRTE_PRESENT, 2, 0x41, 0, -ENOENT}, /* no vCPU 2 */
    {0x0030, PVIR_VIRTE_PRESENT, 0, 0x41, 0, -EPERM},	/* not our device */
};

static void sync_error_leaves_state(void **state)
{
	const struct sync_err_row *row = *state;
	struct fx *f = fx_new((struct fx_opts){0});
	struct msi_msg before, after;
	struct vcpu_regs r;
	uint8_t rsvd = row->rsvd_byte;
	int32_t status;
	uint32_t in_use;

	opt_in(f);
	guest_msix_enable(f->vm, NIC_BDF);
	before = activate(f, 3, 1, 0, 0x41); /* a working entry to be kept */
	in_use = ir_driver_in_use(host_ir_driver(f->h));
	virte_put(f->vm, TABLE, 3, row->sid, row->flags, row->dest, row->vector);
	assert_int_equal(physmem_write(vm_memory(f->vm),
				       TABLE + 3 * PVIR_VIRTE_SIZE + PVIR_VIRTE_RSVD, &rsvd, 1),
			 0);
	r = sync(f, 3, 1);
	assert_int_equal(hret(&r), row->err);
	assert_int_equal(r.rbx, 3);
	assert_int_equal(r.rcx, 4096 - 1);
	after = virte_msg(f->vm, TABLE, 3, &status);
	assert_int_equal(status, row->err);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(ir_driver_in_use(host_ir_driver(f->h)), in_use);
	assert_int_equal(vm_irte_used(f->vm), 1);
	raise_msix(f->nic, 1); /* still delivered where it was */
	assert_true(got(f, 0, 0x41));
	teardown((void **)&f);
}

/*
 * The host's invalidation queue fails (IQA.DW asked for, which the unit does
 * not do) under a posted affinity change. The host IRTE stays where it was,
 * so KVM must keep the old route and the guest must hear -EIO (stock KVM only
 * logged it, and the SYNC said 0 while the interrupt posted to the old vCPU).
 * In the same SYNC, entry 8's teardown is done: a ranged SYNC that fails here
 * leaves each entry's status to say which took effect.
 */
static void failed_retarget_reports_eio(void **state)
{
	const enum host_kernel *kernel = *state;
	struct fx *f = fx_new((struct fx_opts){.kernel = *kernel});
	struct ir_unit *ir = host_ir_unit(f->h);
	struct msi_msg before, after;
	struct vcpu_regs r;
	int32_t status;

	opt_in(f);
	guest_msix_enable(f->vm, NIC_BDF);
	before = activate(f, 7, 2, 0, 0x41);
	activate(f, 8, 3, 0, 0x42);
	ir_unit_write(ir, DMAR_IQA_REG, 8, ir_unit_read(ir, DMAR_IQA_REG, 8) | UINT64_C(1) << 11);
	virte_put(f->vm, TABLE, 7, NIC_BDF, PVIR_VIRTE_PRESENT, 1, 0x55);
	virte_put(f->vm, TABLE, 8, NIC_BDF, 0, 0, 0);
	r = sync(f, 7, 2);
	assert_int_equal(hret(&r), -EIO);
	assert_int_equal(r.rbx, 7);
	after = virte_msg(f->vm, TABLE, 7, &status);
	assert_int_equal(status, -EIO);
	assert_memory_equal(&before, &after, sizeof(before));
	virte_msg(f->vm, TABLE, 8, &status);
	assert_int_equal(status, 0);
	assert_int_equal(vm_hcall_entries(f->vm), 1); /* 8 went, 7 stayed */
	raise_msix(f->nic, 2);			      /* where the guest, told -EIO, still has it */
	assert_true(got(f, 0, 0x41));
	assert_false(got(f, 1, 0x55));
	teardown((void **)&f);
}

static const enum host_kernel kernels[] = {HOST_KERNEL_STOCK, HOST_KERNEL_LEGACY,
					   HOST_KERNEL_TUNED};

static void sync_range_errors(void **state)
{
	struct fx *f = *state;

	opt_in(f);
	assert_int_equal(rc(sync(f, 0, 0)), -EINVAL);
	assert_int_equal(rc(sync(f, ENTRIES, 1)), -EINVAL);
	assert_int_equal(rc(sync(f, ENTRIES - 1, 2)), -EINVAL);
	assert_int_equal(rc(sync(f, 1, UINT64_MAX)), -EINVAL);
}

static void ranged_sync_stops_at_first_failure(void **state)
{
	struct fx *f = *state;
	struct vcpu_regs r;
	int32_t status;

	opt_in(f);
	for (uint32_t i = 0; i < 4; i++)
		virte_put(f->vm, TABLE, i, NIC_BDF, PVIR_VIRTE_PRESENT, i == 2 ? 7 : 0,
			  (uint8_t)(0x40 + i));
	r = sync(f, 0, 4);
	assert_int_equal(hret(&r), -ENOENT);
	assert_int_equal(r.rbx, 2);
	assert_int_equal(vm_irte_used(f->vm), 2); /* 0 and 1 done, 3 not reached */
	virte_msg(f->vm, TABLE, 3, &status);
	assert_int_equal(status, 0);
	assert_int_equal(virte_msg(f->vm, TABLE, 3, NULL).address_lo, 0);
}

static void quota_exhaustion(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.quota = 2});
	struct vcpu_regs r;

	(void)state;
	opt_in(f);
	for (uint32_t i = 0; i < 3; i++)
		virte_put(f->vm, TABLE, i, NIC_BDF, PVIR_VIRTE_PRESENT, 0, (uint8_t)(0x40 + i));
	r = sync(f, 0, 3);
	assert_int_equal(hret(&r), -EDQUOT);
	assert_int_equal(r.rbx, 2);
	assert_int_equal(r.rcx, 0); /* quota left: ask again for fewer */
	assert_int_equal(ir_driver_in_use(host_ir_driver(f->h)), 2);
	teardown((void **)&f);
}

static void host_table_full(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.irte_entries = 4});
	struct vcpu_regs r;

	(void)state;
	opt_in(f);
	for (uint32_t i = 0; i < 5; i++)
		virte_put(f->vm, TABLE, i, NIC_BDF, PVIR_VIRTE_PRESENT, 0, (uint8_t)(0x40 + i));
	r = sync(f, 0, 5);
	assert_int_equal(hret(&r), -ENOSPC);
	assert_int_equal(r.rbx, 3);		  /* 4 entries, entry 0 reserved: 3 fit */
	assert_int_equal(vm_irte_used(f->vm), 3); /* the failed one was not charged */
	teardown((void **)&f);
}

/*
 * A NORESIZE host (VFIO before Linux 6.5) cannot add a vector to an enabled
 * MSI-X: the service turns MSI-X off and on again with every vector, as QEMU
 * did. Two vIRTEs, then two more: the second SYNC is two SET_IRQS (off; on
 * with 0..3) and four triggers, the first two re-attached and posted again,
 * and every entry still delivers. GET_IRQ_INFO says NORESIZE.
 */
static void sync_grows_msix_on_a_noresize_host(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.noresize = true});
	struct vfio_irq_info info = {.argsz = sizeof(info), .index = VFIO_PCI_MSIX_IRQ_INDEX};
	uint64_t set_irqs, triggers;

	(void)state;
	assert_int_equal(vfio_irq_info(f->h, f->nic, &info), 0);
	assert_true(info.flags & VFIO_IRQ_INFO_NORESIZE);
	opt_in(f);
	guest_msix_enable(f->vm, NIC_BDF);
	(void)activate(f, 0, 0, 0, 0x40);
	(void)activate(f, 1, 1, 1, 0x41);
	set_irqs = vm_vmm_stats(f->vm)->set_irqs;
	triggers = vm_vmm_stats(f->vm)->vfio_setups;
	virte_put(f->vm, TABLE, 2, NIC_BDF, PVIR_VIRTE_PRESENT, 0, 0x42);
	virte_put(f->vm, TABLE, 3, NIC_BDF, PVIR_VIRTE_PRESENT, 1, 0x43);
	assert_int_equal(rc(sync(f, 2, 2)), 0);
	assert_int_equal(vm_vmm_stats(f->vm)->set_irqs - set_irqs, 2);
	assert_int_equal(vm_vmm_stats(f->vm)->vfio_setups - triggers, 4);
	for (unsigned n = 2; n < 4; n++) {
		struct msi_msg m = virte_msg(f->vm, TABLE, n, NULL);

		guest_msix_write(f->vm, f->nic_d, n, &m);
	}
	for (unsigned n = 0; n < 4; n++)
		raise_msix(f->nic, n);
	assert_true(got(f, 0, 0x40) && got(f, 1, 0x41) && got(f, 0, 0x42) && got(f, 1, 0x43));
	assert_int_equal(host_stats(f->h)->posted, 4);
	teardown((void **)&f);
}

/* ---- a requester-id shared by functions of different VMs (docs/design.md §5) ----------- */

struct shared {
	struct host *h;
	struct pci_func *fa, *fb;
	struct vm *a, *b;
	struct assigned_dev *da, *db;
};

/* Two functions of @cfg with one requester-id (SIOV interfaces): to VMs a and b, or both to a. */
static struct shared shared_with(const struct pci_func_config *cfg, bool same_vm)
{
	struct host_config hc = host_default_config();
	struct vm_config vc = {.name = "a",
			       .vcpus = 2,
			       .pin = (const unsigned[]){1, 2},
			       .mem_size = MEM,
			       .irte_quota = 64,
			       .pvir_service = true};
	struct shared x = {0};

	hc.pcpus = 4;
	assert_int_equal(host_create(&hc, &x.h), 0);
	assert_int_equal(host_add_device(x.h, cfg, &x.fa), 0);
	assert_int_equal(host_add_device(x.h, cfg, &x.fb), 0);
	assert_int_equal(vm_create(x.h, &vc, &x.a), 0);
	assert_int_equal(vm_assign_device(x.a, x.fa, NIC_BDF, &x.da), 0);
	if (same_vm) {
		assert_int_equal(vm_assign_device(x.a, x.fb, DSA_BDF, &x.db), 0);
		return x;
	}
	vc.name = "b";
	vc.pin = (const unsigned[]){3, 0}; /* its own pCPUs: both VMs' vCPUs run */
	assert_int_equal(vm_create(x.h, &vc, &x.b), 0);
	assert_int_equal(vm_assign_device(x.b, x.fb, NIC_BDF, &x.db), 0);
	return x;
}

static struct shared shared_new(bool same_vm)
{
	return shared_with(&nic_cfg, same_vm);
}

static void shared_free(struct shared *x)
{
	vm_free(x->a);
	vm_free(x->b);
	host_free(x->h);
}

/* A vIRTE of @vm for @bdf at (vCPU 0, @vector), synced: the host's message. */
static struct msi_msg grant(struct vm *vm, uint32_t idx, uint16_t bdf, uint8_t vector)
{
	struct msi_msg m;
	int32_t status;

	virte_put(vm, TABLE, idx, bdf, PVIR_VIRTE_PRESENT, 0, vector);
	assert_int_equal(rc(hcall(vm, PVIR_HC_SYNC, idx, 1)), 0);
	m = virte_msg(vm, TABLE, idx, &status);
	assert_int_equal(status, 0);
	return m;
}

/* Both VMs opt in, with their storage in @mode; a's vector 0x41 and b's 0x51 granted. */
static void opt_in_both(struct shared *x, enum vmm_storage_mode mode, struct msi_msg *ma,
			struct msi_msg *mb)
{
	assert_int_equal(rc(hcall(x->a, PVIR_HC_SET_TABLE, TABLE, ENTRIES)), 0);
	assert_int_equal(rc(hcall(x->b, PVIR_HC_SET_TABLE, TABLE, ENTRIES)), 0);
	assert_int_equal(assigned_dev_msix_mode(x->da), mode);
	assert_int_equal(assigned_dev_msix_mode(x->db), mode);
	guest_msix_enable(x->a, NIC_BDF);
	guest_msix_enable(x->b, NIC_BDF);
	*ma = grant(x->a, 0, NIC_BDF, 0x41);
	*mb = grant(x->b, 0, NIC_BDF, 0x51);
}

/*
 * VMs a and b each hold a function of one requester-id. Both opt in; neither
 * gets its table mapped: every write exits, and b writing a's handle into
 * its own entry (which source validation would let through: same
 * requester-id) leaves the entry masked. b's device latches its raise, a
 * receives nothing; when b writes its own message back, the latched
 * interrupt reaches b.
 */
static void shared_rid_across_vms_is_mediated(void **state)
{
	struct shared x = shared_new(false);
	struct msi_msg ma, mb;
	enum pci_irq_result r;
	uint64_t exits;

	(void)state;
	opt_in_both(&x, VMM_STORAGE_MEDIATED, &ma, &mb);
	exits = vm_exits(x.a)->mmio_trap;
	guest_msix_write(x.a, x.da, 0, &ma);
	assert_int_equal(vm_exits(x.a)->mmio_trap - exits, 6); /* every access exits */
	guest_msix_write(x.b, x.db, 0, &ma);		       /* a's handle, in b's storage */
	assert_int_equal(vm_vmm_stats(x.b)->foreign_refused, 1);
	assert_int_equal(pci_func_raise_msix(x.fb, 0, &r), 0);
	assert_int_equal(r, PCI_IRQ_PENDING); /* masked on the device: latched */
	assert_false(vm_vcpu_irr_test(vm_vcpu(x.a, 0), 0x41));
	guest_msix_write(x.b, x.db, 0, &mb);
	assert_true(vm_vcpu_irr_test(vm_vcpu(x.b, 0), 0x51));
	assert_int_equal(vm_vmm_stats(x.b)->foreign_refused, 1);
	raise_msix(x.fa, 0);
	assert_true(vm_vcpu_irr_test(vm_vcpu(x.a, 0), 0x41));
	shared_free(&x);
}

/*
 * The same two VMs, but each function enforces a handle window the host set
 * to its own block of IRTEs (docs/design.md §5's device-enforced mode): both get
 * their storage directly, no exit. b writing a's handle into its own entry
 * reaches nothing: the device does not send it (no IR fault either, it never
 * left); b's own handle still works, and so do a's.
 */
static void shared_rid_with_handle_windows_is_direct(void **state)
{
	struct pci_func_config windowed = nic_cfg;
	struct shared x;
	struct msi_msg ma, mb;
	enum pci_irq_result r;
	uint64_t exits;

	(void)state;
	windowed.handle_window = true;
	x = shared_with(&windowed, false);
	opt_in_both(&x, VMM_STORAGE_DIRECT, &ma, &mb);
	exits = vm_exits(x.b)->mmio_trap;
	guest_msix_write(x.b, x.db, 0, &ma); /* a's handle, in b's storage */
	assert_int_equal(vm_exits(x.b)->mmio_trap, exits);
	assert_int_equal(pci_func_raise_msix(x.fb, 0, &r), 0);
	assert_int_equal(r, PCI_IRQ_WINDOW);
	assert_false(vm_vcpu_irr_test(vm_vcpu(x.a, 0), 0x41));
	assert_int_equal(ir_unit_stats(host_ir_unit(x.h))->faults_recorded, 0);
	guest_msix_write(x.b, x.db, 0, &mb);
	raise_msix(x.fb, 0);
	assert_true(vm_vcpu_irr_test(vm_vcpu(x.b, 0), 0x51));
	guest_msix_write(x.a, x.da, 0, &ma);
	raise_msix(x.fa, 0);
	assert_true(vm_vcpu_irr_test(vm_vcpu(x.a, 0), 0x41));
	shared_free(&x);
}

/* Two functions of one requester-id in one VM: it owns the requester-id, so direct. */
static void shared_rid_in_one_vm_is_direct(void **state)
{
	struct shared x = shared_new(true);

	(void)state;
	assert_int_equal(rc(hcall(x.a, PVIR_HC_SET_TABLE, TABLE, ENTRIES)), 0);
	assert_int_equal(assigned_dev_msix_mode(x.da), VMM_STORAGE_DIRECT);
	assert_int_equal(assigned_dev_msix_mode(x.db), VMM_STORAGE_DIRECT);
	shared_free(&x);
}

/*
 * The host's rules on who may share a requester-id: not once one VM's
 * guest programs its storage directly (-EBUSY), and never with IMS in
 * guest memory, which no VMM can mediate (-EPERM).
 */
static void shared_rid_claims_refused(void **state)
{
	struct shared x = shared_new(true);
	struct pci_func_config mem_cfg = {.rid = 0x0300,
					  .bars = {[0] = {.size = 0x1000}},
					  .ims_storage = IMS_MEMORY,
					  .ims_entries = 64};
	struct vm_config vc = {.name = "c",
			       .vcpus = 1,
			       .pin = (const unsigned[]){3},
			       .mem_size = 1 << 20,
			       .irte_quota = 8,
			       .pvir_service = true};
	struct pci_func *fc, *fm;
	struct vm *c;

	(void)state;
	assert_int_equal(rc(hcall(x.a, PVIR_HC_SET_TABLE, TABLE, ENTRIES)), 0); /* direct */
	assert_int_equal(host_add_device(x.h, &nic_cfg, &fc), 0);
	assert_int_equal(host_add_device(x.h, &mem_cfg, &fm), 0);
	assert_int_equal(vm_create(x.h, &vc, &c), 0);
	assert_int_equal(vm_assign_device(c, fc, NIC_BDF, NULL), -EBUSY);
	assert_int_equal(rc(hcall(x.a, PVIR_HC_SET_TABLE, 0, 0)), 0); /* a traps again */
	assert_int_equal(vm_assign_device(c, fm, NIC_BDF, NULL), -EPERM);
	assert_int_equal(vm_assign_device(c, fc, NIC_BDF, NULL), 0);
	vm_free(c);
	shared_free(&x);
}

/* 2048 host interrupts need 2048 host vectors: 11 pCPUs of 202; this host has 12. */
static void batch_of_2048_in_one_exit(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.pcpus = 12});
	uint64_t before, set_irqs;
	struct vcpu_regs r;

	(void)state;
	opt_in(f);
	for (uint32_t i = 0; i < 2048; i++)
		virte_put(f->vm, TABLE, i, DSA_BDF, PVIR_VIRTE_PRESENT, i % 2,
			  (uint8_t)(0x30 + i % 0x40)); /* clear of 0x80 */
	before = vm_exits(f->vm)->total;
	set_irqs = vm_vmm_stats(f->vm)->set_irqs;
	r = sync(f, 0, 2048);
	assert_int_equal(hret(&r), 0);
	assert_int_equal(vm_exits(f->vm)->total - before, 1);
	assert_int_equal(vm_irte_used(f->vm), 2048);
	assert_int_equal(r.rcx, 4096 - 2048);
	/* one SET_IRQS for the one contiguous range, a commit, an irqfd a vector */
	assert_int_equal(vm_vmm_stats(f->vm)->set_irqs - set_irqs, 1);
	assert_int_equal(vm_vmm_stats(f->vm)->route_commits, 1);
	assert_int_equal(vm_vmm_stats(f->vm)->irqfds, 2048);
	assert_int_equal(host_stats(f->h)->vectors_held, 2048);
	teardown((void **)&f);
}

/*
 * The host's vectors are finite: 4 pCPUs hold 4 x 202. A SYNC of 2048 gets
 * 808 and stops at the entry that found none: -ENOSPC, RBX names it, its
 * status says so, and it and the entries after it hold nothing.
 */
static void sync_runs_out_of_host_vectors(void **state)
{
	struct fx *f = *state;
	const uint32_t room = 4 * HOST_DEVICE_VECTORS;
	uint32_t irtes;
	int32_t status;
	struct vcpu_regs r;

	opt_in(f);
	irtes = ir_driver_in_use(host_ir_driver(f->h));
	for (uint32_t i = 0; i < 2048; i++)
		virte_put(f->vm, TABLE, i, DSA_BDF, PVIR_VIRTE_PRESENT, 0, 0x30);
	r = sync(f, 0, 2048);
	assert_int_equal(hret(&r), -ENOSPC);
	assert_int_equal(r.rbx, room);
	(void)virte_msg(f->vm, TABLE, room, &status);
	assert_int_equal(status, -ENOSPC);
	assert_int_equal(vm_irte_used(f->vm), room);
	assert_int_equal(ir_driver_in_use(host_ir_driver(f->h)), irtes + room);
	assert_int_equal(host_stats(f->h)->vectors_held, room);
	assert_int_equal(vm_hcall_entries(f->vm), room);
	assert_int_equal(virte_msg(f->vm, TABLE, room + 1, NULL).address_lo, 0);
	/* everything back once the entries go */
	for (uint32_t i = 0; i < room; i++)
		virte_put(f->vm, TABLE, i, DSA_BDF, 0, 0, 0);
	assert_int_equal(rc(sync(f, 0, room)), 0);
	assert_int_equal(vm_irte_used(f->vm), 0);
	assert_int_equal(host_stats(f->h)->vectors_held, 0);
	assert_int_equal(ir_driver_in_use(host_ir_driver(f->h)), irtes);
}

/* The guest rewrites the entry after the host copied it: the copy is what counts. */
static void change_entry(void *ctx, uint32_t index)
{
	struct fx *f = ctx;

	virte_put(f->vm, TABLE, index, 0x0030, PVIR_VIRTE_PRESENT, 9, 0x05);
}

static void entry_changed_during_sync(void **state)
{
	struct fx *f = *state;
	struct vcpu_regs r;

	opt_in(f);
	guest_msix_enable(f->vm, NIC_BDF);
	virte_put(f->vm, TABLE, 4, NIC_BDF, PVIR_VIRTE_PRESENT, 1, 0x61);
	vm_hcall_copy_hook(f->vm, change_entry, f);
	r = sync(f, 4, 1);
	vm_hcall_copy_hook(f->vm, NULL, NULL);
	assert_int_equal(hret(&r), 0); /* validated and acted on the copy */
	guest_msix_write(f->vm, f->nic_d, 4,
			 &(struct msi_msg[]){virte_msg(f->vm, TABLE, 4, NULL)}[0]);
	raise_msix(f->nic, 4);
	assert_true(got(f, 1, 0x61));
	/* the changed entry, re-synced, is judged on its own: vector 5 is refused */
	r = sync(f, 4, 1);
	assert_int_equal(hret(&r), -EINVAL);
	raise_msix(f->nic, 4); /* and the entry keeps its state */
	assert_int_equal(vm_vcpu(f->vm, 1)->vapic.stats.coalesced, 1);
}

/* ---- what a guest can raise by writing its own storage ------------------------------ */

struct rogue_row {
	struct msi_msg msg;
	unsigned fault;
};

static const struct rogue_row rogue_rows[] = {
    {{0xfee01000, 0, 0x41}, IR_FAULT_COMPAT},			/* compatibility format, vCPU 1 */
    {{0xfee00018, 1, 0}, IR_FAULT_REQ_RSVD},			/* address_hi */
    {{0xfee00018, 0, 0x10000}, IR_FAULT_REQ_RSVD},		/* data 31:16 with SHV */
    {{0xfee00018 | (0x7fff << 5), 0, 0}, IR_FAULT_NOT_PRESENT}, /* an unused handle */
    {{0xfee00010, 0, 0}, IR_FAULT_NOT_PRESENT},			/* handle 0: never handed out */
};

static void rogue_write(void **state)
{
	const struct rogue_row *row = *state;
	struct fx *f = fx_new((struct fx_opts){0});

	opt_in(f);
	guest_msix_enable(f->vm, NIC_BDF);
	guest_msix_write(f->vm, f->nic_d, 9, &row->msg);
	raise_msix(f->nic, 9);
	assert_int_equal(faults(f, row->fault), 1);
	assert_int_equal(host_stats(f->h)->blocked, 1);
	for (unsigned v = 0; v < 2; v++)
		assert_int_equal(vm_vcpu(f->vm, v)->vapic.stats.accepted, 0);
	assert_int_equal(vm_vcpu(f->other, 0)->vapic.stats.accepted, 0);
	teardown((void **)&f);
}

static void rogue_handle_of_another_vm(void **state)
{
	struct fx *f = *state;
	struct vcpu_regs r;
	struct msi_msg theirs;

	/* the other VM programs one of its own entries */
	assert_int_equal(rc(hcall(f->other, PVIR_HC_SET_TABLE, 0x10000, 8)), 0);
	virte_put(f->other, 0x10000, 0, NIC_BDF, PVIR_VIRTE_PRESENT, 0, 0x77);
	r = (struct vcpu_regs){.rax = PVIR_HC_SYNC, .rbx = 0, .rcx = 1};
	vm_hypercall(f->other, vm_vcpu(f->other, 0), &r);
	assert_int_equal(hret(&r), 0);
	theirs = virte_msg(f->other, 0x10000, 0, NULL);
	/* web writes that handle into its own device: source-id check fails */
	opt_in(f);
	guest_msix_enable(f->vm, NIC_BDF);
	guest_msix_write(f->vm, f->nic_d, 0, &theirs);
	raise_msix(f->nic, 0);
	assert_int_equal(faults(f, IR_FAULT_SID), 1);
	assert_false(vm_vcpu_irr_test(vm_vcpu(f->other, 0), 0x77));
	assert_int_equal(vm_vcpu(f->other, 0)->vapic.stats.accepted, 0);
}

static void rogue_handle_beyond_table(void **state)
{
	struct fx *f = fx_new((struct fx_opts){.irte_entries = 256});
	struct msi_msg m;

	(void)state;
	msi_remap_encode(&(struct msi_remap){.handle = 300, .shv = true}, &m);
	opt_in(f);
	guest_msix_enable(f->vm, NIC_BDF);
	guest_msix_write(f->vm, f->nic_d, 0, &m);
	raise_msix(f->nic, 0);
	assert_int_equal(faults(f, IR_FAULT_INDEX), 1);
	teardown((void **)&f);
}

/* ---- IMS ---------------------------------------------------------------------------- */

static void ims_direct_after_opt_in(void **state)
{
	struct fx *f = *state;
	uint64_t slot = assigned_dev_bar_gpa(f->dsa_d, 0) + IMS_OFF + 2047 * IMS_SLOT_SIZE;
	struct msi_msg m;
	enum pci_irq_result r;
	uint64_t before;

	opt_in(f);
	vm_cfg_write(f->vm, vm_vcpu(f->vm, 0), DSA_BDF, PCI_COMMAND, 2,
		     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	virte_put(f->vm, TABLE, 100, DSA_BDF, PVIR_VIRTE_PRESENT, 0, 0x70);
	assert_int_equal(rc(sync(f, 100, 1)), 0);
	m = virte_msg(f->vm, TABLE, 100, NULL);
	before = vm_exits(f->vm)->total;
	guest_mmio_write32(f->vm, slot + IMS_SLOT_ADDR_LO, m.address_lo);
	guest_mmio_write32(f->vm, slot + IMS_SLOT_ADDR_HI, m.address_hi);
	guest_mmio_write32(f->vm, slot + IMS_SLOT_DATA, m.data);
	guest_mmio_write32(f->vm, slot + IMS_SLOT_CTRL, 0);
	assert_int_equal(vm_exits(f->vm)->total, before);
	assert_int_equal(pci_func_raise_ims(f->dsa, 2047, &r), 0);
	assert_int_equal(r, PCI_IRQ_SENT);
	assert_true(got(f, 0, 0x70));
}

static void ims_trapped_before_opt_in(void **state)
{
	struct fx *f = *state;
	uint64_t slot = assigned_dev_bar_gpa(f->dsa_d, 0) + IMS_OFF;
	uint64_t before = vm_exits(f->vm)->mmio_trap;

	guest_mmio_write32(f->vm, slot + IMS_SLOT_DATA, 0);
	assert_int_equal(vm_exits(f->vm)->mmio_trap - before, 1);
	/* the rest of the BAR is not interrupt storage: direct */
	guest_mmio_write32(f->vm, assigned_dev_bar_gpa(f->dsa_d, 0) + 0x100, 0);
	assert_int_equal(vm_exits(f->vm)->mmio_trap - before, 1);
}

static void unmapped_mmio(void **state)
{
	struct fx *f = *state;
	uint64_t v;

	assert_int_equal(vm_mmio_read(f->vm, vm_vcpu(f->vm, 0), 0xd0000000, 4, &v), -EFAULT);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(vm_mmio_write(f->vm, vm_vcpu(f->vm, 0), 0xd0000000, 4, 1), -EFAULT);
}

#define FX(fn)	    cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define OLD(fn)	    cmocka_unit_test_setup_teardown(fn, setup_old_vmm, teardown)
#define ERR(n, i)   TEST_ROW("vmm/sync-error/" n, sync_error_leaves_state, &sync_err_rows[i])
#define ROGUE(n, i) TEST_ROW("vmm/rogue/" n, rogue_write, &rogue_rows[i])
#define KERNEL_EIO(n, i) \
	TEST_ROW("vmm/failed-retarget/" n, failed_retarget_reports_eio, &kernels[i])

int main(void)
{
	const struct CMUnitTest tests[] = {
	    FX(region_info_msix_mappable),
	    FX(region_info_sparse_when_insecure),
	    FX(irq_info),
	    FX(config_space_view),
	    TEST(msi_capability_is_the_guests_view),
	    FX(query_new_vmm),
	    OLD(query_old_vmm),
	    FX(emulated_msix_delivers),
	    OLD(emulated_msix_delivers),
	    FX(emulated_msix_masked_latches),
	    FX(emulated_msix_errors_are_lost),
	    FX(set_table_errors),
	    FX(opt_in_maps_table_directly),
	    FX(sync_activates_posted),
	    FX(affinity_change_keeps_message),
	    FX(sync_teardown),
	    FX(sync_moves_entry_to_another_device),
	    ERR("reserved-flag", 0),
	    ERR("reserved-byte", 1),
	    ERR("level", 2),
	    ERR("exception-vector", 3),
	    ERR("system-vector", 4),
	    ERR("syscall-vector", 5),
	    ERR("no-such-vcpu", 6),
	    ERR("not-our-device", 7),
	    KERNEL_EIO("stock", 0),
	    KERNEL_EIO("legacy", 1),
	    KERNEL_EIO("tuned", 2),
	    FX(sync_range_errors),
	    FX(ranged_sync_stops_at_first_failure),
	    TEST(quota_exhaustion),
	    TEST(host_table_full),
	    cmocka_unit_test(batch_of_2048_in_one_exit),
	    cmocka_unit_test(sync_grows_msix_on_a_noresize_host),
	    cmocka_unit_test(shared_rid_across_vms_is_mediated),
	    cmocka_unit_test(shared_rid_in_one_vm_is_direct),
	    cmocka_unit_test(shared_rid_with_handle_windows_is_direct),
	    cmocka_unit_test(shared_rid_claims_refused),
	    FX(sync_runs_out_of_host_vectors),
	    FX(entry_changed_during_sync),
	    ROGUE("compat-format", 0),
	    ROGUE("address-hi", 1),
	    ROGUE("data-upper-with-shv", 2),
	    ROGUE("unused-handle", 3),
	    ROGUE("zero-handle", 4),
	    FX(rogue_handle_of_another_vm),
	    TEST(rogue_handle_beyond_table),
	    FX(ims_direct_after_opt_in),
	    FX(ims_trapped_before_opt_in),
	    FX(unmapped_mmio),
	};

	return cmocka_run_group_tests_name("vmm", tests, NULL, NULL);
}
