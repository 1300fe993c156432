/* SPDX-License-Identifier: MIT */
/*
 * The VM's state, shared by the host files that make up the VMM and the host
 * kernel's per-VM objects: vm.c (VM and vCPUs), vmm.c (assignment, MMIO map,
 * config space), irq_emul.c (trapped MSI-X and IMS), viommu.c (the emulated
 * VT-d IR of `vir-emul`), hcall.c (the hypercall service), and the host
 * kernel's interfaces the VMM calls: vfio.c (region and IRQ info,
 * VFIO_DEVICE_SET_IRQS) and kvm_irq.c (eventfds, KVM_IRQFD,
 * KVM_SET_GSI_ROUTING, IRQ bypass).
 * Nothing outside src/host/ includes this.
 */
#ifndef PVIR_VM_INTERNAL_H
#define PVIR_VM_INTERNAL_H

#include <linux/kvm.h>
#include <linux/vfio.h>

#include "pvir/host.h"
#include "pvir/vfio_dev.h"
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

/* The VFIO IRQ indexes a VMM here uses: MSI-X, the IMS index, MSI (vfio.c). */
enum vfio_kind { VFIO_KIND_MSIX, VFIO_KIND_IMS, VFIO_KIND_MSI, VFIO_KINDS };

/* QEMU's state for one emulated entry (VFIOMSIVector). */
/* How a route's last translation can change (irq_emul_retranslate). */
enum {
	RT_NONE = -3,	/* no route */
	RT_ALWAYS = -2, /* it faulted or went another way: redo it at every flush */
	RT_PURE = -1,	/* IR off: the message alone decides it */
			/* 0 and up: remapped through that vIRTE, redone when it is flushed */
};

struct emul_vector {
	bool use;   /* the entry has been unmasked once: it has eventfds */
	int virq;   /* its GSI route, -1 while it has none */
	int32_t rt; /* RT_*, or the vIRTE index its route came through */
	struct emul_vector *rt_next, **rt_pprev; /* in vm->rt_head[rt] */
	int kvm_fd;	       /* the eventfd bound to the route by an irqfd, -1 */
	int user_fd;	       /* the eventfd the VMM itself reads, -1 */
	struct msi_msg routed; /* the guest message the route was made from */
	struct assigned_dev *dev;
	struct emul_store *store;
	bool pending; /* QEMU's emulated PBA bit: taken on user_fd while masked */
};

/*
 * Interrupt storage while the VMM emulates it: the MSI-X table, or an
 * accelerator's device-resident IMS slots (the same entry layout); or MSI's
 * vectors, each entry the message vector n of the capability's view sends.
 */
struct emul_store {
	enum vfio_kind kind;
	unsigned bar;
	uint64_t off;
	unsigned n;
	uint32_t (*vtable)[4]; /* address lo, hi, data, control, as the guest wrote them */
	struct emul_vector *vec;
	unsigned nr_vectors; /* VFIO vectors enabled (QEMU's nr_vectors) */
	bool enabled;	     /* MSI-X and MSI: from config space; IMS slots: always */
	bool maskall;
};

/* ---- VFIO: one IRQ index of a device (MSI-X, the IMS index, or MSI) ------------ */

struct vfio_vector {
	struct vm *vm;
	struct host_irq *hi; /* the host interrupt, once allocated */
	int trigger;	     /* the eventfd it signals, -1 */
};

struct vfio_index {
	unsigned count;	 /* vectors the index offers (VFIO_DEVICE_GET_IRQ_INFO) */
	bool enabled;	 /* MSI-X or MSI enabled on the host; the IMS index: always usable */
	bool allocated0; /* enable allocated [0, count0) up front */
	unsigned block;	 /* MSI: the IRTEs of its block, all charged, padding included */
	struct vfio_vector *v;
};

/* ---- KVM: eventfds, irqfds, GSI routes ---------------------------------------- */

/*
 * One eventfd of the VMM. It is the IRQ bypass token: VFIO's host interrupt
 * signalling it is the producer, a KVM irqfd on it the consumer; when both
 * exist they meet, and KVM aims the IRTE at the irqfd's route.
 */
