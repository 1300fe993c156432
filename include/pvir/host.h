/* SPDX-License-Identifier: MIT */
/*
 * The host machine: pCPUs with their local APICs, host memory, the VT-d IR
 * unit and its driver, the physical PCI functions, and the KVM-like parts that
 * deliver device interrupts to vCPUs (arch/x86/kvm/vmx/posted_intr.c):
 *
 *  - every vCPU has a posted-interrupt descriptor in host memory;
 *  - running:   NV = notification vector (0xf2), NDST = its pCPU; a post is
 *               taken into the vAPIC by the CPU itself, with no VM exit;
 *  - preempted: SN = 1; posts accumulate in the PIR, taken when it runs again;
 *  - blocked:   NV = wakeup vector (0xf1), on its pCPU's wakeup list; the
 *               wakeup handler wakes it (an exit on whatever runs there);
 *  - migrated:  NDST follows the new pCPU.
 *
 * On an AMD-Vi host (HOST_IOMMU_AMDVI) each device has its own interrupt table and
 * posting is AVIC guest mode (KVM's svm/avic.c): each vCPU has a vAPIC backing page
 * into whose IRR the unit posts; vcpu_load and vcpu_put rewrite IsRun and the
 * destination of the vCPU's guest-mode entries (no invalidation: the unit does not
 * cache them); a running vCPU's core gets a doorbell, and a post to a blocked vCPU
 * goes to the GA log, whose interrupt wakes it.
 *
 * Where posting cannot serve (the unit lacks CAP.PI), an interrupt is
 * remapped to a host vector on the pCPU the vCPU runs on, and the host's
 * handler injects it (an exit when the vCPU is in guest mode); such IRTEs
 * follow the vCPU when it migrates, so one pCPU never collects them all.
 *
 * A host_irq is one host interrupt of one device, as Linux holds it: an IRTE
 * bound by source-id, a host vector while requested, and the IRTE's mode.
 * Only the host kernel's interfaces (src/host/vfio.c, src/host/kvm_irq.c:
 * VFIO SET_IRQS, irqfds, GSI routes, IRQ bypass) make and aim them, under
 * every design; nothing else writes a host IRTE.
 */
#ifndef PVIR_HOST_H
#define PVIR_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "pvir/compiler.h"
#include "pvir/ir_unit.h"
#include "pvir/lapic.h"
#include "pvir/msi.h"

struct physmem;
struct ir_unit;
struct ir_driver;
struct amdvi_unit;
struct amdvi_driver;
struct pci_func;
struct pci_func_config;
struct vm;
struct vcpu;

#define HOST_POSTED_INTR_VECTOR	       0xf2
#define HOST_POSTED_INTR_WAKEUP_VECTOR 0xf1
/*
 * Host device vectors, per pCPU: FIRST_EXTERNAL_VECTOR (0x20) up to
 * FIRST_SYSTEM_VECTOR (0xeb, POSTED_MSI_NOTIFICATION_VECTOR, since Linux
 * 6.10), less IA32_SYSCALL_VECTOR: 202 a pCPU
 * (arch/x86/include/asm/irq_vectors.h).
 */
#define HOST_FIRST_DEVICE_VECTOR       0x20
#define HOST_LAST_DEVICE_VECTOR	       0xea
#define HOST_IA32_SYSCALL_VECTOR       0x80
#define HOST_DEVICE_VECTORS	       (HOST_LAST_DEVICE_VECTOR - HOST_FIRST_DEVICE_VECTOR + 1 - 1)
#define HOST_MAX_PCPUS		       1024
#define HOST_MAX_DEVICES	       64 /* physical functions a host holds */

/*
 * The host kernel (docs/host-kernel.md): how a KVM route commit treats the
 * irqfds whose routes did not change, and the further changes `tuned` names.
 */
enum host_kernel {
	HOST_KERNEL_STOCK,  /* Linux as released, with the VFIO IMS index */
	HOST_KERNEL_LEGACY, /* before 515a0c79e796: every commit re-aims every irqfd's IRTE */
	HOST_KERNEL_TUNED,  /* stock plus MSI irqfds without routes, posting without a vector */
	HOST_KERNEL_COUNT,
};

