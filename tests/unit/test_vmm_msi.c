// SPDX-License-Identifier: MIT
/*
 * Plain MSI (capability 05h) through the VMM and the host kernel, with a guest that
 * speaks only through config space and hypercalls: QEMU's emulation of the capability
 * (`trap`, and `vir-emul`'s VMM half), and the pvir service's MSI blocks (`hcall`).
 * The device is 64-bit and maskable, with 8 vectors, and has MSI-X too, as most
 * devices with MSI do; the host's VFIO programs its MSI capability with a block of
 * host IRTEs, and the guest's writes reach only a view.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "pvir/host.h"
#include "vmm_helpers.h"

#define DEV_BDF	 0x0020 /* 00:04.0 */
#define NIC_BDF	 0x0028 /* 00:05.0: MSI-X only */
#define TABLE	 0x100000
#define ENTRIES	 64
#define MSI_VECS 8

struct fx {
	struct host *h;
	struct pci_func *dev, *nic;
	struct vm *vm;
	uint8_t cap;
};

static struct fx *fx_new(bool service, uint32_t quota)
{
	const struct pci_func_config dev_cfg = {.rid = 0x0300,
						.bars = {[0] = {.size = 0x4000}},
						.msi_vectors = MSI_VECS,
						.msi_64bit = true,
						.msi_per_vector_mask = true,
						.msix_vectors = 4,
						.msix_pba_offset = 0x2000};
	const struct pci_func_config nic_cfg = {.rid = 0x0400,
						.bars = {[0] = {.size = 0x4000}},
						.msix_vectors = 4,
						.msix_pba_offset = 0x2000};
	struct vm_config vc = {.name = "v",
			       .vcpus = 2,
			       .pin = (const unsigned[]){1, 2},
			       .mem_size = 16u << 20,
			       .irte_quota = quota,
			       .pvir_service = service};
	struct host_config hc = host_default_config();
	struct fx *f = calloc(1, sizeof(*f));

	hc.pcpus = 4;
	assert_int_equal(host_create(&hc, &f->h), 0);
	assert_int_equal(host_add_device(f->h, &dev_cfg, &f->dev), 0);
	assert_int_equal(host_add_device(f->h, &nic_cfg, &f->nic), 0);
	assert_int_equal(vm_create(f->h, &vc, &f->vm), 0);
	assert_int_equal(vm_assign_device(f->vm, f->dev, DEV_BDF, NULL), 0);
	assert_int_equal(vm_assign_device(f->vm, f->nic, NIC_BDF, NULL), 0);
	f->cap = pci_find_capability(f->dev, PCI_CAP_ID_MSI);
	assert_true(f->cap != 0);
	/* the driver binds: memory decoding and bus mastering on */
	vm_cfg_write(f->vm, vm_vcpu(f->vm, 0), DEV_BDF, PCI_COMMAND, 2,
		     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	return f;
}

static int setup_trap(void **state)
{
	*state = fx_new(false, 64);
	return 0;
}

static int setup_service(void **state)
{
	*state = fx_new(true, 64);
	return 0;
}

static int setup_service_quota3(void **state)
{
	*state = fx_new(true, 3);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vm_free(f->vm);
	host_free(f->h);
	free(f);
	return 0;
}

/* ---- the guest's side: config writes, as Linux's msi.c makes them ----------------- */

static void cap_write(struct fx *f, unsigned at, unsigned size, uint32_t v)
{
	vm_cfg_write(f->vm, vm_vcpu(f->vm, 0), DEV_BDF, (uint16_t)(f->cap + at), size, v);
}

/* __pci_write_msi_msg(): Multiple Message Enable @mme, address, data; then MSI on. */
static void guest_msi_enable(struct fx *f, unsigned mme, const struct msi_msg *m)
{
	cap_write(f, PCI_MSI_FLAGS, 2, mme << 4);
	cap_write(f, PCI_MSI_ADDRESS_LO, 4, m->address_lo);
	cap_write(f, PCI_MSI_ADDRESS_HI, 4, m->address_hi);
	cap_write(f, PCI_MSI_DATA_64, 2, m->data);
	cap_write(f, PCI_MSI_FLAGS, 2, mme << 4 | PCI_MSI_FLAGS_ENABLE);
}

static uint32_t hw(struct fx *f, unsigned at, unsigned size)
{
	return pci_cfg_read(f->dev, (uint16_t)(f->cap + at), size);
}

static enum pci_irq_result raise_msi(struct fx *f, unsigned n)
{
	enum pci_irq_result r;