/*
 * `tuned` (docs/host-kernel.md, T1): KVM_IRQFD with this flag binds the
 * eventfd to the MSI in kvm_irqfd.pad ({address_lo, address_hi, data, 0},
 * as struct kvm_irq_routing_msi) instead of a GSI route; on an fd that has
 * such an irqfd it updates that MSI alone. Bit 2: DEASSIGN and RESAMPLE
 * hold bits 0 and 1 in <linux/kvm.h>.
 */
#define KVM_IRQFD_FLAG_MSI (1u << 2)

/*
 * What `hcall` adds on every kernel (docs/host-kernel.md): KVM_SET_GSI_ROUTING
 * with this kvm_irq_routing.flags bit reports an IRTE that could not follow
 * its irqfd's new route (kvm_pi_update_irte failed, -EIO from the IOMMU's
 * invalidation). KVM keeps that GSI's previous route, so that the irqfd
 * agrees with the IRTE, flags the caller's entry with
 * KVM_IRQ_ROUTING_F_BYPASS_FAILED, installs the rest, and returns -EIO.
 * Stock KVM only logs the failure (b33252b9d172 made it not even WARN).
 * On `tuned`, T1's MSI update reports the same way: -EIO, the MSI kept.
 */
#define KVM_IRQ_ROUTING_REPORT_BYPASS	(1u << 0)
#define KVM_IRQ_ROUTING_F_BYPASS_FAILED (1u << 31)

/*
 * The VMM's MSI handles: GSIs below VM_MAX_ROUTES; on `tuned`, any of these: as
 * many MSIs as a VT-d table has entries beside the IOAPIC's 24 routes, rounded
 * up to whole bitmap words. Its table grows to the handles it has given out.
 */
#define VMM_MAX_MSIS (65536 + 64)
_Static_assert(VMM_MAX_MSIS % 64 == 0 && VMM_MAX_MSIS - VM_IOAPIC_ROUTES >= 65536,
	       "the VMM's MSI handles: whole words, a VT-d table's worth");

/* One per assigned interrupt: the wide fields first, so that it packs into 96 bytes. */
struct kvm_eventfd {
	struct host_irq *producer;
	/* the VMM reads the eventfd itself when no irqfd takes the signal */
	void (*user_fn)(void *ctx);
	void *user_ctx;
	uint64_t user_signals;		    /* signals nobody took */
	struct kvm_irq_routing_entry bound; /* the route the irqfd resolved last */
	uint32_t gsi;
	int next_on_gsi; /* the next route irqfd on @gsi, as fd + 1; 0: none */
	bool open;
	bool irqfd;
	bool msi_irqfd; /* bound to an MSI of its own, not a GSI (tuned) */
};
_Static_assert(sizeof(struct kvm_eventfd) <= 96, "an eventfd per interrupt: keep it packed");

struct kvm_irq {
	struct kvm_eventfd *fds; /* by fd number */
	unsigned nfds;		 /* fds handed out so far, open or closed since */
	unsigned fds_cap;	 /* room in @fds */
	unsigned fds_free_from;	 /* no free fd below this one: the lowest-free search starts here */
	unsigned route_irqfds;	 /* irqfds on a GSI route (not tuned's MSI irqfds) */
	/* KVM's committed routing table, by GSI (type 0: no route) */
	struct kvm_irq_routing_entry *table;
	uint64_t table_has[VM_MAX_ROUTES / 64]; /* the GSIs it has routes for */
	int *gsi_irqfds; /* by GSI: the first route irqfd on it, as fd + 1; 0: none */
	/* the VMM's (QEMU's KVMState irq_routes): the table it commits whole */
	struct kvm_irq_routing_entry *vmm_routes; /* by GSI (VMM_MAX_MSIS handles on tuned) */
	int *vmm_bound_fd;   /* tuned: the MSI irqfd of each handle, as fd + 1; 0: none */
	uint32_t vmm_cap;    /* handles the two above have room for, at least vmm_end */
	unsigned vmm_nbound; /* tuned: handles with an MSI irqfd */
	uint64_t vmm_dirty[VMM_MAX_MSIS / 64]; /* tuned: updated since the last commit */
	/* tuned: MSI irqfds KVM left on an older MSI than the VMM's (their IRTE could not follow) */
	uint64_t vmm_stale[VMM_MAX_MSIS / 64];
	uint64_t vmm_redone[VMM_MAX_MSIS / 64]; /* tuned: routes a retranslation redid itself */
	bool vmm_repush_all; /* tuned: the next commit gives every other MSI irqfd its MSI again */
	uint64_t vmm_refused[VMM_MAX_MSIS / 64];  /* the last commit's, when it reported */
	uint64_t vmm_touched[VM_MAX_ROUTES / 64]; /* routes added, changed or removed since */
	uint32_t vmm_nroutes;
	bool vmm_changed;	/* the table may differ from the one committed last */
	uint32_t vmm_end;	/* no route at or past this GSI */
	uint32_t vmm_free_from; /* no free GSI below this one */
	struct kvm_irq_routing *commit_buf;
};