/* The IOMMU the host has. */
enum host_iommu {
	HOST_IOMMU_VTD,
	HOST_IOMMU_AMDVI, /* per-device tables; posting is AVIC guest mode */
};

struct host_config {
	enum host_iommu iommu;
	uint32_t amd_table; /* AMD-Vi: entries per device, 512 or 2048 */
	enum host_kernel kernel;
	bool msix_noresize; /* VFIO without dynamic MSI-X (before Linux 6.5): NORESIZE */
	unsigned pcpus;
	uint32_t irte_entries; /* power of two, up to 65536 */
	bool posting;	       /* the unit has CAP.PI; on AMD-Vi, GA (AVIC guest mode) */
	bool x2apic;	       /* IRTA.EIME; on AMD-Vi, XTEn */
	unsigned iec_slots;
	unsigned nfr;
};

struct host_config host_default_config(void);

/*
 * What the platform saw of device interrupts, by outcome. The first eight
 * are what a device message counts: one cache line in the host.
 */
struct host_stats {
	uint64_t messages;	  /* interrupt writes from devices */
	uint64_t remapped;	  /* delivered through a remapped IRTE */
	uint64_t posted;	  /* posted into a descriptor */
	uint64_t notifications;	  /* notification events sent */
	uint64_t pi_in_guest;	  /* notifications taken by a running vCPU, no exit */
	uint64_t wakeups;	  /* vCPUs woken by the wakeup handler */
	uint64_t blocked;	  /* blocked by the IR unit (by reason in the unit's stats) */
	uint64_t passthrough;	  /* compatibility format let through */
	uint64_t injected;	  /* fallback interrupts the host injected */
	uint64_t unhandled;	  /* host vectors with no handler (spurious) */
	uint64_t vectors_held;	  /* host vectors held now, over every pCPU */
	uint64_t format_changes;  /* IRTEs switched between posted and remapped */
	uint64_t switches;	  /* slices that ended with another vCPU waiting */
	uint64_t vector_refusals; /* host vectors asked for when every pCPU's were taken */
};

struct host;

/* Where one device message ended up, for an observer (the engine, a trace). */
struct host_landing {
	uint16_t rid;
	const struct pci_func
	    *func; /* the function that sent it (the simulator knows; the IOMMU sees only @rid) */
	enum ir_outcome outcome;
	uint8_t fault;	   /* IR_BLOCKED on VT-d: the fault reason; 0 on AMD-Vi */
	uint8_t amd_block; /* IR_BLOCKED on AMD-Vi: enum amdvi_block */
	uint8_t amd_event; /* AMD-Vi: the event code it logged, 0 if none */
	struct vcpu *vcpu; /* posted to, or injected into; NULL otherwise */
	uint8_t vector;	   /* the guest vector at @vcpu */
	bool merged;	   /* posted onto a PIR bit already set */
	bool held;	   /* taken by the VMM's own handler, to be delivered later */
};

typedef void (*host_observer_fn)(void *ctx, const struct host_landing *l);

/**
 * host_create() - build and boot a host: IR enabled, CFI clear
 * Return: 0 and *@ret, -EINVAL (bad config), -ENOMEM, -EIO (IR would not enable).
 */
int host_create(const struct host_config *cfg, struct host **ret) WARN_UNUSED;
void host_free(struct host *h);
/*
 * host_power_off() - the run is over and the host goes with its VMs: their
 * teardown releases IRTEs without writing or invalidating them (see
 * ir_driver_power_off()). Reports are gathered before it.
 */
void host_power_off(struct host *h);

