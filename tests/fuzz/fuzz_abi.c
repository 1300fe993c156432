// SPDX-License-Identifier: MIT
/*
 * The hypercall ABI under a hostile guest. Each input is a program for VM
 * `a`: hypercalls with any registers, vIRTE bytes, entries changed after the
 * host copied them, guest memory, MMIO and config accesses, device raises,
 * and vCPU states. VM `b`, its neighbour, set up two MSI-X vectors the way
 * its driver should and is raised now and then.
 *
 * After every step the target checks, and aborts on a violation (the IRTE
 * walk after each hypercall and at the end, the rest after every step):
 *  - isolation: every message a function of `a` sent landed in `a`'s vCPUs
 *    or was blocked; every one of `b`'s landed in `b` at a vector `b` asked
 *    for, and none was blocked;
 *  - every present host IRTE checks the source-id (SVT 1, SQ 0) of a
 *    function the host assigned;
 *  - accounting: the host table holds what the two VMs are charged for;
 *  - rollback: a SYNC of one entry, or a SET_TABLE, that failed left the
 *    host IRTE table and the quota as they were (docs/abi.md).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/hcall_abi.h"
#include "pvir/host.h"
#include "pvir/ir_driver.h"
#include "pvir/irte.h"
#include "pvir/msi.h"
#include "pvir/pci.h"
#include "pvir/physmem.h"
#include "pvir/vm.h"
#include "pvir/vmm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEM	 (1u << 20)
#define TABLE	 0x10000u
#define ENTRIES	 256u
#define A_NIC	 0x0020 /* guest BDFs */
#define A_DSA	 0x0028
#define A_MEM	 0x0030
#define B_NIC	 0x0020
#define MAX_OPS	 64
#define B_VECTOR 0x41

struct world {
	struct host *h;
	struct vm *a, *b;
	struct pci_func *a_nic, *a_dsa, *a_mem, *b_nic;
	uint64_t b_raised, b_landed;
	/* the hook's entry bytes, written over the vIRTE after the host copied it */
	bool hook_armed;
	uint8_t hook_bytes[PVIR_VIRTE_GUEST_SIZE];
};

static void violation(const char *what)
{
	fprintf(stderr, "fuzz_abi: invariant violated: %s\n", what);
	abort();
}