/* Mediated storage (mediate.c): the guest's entries, as it wrote them. */
struct med_store {
	uint32_t (*e)[4];
	bool *held; /* the entry is live for the guest, held masked on the device */
	unsigned n;
	unsigned bar;
	uint64_t off;
};

/* What VFIO_DEVICE_FEATURE_IRQ_GUEST_STORAGE is set to (docs/host-kernel.md). */
enum vfio_storage_owner {
	VFIO_STORAGE_KERNEL,   /* off: VFIO writes the host message into the entry */
	VFIO_STORAGE_MEDIATED, /* the VMM writes entries, after checking them */
	VFIO_STORAGE_GUEST,    /* mapped into the guest: its requester-id its VM's alone */
};

#define VMM_MSI_VIEW 12 /* Message Control to the data of a 64-bit MSI */

struct assigned_dev {
	struct vm *vm;
	struct pci_func *func;
	uint16_t guest_bdf;
	uint64_t bar_gpa[PCI_NUM_BARS];
	enum vmm_storage_mode msix_mode;
	enum vmm_storage_mode ims_mode;
	struct emul_store msix;
	struct emul_store ims;
	struct emul_store msi;
	struct vfio_index vfio[VFIO_KINDS];
	enum vfio_storage_owner storage_owner; /* not KERNEL: VFIO leaves the storage alone */
	struct med_store med[VFIO_KINDS];
	/* the service, by VFIO index: vectors that back a vIRTE (or are reserved) */
	bool *hc_vec_used[VFIO_KINDS];
	unsigned hc_vecs[VFIO_KINDS];	       /* of them */
	unsigned hc_vec_free_from[VFIO_KINDS]; /* no unused vector below this one */
	bool stale_mediated;		       /* mediated until the guest mends revoked entries */
	/*
	 * A migration's destination restoring entries: by VFIO vector of the service's
	 * index, the IRTE index its host interrupt should have (HOST_IRQ_ANY: none; NULL:
	 * no restore under way), and whether only that one will do.
	 */
	uint32_t *irte_hints;
	bool irte_hint_only;
	/*
	 * The MSI capability as the guest sees it, from its Message Control on: the
	 * VMM's, as QEMU's vfio-pci emulates it; the device's registers are VFIO's.
	 */
	uint8_t msi_view[VMM_MSI_VIEW];
};

/* One vIRTE's host side: a VFIO vector with an eventfd, an irqfd and a GSI route. */
struct hc_entry {
	struct assigned_dev *dev; /* NULL: not present */
	enum vfio_kind kind;	  /* MSI for a vIRTE with PVIR_VIRTE_MSI; else @dev's index */
	unsigned vec;		  /* the VFIO vector of that index */
	int fd;
	uint32_t gsi;
};