unsigned host_pcpus(const struct host *h);
enum host_kernel host_kernel(const struct host *h);
bool host_msix_noresize(const struct host *h);
/** host_kernel_name() - "stock", "legacy", "tuned"; host_kernel_parse() - the inverse */
const char *host_kernel_name(enum host_kernel k);
bool host_kernel_parse(const char *name, enum host_kernel *ret);
struct lapic *host_pcpu_apic(struct host *h, unsigned pcpu);
/** host_pcpu_running() - the vCPU in guest mode on @pcpu, or NULL */
struct vcpu *host_pcpu_running(const struct host *h, unsigned pcpu);
struct physmem *host_memory(struct host *h);
/* The VT-d unit and driver; NULL on an AMD-Vi host, and the reverse. */
struct ir_unit *host_ir_unit(struct host *h);
struct ir_driver *host_ir_driver(struct host *h);
struct amdvi_unit *host_amdvi_unit(struct host *h);
struct amdvi_driver *host_amdvi_driver(struct host *h);
enum host_iommu host_iommu(const struct host *h);
/** host_remapping_secure() - remapping on, and nothing unremapped let through */
bool host_remapping_secure(const struct host *h);
/** host_posting() - interrupts can be posted to vCPUs (VT-d CAP.PI, AMD-Vi GA) */
bool host_posting(const struct host *h);

/* The IR driver's work, whichever the IOMMU. */
struct host_ir_work {
	uint64_t irte_writes;
	uint64_t invalidations; /* VT-d IEC invalidations; AMD-Vi INVALIDATE_INTERRUPT_TABLE */
	uint32_t in_use;	/* entries allocated */
};

void host_ir_work(const struct host *h, struct host_ir_work *ret);
/** host_drain_faults() - the host's fault handler: drain the fault or event log */
void host_drain_faults(struct host *h);
const struct host_stats *host_stats(const struct host *h);

/* Test-only faults: deliberate bugs, to show that checks catch them. */
enum host_fault {
	HOST_FAULT_NONE,
	HOST_FAULT_DROP_NEXT_PIR, /* the next vector taken from a PIR never reaches the vIRR */
	/*
	 * The next host_irq_target() at a guest device vector (below Linux's system
	 * vectors, 0xec: not a parked interrupt's shutdown vector) aims at the one above.
	 */
	HOST_FAULT_MISROUTE_NEXT,
};

void host_inject_fault(struct host *h, enum host_fault f);

/** host_set_observer() - @fn is called once for every device message; NULL: none */
void host_set_observer(struct host *h, host_observer_fn fn, void *ctx);

/**
 * host_add_device() - plug in a physical PCI function, its interrupts wired
 * to the IOMMU. The host owns it.
 * Return: 0 and *@ret, or the pci_func_create() error.
 */
int host_add_device(struct host *h, const struct pci_func_config *cfg,
		    struct pci_func **ret) WARN_UNUSED;

/*
 * Who holds a requester-id (docs/design.md §5). Source validation checks the
 * requester-id only, so where functions sharing one (SIOV interfaces told
 * apart by PASID) are held by different VMs, none of them may program its
 * own interrupt storage: the VMM mediates it. @owner is an opaque VM handle.
 */
/**
 * host_rid_claim() - @owner holds one more function of @rid
 * @unmediated: its interrupt storage cannot be mediated (IMS in guest memory)
 *
 * Return: 0; -EPERM if another owner holds @rid and either side's storage
 * cannot be mediated; -EBUSY if another owner has storage of @rid in its
 * guest's hands (host_rid_direct()); -ENOSPC.
 */
int host_rid_claim(struct host *h, uint16_t rid, const void *owner, bool unmediated) WARN_UNUSED;
void host_rid_release(struct host *h, uint16_t rid, const void *owner, bool unmediated);
/** host_rid_exclusive() - no one but @owner holds a function of @rid */
bool host_rid_exclusive(const struct host *h, uint16_t rid, const void *owner);
/** host_rid_direct() - @owner's guest programs storage of @rid itself (@on), or no more */
void host_rid_direct(struct host *h, uint16_t rid, const void *owner, bool on);

/* ---- host memory ---------------------------------------------------------- */

/** host_alloc_pid() - a zeroed, 64-byte aligned descriptor in host memory; 0 if full */
uint64_t host_alloc_pid(struct host *h);

/* ---- vCPU scheduling, as KVM's vcpu_load/vcpu_put see it ------------------- */

/*
 * The scheduler's calls. Each keeps the descriptor consistent with the state
 * (KVM's posted_intr.c) and counts the exits and wakeups it causes in the VM.
 *
 * Each pCPU runs one vCPU at a time; the runnable others wait in its queue,
 * in turn (round-robin: fair share for vCPUs of equal weight). Whoever
 * drives time ends slices with host_sched_tick(). A waiting vCPU is
 * VCPU_PREEMPTED with SN set: posts to it accumulate in its PIR without a
 * notification, and it takes them in when it runs.
 */