	assert_int_equal(pci_func_raise_msi(f->dev, n, &r), 0);
	return r;
}

static bool got(struct fx *f, unsigned vcpu, uint8_t vector)
{
	return vm_vcpu_irr_test(vm_vcpu(f->vm, vcpu), vector);
}

static struct msi_msg compat(unsigned dest, uint8_t vector)
{
	struct msi_msg m;

	assert_int_equal(
	    msi_compat_encode(&(struct msi_compat){.dest_id = dest, .vector = vector}, &m), 0);
	return m;
}

/* The device's capability as the host kernel programmed it: the block's first message. */
static struct msi_remap hw_handle(struct fx *f)
{
	struct msi_msg m = {hw(f, PCI_MSI_ADDRESS_LO, 4), hw(f, PCI_MSI_ADDRESS_HI, 4),
			    hw(f, PCI_MSI_DATA_64, 2)};
	struct msi_remap r;

	assert_int_equal(msi_format_of(&m), MSI_FORMAT_REMAPPABLE);
	msi_remap_decode(&m, &r);
	return r;
}

/* ---- `trap`: QEMU emulates the capability ---------------------------------------- */

/*
 * Two vectors, vector 0x40 on vCPU 1. As QEMU's vfio_msi_enable: a route, an eventfd
 * and an irqfd per vector, one commit, one SET_IRQS for both; VFIO enables MSI with a
 * block of two host IRTEs, the first one's message in the device, SHV and subhandle 0.
 * Vector 1 sends data 0x41, by the low bit the device sets.
 */
static void trap_enable_routes_each_vector(void **state)
{
	struct fx *f = *state;
	struct msi_msg m = compat(1, 0x40);
	struct msi_remap r;

	guest_msi_enable(f, 1, &m);
	assert_int_equal(vm_vmm_stats(f->vm)->set_irqs, 1);
	assert_int_equal(vm_vmm_stats(f->vm)->irqfds, 2);
	assert_int_equal(vm_vmm_stats(f->vm)->route_commits, 1);
	assert_int_equal(vm_vmm_stats(f->vm)->vfio_setups, 2);
	assert_int_equal(vm_vmm_stats(f->vm)->emul_errors, 0);
	assert_int_equal(vm_irte_used(f->vm), 2);
	/* the device: enabled, 2 vectors, the host's message; the guest's view: its own */
	assert_int_equal(hw(f, PCI_MSI_FLAGS, 2) & (PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE),
			 PCI_MSI_FLAGS_ENABLE | 1 << 4);
	r = hw_handle(f);
	assert_true(r.shv);
	assert_int_equal(r.subhandle, 0);
	assert_int_equal(r.handle % 2, 0); /* naturally aligned */
	assert_int_equal(
	    vm_cfg_read(f->vm, vm_vcpu(f->vm, 0), DEV_BDF, f->cap + PCI_MSI_DATA_64, 2), 0x40);
	assert_int_equal(raise_msi(f, 1), PCI_IRQ_SENT);
	assert_true(got(f, 1, 0x41));
	assert_int_equal(raise_msi(f, 0), PCI_IRQ_SENT);
	assert_true(got(f, 1, 0x40));
}

/* The mask bits are the device's (VFIO passes them through): a masked vector latches. */
static void trap_masked_vector_latches(void **state)
{
	struct fx *f = *state;
	struct msi_msg m = compat(0, 0x50);

	guest_msi_enable(f, 1, &m);
	cap_write(f, PCI_MSI_MASK_64, 4, 0x2);
	assert_int_equal(hw(f, PCI_MSI_MASK_64, 4), 0x2);
	assert_int_equal(raise_msi(f, 1), PCI_IRQ_PENDING);
	assert_false(got(f, 0, 0x51));
	assert_int_equal(
	    vm_cfg_read(f->vm, vm_vcpu(f->vm, 0), DEV_BDF, f->cap + PCI_MSI_PENDING_64, 4), 0x2);
	cap_write(f, PCI_MSI_MASK_64, 4, 0);
	assert_true(got(f, 0, 0x51));
	assert_int_equal(hw(f, PCI_MSI_PENDING_64, 4), 0);
}

/*
 * A move, as Linux without remapping writes it: flags, address, data. QEMU's
 * vfio_update_msi follows each write that changes the message: the address (new
 * vCPU, old vector), then the data; a commit each. Then MSI off: every host
 * interrupt and route goes, and the device's capability is disabled.
 */
static void trap_message_change_and_disable(void **state)
{
	struct fx *f = *state;
	struct msi_msg m = compat(0, 0x60), moved = compat(1, 0x70);

	guest_msi_enable(f, 0, &m);
	assert_int_equal(vm_vmm_stats(f->vm)->route_commits, 1);
	cap_write(f, PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
	cap_write(f, PCI_MSI_ADDRESS_LO, 4, moved.address_lo);
	cap_write(f, PCI_MSI_ADDRESS_HI, 4, moved.address_hi);
	cap_write(f, PCI_MSI_DATA_64, 2, moved.data);
	assert_int_equal(vm_vmm_stats(f->vm)->route_commits, 3);
	assert_int_equal(vm_vmm_stats(f->vm)->set_irqs, 1); /* the host interrupt stays */
	assert_int_equal(raise_msi(f, 0), PCI_IRQ_SENT);
	assert_true(got(f, 1, 0x70));
	cap_write(f, PCI_MSI_FLAGS, 2, 0);
	assert_int_equal(vm_irte_used(f->vm), 0);
	assert_false(hw(f, PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE);
	assert_int_equal(raise_msi(f, 0), PCI_IRQ_DISABLED);
}

/* A message that names no vCPU gets no trigger: counted, left masked on the device. */
static void trap_unroutable_vector_is_counted(void **state)
{
	struct fx *f = *state;
	struct msi_msg m = compat(9, 0x40); /* no vCPU 9 */

	guest_msi_enable(f, 0, &m);
	assert_int_equal(vm_vmm_stats(f->vm)->emul_errors, 1);
	assert_int_equal(vm_vmm_stats(f->vm)->irqfds, 0);
	assert_int_equal(raise_msi(f, 0), PCI_IRQ_PENDING);
}

/*
 * VFIO has one of MSI and MSI-X on at a time (vfio_pci_set_msi_trigger): MSI while
 * QEMU holds MSI-X on is refused, and counted; nothing of it stays.
 */
static void vfio_one_type_at_a_time(void **state)
{
	struct fx *f = *state;
	struct msi_msg m = compat(0, 0x40);

	guest_msix_enable(f->vm, DEV_BDF);
	assert_int_equal(vm_irte_used(f->vm), 1); /* QEMU's vector 0 with no trigger */
	guest_msi_enable(f, 0, &m);
	assert_int_equal(vm_vmm_stats(f->vm)->emul_errors, 1);
	assert_int_equal(vm_irte_used(f->vm), 1);
	assert_false(hw(f, PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE);
	assert_int_equal(raise_msi(f, 0), PCI_IRQ_DISABLED);
}

/* ---- `hcall`: the vectors come by SYNC, one block ---------------------------------- */

static struct vcpu_regs sync(struct vm *vm, uint64_t first, uint64_t count)
{
	return hcall(vm, PVIR_HC_SYNC, first, count);
}

static void opt_in(struct fx *f)
{
	assert_int_equal(rc(hcall(f->vm, PVIR_HC_SET_TABLE, TABLE, ENTRIES)), 0);
}

static void put_msi(struct fx *f, uint32_t idx, uint32_t dest, uint8_t vector)
{
	virte_put(f->vm, TABLE, idx, DEV_BDF, PVIR_VIRTE_PRESENT | PVIR_VIRTE_MSI, dest, vector);
}

/*
 * Four vectors in one SYNC. The host enables MSI with a block of four IRTEs: vIRTE n's
 * message is the block's handle with SHV and subhandle n, vIRTE 0's is in the device.
 * Each vector lands where its own vIRTE says; a guest write of the view changes nothing
 * the device holds.
 */
static void hcall_block_in_one_sync(void **state)
{
	struct fx *f = *state;
	struct msi_remap r0, rn;
	struct msi_msg m0;
	int32_t status;

	opt_in(f);
	for (uint32_t i = 0; i < 4; i++)
		put_msi(f, i, i % 2, (uint8_t)(0x40 + i));
	assert_int_equal(rc(sync(f->vm, 0, 4)), 0);
	assert_int_equal(vm_vmm_stats(f->vm)->set_irqs, 1);
	assert_int_equal(vm_irte_used(f->vm), 4);
	m0 = virte_msg(f->vm, TABLE, 0, &status);
	msi_remap_decode(&m0, &r0);
	assert_int_equal(status, 0);
	assert_true(r0.shv);
	assert_int_equal(r0.subhandle, 0);
	assert_int_equal(r0.handle % 4, 0);
	for (uint32_t i = 1; i < 4; i++) {
		struct msi_msg m = virte_msg(f->vm, TABLE, i, &status);

		msi_remap_decode(&m, &rn);
		assert_int_equal(rn.handle, r0.handle);
		assert_int_equal(rn.subhandle, i);
	}
	assert_int_equal(hw(f, PCI_MSI_FLAGS, 2) & (PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE),
			 PCI_MSI_FLAGS_ENABLE | 2 << 4);
	assert_int_equal(hw_handle(f).handle, r0.handle);
	/* the guest writes vIRTE 0's message into its view and enables it: a view */
	guest_msi_enable(f, 2, &m0);
	assert_int_equal(vm_vmm_stats(f->vm)->set_irqs, 1);
	for (unsigned n = 0; n < 4; n++) {
		assert_int_equal(raise_msi(f, n), PCI_IRQ_SENT);
		assert_true(got(f, n % 2, (uint8_t)(0x40 + n)));
	}
}

/*
 * Masking under the service: the mask bits are the device's, as in the emulated case —
 * a masked vector latches and goes out at unmask, to where its vIRTE aims.
 */
static void hcall_masked_vector_latches(void **state)
{
	struct fx *f = *state;

	opt_in(f);
	put_msi(f, 0, 0, 0x40);
	put_msi(f, 1, 1, 0x41);
	assert_int_equal(rc(sync(f->vm, 0, 2)), 0);
	cap_write(f, PCI_MSI_MASK_64, 4, 0x2);
	assert_int_equal(raise_msi(f, 1), PCI_IRQ_PENDING);
	assert_false(got(f, 1, 0x41));
	assert_int_equal(raise_msi(f, 0), PCI_IRQ_SENT);
	cap_write(f, PCI_MSI_MASK_64, 4, 0);
	assert_true(got(f, 1, 0x41));
	assert_int_equal(hw(f, PCI_MSI_PENDING_64, 4), 0);
}

/* MSI cannot grow: a vector more after the block is -EBUSY, with nothing changed. */
static void hcall_block_cannot_grow(void **state)
{
	struct fx *f = *state;
	int32_t status;

	opt_in(f);
	put_msi(f, 0, 0, 0x40);
	put_msi(f, 1, 0, 0x41);
	assert_int_equal(rc(sync(f->vm, 0, 2)), 0);
	put_msi(f, 2, 0, 0x42);
	assert_int_equal(rc(sync(f->vm, 2, 1)), -EBUSY);
	(void)virte_msg(f->vm, TABLE, 2, &status);
	assert_int_equal(status, -EBUSY);
	assert_int_equal(vm_irte_used(f->vm), 2);
	assert_int_equal(hw(f, PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QSIZE, 1 << 4);
}

/* The MSI flag on a device without MSI, or reserved flag bits: -EINVAL. */
static void hcall_msi_flag_checked(void **state)
{
	struct fx *f = *state;

	opt_in(f);
	virte_put(f->vm, TABLE, 0, NIC_BDF, PVIR_VIRTE_PRESENT | PVIR_VIRTE_MSI, 0, 0x40);
	assert_int_equal(rc(sync(f->vm, 0, 1)), -EINVAL);
	virte_put(f->vm, TABLE, 0, DEV_BDF, PVIR_VIRTE_PRESENT | 1u << 4, 0, 0x40);
	assert_int_equal(rc(sync(f->vm, 0, 1)), -EINVAL);
	assert_int_equal(vm_irte_used(f->vm), 0);
	assert_false(hw(f, PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE);
}

/* A retarget moves one vector's IRTE; the block and the device's message stay. */
static void hcall_vector_retargets_alone(void **state)
{
	struct fx *f = *state;
	uint16_t handle;

	opt_in(f);
	put_msi(f, 0, 0, 0x40);
	put_msi(f, 1, 0, 0x41);
	assert_int_equal(rc(sync(f->vm, 0, 2)), 0);
	handle = hw_handle(f).handle;
	put_msi(f, 1, 1, 0x55);
	assert_int_equal(rc(sync(f->vm, 1, 1)), 0);
	assert_int_equal(hw_handle(f).handle, handle);
	assert_int_equal(raise_msi(f, 1), PCI_IRQ_SENT);
	assert_true(got(f, 1, 0x55));
	assert_int_equal(raise_msi(f, 0), PCI_IRQ_SENT);
	assert_true(got(f, 0, 0x40));
}

/* The last vector torn down: MSI off on the host, the block and the quota back. */
static void hcall_teardown_releases_block(void **state)
{
	struct fx *f = *state;

	opt_in(f);
	for (uint32_t i = 0; i < 3; i++)
		put_msi(f, i, 0, (uint8_t)(0x40 + i));
	assert_int_equal(rc(sync(f->vm, 0, 3)), 0);
	assert_int_equal(vm_irte_used(f->vm), 4); /* the block of 4 */
	assert_int_equal(hw(f, PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QSIZE, 2 << 4); /* 3 -> 4 */
	virte_put(f->vm, TABLE, 0, 0, 0, 0, 0);
	virte_put(f->vm, TABLE, 1, 0, 0, 0, 0);
	assert_int_equal(rc(sync(f->vm, 0, 2)), 0);
	assert_true(hw(f, PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE); /* vector 2 still has it */
	virte_put(f->vm, TABLE, 2, 0, 0, 0, 0);
	assert_int_equal(rc(sync(f->vm, 2, 1)), 0);
	assert_int_equal(vm_irte_used(f->vm), 0);
	assert_false(hw(f, PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE);
	/* and a new block can come */
	put_msi(f, 4, 1, 0x48);
	assert_int_equal(rc(sync(f->vm, 4, 1)), 0);
	assert_int_equal(raise_msi(f, 0), PCI_IRQ_SENT);
	assert_true(got(f, 1, 0x48));
}

/*
 * The quota counts a block whole, its padding to a power of two too. A quota of 3 for
 * 4 vectors: vectors 0 and 1 are a block of 2, vector 2 would make it 4, so the SYNC
 * stops there with -EDQUOT; the block of 2 is set up, and 1 IRTE is left. Three
 * vectors, a block of 4, would not fit either: the guest's grant-fewer path asks for 2.
 */
static void hcall_block_over_quota(void **state)
{
	struct fx *f = *state;
	struct vcpu_regs r;

	opt_in(f);
	for (uint32_t i = 0; i < 4; i++)
		put_msi(f, i, 0, (uint8_t)(0x40 + i));
	r = sync(f->vm, 0, 4);
	assert_int_equal(hret(&r), -EDQUOT);
	assert_int_equal(r.rbx, 2);
	assert_int_equal(r.rcx, 1);
	assert_int_equal(vm_irte_used(f->vm), 2);
	assert_int_equal(hw(f, PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QSIZE, 1 << 4);
}

/* A block of 3 vectors holds 4 IRTEs, and is charged 4; all of them come back. */
static void hcall_block_charged_whole(void **state)
{
	struct fx *f = *state;

	opt_in(f);
	for (uint32_t i = 0; i < 3; i++)
		put_msi(f, i, 0, (uint8_t)(0x40 + i));
	assert_int_equal(rc(sync(f->vm, 0, 3)), 0);
	assert_int_equal(vm_irte_used(f->vm), 4);
	for (uint32_t i = 0; i < 3; i++)
		virte_put(f->vm, TABLE, i, 0, 0, 0, 0);
	assert_int_equal(rc(sync(f->vm, 0, 3)), 0);
	assert_int_equal(vm_irte_used(f->vm), 0);
}

/* The view under the service: enabling it sets nothing up in the host (no SYNC came). */
static void hcall_view_does_not_emulate(void **state)
{
	struct fx *f = *state;
	struct msi_msg m = compat(0, 0x40);

	opt_in(f);
	guest_msi_enable(f, 0, &m);
	assert_int_equal(vm_vmm_stats(f->vm)->set_irqs, 0);
	assert_int_equal(vm_irte_used(f->vm), 0);
	assert_int_equal(raise_msi(f, 0), PCI_IRQ_DISABLED);
}

/* And MSI emulated first: the table cannot be set while it is in use. */
static void emulated_msi_blocks_opt_in(void **state)
{
	struct fx *f = *state;
	struct msi_msg m = compat(0, 0x40);

	guest_msi_enable(f, 0, &m);
	assert_int_equal(rc(hcall(f->vm, PVIR_HC_SET_TABLE, TABLE, ENTRIES)), -EBUSY);
	cap_write(f, PCI_MSI_FLAGS, 2, 0);
	opt_in(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(trap_enable_routes_each_vector, setup_trap, teardown),
	    cmocka_unit_test_setup_teardown(trap_masked_vector_latches, setup_trap, teardown),
	    cmocka_unit_test_setup_teardown(trap_message_change_and_disable, setup_trap, teardown),
	    cmocka_unit_test_setup_teardown(trap_unroutable_vector_is_counted, setup_trap,
					    teardown),
	    cmocka_unit_test_setup_teardown(vfio_one_type_at_a_time, setup_trap, teardown),
	    cmocka_unit_test_setup_teardown(hcall_block_in_one_sync, setup_service, teardown),
	    cmocka_unit_test_setup_teardown(hcall_block_cannot_grow, setup_service, teardown),
	    cmocka_unit_test_setup_teardown(hcall_masked_vector_latches, setup_service, teardown),
	    cmocka_unit_test_setup_teardown(hcall_msi_flag_checked, setup_service, teardown),
	    cmocka_unit_test_setup_teardown(hcall_vector_retargets_alone, setup_service, teardown),
	    cmocka_unit_test_setup_teardown(hcall_teardown_releases_block, setup_service, teardown),
	    cmocka_unit_test_setup_teardown(hcall_block_over_quota, setup_service_quota3, teardown),
	    cmocka_unit_test_setup_teardown(hcall_block_charged_whole, setup_service, teardown),
	    cmocka_unit_test_setup_teardown(hcall_view_does_not_emulate, setup_service, teardown),
	    cmocka_unit_test_setup_teardown(emulated_msi_blocks_opt_in, setup_service, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