struct hc_state {
	bool table_set;
	uint64_t table_gpa;
	uint32_t entries;
	struct hc_entry *e;
	void (*copy_hook)(void *ctx, uint32_t index);
	void *copy_hook_ctx;
	uint8_t event_vector; /* SET_EVENT's; 0: none */
	struct vcpu *event_vcpu;
	uint64_t *stale; /* revoked: the guest must SYNC them again (docs/migration.md) */
	uint32_t nstale;
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
	bool remap_event; /* QUERY offers PVIR_FEAT_REMAP_EVENT */
	bool viommu_cfg;  /* made with vm_config.viommu */
	struct assigned_dev *devs[VM_MAX_DEVICES];
	unsigned ndevs;
	struct mmio_region regions[VM_MAX_REGIONS];
	unsigned nregions;
	struct vmm_stats stats;
	struct hc_state hc;
	struct kvm_irq kvm;
	struct ir_unit *viommu;	       /* `vir-emul`: the emulated VT-d unit, over guest memory */
	struct amdvi_unit *viommu_amd; /* or, on an AMD-Vi host, the emulated AMD-Vi unit */
	/* the emulated vectors' routes, by what their translation depends on */
	struct emul_vector **rt_head; /* by vIRTE index (IR_MAX_ENTRIES), allocated with a route */
	unsigned emul_routes;	      /* vectors with a route */
	unsigned rt_always;	      /* of them, RT_ALWAYS */
};

/* vmm.c */
int vmm_map_storage(struct vm *vm, struct assigned_dev *d);
/*
 * A migration's destination: the config space @src's guest saw (its MSI capability
 * view), and MSI emulated again from it where it was on (after hcall_restore()).
 */
void vmm_cfg_restore(struct assigned_dev *d, const struct assigned_dev *src);
void vmm_free_devices(struct vm *vm);

/* irq_emul.c */
/* Where the device's stores are; their entries are made when the guest first reaches them. */
void irq_emul_init(struct assigned_dev *d);
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
/*
 * irq_emul_restore() - a migration's destination, as QEMU's vfio_pci_load_config() and
 * the MSI-X table's load do: the guest's entries and emulated pending bits as the source
 * @src had them, then MSI-X enabled as the guest had it, which puts every unmasked entry
 * through the same VFIO and KVM calls as its first unmask: routes, irqfds and host
 * interrupts on this host. What cannot be honoured is counted (emul_errors), as ever.
 */
void irq_emul_restore(struct assigned_dev *d, const struct assigned_dev *src);
bool irq_emul_msix_enabled(const struct assigned_dev *d);
/*
 * irq_emul_msi_config() - the guest wrote the MSI capability's view: MSI now @enabled
 * with @nvec vectors (Multiple Message Enable) and message @m. As QEMU's
 * vfio_pci_write_config(): enabled now, vfio_msi_enable (a route, an eventfd and an
 * irqfd per vector, one commit, one SET_IRQS for all); disabled, vfio_msi_disable;
 * still enabled, vfio_update_msi (the routes whose message changed). Not while the
 * pvir service's table is set: MSI vectors then come by SYNC, and the view is a view.
 */
void irq_emul_msi_config(struct assigned_dev *d, bool enabled, unsigned nvec,
			 const struct msi_msg *m);
bool irq_emul_msix_maskall(const struct assigned_dev *d);
/**
 * irq_emul_retranslate() - the guest flushed its vIOMMU's IEC (@all: or
 * switched IR or its table): every route is translated again, as QEMU does
 * (kvm_update_msi_routes_all), and counted so; only those whose vIRTE the
 * flush named can come out different, and only they are redone.
 */
void irq_emul_retranslate(struct vm *vm, bool all);
/* Interrupts QEMU holds in its emulated pending bits. */
unsigned irq_emul_pending(const struct vm *vm);

/* viommu.c */
int viommu_create(struct vm *vm);
/* A migration's destination: its emulated unit takes the source's state (-EOPNOTSUPP for
 * a unit of another kind: the two hosts' IOMMUs differ). */