/** host_vcpu_init() - a descriptor for @v; Return: 0, or -ENOMEM (no room in host memory) */
int host_vcpu_init(struct host *h, struct vcpu *v) WARN_UNUSED;
/** host_vcpu_run() - @v is runnable: it runs now if its pCPU is free, else waits its turn */
void host_vcpu_run(struct host *h, struct vcpu *v);
/** host_vcpu_preempt() - the host takes @v off its pCPU (or out of its queue) until run again */
void host_vcpu_preempt(struct host *h, struct vcpu *v);
/** host_vcpu_block() - the guest halted; Return: false if it had work and stays running */
bool host_vcpu_block(struct host *h, struct vcpu *v);
/** host_vcpu_migrate() - move to @pcpu; a runnable vCPU runs there or waits its turn */
int host_vcpu_migrate(struct host *h, struct vcpu *v, unsigned pcpu) WARN_UNUSED;
void host_vcpu_offline(struct host *h, struct vcpu *v);
/** host_vcpu_online() - an offline vCPU runs again (or waits its turn); -EINVAL if not offline */
int host_vcpu_online(struct host *h, struct vcpu *v) WARN_UNUSED;
/**
 * host_sched_tick() - the slice of the vCPU running on @pcpu ends: if
 * another waits there, it runs and the one before goes to the back.
 * Return: the vCPU switched in, or NULL if nothing changed.
 */
struct vcpu *host_sched_tick(struct host *h, unsigned pcpu);
/** host_sched_waiting() - runnable vCPUs waiting for a slice, over every pCPU */
unsigned host_sched_waiting(const struct host *h);
/**
 * host_sched_check() - the run queues agree with the vCPUs: each queued one
 * is preempted, on its own pCPU's queue, once; a pCPU with a queue runs
 * someone; the count is right.
 */
bool host_sched_check(const struct host *h);
/** host_vcpu_exit() - the vCPU is destroyed: forget its descriptor */
void host_vcpu_exit(struct host *h, struct vcpu *v);
/**
 * host_vcpu_harvest() - KVM's step before it saves a vCPU's APIC (vmx_sync_pir_to_irr):
 * the posted vectors (the PIR; on AMD-Vi the backing page's IRR) into its vAPIC's IRR
 */
void host_vcpu_harvest(struct host *h, struct vcpu *v);
/** host_vcpu_pir_count() - vectors waiting in @v's PIR */
unsigned host_vcpu_pir_count(struct host *h, struct vcpu *v);

/* ---- host interrupts: Linux's irqs behind VFIO, and KVM's posting of them ---- */

/*
 * A host_irq is one host interrupt of a device (requester-id): an IRTE from
 * host_irq_alloc() on; a host vector on some pCPU while requested (Linux's
 * request_irq(), held even while the IRTE is posted); and the IRTE's mode,
 * remapped to that host vector or posted to a vCPU, which KVM's IRQ bypass
 * sets (host_irq_target(), pi_update_irte).
 */
struct host_irq;

/* Called for an interrupt that arrives through the remapped IRTE (a host handler). */
typedef void (*host_irq_handler_fn)(void *ctx, struct host_irq *hi);

/**
 * host_irq_alloc() - a host IRTE for the device with requester-id @rid,
 * not yet present
 * Return: 0 and *@ret, -ENOSPC (IR table full), -ENOMEM.
 */
int host_irq_alloc(struct host *h, uint16_t rid, struct host_irq **ret) WARN_UNUSED;
/**
 * host_irq_alloc_at() - the same at IRTE @index exactly (on AMD-Vi, of @rid's table):
 * how a destination keeps a migrated VM's handles (docs/migration.md). HOST_IRQ_ANY:
 * any, as host_irq_alloc(). Return: 0 and *@ret; -EBUSY when @index is taken, -EINVAL
 * when it is not in the table; -ENOSPC, -ENOMEM.
 */
#define HOST_IRQ_ANY UINT32_MAX
int host_irq_alloc_at(struct host *h, uint16_t rid, uint32_t index,
		      struct host_irq **ret) WARN_UNUSED;

