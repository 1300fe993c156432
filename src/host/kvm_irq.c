// SPDX-License-Identifier: MIT
/*
 * KVM's side of device interrupts, with the uapi structs of <linux/kvm.h>:
 * eventfds, KVM_IRQFD, KVM_SET_GSI_ROUTING and IRQ bypass; and, at the end,
 * the VMM's own route table, which it commits whole as QEMU does.
 *
 *  - An irqfd binds an eventfd to a GSI. A signal on the eventfd injects the
 *    MSI that the GSI's route names (kvm_set_msi).
 *  - A commit replaces the routing table and walks every irqfd
 *    (kvm_irq_routing_update -> irqfd_update). Since Linux 515a0c79e796
 *    ("kvm: irqfd: avoid update unmodified entries of the routing", 2021)
 *    only an irqfd whose MSI route changed touches its IRTE; before it, the
 *    `legacy` kernel, every irqfd's IRTE was rewritten at every commit.
 *  - IRQ bypass: VFIO registers its host interrupt as a producer under the
 *    eventfd it signals, KVM's irqfd a consumer under its eventfd; when both
 *    are there they meet, and KVM aims the IRTE at the route
 *    (kvm_pi_update_irte): posted when the route names one vCPU and the
 *    IOMMU can post, else remapped to the host vector, and the host's
 *    interrupt handler signals the eventfd, so that the irqfd injects.
 *
 * Not modelled: resample fds (level-triggered INTx), irqchip routes (the
 * IOAPIC's 24 are reserved MSI routes, as QEMU's split irqchip makes them),
 * the SRCU grace period of a commit (it is in the cost model's figure).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/hcall_abi.h"
#include "pvir/ir_driver.h"
#include "vm_internal.h"

#define FDS_FIRST	  64
#define VMM_HANDLES_FIRST 64

#define COMMIT_BYTES \
	(sizeof(struct kvm_irq_routing) + VM_MAX_ROUTES * sizeof(struct kvm_irq_routing_entry))

static bool tuned(const struct vm *vm);

/*
 * Room in the VMM's table for handles below @need, doubled, the new part
 * zeroed. The table grows with use rather than being mapped at its most
 * (65,600 handles, 3 MiB a VM) and faulted in page by page: a fleet's 32 VMs
 * took 768 faults for it, where a large machine's heap comes in huge pages
 * (heap_prefer_huge_pages()). -ENOMEM leaves it as it was.
 */
static int vmm_room(struct kvm_irq *k, uint32_t need)
{
	uint32_t cap = k->vmm_cap ? k->vmm_cap : VMM_HANDLES_FIRST;
	struct kvm_irq_routing_entry *routes;
	int *fds;

	if (need <= k->vmm_cap)
		return 0;
	while (cap < need)
		cap = cap > VMM_MAX_MSIS / 2 ? VMM_MAX_MSIS : 2 * cap;
	routes = realloc(k->vmm_routes, cap * sizeof(*routes));
	if (!routes)
		return -ENOMEM;
	k->vmm_routes = routes;
	memset(routes + k->vmm_cap, 0, (cap - k->vmm_cap) * sizeof(*routes));
	fds = realloc(k->vmm_bound_fd, cap * sizeof(*fds));
	if (!fds)
		return -ENOMEM; /* the routes' larger room is kept, unused */
	k->vmm_bound_fd = fds;
	memset(fds + k->vmm_cap, 0, (cap - k->vmm_cap) * sizeof(*fds));
	k->vmm_cap = cap;
	return 0;
}

/* The VMM's route at @gsi; past its table's room, none. */
static const struct kvm_irq_routing_entry *vmm_route_at(const struct kvm_irq *k, uint32_t gsi)
{
	static const struct kvm_irq_routing_entry none;

	return gsi < k->vmm_cap ? &k->vmm_routes[gsi] : &none;
}

/* ---- eventfds ----------------------------------------------------------------- */

int kvm_irq_init(struct vm *vm)
{
	struct kvm_irq *k = &vm->kvm;

	/*
	 * KVM's table by GSI and the commit's, at their most (192 KiB each): from
	 * malloc, which maps them apart in a small process, so that only the
	 * pages used are paid for, and gives a large machine's from its heap.
	 */
	k->table = calloc(VM_MAX_ROUTES, sizeof(*k->table));
	k->gsi_irqfds = calloc(VM_MAX_ROUTES, sizeof(*k->gsi_irqfds));
	k->commit_buf = calloc(1, COMMIT_BYTES);
	if (!k->table || !k->gsi_irqfds || !k->commit_buf || vmm_room(k, VM_IOAPIC_ROUTES))
		return -ENOMEM;
	/* QEMU's split irqchip: one MSI route per IOAPIC pin, committed at start */
	for (uint32_t gsi = 0; gsi < VM_IOAPIC_ROUTES; gsi++) {
		k->vmm_routes[gsi].gsi = gsi;
		k->vmm_routes[gsi].type = KVM_IRQ_ROUTING_MSI;
	}
	k->vmm_nroutes = VM_IOAPIC_ROUTES;
	k->vmm_end = VM_IOAPIC_ROUTES;
	k->vmm_free_from = VM_IOAPIC_ROUTES;
	vm->stats.routes = VM_IOAPIC_ROUTES;
	for (uint32_t gsi = 0; gsi < VM_IOAPIC_ROUTES; gsi++) {
		k->table[gsi] = k->vmm_routes[gsi];
		bitmap_assign(k->table_has, gsi, true);
	}
	return 0;
}