int viommu_restore(struct vm *dst, const struct vm *src) WARN_UNUSED;
void viommu_free(struct vm *vm);
bool viommu_ir_enabled(const struct vm *vm);
bool viommu_covers(const struct vm *vm, uint64_t gpa);
uint64_t viommu_read(struct vm *vm, uint64_t gpa, unsigned size);
void viommu_write(struct vm *vm, uint64_t gpa, unsigned size, uint64_t val);
/*
 * The vCPU and vector the guest's vIRTE gives message @m from @guest_sid, and
 * that vIRTE's index, or NULL (a fault, in the guest's vIOMMU log).
 * *@ret_passthrough: the unit let a compatibility-format message through, to
 * be read as such.
 */
struct vcpu *viommu_resolve(struct vm *vm, uint16_t guest_sid, const struct msi_msg *m,
			    uint8_t *ret_vector, bool *ret_passthrough, uint32_t *ret_index);

/* hcall.c */
void hcall_dispatch(struct vm *vm, struct vcpu *v, struct vcpu_regs *regs);
void hcall_free(struct vm *vm);

/* vfio.c: the VFIO device fd's interrupt side */
bool vfio_msix_mappable(struct host *h, struct pci_func *func);
int vfio_irqs_init(struct assigned_dev *d);
void vfio_irqs_free(struct assigned_dev *d);
/* A kind's VFIO_PCI_*_IRQ_INDEX, and back */
uint32_t vfio_index_of(enum vfio_kind k);
enum vfio_kind vfio_kind_of(uint32_t index);
/* VFIO_DEVICE_SET_IRQS; @set is followed by its data. Return: 0 or -errno. */
int vfio_set_irqs(struct assigned_dev *d, const struct vfio_irq_set *set) WARN_UNUSED;
/* Builds and issues SET_IRQS TRIGGER|DATA_EVENTFD for [start, start + count) with @fds. */
int vfio_set_triggers(struct assigned_dev *d, uint32_t index, uint32_t start, uint32_t count,
		      const int32_t *fds) WARN_UNUSED;
/* Vectors of @index with a host interrupt: on NORESIZE, those MSI-X was enabled with. */
unsigned vfio_vectors_allocated(const struct assigned_dev *d, uint32_t index);
/* SET_IRQS TRIGGER|DATA_NONE, count 0: the index off, every vector freed. */
int vfio_disable_index(struct assigned_dev *d, uint32_t index) WARN_UNUSED;
/*
 * VFIO_DEVICE_FEATURE_IRQ_GUEST_STORAGE (docs/host-kernel.md), the change
 * `hcall` needs on a stock kernel: SET makes VFIO leave the device's MSI-X
 * table and IMS storage to the guest; GET reads the host messages of a range
 * of vectors.
 */
/* Return: 0; -EOPNOTSUPP (remapping not secure); -EPERM (GUEST, on a shared requester-id). */
int vfio_guest_storage_set(struct assigned_dev *d, enum vfio_storage_owner to) WARN_UNUSED;
/* Where entry @n of @k's storage is in the device; false for storage in guest memory. */
bool vfio_entry_at(struct assigned_dev *d, enum vfio_kind k, unsigned n, unsigned *ret_bar,
		   uint64_t *ret_off);
/* Dword @dword of entry @n into the device, whoever owns the storage (the VMM, mediating). */
void vfio_entry_store(struct assigned_dev *d, enum vfio_kind k, unsigned n, unsigned dword,
		      uint32_t val);
/* Dword @dword of entry @n as the device holds it (0 for storage in guest memory). */
uint32_t vfio_entry_load(struct assigned_dev *d, enum vfio_kind k, unsigned n, unsigned dword);
int vfio_irq_msgs_get(struct assigned_dev *d, uint32_t index, uint32_t start, uint32_t count,
		      struct msi_msg *ret) WARN_UNUSED;

/*
 * hcall_restore() - the service's state on a migration's destination @dst, from the
 * source @src, with the guest's RAM and the devices' state already there. Return: 0 and
 * *@ret_moved the entries whose handle changed (flagged for the remap event); or an
 * error, after which @dst is only fit to be freed.
 */
int hcall_restore(struct vm *dst, struct vm *src, uint32_t *ret_moved) WARN_UNUSED;