/*
 * host_irq_alloc_for() - the same for function @f: from its handle window's
 * block when it has one (docs/design.md §5), so that its messages pass the window.
 */
int host_irq_alloc_for(struct host *h, const struct pci_func *f, struct host_irq **ret) WARN_UNUSED;
/**
 * host_irq_alloc_block_for() - @count host interrupts for function @f's multi-message
 * MSI, the n-th into @ret[n]: IRTEs in one naturally aligned block of @count rounded up
 * to a power of two, as Linux's alloc_irte() takes them for multi-MSI. The device holds
 * the first one's message (host_irq_msg(): the block's handle, SHV, subhandle 0) and
 * vector n of it reaches IRTE first + n. The block goes back with its last interrupt.
 * Return: 0; -EINVAL (@count 0 or above 32; on VT-d, a block past ECAP.MHMV); -ENOSPC;
 * -ENOMEM. On failure nothing is held.
 */
int host_irq_alloc_block_for(struct host *h, const struct pci_func *f, unsigned count,
			     struct host_irq **ret) WARN_UNUSED;
/** host_window_idle() - IRTEs reserved for handle windows that hold no interrupt */
uint32_t host_window_idle(const struct host *h);
/** host_func_windowed() - @f enforces a handle window the host set */
bool host_func_windowed(struct host *h, const struct pci_func *f);

/**
 * host_irq_request() - request_irq(): a host vector on the least-loaded pCPU,
 * the IRTE remapped to it; @handler runs for each interrupt that arrives.
 * On a `tuned` kernel a posted interrupt gives its vector back, and takes
 * one again when it is remapped (docs/host-kernel.md, T2).
 * Return: 0, -EBUSY (already requested), -ENOSPC (no host vector free on any
 * pCPU), -EIO. On failure nothing changed.
 */
int host_irq_request(struct host *h, struct host_irq *hi, host_irq_handler_fn handler,
		     void *ctx) WARN_UNUSED;

/** host_irq_shutdown() - free_irq(): the IRTE cleared (P=0), the host vector released */
void host_irq_shutdown(struct host *h, struct host_irq *hi);

/**
 * host_irq_target() - aim the interrupt at @vector of @v (KVM's
 * pi_update_irte for a single-vCPU route)
 *
 * Posted when the unit can post. Otherwise remapped to its host vector,
 * which follows @v's pCPU where one is free there (docs/design.md §7), and an
 * interrupt reaches @v through the handler. An interrupt not yet requested
 * is requested first, with no handler: it is injected into @v directly.
 * The message (handle) never changes. On failure nothing changed.
 * Return: 0, -ENOSPC (no host vector to request), -EIO.
 */
int host_irq_target(struct host *h, struct host_irq *hi, struct vcpu *v, uint8_t vector,
		    bool urgent) WARN_UNUSED;

/** host_irq_untarget() - back to remapped, to the host vector where it is (no route to post) */
int host_irq_untarget(struct host *h, struct host_irq *hi) WARN_UNUSED;

/** host_vcpu_inject() - KVM injects @vector into @v (kvm_set_msi), waking it if halted */
void host_vcpu_inject(struct host *h, struct vcpu *v, uint8_t vector);

/**
 * host_irq_held() - the interrupt being delivered now was taken by a VMM's
 * user-space handler, which holds it (an emulated pending bit) to inject later
 */
void host_irq_held(struct host *h);

/** host_irq_free() - tear the IRTE down (P=0, invalidated) and release it */
void host_irq_free(struct host *h, struct host_irq *hi);

/** host_irq_msg() - the remappable message that names this IRTE */
struct msi_msg host_irq_msg(const struct host_irq *hi);
uint32_t host_irq_index(const struct host_irq *hi);
bool host_irq_posted(const struct host_irq *hi);
bool host_irq_requested(const struct host_irq *hi);
/** host_irq_pcpu() - the pCPU holding its host vector (requested interrupts) */
unsigned host_irq_pcpu(const struct host_irq *hi);
struct vcpu *host_irq_vcpu(const struct host_irq *hi);
uint8_t host_irq_vector(const struct host_irq *hi);

#endif
