// SPDX-License-Identifier: MIT
/*
 * The VM object: guest memory, vCPUs (scheduled through host.c, which keeps
 * their posted-interrupt descriptors right), exit counters, the IRTE quota
 * and the guest's view of its virtual APIC.
 */
#include "pvir/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "pvir/host.h"
#include "pvir/physmem.h"
#include "vm_internal.h"

#define PAGE_SIZE 4096

static bool config_valid(const struct host *h, const struct vm_config *c)
{
	if (!c->vcpus || c->vcpus > VM_MAX_VCPUS || !c->mem_size || c->mem_size % PAGE_SIZE)
		return false;
	for (unsigned i = 0; c->pin && i < c->vcpus; i++)
		if (c->pin[i] >= host_pcpus(h))
			return false;
	return true;
}

int vm_create(struct host *h, const struct vm_config *cfg, struct vm **ret)
{
	struct vm *vm;

	if (!config_valid(h, cfg))
		return -EINVAL;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->vcpus = calloc(cfg->vcpus, sizeof(*vm->vcpus));
	vm->mem = physmem_new(cfg->mem_size);
	if (!vm->vcpus || !vm->mem) {
		vm_free(vm);
		return -ENOMEM;
	}
	vm->host = h;
	snprintf(vm->name, sizeof(vm->name), "%s", cfg->name ? cfg->name : "vm");
	vm->nvcpus = cfg->vcpus;
	vm->quota = cfg->irte_quota;
	vm->pvir_service = cfg->pvir_service;
	vm->remap_event = cfg->pvir_service && cfg->remap_event;
	vm->viommu_cfg = cfg->viommu;
	if (kvm_irq_init(vm)) {
		vm_free(vm);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < cfg->vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->vm = vm;
		v->id = i;
		v->apic_id = i;
		v->pcpu = cfg->pin ? cfg->pin[i] : i % host_pcpus(h);
		if (host_vcpu_init(h, v)) {
			vm->nvcpus = i; /* the ones with descriptors */
			vm_free(vm);
			return -ENOMEM;
		}
		host_vcpu_run(h, v);
	}
	if (cfg->viommu && viommu_create(vm)) {
		vm_free(vm);
		return -ENOMEM;
	}
	*ret = vm;
	return 0;
}

void vm_free(struct vm *vm)
{
	if (!vm)
		return;
	/* host IRTEs first: the vIRTEs', then the emulated MSI-X entries' */
	hcall_free(vm);
	vmm_free_devices(vm);
	kvm_irq_free(vm);
	viommu_free(vm);
	for (unsigned i = 0; vm->vcpus && i < vm->nvcpus; i++)
		host_vcpu_exit(vm->host, &vm->vcpus[i]);
	physmem_free(vm->mem);
	free(vm->vcpus);
	free(vm);
}

const char *vm_name(const struct vm *vm)
{
	return vm->name;
}

struct host *vm_host(struct vm *vm)
{
	return vm->host;
}

unsigned vm_vcpus(const struct vm *vm)
{
	return vm->nvcpus;
}

struct vcpu *vm_vcpu(struct vm *vm, unsigned id)
{
	return id < vm->nvcpus ? &vm->vcpus[id] : NULL;
}

/* A vCPU's APIC ID is its index (vm_create), as KVM's default x2APIC IDs are. */
struct vcpu *vm_vcpu_by_apic_id(struct vm *vm, uint32_t apic_id)
{
	return apic_id < vm->nvcpus ? &vm->vcpus[apic_id] : NULL;
}

struct physmem *vm_memory(struct vm *vm)
{
	return vm->mem;
}

const struct vm_exits *vm_exits(const struct vm *vm)
{
	return &vm->exits;
}

void vm_count_exit(struct vm *vm, enum vm_exit_reason reason)
{
	uint64_t *by_reason[] = {
	    [VM_EXIT_HYPERCALL] = &vm->exits.hypercall,
	    [VM_EXIT_MMIO_TRAP] = &vm->exits.mmio_trap,
	    [VM_EXIT_EXT_INTR] = &vm->exits.ext_intr,
	    [VM_EXIT_WAKEUP] = &vm->exits.wakeup,
	    [VM_EXIT_HLT] = &vm->exits.hlt,
	    [VM_EXIT_CFG] = &vm->exits.cfg,
	};

	vm->exits.total++;
	(*by_reason[reason])++;
}

uint32_t vm_irte_quota(const struct vm *vm)
{
	return vm->quota;
}

uint32_t vm_irte_used(const struct vm *vm)
{
	return vm->used;
}

int vm_irte_charge(struct vm *vm)
{
	if (vm->used >= vm->quota)
		return -EDQUOT;
	vm->used++;
	return 0;
}

void vm_irte_uncharge(struct vm *vm)
{
	if (vm->used)
		vm->used--;
}

int vm_vcpu_ack(struct vcpu *v)
{
	return v->state == VCPU_RUNNING ? lapic_take(&v->vapic) : -1;
}

void vm_vcpu_eoi(struct vcpu *v)
{
	(void)lapic_eoi(&v->vapic);
}

bool vm_vcpu_has_pending(struct vcpu *v)
{
	return lapic_pending_vector(&v->vapic) >= 0;
}

uint64_t vm_vcpu_irr_merged(const struct vcpu *v)
{
	return v->vapic.stats.coalesced;
}

unsigned vm_vcpu_irr_count(struct vcpu *v)
{
	const struct hc_state *hc = &v->vm->hc;
	unsigned n = 0;

	for (unsigned w = 0; w < 4; w++)
		n += (unsigned)__builtin_popcountll(v->vapic.irr[w]);
	/* the VMM's remap event is its own, not a device's */
	if (hc->event_vector && hc->event_vcpu == v && lapic_irr_test(&v->vapic, hc->event_vector))
		n--;
	return n;
}

bool vm_vcpu_irr_test(struct vcpu *v, uint8_t vector)
{
	return lapic_irr_test(&v->vapic, vector);
}