#define CHECK(cond)                       \
	do {                              \
		if (!(cond))              \
			violation(#cond); \
	} while (0)

/* ---- the input ------------------------------------------------------------------- */

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		uint8_t b = 0;

		if (in->left) {
			b = *in->p++;
			in->left--;
		}
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

/* ---- the world --------------------------------------------------------------------- */

static void observe(void *ctx, const struct host_landing *l)
{
	struct world *w = ctx;
	bool from_b = l->func == w->b_nic;

	if (l->vcpu)
		CHECK(l->vcpu->vm == (from_b ? w->b : w->a));
	if (!from_b)
		return;
	CHECK(l->outcome != IR_BLOCKED);
	if (l->vcpu)
		CHECK(l->vector == B_VECTOR || l->vector == B_VECTOR + 1);
	w->b_landed++;
}

static struct pci_func *device(struct host *h, uint16_t rid, unsigned msix, enum ims_storage ims,
			       unsigned msi)
{
	struct pci_func_config c = {.rid = rid,
				    .bars = {[0] = {.size = 0x10000}},
				    .msi_vectors = msi,
				    .msi_64bit = true,
				    .msi_per_vector_mask = true,
				    .msix_vectors = msix,
				    .msix_pba_offset = 0x2000,
				    .ims_storage = ims,
				    .ims_entries = ims ? 64 : 0,
				    .ims_offset = ims == IMS_DEVICE ? 0x8000 : 0};
	struct pci_func *f = NULL;

	if (host_add_device(h, &c, &f))
		abort();
	return f;
}

static struct vm *new_vm(struct host *h, const char *name, const unsigned *pin)
{
	struct vm_config c = {.name = name,
			      .vcpus = 2,
			      .pin = pin,
			      .mem_size = MEM,
			      .irte_quota = 64,
			      .pvir_service = true,
			      .remap_event = true};
	struct vm *vm = NULL;

	if (vm_create(h, &c, &vm))
		abort();
	return vm;
}

static struct vcpu_regs hcall(struct vm *vm, uint64_t nr, uint64_t rbx, uint64_t rcx)
{
	struct vcpu_regs r = {.rax = nr, .rbx = rbx, .rcx = rcx};

	vm_hypercall(vm, vm_vcpu(vm, 0), &r);
	return r;
}

static void virte_put(struct vm *vm, uint32_t idx, const uint8_t e[PVIR_VIRTE_GUEST_SIZE])
{
	(void)!physmem_write(vm_memory(vm), TABLE + (uint64_t)idx * PVIR_VIRTE_SIZE, e,
			     PVIR_VIRTE_GUEST_SIZE);
}

static void virte_make(uint8_t e[PVIR_VIRTE_GUEST_SIZE], uint16_t sid, uint16_t flags,
		       uint32_t dest, uint8_t vector)
{
	memset(e, 0, PVIR_VIRTE_GUEST_SIZE);
	memcpy(e + PVIR_VIRTE_SID, &sid, 2);
	memcpy(e + PVIR_VIRTE_FLAGS, &flags, 2);
	memcpy(e + PVIR_VIRTE_DEST, &dest, 4);
	e[PVIR_VIRTE_VECTOR] = vector;
}

static uint8_t msix_cap(struct vm *vm, uint16_t bdf)
{
	struct vcpu *v = vm_vcpu(vm, 0);
	uint8_t cap = (uint8_t)vm_cfg_read(vm, v, bdf, PCI_CAPABILITY_LIST, 1);

	for (unsigned n = 0; cap && n < 48 && vm_cfg_read(vm, v, bdf, cap, 1) != PCI_CAP_ID_MSIX;
	     n++)
		cap = (uint8_t)vm_cfg_read(vm, v, bdf, cap + 1u, 1);
	return cap;
}

static void msix_enable(struct vm *vm, uint16_t bdf)
{
	struct vcpu *v = vm_vcpu(vm, 0);

	vm_cfg_write(vm, v, bdf, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	vm_cfg_write(vm, v, bdf, msix_cap(vm, bdf) + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
}

static void mmio32(struct vm *vm, uint64_t gpa, uint32_t v)
{
	(void)!vm_mmio_write(vm, vm_vcpu(vm, 0), gpa, 4, v);
}

/* `b`, as its driver would: opt in, two vIRTEs, their messages in its MSI-X table. */
static void neighbour_setup(struct world *w)
{
	struct assigned_dev *d = vm_device_by_bdf(w->b, B_NIC);
	uint8_t e[PVIR_VIRTE_GUEST_SIZE];

	CHECK(hcall(w->b, PVIR_HC_SET_TABLE, TABLE, ENTRIES).rax == 0);
	msix_enable(w->b, B_NIC);
	for (uint32_t n = 0; n < 2; n++) {
		uint64_t entry = assigned_dev_bar_gpa(d, 0) + n * PCI_MSIX_ENTRY_SIZE;
		uint32_t m[3];

		virte_make(e, B_NIC, PVIR_VIRTE_PRESENT, n, (uint8_t)(B_VECTOR + n));
		virte_put(w->b, n, e);
		CHECK(hcall(w->b, PVIR_HC_SYNC, n, 1).rax == 0);
		(void)!physmem_read(vm_memory(w->b),
				    TABLE + n * PVIR_VIRTE_SIZE + PVIR_VIRTE_ADDR_LO, m, sizeof(m));
		mmio32(w->b, entry + PCI_MSIX_ENTRY_LOWER_ADDR, m[0]);
		mmio32(w->b, entry + PCI_MSIX_ENTRY_UPPER_ADDR, m[1]);
		mmio32(w->b, entry + PCI_MSIX_ENTRY_DATA, m[2]);
		mmio32(w->b, entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
	}
}

static struct world *world_new(void)
{
	static const unsigned pin_a[] = {0, 1}, pin_b[] = {2, 3};
	struct host_config hc = host_default_config();
	struct world *w = calloc(1, sizeof(*w));

	if (!w)
		abort();
	hc.pcpus = 4;
	hc.irte_entries = 256; /* room for both quotas */
	if (host_create(&hc, &w->h))
		abort();
	w->a_nic = device(w->h, 0x0300, 16, IMS_NONE, 8); /* MSI too: the MSI flag's paths */
	w->a_dsa = device(w->h, 0x0308, 0, IMS_DEVICE, 0);
	w->a_mem = device(w->h, 0x0310, 0, IMS_MEMORY, 0);
	w->b_nic = device(w->h, 0x0400, 16, IMS_NONE, 0);
	w->a = new_vm(w->h, "a", pin_a);
	w->b = new_vm(w->h, "b", pin_b);
	if (vm_assign_device(w->a, w->a_nic, A_NIC, NULL) ||
	    vm_assign_device(w->a, w->a_dsa, A_DSA, NULL) ||
	    vm_assign_device(w->a, w->a_mem, A_MEM, NULL) ||
	    vm_assign_device(w->b, w->b_nic, B_NIC, NULL))
		abort();
	host_set_observer(w->h, observe, w);
	neighbour_setup(w);
	/* `a` starts opted in with MSI-X on, so that short inputs reach the storage */
	(void)hcall(w->a, PVIR_HC_SET_TABLE, TABLE, ENTRIES);
	msix_enable(w->a, A_NIC);
	return w;
}

static void world_free(struct world *w)
{
	vm_free(w->a);
	vm_free(w->b);
	host_free(w->h);
	free(w);
}

/* ---- the invariants ----------------------------------------------------------------- */

static bool assigned_rid(uint16_t rid)
{
	return rid == 0x0300 || rid == 0x0308 || rid == 0x0310 || rid == 0x0400;
}

/*
 * Every present IRTE checks a function's source-id; the hash, for rollback
 * checks. @all: every entry of the table; else only those the driver has
 * allocated (after each hypercall: cheaper, and a stray write outside them
 * is caught by the walk over all at the end of the input).
 */
static uint64_t irtes_walk(struct world *w, bool all)
{
	struct ir_driver *d = host_ir_driver(w->h);
	uint64_t hash = UINT64_C(0xcbf29ce484222325);
	uint32_t entries = ir_driver_entries(d), left = ir_driver_in_use(d);

	/* allocated entries only: done once the last of them was seen */
	for (uint32_t i = 0; i < entries && (all || left); i++) {
		struct irte e;
		struct irte_remapped r;

		if (!all && !ir_irte_allocated(d, i))
			continue;
		left -= left > 0;
		if (ir_irte_read(d, i, &e))
			violation("IRTE unreadable");
		if (!irte_is_present(&e))
			continue;
		irte_remapped_decode(&e, &r); /* SID, SQ, SVT sit alike in both formats */
		CHECK(r.svt == IRTE_SVT_RID && r.sq == IRTE_SQ_ALL && assigned_rid(r.sid));
		hash = (hash ^ e.lo ^ (e.hi << 1) ^ i) * UINT64_C(0x100000001b3);
	}
	return hash;
}

static uint64_t irtes_checked(struct world *w)
{
	return irtes_walk(w, false);
}

static void check_accounting(struct world *w)
{
	CHECK(vm_irte_used(w->a) <= vm_irte_quota(w->a));
	CHECK(ir_driver_in_use(host_ir_driver(w->h)) == vm_irte_used(w->a) + vm_irte_used(w->b));
	CHECK(w->b_landed == w->b_raised);
	CHECK(host_sched_check(w->h));
}

/* ---- the steps ------------------------------------------------------------------------ */

static void hook(void *ctx, uint32_t index)
{
	struct world *w = ctx;

	if (w->hook_armed && index < ENTRIES)
		virte_put(w->a, index, w->hook_bytes);
	w->hook_armed = false;
}

static void step_sync(struct world *w, struct input *in)
{
	uint64_t first = take(in, 1), count = take(in, 1);
	uint64_t before_hash = 0, before_used = vm_irte_used(w->a);
	struct vcpu_regs r;

	if (count == 0xff)
		count = take(in, 8); /* any register value */
	if (count == 1)
		before_hash = irtes_checked(w);
	r = hcall(w->a, PVIR_HC_SYNC, first, count);
	if ((int64_t)r.rax < 0 && count == 1) {
		CHECK(irtes_checked(w) == before_hash);
		CHECK(vm_irte_used(w->a) == before_used);
	}
}

static void step_set_table(struct world *w, struct input *in)
{
	uint64_t gpa = take(in, 1) << 12, entries = take(in, 2);
	uint64_t before = irtes_checked(w);

	if (take(in, 1) == 0xff)
		gpa = take(in, 8);
	if ((int64_t)hcall(w->a, PVIR_HC_SET_TABLE, gpa, entries).rax < 0)
		CHECK(irtes_checked(w) == before);
}

static void step_virte(struct world *w, struct input *in, bool structured)
{
	static const uint16_t sids[] = {A_NIC, A_DSA, A_MEM, 0x0040};
	uint32_t idx = (uint32_t)take(in, 1);
	uint8_t e[PVIR_VIRTE_GUEST_SIZE];

	if (structured) {
		uint8_t sel = (uint8_t)take(in, 1);

		virte_make(e, sids[sel & 3], sel & 4 ? 0 : PVIR_VIRTE_PRESENT,
			   (uint32_t)take(in, 1) & 3, (uint8_t)(0x20 + take(in, 1) % 0xcc));
	} else {
		for (unsigned i = 0; i < sizeof(e); i++)
			e[i] = (uint8_t)take(in, 1);
	}
	virte_put(w->a, idx, e);
}

static void step_hook(struct world *w, struct input *in)
{
	for (unsigned i = 0; i < sizeof(w->hook_bytes); i++)
		w->hook_bytes[i] = (uint8_t)take(in, 1);
	w->hook_armed = true;
}

static uint64_t a_bar(struct world *w, uint8_t sel)
{
	static const uint16_t bdfs[] = {A_NIC, A_DSA, A_MEM};

	return assigned_dev_bar_gpa(vm_device_by_bdf(w->a, bdfs[sel % 3]), 0);
}

static void step_mmio(struct world *w, struct input *in, bool write)
{
	uint64_t gpa = a_bar(w, (uint8_t)take(in, 1)) + (take(in, 2) & ~UINT64_C(3));
	uint64_t v = 0;

	if (write)
		(void)!vm_mmio_write(w->a, vm_vcpu(w->a, 0), gpa, 4, take(in, 4));
	else
		(void)!vm_mmio_read(w->a, vm_vcpu(w->a, 0), gpa, 4, &v);
}

static void step_cfg(struct world *w, struct input *in)
{
	static const uint16_t bdfs[] = {A_NIC, A_DSA, A_MEM, 0x0040};
	static const unsigned sizes[] = {1, 2, 4, 4};
	uint8_t sel = (uint8_t)take(in, 1);

	vm_cfg_write(w->a, vm_vcpu(w->a, 0), bdfs[sel & 3], (uint16_t)take(in, 1),
		     sizes[(sel >> 2) & 3], (uint32_t)take(in, 4));
}

static void step_guest_mem(struct world *w, struct input *in)
{
	uint64_t gpa = take(in, 3) % (MEM - 8), v = take(in, 8);

	(void)!physmem_write(vm_memory(w->a), gpa, &v, sizeof(v));
}

static void step_raise_a(struct world *w, struct input *in)
{
	uint8_t sel = (uint8_t)take(in, 1), n = (uint8_t)take(in, 1);
	enum pci_irq_result r;

	if (sel % 4 == 0)
		(void)!pci_func_raise_msix(w->a_nic, n % 16, &r);
	else if (sel % 4 == 3)
		(void)!pci_func_raise_msi(w->a_nic, n % 8, &r);
	else
		(void)!pci_func_raise_ims(sel % 4 == 1 ? w->a_dsa : w->a_mem, n % 64, &r);
}

static void step_raise_b(struct world *w, struct input *in)
{
	enum pci_irq_result r = PCI_IRQ_SENT;

	CHECK(pci_func_raise_msix(w->b_nic, (unsigned)take(in, 1) % 2, &r) == 0);
	w->b_raised += r == PCI_IRQ_SENT;
}

static void step_vcpu(struct world *w, struct input *in)
{
	uint8_t sel = (uint8_t)take(in, 1);
	struct vm *vm = sel & 1 ? w->b : w->a;
	struct vcpu *v = vm_vcpu(vm, (sel >> 1) & 1);

	switch ((sel >> 2) % 5) {
	case 0:
		host_vcpu_preempt(w->h, v);
		break;
	case 1:
		host_vcpu_run(w->h, v);
		break;
	case 2:
		(void)host_vcpu_block(w->h, v);
		break;
	case 3:
		(void)!host_vcpu_migrate(w->h, v, (unsigned)(sel >> 5) % host_pcpus(w->h));
		break;
	default:
		while (vm_vcpu_ack(v) >= 0)
			vm_vcpu_eoi(v);
	}
}

/* Return: whether the step could have changed the host IRTE table. */
static bool step(struct world *w, struct input *in)
{
	switch (take(in, 1) % 14) {
	case 0:
	case 1:
		step_sync(w, in);
		return true;
	case 2:
		step_set_table(w, in);
		return true;
	case 3:
		if (take(in, 1) & 1)
			(void)hcall(w->a, PVIR_HC_SET_EVENT, take(in, 2), take(in, 1));
		else
			(void)hcall(w->a, PVIR_HC_QUERY, take(in, 1), take(in, 1));
		break;
	case 4:
		step_virte(w, in, false);
		break;
	case 5:
		step_virte(w, in, true);
		break;
	case 6:
		step_hook(w, in);
		break;
	case 7:
		step_mmio(w, in, true);
		break;
	case 8:
		step_mmio(w, in, false);
		break;
	case 9:
		step_cfg(w, in);
		break;
	case 10:
		step_guest_mem(w, in);
		break;
	case 11:
		step_raise_a(w, in);
		step_raise_b(w, in);
		break;
	case 12: /* the host lets entries of `a` go, as a destination would, and says so */
		(void)!vm_pvir_revoke(w->a, (uint32_t)(take(in, 2) % ENTRIES),
				      (uint32_t)(1 + take(in, 1) % 8));
		(void)!vm_pvir_remap_event(w->a);
		return true;
	default:
		step_vcpu(w, in);
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world *w = world_new();
	struct input in = {data, size};

	vm_hcall_copy_hook(w->a, hook, w);
	for (unsigned n = 0; n < MAX_OPS && in.left; n++) {
		if (step(w, &in))
			(void)irtes_checked(w);
		check_accounting(w);
	}
	(void)irtes_walk(w, true);
	world_free(w);
	return 0;
}