void kvm_irq_free(struct vm *vm)
{
	free(vm->kvm.fds);
	free(vm->kvm.table);
	free(vm->kvm.gsi_irqfds);
	free(vm->kvm.vmm_routes);
	free(vm->kvm.vmm_bound_fd);
	free(vm->kvm.commit_buf);
	vm->kvm = (struct kvm_irq){0};
}

bool kvm_eventfd_valid(const struct vm *vm, int fd)
{
	return fd >= 0 && (unsigned)fd < vm->kvm.nfds && vm->kvm.fds[fd].open;
}

int kvm_eventfd_new(struct vm *vm)
{
	struct kvm_irq *k = &vm->kvm;
	unsigned fd;

	for (fd = k->fds_free_from; fd < k->nfds; fd++)
		if (!k->fds[fd].open)
			break;
	if (fd == k->nfds && k->nfds == k->fds_cap) {
		/* doubled, so that 65,535 eventfds are a few copies, not a thousand */
		unsigned cap = k->fds_cap ? 2 * k->fds_cap : FDS_FIRST;
		struct kvm_eventfd *n = realloc(k->fds, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		k->fds = n;
		k->fds_cap = cap;
	}
	if (fd == k->nfds)
		k->nfds++;
	k->fds[fd] = (struct kvm_eventfd){.open = true};
	k->fds_free_from = fd + 1;
	return (int)fd;
}

/*
 * Route irqfds (not tuned's MSI ones), counted and listed by GSI, so that a
 * commit that changed a few routes finds their irqfds without a walk.
 */
static void route_irqfd_come(struct kvm_irq *k, int fd)
{
	struct kvm_eventfd *e = &k->fds[fd];

	k->route_irqfds++;
	e->next_on_gsi = k->gsi_irqfds[e->gsi];
	k->gsi_irqfds[e->gsi] = fd + 1;
}

static void route_irqfd_gone(struct kvm_irq *k, int fd)
{
	struct kvm_eventfd *e = &k->fds[fd];
	int *link = &k->gsi_irqfds[e->gsi];

	if (!e->irqfd || e->msi_irqfd)
		return;
	k->route_irqfds--;
	while (*link && *link != fd + 1)
		link = &k->fds[*link - 1].next_on_gsi;
	if (*link)
		*link = e->next_on_gsi;
	e->next_on_gsi = 0;
}

/* The VMM closes its fd; irqfd and producer are gone first (callers see to it). */
void kvm_eventfd_close(struct vm *vm, int fd)
{
	if (!kvm_eventfd_valid(vm, fd))
		return;
	route_irqfd_gone(&vm->kvm, fd);
	vm->kvm.fds[fd] = (struct kvm_eventfd){0};
	if ((unsigned)fd < vm->kvm.fds_free_from)
		vm->kvm.fds_free_from = (unsigned)fd;
}

/* ---- routes ------------------------------------------------------------------------ */

/*
 * kvm_set_msi_irq + kvm_intr_is_single_vcpu: the route's compatibility-
 * format message names one vCPU by physical APIC ID, with fixed or
 * lowest-priority delivery. APIC IDs past 255 come in the extended
 * destination ID (address bits 11:5, KVM's virt_destid_8_14, 15 bits in all),
 * not in address_hi as they would under KVM_X2APIC_API's x2APIC format.
 */
struct vcpu *kvm_msi_target(struct vm *vm, const struct kvm_irq_routing_msi *m, uint8_t *ret_vector)
{
	struct msi_msg msg = {m->address_lo, m->address_hi, m->data};
	struct msi_compat c;

	if (!msi_is_interrupt_address(&msg) || msg.address_hi ||
	    msi_format_of(&msg) != MSI_FORMAT_COMPAT)
		return NULL;
	msi_compat_decode(&msg, &c);
	if (c.dm || c.trigger || c.vector < PVIR_FIRST_VECTOR ||
	    (c.delivery_mode != MSI_DM_FIXED && c.delivery_mode != MSI_DM_LOWPRI))
		return NULL;
	*ret_vector = c.vector;
	return vm_vcpu_by_apic_id(vm, c.dest_id);
}

static bool same_route(const struct kvm_irq_routing_entry *a, const struct kvm_irq_routing_entry *b)
{
	return a->type == b->type && a->u.msi.address_lo == b->u.msi.address_lo &&
	       a->u.msi.address_hi == b->u.msi.address_hi && a->u.msi.data == b->u.msi.data;
}

/* ---- IRQ bypass: producer meets consumer ------------------------------------------------- */

/*
 * kvm_pi_update_irte: the IRTE follows the irqfd's route. Stock KVM only
 * logs a failure; the IRTE then stays as it was, remapped or posted, and the
 * interrupt is still delivered through the irqfd or the old posting. The
 * error is returned for the callers that report it (KVM_IRQ_ROUTING_REPORT_BYPASS,
 * T1's MSI update).
 */
static int pi_update(struct vm *vm, struct kvm_eventfd *e)
{
	uint8_t vector = 0;
	struct vcpu *v = NULL;

	if (e->bound.type == KVM_IRQ_ROUTING_MSI)
		v = kvm_msi_target(vm, &e->bound.u.msi, &vector);
	vm->stats.pi_updates++;
	if (v)
		return host_irq_target(vm->host, e->producer, v, vector, false);
	return host_irq_untarget(vm->host, e->producer);
}

void kvm_bypass_add_producer(struct vm *vm, int fd, struct host_irq *hi)
{
	struct kvm_eventfd *e;

	if (!kvm_eventfd_valid(vm, fd))
		return; /* VFIO logs a failed registration and goes on */
	e = &vm->kvm.fds[fd];
	e->producer = hi;
	if (e->irqfd)
		(void)!pi_update(vm, e); /* logged: the IRTE stays remapped, the irqfd injects */
}

void kvm_bypass_del_producer(struct vm *vm, int fd)
{
	struct kvm_eventfd *e;

	if (!kvm_eventfd_valid(vm, fd) || !vm->kvm.fds[fd].producer)
		return;
	e = &vm->kvm.fds[fd];
	if (e->irqfd)
		(void)!host_irq_untarget(vm->host, e->producer);
	e->producer = NULL;
}

/* ---- KVM_IRQFD -------------------------------------------------------------------------------- */

static bool tuned(const struct vm *vm)
{
	return host_kernel(vm->host) == HOST_KERNEL_TUNED;
}

static struct kvm_irq_routing_entry irqfd_msi(const struct kvm_irqfd *a)
{
	struct kvm_irq_routing_entry r = {.type = KVM_IRQ_ROUTING_MSI};

	memcpy(&r.u.msi, a->pad, sizeof(r.u.msi));
	return r;
}

static int irqfd_assign(struct vm *vm, const struct kvm_irqfd *a)
{
	struct kvm_eventfd *e = &vm->kvm.fds[a->fd];
	bool msi = a->flags & KVM_IRQFD_FLAG_MSI;

	if (e->irqfd)
		return -EBUSY; /* one irqfd per eventfd */
	e->irqfd = true;
	e->msi_irqfd = msi;
	e->gsi = msi ? 0 : a->gsi;
	if (!msi)
		route_irqfd_come(&vm->kvm, (int)a->fd);
	e->bound = msi ? irqfd_msi(a) : vm->kvm.table[a->gsi];
	vm->stats.irqfds++;
	vm->stats.irqfds_held++;
	if (e->producer)
		(void)!pi_update(vm, e); /* logged: the IRTE stays remapped, the irqfd injects */
	return 0;
}

/*
 * T1: one irqfd's MSI changes; nothing else is walked, no table is rebuilt.
 * An IRTE that cannot follow (-EIO) keeps the irqfd on its MSI and says so.
 */
static int irqfd_update_msi(struct vm *vm, const struct kvm_irqfd *a)
{
	struct kvm_eventfd *e = &vm->kvm.fds[a->fd];
	struct kvm_irq_routing_entry old = e->bound;
	int err;

	vm->stats.msi_updates++;
	vm->stats.routes_walked++;
	e->bound = irqfd_msi(a);
	if (same_route(&old, &e->bound) || !e->producer)
		return 0;
	err = pi_update(vm, e);
	if (err)
		e->bound = old;
	return err;
}

static int irqfd_deassign(struct vm *vm, const struct kvm_irqfd *a)
{
	struct kvm_eventfd *e = &vm->kvm.fds[a->fd];

	if (!e->irqfd || (!e->msi_irqfd && e->gsi != a->gsi))
		return 0; /* KVM finds nothing to remove and says so with 0 */
	if (e->producer)
		(void)!host_irq_untarget(vm->host, e->producer);
	route_irqfd_gone(&vm->kvm, (int)a->fd);
	e->irqfd = false;
	e->msi_irqfd = false;
	e->bound = (struct kvm_irq_routing_entry){0};
	vm->stats.irqfds_held--;
	return 0;
}

int kvm_irqfd(struct vm *vm, const struct kvm_irqfd *a)
{
	uint32_t known = KVM_IRQFD_FLAG_DEASSIGN | (tuned(vm) ? KVM_IRQFD_FLAG_MSI : 0);

	if (a->flags & ~known)
		return -EINVAL; /* resample is not modelled; MSI irqfds are tuned's */
	if (a->gsi >= VM_MAX_ROUTES)
		return -EINVAL;
	if (!kvm_eventfd_valid(vm, (int)a->fd))
		return -EBADF;
	if (a->flags & KVM_IRQFD_FLAG_DEASSIGN)
		return irqfd_deassign(vm, a);
	if ((a->flags & KVM_IRQFD_FLAG_MSI) && vm->kvm.fds[a->fd].msi_irqfd)
		return irqfd_update_msi(vm, a);
	return irqfd_assign(vm, a);
}

void kvm_eventfd_set_handler(struct vm *vm, int fd, void (*fn)(void *ctx), void *ctx)
{
	if (!kvm_eventfd_valid(vm, fd))
		return;
	vm->kvm.fds[fd].user_fn = fn;
	vm->kvm.fds[fd].user_ctx = ctx;
}

/* A signal: the irqfd injects its route's MSI; with none, the VMM reads it. */
void kvm_eventfd_signal(struct vm *vm, int fd)
{
	struct kvm_eventfd *e;
	struct vcpu *v = NULL;
	uint8_t vector = 0;

	if (!kvm_eventfd_valid(vm, fd))
		return;
	e = &vm->kvm.fds[fd];
	if (e->irqfd && e->bound.type == KVM_IRQ_ROUTING_MSI)
		v = kvm_msi_target(vm, &e->bound.u.msi, &vector);
	if (v)
		host_vcpu_inject(vm->host, v, vector);
	else if (e->user_fn)
		e->user_fn(e->user_ctx);
	else
		e->user_signals++;
}

/* ---- KVM_SET_GSI_ROUTING ------------------------------------------------------------------ */

/* One rule per check (kvm_set_irq_routing): only MSI routes, without a device id. */
static int route_entry_valid(const struct kvm_irq_routing_entry *e, const uint64_t *seen)
{
	if (e->gsi >= VM_MAX_ROUTES)
		return -EINVAL;
	if (e->flags || e->type != KVM_IRQ_ROUTING_MSI)
		return -EINVAL;
	if (bitmap_test(seen, e->gsi))
		return -EINVAL; /* two MSI routes on one GSI */
	return 0;
}

static int routing_valid(const struct kvm_irq_routing *r)
{
	uint64_t seen[VM_MAX_ROUTES / 64] = {0};
	int err;

	if ((r->flags & ~KVM_IRQ_ROUTING_REPORT_BYPASS) || r->nr > VM_MAX_ROUTES)
		return -EINVAL;
	for (uint32_t i = 0; i < r->nr; i++) {
		err = route_entry_valid(&r->entries[i], seen);
		if (err)
			return err;
		bitmap_assign(seen, r->entries[i].gsi, true);
	}
	return 0;
}

/* The caller's entry for @gsi, flagged: its route was kept (REPORT_BYPASS). */
static void flag_refused(struct kvm_irq_routing *r, uint32_t gsi)
{
	for (uint32_t i = 0; i < r->nr; i++)
		if (r->entries[i].gsi == gsi)
			r->entries[i].flags |= KVM_IRQ_ROUTING_F_BYPASS_FAILED;
}

/*
 * One irqfd after a commit: it takes its GSI's new route and, if bypass is
 * on and the route changed (or on `legacy`, always), re-aims its IRTE. With
 * REPORT_BYPASS a changed route whose IRTE stayed is put back, for the irqfd
 * and the GSI, and flagged.
 */
static int irqfd_follow(struct vm *vm, struct kvm_eventfd *e, struct kvm_irq_routing *r)
{
	struct kvm_irq_routing_entry old = e->bound;
	bool changed = !same_route(&old, &vm->kvm.table[e->gsi]);
	bool legacy = host_kernel(vm->host) == HOST_KERNEL_LEGACY;
	int err;

	vm->stats.routes_walked++;
	e->bound = vm->kvm.table[e->gsi];
	if (!e->producer || !(changed || legacy))
		return 0;
	err = pi_update(vm, e);
	if (!err || !changed || !(r->flags & KVM_IRQ_ROUTING_REPORT_BYPASS))
		return 0; /* stock: logged */
	e->bound = old;
	vm->kvm.table[e->gsi] = old;
	flag_refused(r, e->gsi);
	return err;
}

/*
 * The new table replaces the old; then every irqfd is walked. Stock: an irqfd
 * whose route changed takes it, and re-aims its IRTE if bypass is on.
 * Legacy (before 515a0c79e796): every irqfd re-aims its IRTE, changed or not.
 */
int kvm_set_gsi_routing(struct vm *vm, struct kvm_irq_routing *r)
{
	struct kvm_irq *k = &vm->kvm;
	int err = routing_valid(r), first_err = 0;

	if (err)
		return err;
	for (uint32_t w = 0; w < VM_MAX_ROUTES / 64; w++) {
		for (uint64_t bits = k->table_has[w]; bits; bits &= bits - 1)
			k->table[w * 64 + (uint32_t)__builtin_ctzll(bits)] =
			    (struct kvm_irq_routing_entry){0};
		k->table_has[w] = 0;
	}
	for (uint32_t i = 0; i < r->nr; i++) {
		k->table[r->entries[i].gsi] = r->entries[i];
		bitmap_assign(k->table_has, r->entries[i].gsi, true);
	}
	vm->stats.route_commits++;
	for (unsigned fd = 0; fd < k->nfds; fd++) {
		struct kvm_eventfd *e = &k->fds[fd];

		if (!e->open || !e->irqfd || e->msi_irqfd)
			continue;
		err = irqfd_follow(vm, e, r);
		if (!first_err)
			first_err = err;
	}
	return first_err;
}

/* ---- the VMM's route table (QEMU's kvm_irqchip_*) ---------------------------------------- */

/* The VMM's route at @gsi may now differ from KVM's: the next commit looks at it. */
static void touch(struct kvm_irq *k, uint32_t gsi)
{
	if (gsi < VM_MAX_ROUTES)
		bitmap_assign(k->vmm_touched, gsi, true);
}

static struct kvm_irq_routing_entry msi_route(uint32_t gsi, const struct msi_msg *m)
{
	return (struct kvm_irq_routing_entry){
	    .gsi = gsi,
	    .type = KVM_IRQ_ROUTING_MSI,
	    .u.msi = {.address_lo = m->address_lo, .address_hi = m->address_hi, .data = m->data}};
}

/*
 * kvm_irqchip_add_msi_route: the lowest free GSI; -ENOSPC at KVM_MAX_IRQ_ROUTES.
 * On `tuned` the handle names an MSI the VMM keeps for an MSI irqfd: no
 * route, no cap but the VMM's table.
 */
int vmm_route_add(struct vm *vm, const struct msi_msg *m, uint32_t *ret_gsi)
{
	struct kvm_irq *k = &vm->kvm;
	uint32_t end = tuned(vm) ? VMM_MAX_MSIS : VM_MAX_ROUTES;

	for (uint32_t gsi = k->vmm_free_from; gsi < end; gsi++)
		if (gsi >= k->vmm_cap || !k->vmm_routes[gsi].type) {
			if (vmm_room(k, gsi + 1))
				return -ENOMEM;
			k->vmm_routes[gsi] = msi_route(gsi, m);
			k->vmm_free_from = gsi + 1;
			k->vmm_changed = true;
			touch(k, gsi);
			if (gsi >= k->vmm_end)
				k->vmm_end = gsi + 1;
			if (!tuned(vm)) {
				k->vmm_nroutes++;
				vm->stats.routes = k->vmm_nroutes;
			}
			*ret_gsi = gsi;
			return 0;
		}
	vm->stats.route_refusals++;
	return -ENOSPC;
}

static struct kvm_irqfd msi_irqfd_args(const struct vm *vm, int fd, uint32_t h)
{
	struct kvm_irqfd a = {.fd = (uint32_t)fd, .flags = KVM_IRQFD_FLAG_MSI};

	memcpy(a.pad, &vm->kvm.vmm_routes[h].u.msi, sizeof(vm->kvm.vmm_routes[h].u.msi));
	return a;
}

/* kvm_irqchip_update_msi_route: the VMM's table; KVM sees it at the commit. */
void vmm_route_update(struct vm *vm, uint32_t gsi, const struct msi_msg *m)
{
	struct kvm_irq_routing_entry r = msi_route(gsi, m);

	/* the same route: the table stays as committed (tuned pushes each update, T1) */
	if (!tuned(vm) && same_route(&vm->kvm.vmm_routes[gsi], &r))
		return;
	vm->kvm.vmm_routes[gsi] = r;
	bitmap_assign(vm->kvm.vmm_dirty, gsi, true);
	vm->kvm.vmm_changed = true;
	touch(&vm->kvm, gsi);
}

/*
 * A retranslation pass, as QEMU makes it, calls kvm_irqchip_update_msi_route() for
 * every route. The routes it translated again it names here first; each of the
 * others keeps the message it holds: the table does not change, but tuned pushes
 * every update at the commit (T1), and the commit counts those pushes.
 */
void vmm_route_redone(struct vm *vm, uint32_t gsi)
{
	if (tuned(vm) && gsi < VMM_MAX_MSIS)
		bitmap_assign(vm->kvm.vmm_redone, gsi, true);
}

void vmm_route_repush_all(struct vm *vm)
{
	if (tuned(vm))
		vm->kvm.vmm_repush_all = true;
}

/* A route KVM kept (refused at the last commit) back in the VMM's table, not dirty. */
void vmm_route_restore(struct vm *vm, uint32_t gsi, const struct msi_msg *m)
{
	vm->kvm.vmm_routes[gsi] = msi_route(gsi, m);
	bitmap_assign(vm->kvm.vmm_dirty, gsi, false);
	if (gsi < VM_MAX_ROUTES)
		bitmap_assign(vm->kvm.vmm_touched, gsi, false); /* KVM holds it so already */
}

bool vmm_route_refused(const struct vm *vm, uint32_t gsi)
{
	return gsi < VMM_MAX_MSIS && bitmap_test(vm->kvm.vmm_refused, gsi);
}

struct msi_msg vmm_route_msg(const struct vm *vm, uint32_t gsi)
{
	const struct kvm_irq_routing_msi *r = &vm->kvm.vmm_routes[gsi].u.msi;

	return (struct msi_msg){r->address_lo, r->address_hi, r->data};
}

/* Handle @gsi's MSI irqfd, as fd + 1 (0: none), counted. */
static void bound_fd_set(struct kvm_irq *k, uint32_t gsi, int fd1)
{
	k->vmm_nbound += (fd1 != 0) - (k->vmm_bound_fd[gsi] != 0);
	k->vmm_bound_fd[gsi] = fd1;
	if (!fd1)
		bitmap_assign(k->vmm_stale, gsi, false);
}

/* kvm_irqchip_release_virq: gone from the next commit on; no commit of its own. */
void vmm_route_remove(struct vm *vm, uint32_t gsi)
{
	if (gsi < VM_IOAPIC_ROUTES || gsi >= vm->kvm.vmm_cap || !vm->kvm.vmm_routes[gsi].type)
		return;
	vm->kvm.vmm_routes[gsi] = (struct kvm_irq_routing_entry){0};
	bound_fd_set(&vm->kvm, gsi, 0);
	vm->kvm.vmm_changed = true;
	touch(&vm->kvm, gsi);
	if (gsi < vm->kvm.vmm_free_from)
		vm->kvm.vmm_free_from = gsi;
	if (!tuned(vm)) {
		vm->kvm.vmm_nroutes--;
		vm->stats.routes = vm->kvm.vmm_nroutes;
	}
}

static void mark_refused(struct vm *vm, uint32_t gsi)
{
	bitmap_assign(vm->kvm.vmm_refused, gsi, true);
}

/* One MSI irqfd's update (T1); a stale one is one whose IRTE could not follow. */
static int push_msi_irqfd(struct vm *vm, uint32_t gsi)
{
	struct kvm_irqfd a = msi_irqfd_args(vm, vm->kvm.vmm_bound_fd[gsi] - 1, gsi);
	int err = kvm_irqfd(vm, &a);

	bitmap_assign(vm->kvm.vmm_stale, gsi, err != 0);
	if (err)
		mark_refused(vm, gsi);
	return err;
}

/*
 * `tuned`: each MSI irqfd whose handle was updated gets its MSI (T1), alone. After
 * vmm_route_repush_all() every one the pass did not redo does too: those whose MSI
 * KVM already holds are counted as pushed (the update finds the same MSI and changes
 * nothing), and only the stale ones are made, whose IRTE then tries to follow again.
 */
static int commit_msi_irqfds(struct vm *vm)
{
	struct kvm_irq *k = &vm->kvm;
	bool all = k->vmm_repush_all;
	unsigned pushed = 0, redone_alone = 0;
	int first_err = 0;

	for (uint32_t w = 0; w < (k->vmm_end + 63) / 64; w++) {
		uint64_t redone = all ? k->vmm_redone[w] : 0;

		for (uint64_t bits = k->vmm_dirty[w] | (all ? k->vmm_stale[w] & ~redone : 0); bits;
		     bits &= bits - 1) {
			uint32_t gsi = w * 64 + (uint32_t)__builtin_ctzll(bits);
			int err;

			if (!k->vmm_bound_fd[gsi])
				continue; /* no irqfd yet: it takes the MSI when it is assigned */
			err = push_msi_irqfd(vm, gsi);
			pushed++;
			if (!first_err)
				first_err = err;
		}
		/* redone without an update (its translation faulted): no push at all */
		for (uint64_t bits = redone & ~k->vmm_dirty[w]; bits; bits &= bits - 1)
			redone_alone +=
			    k->vmm_bound_fd[w * 64 + (uint32_t)__builtin_ctzll(bits)] != 0;
		k->vmm_redone[w] = 0;
	}
	if (all) {
		vm->stats.msi_updates += k->vmm_nbound - pushed - redone_alone;
		vm->stats.routes_walked += k->vmm_nbound - pushed - redone_alone;
		k->vmm_repush_all = false;
	}
	return first_err;
}

/* The whole table, every time (kvm_irqchip_commit_routes). */
/*
 * The table the VMM commits is the one KVM holds: KVM would take it and walk
 * every irqfd to find no route changed. The commit and the walk are counted
 * as made, and there is nothing else to do. (Legacy re-aims every IRTE at
 * every commit, so it always takes the whole path.)
 */
static void commit_unchanged(struct vm *vm)
{
	vm->stats.route_commits++;
	vm->stats.routes_walked += vm->kvm.route_irqfds;
}

/*
 * The count of MSI irqfds is theirs, and only they can be stale. (Handles from
 * vmm_end on have no route, so no irqfd: one there would leave the count short.)
 */
static bool bound_counted(const struct kvm_irq *k)
{
	unsigned n = 0;

	for (uint32_t gsi = 0; gsi < k->vmm_end; gsi++) {
		n += k->vmm_bound_fd[gsi] != 0;
		if (bitmap_test(k->vmm_stale, gsi) && !k->vmm_bound_fd[gsi])
			return false;
	}
	return n == k->vmm_nbound;
}

bool vm_routes_consistent(const struct vm *vm)
{
	const struct kvm_irq *k = &vm->kvm;
	unsigned irqfds = 0;

	for (uint32_t gsi = 0; gsi < VM_MAX_ROUTES; gsi++) {
		bool has = bitmap_test(k->table_has, gsi);

		/*
		 * From vmm_end on the VMM never had a route. Where KVM has none either
		 * and no irqfd waits, both entries are as made.
		 */
		if (gsi >= k->vmm_end && !has && !k->gsi_irqfds[gsi])
			continue;
		if (has != (k->table[gsi].type != 0))
			return false;
		/* tuned's handles are no GSIs: its table holds the IOAPIC's routes only */
		if (!tuned(vm) && !bitmap_test(k->vmm_touched, gsi) &&
		    !same_route(&k->table[gsi], vmm_route_at(k, gsi)))
			return false;
		for (int fd = k->gsi_irqfds[gsi]; fd; fd = k->fds[fd - 1].next_on_gsi) {
			const struct kvm_eventfd *e = &k->fds[fd - 1];

			if (!e->open || !e->irqfd || e->msi_irqfd || e->gsi != gsi ||
			    ++irqfds > k->route_irqfds)
				return false; /* the last test also ends a cycle */
			if (!same_route(&e->bound, &k->table[gsi]))
				return false;
		}
	}
	return irqfds == k->route_irqfds && bound_counted(k);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * The route irqfds on the touched GSIs, as fds in ascending order: the order
 * KVM's walk of every irqfd would reach them. Return: how many, -1 if out of
 * memory.
 */
static int touched_irqfds(struct kvm_irq *k, int **ret)
{
	int *fds = NULL, n = 0, cap = 0;

	for (uint32_t w = 0; w < VM_MAX_ROUTES / 64; w++)
		for (uint64_t bits = k->vmm_touched[w]; bits; bits &= bits - 1) {
			uint32_t gsi = w * 64 + (uint32_t)__builtin_ctzll(bits);

			for (int fd = k->gsi_irqfds[gsi]; fd; fd = k->fds[fd - 1].next_on_gsi) {
				if (n == cap) {
					int *g;

					cap = cap ? 2 * cap : 16;
					g = realloc(fds, (size_t)cap * sizeof(*g));
					if (!g) {
						free(fds);
						return -1;
					}
					fds = g;
				}
				fds[n++] = fd - 1;
			}
		}
	if (n > 1)
		qsort(fds, (size_t)n, sizeof(*fds), cmp_int);
	*ret = fds;
	return n;
}

/*
 * A stock commit: what KVM would do with the whole table, done for the routes
 * the VMM touched. Every other GSI keeps its route and every other irqfd
 * already holds it (an irqfd takes its GSI's route at each commit and at
 * assignment), so walking them changes nothing: they are counted as walked.
 * With @report, an irqfd whose IRTE could not follow keeps its old route, as
 * kvm_set_gsi_routing() does, and its GSI is marked refused.
 * Return: false (nothing done) if out of memory; else *@ret_err, the first
 * refusal's error (0 if none).
 */
static bool commit_touched(struct vm *vm, bool report, int *ret_err)
{
	struct kvm_irq *k = &vm->kvm;
	struct kvm_irq_routing *r = k->commit_buf;
	int *fds = NULL, n = touched_irqfds(k, &fds);

	*ret_err = 0;
	if (n < 0)
		return false;
	for (uint32_t w = 0; w < VM_MAX_ROUTES / 64; w++)
		for (uint64_t bits = k->vmm_touched[w]; bits; bits &= bits - 1) {
			uint32_t gsi = w * 64 + (uint32_t)__builtin_ctzll(bits);

			k->table[gsi] = *vmm_route_at(k, gsi);
			bitmap_assign(k->table_has, gsi, k->table[gsi].type != 0);
		}
	vm->stats.route_commits++;
	vm->stats.routes_walked += k->route_irqfds - (unsigned)n; /* irqfd_follow counts the rest */
	r->flags = report ? KVM_IRQ_ROUTING_REPORT_BYPASS : 0;
	r->nr = 0; /* no table to flag: a refusal is marked here */
	for (int i = 0; i < n; i++) {
		int err = irqfd_follow(vm, &k->fds[fds[i]], r); /* unreported: logged */

		if (err)
			mark_refused(vm, k->fds[fds[i]].gsi);
		if (err && !*ret_err)
			*ret_err = err;
	}
	free(fds);
	return true;
}

static int commit_table(struct vm *vm, bool report)
{
	struct kvm_irq *k = &vm->kvm;
	struct kvm_irq_routing *r = k->commit_buf;
	int err;

	vm->stats.bypass_reports += report;
	if (!k->vmm_changed && host_kernel(vm->host) != HOST_KERNEL_LEGACY) {
		commit_unchanged(vm);
		return 0;
	}
	if (host_kernel(vm->host) == HOST_KERNEL_STOCK && commit_touched(vm, report, &err)) {
		k->vmm_changed = false;
		return err;
	}
	k->vmm_changed = false;
	r->nr = 0;
	r->flags = report ? KVM_IRQ_ROUTING_REPORT_BYPASS : 0;
	for (uint32_t gsi = 0; gsi < k->vmm_end; gsi++)
		if (k->vmm_routes[gsi].type)
			r->entries[r->nr++] = k->vmm_routes[gsi];
	/* At most VM_MAX_ROUTES valid MSI routes: only an IRTE can fail, and only reported. */
	err = kvm_set_gsi_routing(vm, r);
	for (uint32_t i = 0; err && i < r->nr; i++)
		if (r->entries[i].flags & KVM_IRQ_ROUTING_F_BYPASS_FAILED)
			mark_refused(vm, r->entries[i].gsi);
	return err;
}

int vmm_route_commit(struct vm *vm, bool report)
{
	struct kvm_irq *k = &vm->kvm;
	int err;

	size_t words = (k->vmm_end + 63) / 64 * sizeof(uint64_t); /* no handle at or past vmm_end */

	memset(k->vmm_refused, 0, words);
	err = tuned(vm) ? commit_msi_irqfds(vm) : commit_table(vm, report);
	memset(k->vmm_dirty, 0, words);
	/* KVM now holds the VMM's table, except the routes it refused and kept */
	for (uint32_t w = 0; w < VM_MAX_ROUTES / 64; w++)
		k->vmm_touched[w] = w * 64 < VMM_MAX_MSIS ? k->vmm_refused[w] : 0;
	return report ? err : 0;
}

int vmm_irqfd_assign(struct vm *vm, int fd, uint32_t gsi)
{
	struct kvm_irqfd a = {.fd = (uint32_t)fd, .gsi = gsi};
	int err;

	if (tuned(vm))
		a = msi_irqfd_args(vm, fd, gsi);
	err = kvm_irqfd(vm, &a);
	if (!err && tuned(vm))
		bound_fd_set(&vm->kvm, gsi, fd + 1);
	return err;
}

void vmm_irqfd_deassign(struct vm *vm, int fd, uint32_t gsi)
{
	(void)!kvm_irqfd(vm, &(struct kvm_irqfd){.fd = (uint32_t)fd,
						 .gsi = tuned(vm) ? 0 : gsi,
						 .flags = KVM_IRQFD_FLAG_DEASSIGN});
	if (gsi < vm->kvm.vmm_cap)
		bound_fd_set(&vm->kvm, gsi, 0);
}
