/* SPDX-License-Identifier: MIT */
/*
 * A virtual machine as the VMM holds it: guest memory, vCPUs with their
 * virtual APICs and posted-interrupt descriptors, assigned devices, exit
 * counts, and the interface the guest world uses — the only way in:
 *
 *   config space   vm_cfg_read/write       always an exit (the VMM emulates it)
 *   MMIO           vm_mmio_read/write      direct (no exit) or trapped, per region
 *   hypercall      vm_hypercall            an exit, answered by the service
 *   interrupts     vm_vcpu_ack/eoi         the vAPIC (APICv: no exit)
 *
 * Guest memory itself is the guest's own RAM: the guest kernel reads and
 * writes it directly (vm_memory), the host copies from it when asked.
 */
#ifndef PVIR_VM_H
#define PVIR_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "pvir/compiler.h"
#include "pvir/lapic.h"

struct host;
struct host_irq;
struct physmem;
struct pci_func;
struct assigned_dev;

#define VM_MAX_VCPUS   1024
#define VM_MAX_DEVICES 16
#define VM_NAME_MAX    32

enum vcpu_state {
	VCPU_RUNNING,	/* in guest mode on its pCPU */
	VCPU_PREEMPTED, /* descheduled (waiting for a slice, or held off): notifications suppressed */
	VCPU_BLOCKED,	/* halted: wakeup vector armed */
	VCPU_OFFLINE,	/* taken offline by the guest */
};

struct vcpu {
	struct vm *vm;
	unsigned id;
	uint32_t apic_id; /* guest x2APIC ID: the vCPU index */
	enum vcpu_state state;
	unsigned pcpu;
	uint64_t pid_pa;     /* its posted-interrupt descriptor */
	struct lapic vapic;  /* the virtual APIC (vIRR, vISR) */
	bool on_wakeup_list; /* of pCPU @wakeup_pcpu */
	unsigned wakeup_pcpu;
	uint64_t entries;	   /* times the scheduler ran it (vcpu_load) */
	bool queued;		   /* on @pcpu's run queue, waiting for a slice */
	struct vcpu *rq_next;	   /* the next one in that queue */
	struct host_irq *fallback; /* remapped (non-posted) interrupts aimed here */
	/* AMD-Vi with AVIC: where the unit posts, and what KVM updates at load and put */
	uint64_t avic_page;	  /* its vAPIC backing page in host memory */
	uint32_t ga_tag;	  /* the GA log's name for it */
	struct host_irq *ga_irqs; /* guest-mode interrupts aimed here (KVM's ir_list) */
};

/* Exits by reason. More may come; these names are the report's. */
struct vm_exits {
	uint64_t total;
	uint64_t hypercall;
	uint64_t mmio_trap;
	uint64_t ext_intr;
	uint64_t wakeup;
	uint64_t hlt;
	uint64_t cfg;
};

enum vm_exit_reason {
	VM_EXIT_HYPERCALL,
	VM_EXIT_MMIO_TRAP,
	VM_EXIT_EXT_INTR,
	VM_EXIT_WAKEUP,
	VM_EXIT_HLT,
	VM_EXIT_CFG,
};

/* The x86 registers a hypercall uses (KVM convention). */
struct vcpu_regs {
	uint64_t rax;
	uint64_t rbx;
	uint64_t rcx;
	uint64_t rdx;
	uint64_t rsi;
};

struct vm_config {
	const char *name;
	unsigned vcpus;
	const unsigned *pin; /* vCPU i starts on pCPU pin[i]; NULL: pCPU i mod the host's */
	uint64_t mem_size;   /* bytes, a multiple of 4 KiB */
	uint32_t irte_quota; /* host IRTEs this VM may hold */
	bool pvir_service;   /* a VMM that knows the pvir hypercalls */
	bool remap_event;    /* ... and offers the remap event (docs/migration.md) */
	bool viommu;	     /* an emulated VT-d vIOMMU with IR at VMM_VIOMMU_BASE */
};

struct vm;

/**
 * vm_create() - a VM on @h, each vCPU runnable on its pCPU (pin[i], else
 * i modulo the host's pCPUs): running, or waiting its turn where the pCPU is taken
 * Return: 0 and *@ret, -EINVAL (no vCPUs, too many, a pin beyond the host's
 * pCPUs, a memory size that is not whole pages), -ENOMEM.
 */
int vm_create(struct host *h, const struct vm_config *cfg, struct vm **ret) WARN_UNUSED;
void vm_free(struct vm *vm);

const char *vm_name(const struct vm *vm);
struct host *vm_host(struct vm *vm);
unsigned vm_vcpus(const struct vm *vm);
struct vcpu *vm_vcpu(struct vm *vm, unsigned id);
struct vcpu *vm_vcpu_by_apic_id(struct vm *vm, uint32_t apic_id);
struct physmem *vm_memory(struct vm *vm);
const struct vm_exits *vm_exits(const struct vm *vm);
void vm_count_exit(struct vm *vm, enum vm_exit_reason reason);

/* ---- the IRTE quota ---------------------------------------------------------- */

uint32_t vm_irte_quota(const struct vm *vm);
uint32_t vm_irte_used(const struct vm *vm);
/** vm_irte_charge() - take one from the quota; Return: 0 or -EDQUOT */
int vm_irte_charge(struct vm *vm) WARN_UNUSED;
void vm_irte_uncharge(struct vm *vm);

/* ---- interrupts, seen from inside the guest ----------------------------------- */

/**
 * vm_vcpu_ack() - the guest takes its highest deliverable interrupt (INTA)
 * Return: the vector, or -1 if none is deliverable or @v is not running.
 */
int vm_vcpu_ack(struct vcpu *v);
void vm_vcpu_eoi(struct vcpu *v);
/** vm_vcpu_has_pending() - an interrupt is deliverable to @v now */
bool vm_vcpu_has_pending(struct vcpu *v);
/** vm_vcpu_irr_merged() - interrupts that found their vector already pending in @v's IRR */
uint64_t vm_vcpu_irr_merged(const struct vcpu *v);
/** vm_vcpu_irr_count() - vectors pending in @v's IRR but the VMM's remap event */
unsigned vm_vcpu_irr_count(struct vcpu *v);
/** vm_vcpu_irr_test() - the guest reads its APIC's IRR bit for @vector */
bool vm_vcpu_irr_test(struct vcpu *v, uint8_t vector);

#endif