/* The service's hook: a mediated write went to @d (it may end a revoke's mediation). */
void hcall_storage_written(struct assigned_dev *d);

/* mediate.c: storage of a shared requester-id, every write checked */
int mediate_init(struct assigned_dev *d);
/* Mediation taken up over storage the guest wrote directly: the shadow is what the device holds. */
int mediate_adopt(struct assigned_dev *d);
/* Every entry settled again: one whose message is no longer granted is held masked. */
void mediate_settle_all(struct assigned_dev *d);
/* Whether every entry holds a granted message (then the device's entries are the guest's). */
bool mediate_all_granted(struct assigned_dev *d);
void mediate_free(struct assigned_dev *d);
struct med_store *mediate_at(struct assigned_dev *d, unsigned bar, uint64_t off, uint64_t *ret_rel,
			     enum vfio_kind *ret_kind);
void mediate_write(struct assigned_dev *d, struct med_store *m, enum vfio_kind k, uint64_t rel,
		   unsigned size, uint64_t val);
uint64_t mediate_read(const struct med_store *m, uint64_t rel, unsigned size);

/* kvm_irq.c: eventfds, irqfds, routes and bypass (KVM), and the VMM's route table */
int kvm_irq_init(struct vm *vm);
void kvm_irq_free(struct vm *vm);
int kvm_eventfd_new(struct vm *vm) WARN_UNUSED; /* an fd, or -ENOMEM */
/* The VMM's own reader of @fd (QEMU's fd handler), for signals no irqfd takes. */
void kvm_eventfd_set_handler(struct vm *vm, int fd, void (*fn)(void *ctx), void *ctx);
void kvm_eventfd_close(struct vm *vm, int fd);
void kvm_eventfd_signal(struct vm *vm, int fd);
bool kvm_eventfd_valid(const struct vm *vm, int fd);
/* IRQ bypass, VFIO's side: a producer (un)registered on eventfd @fd */
void kvm_bypass_add_producer(struct vm *vm, int fd, struct host_irq *hi);
void kvm_bypass_del_producer(struct vm *vm, int fd);
int kvm_irqfd(struct vm *vm, const struct kvm_irqfd *args) WARN_UNUSED;
int kvm_set_gsi_routing(struct vm *vm, struct kvm_irq_routing *r) WARN_UNUSED;
/* The VCPU and vector an MSI route delivers to, if exactly one (kvm_intr_is_single_vcpu). */
struct vcpu *kvm_msi_target(struct vm *vm, const struct kvm_irq_routing_msi *m,
			    uint8_t *ret_vector);
/* The VMM's table (QEMU's kvm_irqchip_add/update_msi_route, release_virq, commit). */
int vmm_route_add(struct vm *vm, const struct msi_msg *m, uint32_t *ret_gsi) WARN_UNUSED;
void vmm_route_update(struct vm *vm, uint32_t gsi, const struct msi_msg *m);
void vmm_route_remove(struct vm *vm, uint32_t gsi);
void vmm_route_redone(struct vm *vm, uint32_t gsi);
void vmm_route_repush_all(struct vm *vm);
struct msi_msg vmm_route_msg(const struct vm *vm, uint32_t gsi);
/*
 * The commit: -EIO with @report when an IRTE could not follow a changed route;
 * vmm_route_refused() names those handles, which KVM left on their previous
 * route while the VMM's table still holds the new one (the caller restores
 * it with vmm_route_restore()). Without @report KVM's answer is 0, as stock.
 */
int vmm_route_commit(struct vm *vm, bool report);
bool vmm_route_refused(const struct vm *vm, uint32_t gsi);
void vmm_route_restore(struct vm *vm, uint32_t gsi, const struct msi_msg *m);
/* irqfd helpers, as QEMU's kvm_irqchip_add/remove_irqfd_notifier_gsi */
int vmm_irqfd_assign(struct vm *vm, int fd, uint32_t gsi) WARN_UNUSED;
void vmm_irqfd_deassign(struct vm *vm, int fd, uint32_t gsi);

#endif
