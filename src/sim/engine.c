// SPDX-License-Identifier: MIT
/*
 * The engine: builds the scenario's machine from the worlds' public
 * interfaces, runs the workload as events, and accounts for every interrupt.
 *
 * Time is virtual; only delivery advances it (a landed interrupt is handled
 * after the path's modelled cost). Setup and affinity operations are
 * instantaneous in virtual time and their latency is the cost model applied
 * to what they did: the exits, IRTE writes, invalidations and device accesses
 * counted while they ran.
 *
 * Accounting (docs/design.md §8): every raise the device makes is counted once and
 * must end in exactly one bucket. A landing is seen through the host's
 * observer (blocked by the IR unit, posted, injected), a delivery through the
 * guest's (a vCPU took the vector). Coalescing happens in three places — the
 * device's pending bit, the PIR, the vIRR — and each is counted where it
 * happens. Whatever is still latched at the end is pending; the rest is lost.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "design.h"
#include "evq.h"
#include "trace.h"
#include "pvir/guest.h"
#include "pvir/host.h"
#include "pvir/ir_driver.h"
#include "pvir/migrate.h"
#include "pvir/physmem.h"
#include "pvir/sim.h"
#include "pvir/vmm.h"
#include "pvir/zmem.h"

#define TICK_NS	   1000000u /* the guest's timer: old-vector cleanup, fault drain */
#define NO_TIME	   UINT64_MAX
#define NO_VECTORS 256
#define ALIGN4K(x) (((x) + 0xfffu) & ~(uint64_t)0xfff)

enum ev_type {
	EV_OP,	    /* a = op index */
	EV_TRAFFIC, /* a = op index: the next raise */
	EV_HANDLE,  /* a = vm, b = vcpu: the vCPU takes its interrupts */
	EV_RESUME,  /* a = vm, b = vcpu: end of a preempt or block */
	EV_TICK,
	EV_SLICE,    /* the host scheduler's slices end */
	EV_MIGRATED, /* a = vm: a migrate_vm's downtime ends */
};

/* What a raise reads comes first: a fleet's dozens of devices interleave their raises. */
struct sim_dev {
	unsigned *irqs; /* the active interrupts, by entry */
	unsigned nactive;
	struct pci_func *func;
	/* pci_func_raise_msi(), _msix() or _ims(): the storage the scenario gave it */
	int (*raise)(struct pci_func *f, unsigned n, enum pci_irq_result *ret);
	const struct sc_device *sc;
	struct guest_pci_dev *gdev;
	struct guest_ims_layout ims;
};
_Static_assert(sizeof(struct sim_dev) == 64, "a device is one cache line of its VM");

/* A traced interrupt waiting for the guest's handler: its flow and its last step. */
struct trace_flow_end {
	uint64_t id; /* 0: none waits */
	struct trace_at last;
};

struct sim_vcpu {
	uint64_t handle_at;  /* when its EV_HANDLE is due, NO_TIME if none */
	uint64_t busy_until; /* handling what it took last */
	uint64_t delivered;  /* interrupts it took */
	uint64_t landed[NO_VECTORS];
	struct trace_flow_end *flows; /* by vector, only when tracing */
};

/*
 * A traffic op raises entry n mod count for its n-th raise, count being the
 * entries it spreads over now (activations and frees change it). The
 * residue is kept, so that a raise costs no division while count holds.
 */
struct traffic_pos {
	uint64_t n;
	unsigned count; /* what @at is the residue for */
	unsigned at;	/* n mod count */
};

/*
 * What a traffic op's raises read, in one cache line: the op itself spans four
 * (its cpumask is 128 bytes), and a fleet's dozens of sources interleave.
 */
struct traffic_src {
	alignas(64) struct sim_vm *sv;
	struct sim_dev *d;
	const unsigned *entries; /* the op's; NULL: every active one */
	unsigned nentries;
	uint64_t rate; /* per second */
	uint64_t until;
	struct traffic_pos pos; /* the next entry to raise */
};
_Static_assert(sizeof(struct traffic_src) == 64, "a traffic source is one cache line");

static unsigned traffic_entry(struct traffic_pos *p, unsigned count)
{
	unsigned k;

	if (count != p->count) {
		p->count = count;
		p->at = (unsigned)(p->n % count);
	}
	k = p->at;
	p->n++;
	p->at = k + 1 == count ? 0 : k + 1;
	return k;
}

struct sim;

/*
 * Line 0 holds what every interrupt reads, line 1 what it counts, and each
 * device has a line of its own: a fleet's VMs interleave, so an interrupt
 * finds little of its VM still in cache.
 */
struct sim_vm {
	alignas(64) struct sim *s;
	struct host *host; /* where it runs */
	struct vm *vm;
	struct guest *g;
	struct sim_vcpu *vcpus;
	/* migrate_vm: the move under way */
	struct vm_migration *mig;
	uint64_t held; /* of what it latched, still masked until the guest re-SYNCs */
	unsigned idx;
	unsigned host_idx; /* of s->hosts */
	alignas(64) struct sim_irq_counts irq;
	alignas(64) struct sim_dev devs[SC_MAX_DEVS];
	uint64_t faults[IR_FAULT_COUNT];
	uint64_t amd_faults[AMDVI_BLOCK_COUNT];
	/* migrate_vm: the counters of the VMs it ran as before */
	struct vm *retiring;
	unsigned mig_report; /* its entry in the report */
	struct vm_exits exits_before;
	struct vmm_stats vmm_before;
};
_Static_assert(offsetof(struct sim_vm, irq) == 64, "what an interrupt reads fills line 0");

struct sim {
	const struct scenario *sc;
	enum sim_design design;
	const struct sim_options *o;
	struct sim_trace *trace;
	const struct cost_model *cost;
	struct host *hosts[SC_MAX_HOSTS];
	unsigned nhosts;
	struct sim_vm vms[SC_MAX_VMS];
	struct evq q;
	uint64_t rng;
	uint64_t now;
	struct traffic_src *traffic; /* per op; filled for traffic ops */
	unsigned handling;	     /* interrupts taken so far in this EV_HANDLE */
	int raising;		     /* the irq of the entry being raised, -1 if it has none */
	struct sim_vm *raising_vm;   /* whose device is raising, NULL between raises */
	const struct sim_dev *raising_dev;
	unsigned raising_entry;
	uint64_t flow;	   /* the trace's flow of the raise going on, 0 if none */
	bool flow_started; /* its first event is written */
	bool rogue;	   /* the entry being raised holds a rogue message */
	bool rogue_op;	   /* a rogue_write is storing or restoring raw words */
	uint64_t wakeups_before;
	bool slice_armed; /* an EV_SLICE is queued */
	struct sim_report *r;
	bool oom;
};

/* ---- building the machine ------------------------------------------------------------------ */

/* A BAR: a power of two, a page at least. */
static uint64_t bar_size(uint64_t v)
{
	return pow2_at_least(v < 0x1000 ? 0x1000 : v);
}

/*
 * A function with what the scenario gives it (MSI-X, IMS or MSI, one of them): the
 * MSI-X table at BAR0 offset 0 and its PBA on the next page; or IMS slots
 * (device kind) or registers (memory kind) at BAR0 offset 0; or a 64-bit MSI
 * capability with per-vector masking, as most devices that have MSI have it, and a
 * page of BAR0 for the device's own registers.
 */
static struct pci_func_config device_config(const struct sc_device *d)
{
	struct pci_func_config c = {.rid = d->bdf,
				    .vendor_id = 0x8086,
				    .device_id = 0x0b25,
				    .handle_window = d->handle_window};

	if (d->msix) {
		uint64_t table = (uint64_t)d->msix * PCI_MSIX_ENTRY_SIZE;
		uint64_t pba = ALIGN4K(table);

		c.msix_vectors = d->msix;
		c.msix_pba_offset = (uint32_t)pba;
		c.bars[0].size = bar_size(pba + (d->msix + 63) / 64 * 8);
	}
	if (d->ims) {
		uint64_t len =
		    d->ims_storage == IMS_DEVICE ? (uint64_t)d->ims * IMS_SLOT_SIZE : IMS_REGS_SIZE;

		c.ims_storage = d->ims_storage;
		c.ims_entries = d->ims;
		c.bars[0].size = bar_size(len);
	}
	if (d->msi) {
		c.msi_vectors = d->msi;
		c.msi_64bit = true;
		c.msi_per_vector_mask = true;
		c.bars[0].size = bar_size(0);
	}
	return c;
}

static int build_fail(struct sim *s, int err, const char *what, const char *name)
{
	snprintf(s->r->violations[0], sizeof(s->r->violations[0]), "cannot build %s '%s': %s", what,
		 name, sim_errno_name(err));
	s->r->nviolations = 1;
	return err;
}

static void host_landed(void *ctx, const struct host_landing *l);
static void guest_took(void *ctx, unsigned cpu, uint8_t vector, int irq);

static int build_devices(struct sim *s, struct sim_vm *sv, const struct sc_vm *v)
{
	for (unsigned d = 0; d < v->ndevs; d++) {
		struct sim_dev *sd = &sv->devs[d];
		struct pci_func_config c = device_config(&v->devs[d]);
		int err;

		sd->sc = &v->devs[d];
		sd->raise = sd->sc->msi	   ? pci_func_raise_msi
			    : sd->sc->msix ? pci_func_raise_msix
					   : pci_func_raise_ims;
		err = host_add_device(sv->host, &c, &sd->func);
		if (!err)
			err = vm_assign_device(sv->vm, sd->func, sd->sc->guest_bdf, NULL);
		if (err)
			return build_fail(s, err, "device", sd->sc->name);
		sd->ims = (struct guest_ims_layout){sd->sc->ims_storage, c.ims_bar, 0, sd->sc->ims};
		sd->irqs = calloc(sc_device_vectors(sd->sc), sizeof(*sd->irqs));
		if (!sd->irqs)
			return -ENOMEM;
	}
	return 0;
}

/* Whether a migrate_vm moves VM @i. */
static bool migrates(const struct scenario *sc, unsigned i)
{
	for (unsigned o = 0; o < sc->nops; o++)
		if (sc->ops[o].kind == OP_MIGRATE_VM && sc->ops[o].vm == i)
			return true;
	return false;
}

static int build_vm(struct sim *s, unsigned i)
{
	const struct sc_vm *v = &s->sc->vms[i];
	struct sim_vm *sv = &s->vms[i];
	struct vm_config vc = {.name = v->name,
			       .vcpus = v->vcpus,
			       .pin = v->pinned ? v->pin : NULL,
			       .mem_size = v->memory,
			       .irte_quota = v->irte_quota};
	struct guest_config gc = {0}; /* the guest's half is boot_guest()'s */
	int err;

	design_configure(s->design, v, &vc, &gc);
	vc.remap_event = migrates(s->sc, i); /* a VMM set up to move the VM offers the event */
	sv->s = s;
	sv->idx = i;
	sv->vcpus = calloc(v->vcpus, sizeof(*sv->vcpus));
	if (!sv->vcpus)
		return -ENOMEM;
	for (unsigned c = 0; c < v->vcpus; c++) {
		sv->vcpus[c].handle_at = NO_TIME;
		for (unsigned vec = 0; vec < NO_VECTORS; vec++)
			sv->vcpus[c].landed[vec] = NO_TIME;
	}
	sv->host_idx = v->host;
	sv->host = s->hosts[v->host];
	err = vm_create(sv->host, &vc, &sv->vm);
	if (err)
		return build_fail(s, err, "VM", v->name);
	return build_devices(s, sv, v);
}

/* The guest kernel boots, enumerates, and (hcall) opts in. */
static int boot_guest(struct sim *s, unsigned i)
{
	const struct sc_vm *v = &s->sc->vms[i];
	struct sim_vm *sv = &s->vms[i];
	struct vm_config vc = {0}; /* the VMM's half is build_vm()'s */
	struct guest_config gc = {0};
	int err;

	design_configure(s->design, v, &vc, &gc);
	gc.amd_iommu = host_iommu(sv->host) == HOST_IOMMU_AMDVI; /* IVRS, not DMAR */
	err = guest_boot(sv->vm, &gc, &sv->g);
	if (err)
		return build_fail(s, err, "guest of VM", v->name);
	for (unsigned d = 0; d < v->ndevs; d++) {
		sv->devs[d].gdev = guest_pci_find(sv->g, v->devs[d].guest_bdf);
		if (!sv->devs[d].gdev) /* the loader admits only what the guest scans */
			return build_fail(s, -ENODEV, "device (the guest did not find it)",
					  v->devs[d].name);
	}
	guest_set_observer(sv->g, guest_took, sv);
	return 0;
}

static int build_host(struct sim *s, unsigned i)
{
	const struct sc_host *h = &s->sc->hosts[i];
	struct host_config hc = host_default_config();
	int err;

	hc.pcpus = h->pcpus;
	hc.iommu = h->iommu;
	hc.amd_table = h->amd_table;
	hc.irte_entries = h->irte_entries;
	hc.posting = h->posting;
	hc.x2apic = h->x2apic;
	hc.kernel = s->o && s->o->kernel_set ? s->o->kernel : h->kernel;
	hc.msix_noresize = h->msix_noresize;
	err = host_create(&hc, &s->hosts[i]);
	if (err)
		return build_fail(s, err, "host", h->name);
	s->nhosts = i + 1;
	host_set_observer(s->hosts[i], host_landed, s);
	return 0;
}

static int build(struct sim *s)
{
	int err;

	for (unsigned i = 0; i < s->sc->nhosts; i++) {
		err = build_host(s, i);
		if (err)
			return err;
	}
	/* every VM and its devices first: who shares a requester-id is known before any guest boots */
	for (unsigned i = 0; i < s->sc->nvms; i++) {
		err = build_vm(s, i);
		if (err)
			return err;
	}
	for (unsigned i = 0; i < s->sc->nvms; i++) {
		err = boot_guest(s, i);
		if (err)
			return err;
	}
	return 0;
}

/* ---- the trace ------------------------------------------------------------------------------- */

static unsigned pid_of(const struct sim *s, enum trace_proc p, unsigned vm)
{
	return trace_pid(s->design, p, vm);
}

static unsigned dev_tid(unsigned vm, unsigned dev)
{
	return vm * SC_MAX_DEVS + dev;
}

/* The workload's operations of a VM have a track of their own, after its vCPUs'. */
static unsigned ops_tid(const struct sim *s, unsigned vm)
{
	return s->sc->vms[vm].vcpus;
}

static struct trace_at at_on(const struct sim *s, enum trace_proc p, unsigned vm, unsigned tid)
{
	return (struct trace_at){
	    .design = s->design, .pid = pid_of(s, p, vm), .tid = tid, .ns = s->now};
}

/* A pCPU's track: host by host. */
static unsigned pcpu_tid(unsigned host, unsigned pcpu)
{
	return host * HOST_MAX_PCPUS + pcpu;
}

static void name_tracks(struct sim *s)
{
	const char *d = sim_design_name(s->design);
	char name[SIM_TARGET_MAX + 16];

	if (!s->trace)
		return;
	trace_name_process(s->trace, pid_of(s, TRACE_PCPUS, 0), d, "pCPUs");
	for (unsigned h = 0; h < s->sc->nhosts; h++)
		for (unsigned c = 0; c < s->sc->hosts[h].pcpus; c++) {
			if (s->sc->nhosts > 1)
				snprintf(name, sizeof(name), "%s/pCPU %u", s->sc->hosts[h].name, c);
			else
				snprintf(name, sizeof(name), "pCPU %u", c);
			trace_name_thread(s->trace, pid_of(s, TRACE_PCPUS, 0), pcpu_tid(h, c),
					  name);
		}
	trace_name_process(s->trace, pid_of(s, TRACE_IOMMU, 0), d, "IOMMU");
	trace_name_thread(s->trace, pid_of(s, TRACE_IOMMU, 0), 0, "IR unit");
	trace_name_process(s->trace, pid_of(s, TRACE_DEVICES, 0), d, "devices");
	for (unsigned i = 0; i < s->sc->nvms; i++) {
		const struct sc_vm *v = &s->sc->vms[i];

		for (unsigned k = 0; k < v->ndevs; k++) {
			snprintf(name, sizeof(name), "%s/%s", v->name, v->devs[k].name);
			trace_name_thread(s->trace, pid_of(s, TRACE_DEVICES, 0), dev_tid(i, k),
					  name);
		}
		snprintf(name, sizeof(name), "VM %s", v->name);
		trace_name_process(s->trace, pid_of(s, TRACE_VM, i), d, name);
		for (unsigned c = 0; c < v->vcpus; c++) {
			snprintf(name, sizeof(name), "vCPU %u", c);
			trace_name_thread(s->trace, pid_of(s, TRACE_VM, i), c, name);
		}
		trace_name_thread(s->trace, pid_of(s, TRACE_VM, i), ops_tid(s, i), "operations");
	}
}

/*
 * The device's send, the raise's flow starting from it. A raise that sends
 * nothing (masked, latched) has no flow: its message goes later, untraced.
 */
static COLD void trace_send(struct sim *s, const struct sim_vm *src, const struct host_landing *l)
{
	struct trace_at at;
	struct trace_arg args[3];

	if (!s->trace || !s->raising_dev || s->flow_started)
		return;
	at = at_on(s, TRACE_DEVICES, 0, dev_tid(src->idx, (unsigned)(s->raising_dev - src->devs)));
	args[0] = TARG_U("entry", s->raising_entry);
	args[1] = TARG_X("sid", l->rid);
	args[2] = TARG_U("flow", s->flow);
	trace_slice(s->trace, &at, 0, "device", s->rogue ? "dev_msi_send_rogue" : "dev_msi_send",
		    args, 3);
	trace_flow(s->trace, &at, s->flow, TRACE_FLOW_START);
	s->flow_started = true;
}

/* Where a flow waits for the guest's handler: the (vCPU, vector) it landed on. */
static struct trace_flow_end *flow_slot(struct sim *s, struct sim_vm *dst, const struct vcpu *v,
					uint8_t vector)
{
	struct sim_vcpu *c = &dst->vcpus[v->id];

	if (!c->flows)
		c->flows = calloc(NO_VECTORS, sizeof(*c->flows));
	if (!c->flows)
		s->oom = true;
	return c->flows ? &c->flows[vector] : NULL;
}

/*
 * The IOMMU's verdict, then the post or the injection: the flow's next steps.
 * It ends where the interrupt ends: blocked, merged into a pending vector,
 * or (later, guest_took) at the guest's handler.
 */
static COLD void trace_landing(struct sim *s, struct sim_vm *src, struct sim_vm *dst,
			       const struct host_landing *l)
{
	static const char *const outcome[] = {"passthrough", "remapped", "posted", "blocked"};
	struct trace_at iommu = at_on(s, TRACE_IOMMU, 0, 0), step;
	struct trace_arg args[5] = {TARG_X("sid", l->rid), TARG_S("outcome", outcome[l->outcome]),
				    TARG_U("flow", s->flow)};
	struct trace_flow_end *slot = NULL;
	bool ends;
	bool amd = host_iommu(src->host) == HOST_IOMMU_AMDVI;

	if (!s->trace)
		return;
	trace_send(s, src, l);
	if (l->outcome == IR_BLOCKED) { /* VT-d's fault reason; AMD-Vi's event and why */
		args[3] = TARG_X("reason", amd ? l->amd_event : l->fault);
		args[4] = TARG_S("fault", amd ? amdvi_block_name((enum amdvi_block)l->amd_block)
					      : ir_fault_name(l->fault));
		trace_slice(s->trace, &iommu, 0, "iommu", amd ? "amdvi_ir_fault" : "vtd_ir_fault",
			    args, 5);
		trace_flow(s->trace, &iommu, s->flow, TRACE_FLOW_END);
		return;
	}
	args[3] = TARG_X("vector", l->vector);
	args[4] = TARG_U("vcpu", l->vcpu ? l->vcpu->id : 0);
	trace_slice(s->trace, &iommu, 0, "iommu", amd ? "amdvi_ir_remap" : "vtd_ir_remap", args, 5);
	if (!l->vcpu || l->held) {
		trace_flow(s->trace, &iommu, s->flow, TRACE_FLOW_END);
		return;
	}
	trace_flow(s->trace, &iommu, s->flow, TRACE_FLOW_STEP);
	args[0] = TARG_X("vector", l->vector);
	args[1] = TARG_U("vcpu", l->vcpu->id);
	args[2] = TARG_U("flow", s->flow);
	args[3] = TARG_U("merged", l->merged);
	if (l->outcome == IR_POSTED) {
		step = at_on(s, TRACE_PCPUS, 0, pcpu_tid(dst->host_idx, l->vcpu->pcpu));
		trace_slice(s->trace, &step, 0, "posting", amd ? "avic_post" : "pi_post", args, 4);
	} else {
		step = at_on(s, TRACE_VM, dst->idx, l->vcpu->id);
		trace_slice(s->trace, &step, 0, "kvm", "kvm_inj_virq", args, 4);
	}
	slot = l->merged ? NULL : flow_slot(s, dst, l->vcpu, l->vector);
	ends = !slot || slot->id; /* merged, or the vector already waits with a flow of its own */
	trace_flow(s->trace, &step, s->flow, ends ? TRACE_FLOW_END : TRACE_FLOW_STEP);
	if (!ends)
		*slot = (struct trace_flow_end){.id = s->flow, .last = step};
}

/* The guest's handler took (@cpu, @vector): the flow that led there ends in its slice. */
static COLD void trace_taken(struct sim *s, struct sim_vm *sv, unsigned cpu, uint8_t vector,
			     int irq, uint64_t start)
{
	struct sim_vcpu *c = &sv->vcpus[cpu];
	struct trace_at at = at_on(s, TRACE_VM, sv->idx, cpu);
	uint64_t flow = c->flows ? c->flows[vector].id : 0;
	struct trace_arg args[] = {TARG_U("irq", irq < 0 ? 0 : irq), TARG_X("vector", vector),
				   TARG_U("flow", flow)};

	if (!s->trace)
		return;
	at.ns = start;
	if (s->trace->format == SIM_TRACE_TEXT)
		trace_instant(s->trace, &at, "guest", "irq_handler_entry", args, 3);
	if (flow) {
		trace_flow(s->trace, &at, flow, TRACE_FLOW_END);
		c->flows[vector].id = 0;
	}
}

/* Interrupts still pending at the end: their flows end where they last were. */
static void trace_close_flows(struct sim *s)
{
	for (unsigned i = 0; s->trace && i < s->sc->nvms; i++)
		for (unsigned c = 0; c < s->sc->vms[i].vcpus; c++) {
			struct trace_flow_end *f = s->vms[i].vcpus[c].flows;

			for (unsigned v = 0; f && v < NO_VECTORS; v++)
				if (f[v].id)
					trace_flow(s->trace, &f[v].last, f[v].id, TRACE_FLOW_END);
		}
}

/*
 * An operation takes no virtual time; its modelled cost is in its args. It
 * is an instant on its VM's operations track, so that it never spans the
 * run's end nor overlaps the vCPUs' slices.
 */
static void trace_op(struct sim *s, const struct sc_op *op, const struct sim_op_result *r)
{
	struct trace_at at = at_on(s, TRACE_VM, op->vm, ops_tid(s, op->vm));
	struct trace_arg args[] = {
	    TARG_S("target", r->target),
	    TARG_S("result", r->err ? sim_errno_name(r->err) : "ok"),
	    TARG_U("vcpu", op->vcpu),
	    TARG_U("hypercalls", r->hypercalls),
	    TARG_U("mmio_traps", r->mmio_traps),
	    TARG_U("cfg_exits", r->cfg_exits),
	    TARG_U("route_commits", r->route_commits),
	    TARG_U("irte_writes", r->irte_writes),
	    TARG_U("iec_invalidations", r->iec_invalidations),
	    TARG_U("device_writes", r->device_writes),
	    TARG_U("modelled_ns", r->cost_ns),
	};

	if (s->trace)
		trace_instant(s->trace, &at, "workload", r->op, args, ARRAY_SIZE(args));
}

/* A vCPU's scheduling: it entered guest mode, or woke and waits for a slice. */
static COLD void trace_sched(struct sim *s, unsigned vm, unsigned cpu, const char *name,
			     const char *why)
{
	struct trace_at at = at_on(s, TRACE_VM, vm, cpu);
	struct trace_arg arg = TARG_S("why", why);

	if (s->trace)
		trace_instant(s->trace, &at, "sched", name, &arg, 1);
}

/*
 * After the report: the hosts are powered off first, so the VMs' teardown
 * gives their IRTEs back without the writes and invalidations nobody would
 * see (a fifth of the instructions of building and taking down fleet.yaml's
 * 65,535 interrupts).
 */
static void teardown(struct sim *s)
{
	for (unsigned i = 0; i < s->nhosts; i++) /* every one of them built */
		host_power_off(s->hosts[i]);
	for (unsigned i = 0; i < s->sc->nvms; i++) {
		struct sim_vm *sv = &s->vms[i];

		guest_free(sv->g);
		vm_migration_free(sv->mig); /* a run stopped in a downtime */
		vm_free(sv->retiring);
		if (sv->vm)
			vm_free(sv->vm);
		for (unsigned d = 0; d < SC_MAX_DEVS; d++)
			free(sv->devs[d].irqs);
		for (unsigned c = 0; sv->vcpus && c < s->sc->vms[i].vcpus; c++)
			free(sv->vcpus[c].flows);
		free(sv->vcpus);
	}
	for (unsigned i = 0; i < s->nhosts; i++)
		host_free(s->hosts[i]);
	evq_free(&s->q);
	free(s->traffic);
}

/* ---- recording ----------------------------------------------------------------------------- */

static void schedule(struct sim *s, uint64_t t, enum ev_type type, unsigned a, unsigned b)
{
	if (!evq_push(&s->q, t, type, a, b))
		s->oom = true;
}

static void latency_add(struct sim *s, struct latency *l, uint64_t v)
{
	if (sim_latency_add(l, v))
		s->oom = true;
}

static void record_op(struct sim *s, const struct sim_op_result *res)
{
	struct sim_report *r = s->r;
	size_t n = r->nops;

	/* room for 16, doubled whenever the ops reach a power of two past it */
	if (n >= 16 ? !(n & (n - 1)) : n == 0) {
		struct sim_op_result *g = realloc(r->ops, (n ? 2 * n : 16) * sizeof(*g));

		if (!g) {
			s->oom = true;
			return;
		}
		r->ops = g;
	}
	r->ops[r->nops++] = *res;
}

/* What an operation costs, from the counters it moved (the cost model; counts stay exact). */
struct work {
	struct vm_exits exits;
	uint64_t irte_writes;
	uint64_t iec;
	uint64_t dev_writes;
	uint64_t dev_reads;
	uint64_t set_irqs;
	uint64_t irqfds;
	uint64_t route_commits;
	uint64_t routes_walked;
	uint64_t pi_updates;
	uint64_t msi_updates;
	uint64_t vfio_setups;
	uint64_t format_changes;
	uint64_t host_vectors;
	uint64_t retranslations;
	uint64_t vmm_refused;
	uint64_t vector_refusals;
	uint64_t route_refusals;
};

/*
 * A host limit an operation ran into, named with what lifts it: the stock
 * kernel holds a host vector per assigned interrupt and a GSI route per
 * MSI; `tuned` needs neither (docs/host-kernel.md, T1 and T2).
 */
static const char *limit_hit(const struct work *before, const struct work *after, bool tuned)
{
	if (after->vector_refusals != before->vector_refusals)
		return "every pCPU's host vectors are taken: more pCPUs, or host.kernel: tuned, "
		       "where a posted interrupt gives its vector back once set up";
	if (after->route_refusals != before->route_refusals)
		return tuned ? "the VMM's table of MSI handles is full"
			     : "the VM's 4096 KVM GSI routes are taken: host.kernel: tuned";
	return NULL;
}

static void add_exits(struct vm_exits *to, const struct vm_exits *e)
{
	to->total += e->total;
	to->hypercall += e->hypercall;
	to->mmio_trap += e->mmio_trap;
	to->ext_intr += e->ext_intr;
	to->wakeup += e->wakeup;
	to->hlt += e->hlt;
	to->cfg += e->cfg;
}

/* A VM's counters over its whole run: the VM it is now, and those it moved out of. */
static struct vm_exits exits_of(const struct sim_vm *sv)
{
	struct vm_exits e = *vm_exits(sv->vm);

	add_exits(&e, &sv->exits_before);
	return e;
}

/* As exits_of(); the two gauges (irqfds held, routes) are the VM's now. */
static struct vmm_stats vmm_of(const struct sim_vm *sv)
{
	struct vmm_stats v = *vm_vmm_stats(sv->vm);
	const struct vmm_stats *b = &sv->vmm_before;

	v.device_writes += b->device_writes;
	v.device_reads += b->device_reads;
	v.emul_errors += b->emul_errors;
	v.set_irqs += b->set_irqs;
	v.vfio_setups += b->vfio_setups;
	v.irqfds += b->irqfds;
	v.route_commits += b->route_commits;
	v.routes_walked += b->routes_walked;
	v.pi_updates += b->pi_updates;
	v.msi_updates += b->msi_updates;
	v.route_refusals += b->route_refusals;
	v.msg_reads += b->msg_reads;
	v.bypass_reports += b->bypass_reports;
	v.ims_set_irqs += b->ims_set_irqs;
	v.irte_hints += b->irte_hints;
	v.foreign_refused += b->foreign_refused;
	v.revoked += b->revoked;
	v.remap_events += b->remap_events;
	v.retranslations += b->retranslations;
	return v;
}

static struct work work_now(const struct sim *s)
{
	struct work w = {0};

	for (unsigned h = 0; h < s->nhosts; h++) {
		const struct host_stats *hs = host_stats(s->hosts[h]);
		struct host_ir_work ir;

		host_ir_work(s->hosts[h], &ir);
		w.format_changes += hs->format_changes;
		w.host_vectors += hs->vectors_held;
		w.vector_refusals += hs->vector_refusals;
		w.irte_writes += ir.irte_writes;
		w.iec += ir.invalidations;
	}

	for (unsigned i = 0; i < s->sc->nvms; i++) {
		const struct vm_exits exits = exits_of(&s->vms[i]), *e = &exits;
		const struct vmm_stats vmm = vmm_of(&s->vms[i]), *v = &vmm;

		w.exits.hypercall += e->hypercall;
		w.exits.mmio_trap += e->mmio_trap;
		w.exits.cfg += e->cfg;
		w.dev_writes += v->device_writes;
		w.dev_reads += v->device_reads;
		w.set_irqs += v->set_irqs;
		w.irqfds += v->irqfds;
		w.route_commits += v->route_commits;
		w.routes_walked += v->routes_walked;
		w.pi_updates += v->pi_updates;
		w.msi_updates += v->msi_updates;
		w.vfio_setups += v->vfio_setups;
		w.retranslations += v->retranslations;
		w.route_refusals += v->route_refusals;
		w.vmm_refused += v->emul_errors + v->foreign_refused;
	}
	return w;
}

static void work_delta(const struct sim *s, const struct work *a, const struct work *b,
		       struct sim_op_result *res)
{
	const struct cost_model *c = s->cost;

	res->hypercalls = b->exits.hypercall - a->exits.hypercall;
	res->mmio_traps = b->exits.mmio_trap - a->exits.mmio_trap;
	res->cfg_exits = b->exits.cfg - a->exits.cfg;
	res->irte_writes = b->irte_writes - a->irte_writes;
	res->iec_invalidations = b->iec - a->iec;
	res->device_writes = b->dev_writes - a->dev_writes;
	res->device_reads = b->dev_reads - a->dev_reads;
	res->set_irqs = b->set_irqs - a->set_irqs;
	res->irqfds = b->irqfds - a->irqfds;
	res->route_commits = b->route_commits - a->route_commits;
	res->routes_walked = b->routes_walked - a->routes_walked;
	res->pi_updates = b->pi_updates - a->pi_updates;
	res->msi_updates = b->msi_updates - a->msi_updates;
	res->vfio_setups = b->vfio_setups - a->vfio_setups;
	res->format_changes = b->format_changes - a->format_changes;
	res->host_vectors = (int64_t)b->host_vectors - (int64_t)a->host_vectors;
	res->retranslations = b->retranslations - a->retranslations;
	res->vmm_refused = b->vmm_refused - a->vmm_refused;
	res->cost_ns =
	    res->hypercalls * c->hypercall + res->mmio_traps * c->mmio_trap +
	    res->cfg_exits * c->cfg_exit + res->irte_writes * c->irte_write +
	    res->iec_invalidations * c->iec_inval + res->device_writes * c->dev_mmio_write +
	    res->device_reads * c->dev_mmio_read + res->route_commits * c->route_commit +
	    res->routes_walked * c->irqfd_walk + res->pi_updates * c->pi_update +
	    res->vfio_setups * c->vfio_vector_setup + res->retranslations * c->viommu_translate;
}

/* ---- delivery ------------------------------------------------------------------------------ */

static struct sim_vm *vm_of(struct sim *s, const struct vm *vm)
{
	for (unsigned i = 0; i < s->sc->nvms; i++)
		if (s->vms[i].vm == vm)
			return &s->vms[i];
	return NULL;
}

/* The VM and device a message came from: by function, as functions may share a requester-id. */
static struct sim_vm *source_vm(struct sim *s, const struct pci_func *func,
				const struct sim_dev **dev)
{
	if (s->raising_dev && s->raising_dev->func == func) { /* the usual case: a raise */
		*dev = s->raising_dev;
		return s->raising_vm;
	}
	for (unsigned i = 0; i < s->sc->nvms; i++)
		for (unsigned d = 0; d < s->sc->vms[i].ndevs; d++)
			if (s->vms[i].devs[d].func == func) {
				*dev = &s->vms[i].devs[d];
				return &s->vms[i];
			}
	return NULL;
}

/* The vCPU takes its interrupts at @t (not before it has handled what it took last). */
static void schedule_handle(struct sim *s, struct sim_vm *sv, unsigned cpu, uint64_t t)
{
	struct sim_vcpu *c = &sv->vcpus[cpu];

	if (t < c->busy_until)
		t = c->busy_until;
	if (c->handle_at <= t)
		return;
	c->handle_at = t;
	schedule(s, t, EV_HANDLE, sv->idx, cpu);
}

static void vcpu_handle_if_pending(struct sim *s, struct sim_vm *sv, struct vcpu *v, uint64_t cost)
{
	/* a take already due by then covers this one: no need to look at the vAPIC */
	if (sv->vcpus[v->id].handle_at <= s->now + cost)
		return;
	if (v->state == VCPU_RUNNING && vm_vcpu_has_pending(v))
		schedule_handle(s, sv, v->id, s->now + cost);
}

static void handle_if_pending(struct sim *s, struct sim_vm *sv, unsigned cpu, uint64_t cost)
{
	vcpu_handle_if_pending(s, sv, vm_vcpu(sv->vm, cpu), cost);
}

/*
 * Did (@v, @vector) belong to what was sent? To the very interrupt when the
 * engine raised an active entry; otherwise (a pending entry sent on unmask, a
 * rogue message) to some interrupt of the same device — except for a rogue
 * message in storage the VMM emulates: that names any (vCPU, vector) of the
 * guest's own, and the VMM honours it by design (`trap`, `vir-emul`). So
 * does a half-written one while a rogue_write stores or restores its words
 * one at a time: an interrupt latched meanwhile may go where it says.
 */
static bool owned_by(const struct sim *s, const struct sim_vm *src, const struct sim_dev *dev,
		     const struct vcpu *v, uint8_t vector)
{
	int irq;

	if (!v || v->vm != src->vm)
		return false;
	if ((s->rogue || s->rogue_op) && !guest_pvir(src->g))
		return true;
	irq = guest_irq_at(src->g, v->id, vector);
	if (s->raising >= 0)
		return irq == s->raising;
	return irq >= 0 && guest_irq_bdf(src->g, (unsigned)irq) == dev->sc->guest_bdf;
}

static void host_landed(void *ctx, const struct host_landing *l)
{
	struct sim *s = ctx;
	const struct sim_dev *dev = NULL;
	struct sim_vm *src = source_vm(s, l->func, &dev), *dst;
	bool woke;
	uint64_t cost;

	if (!src)
		return; /* every device belongs to a VM */
	if (s->trace)
		trace_landing(s, src, l->vcpu ? vm_of(s, l->vcpu->vm) : src, l);
	if (l->outcome == IR_BLOCKED) {
		src->irq.blocked++;
		if (l->fault >= IR_FAULT_FIRST && l->fault < IR_FAULT_FIRST + IR_FAULT_COUNT)
			src->faults[l->fault - IR_FAULT_FIRST]++; /* VT-d */
		else if (l->amd_block && l->amd_block < AMDVI_BLOCK_COUNT)
			src->amd_faults[l->amd_block]++; /* AMD-Vi */
		return;
	}
	if (l->held)
		return; /* in the VMM's emulated pending bit: delivered later, or pending at the end */
	if (!owned_by(s, src, dev, l->vcpu, l->vector)) {
		src->irq.misdelivered++;
		if (!l->vcpu)
			return;
	}
	if (l->merged)
		src->irq.coalesced++;
	dst = l->vcpu->vm == src->vm ? src : vm_of(s, l->vcpu->vm);
	if (dst->vcpus[l->vcpu->id].landed[l->vector] == NO_TIME)
		dst->vcpus[l->vcpu->id].landed[l->vector] = s->now;
	woke = host_stats(src->host)->wakeups != s->wakeups_before;
	cost = l->outcome == IR_POSTED ? s->cost->posted_delivery : s->cost->inject;
	vcpu_handle_if_pending(s, dst, l->vcpu, cost + (woke ? s->cost->wakeup : 0));
}

static void guest_took(void *ctx, unsigned cpu, uint8_t vector, int irq)
{
	struct sim_vm *sv = ctx;
	struct sim *s = sv->s;
	uint64_t *landed = &sv->vcpus[cpu].landed[vector];
	uint64_t start = s->now + (uint64_t)s->handling++ * s->cost->guest_handler;

	sv->irq.delivered++;
	sv->vcpus[cpu].delivered++;
	if (irq < 0)
		sv->irq.spurious++;
	if (s->trace)
		trace_taken(s, sv, cpu, vector, irq, start);
	if (*landed != NO_TIME) {
		latency_add(s, &s->r->delivery, start - *landed);
		*landed = NO_TIME;
	}
}

/* Interrupts the VM's devices hold latched (pending bits). */
static uint64_t vm_pending(const struct sim_vm *sv)
{
	uint64_t n = 0;

	for (unsigned d = 0; d < sv->s->sc->vms[sv->idx].ndevs; d++)
		n += pci_func_pending_count(sv->devs[d].func);
	return n;
}

/*
 * The guest takes its interrupts while entries latched across a migration wait behind
 * handles that moved: the remap event among them has its driver re-SYNC and unmask,
 * and what that sends is theirs. Nothing raises meanwhile, so the drop in pending bits
 * is exactly what left; none of it is counted beyond what was held.
 */
static unsigned handle_releasing_held(struct sim *s, struct sim_vm *sv, unsigned cpu)
{
	uint64_t before = vm_pending(sv);
	unsigned n = guest_handle_interrupts(sv->g, cpu);
	uint64_t after = vm_pending(sv);
	uint64_t sent = before > after ? before - after : 0;

	sent = sent < sv->held ? sent : sv->held;
	s->r->migrations[sv->mig_report].sent_after_resync += sent;
	sv->held -= sent;
	return n;
}

static void on_handle(struct sim *s, unsigned vm, unsigned cpu)
{
	struct sim_vm *sv = &s->vms[vm];
	struct sim_vcpu *c = &sv->vcpus[cpu];
	unsigned n;

	if (c->handle_at != s->now)
		return; /* superseded by an earlier one */
	c->handle_at = NO_TIME;
	if (sv->mig)
		return; /* stopped for a migration: on_migrated() has it take what waits */
	s->handling = 0;
	n = sv->held ? handle_releasing_held(s, sv, cpu) : guest_handle_interrupts(sv->g, cpu);
	c->busy_until = s->now + (uint64_t)n * s->cost->guest_handler;
	if (n && s->trace) {
		struct trace_at at = at_on(s, TRACE_VM, vm, cpu);
		struct trace_arg arg = TARG_U("interrupts", n);

		trace_slice(s->trace, &at, c->busy_until - s->now, "guest", "guest_irq_handlers",
			    &arg, 1);
	}
}

/* ---- device traffic ------------------------------------------------------------------------ */

/*
 * The device raises entry @n, which holds the driver's message unless
 * @rogue; Return: true if it was a raise (sent or latched).
 */
static bool raise(struct sim *s, struct sim_vm *sv, struct sim_dev *d, unsigned n, bool rogue)
{
	uint64_t merged = pci_func_stats(d->func)->pending_coalesced;
	enum pci_irq_result r;
	int err;

	s->wakeups_before = host_stats(sv->host)->wakeups;
	s->flow = s->trace ? trace_flow_new(s->trace) : 0;
	s->flow_started = false;
	s->raising_entry = n;
	s->raising = !rogue && n < d->nactive ? (int)d->irqs[n] : -1;
	if (s->raising >= 0)
		prefetch_next_line(&d->irqs[n]);
	s->rogue = rogue;
	s->raising_vm = sv;
	s->raising_dev = d;
	err = d->raise(d->func, n, &r);
	s->raising_vm = NULL;
	s->raising_dev = NULL;
	s->raising = -1;
	s->rogue = false;
	s->flow = 0;
	if (err || r == PCI_IRQ_DISABLED || r == PCI_IRQ_DMA_ERROR) {
		sv->irq.not_raised++;
		return false;
	}
	sv->irq.raised++;
	if (r == PCI_IRQ_WINDOW)
		sv->irq.blocked++; /* by the device's handle window: no IR fault */
	if (r == PCI_IRQ_PENDING && pci_func_stats(d->func)->pending_coalesced != merged)
		sv->irq.coalesced++; /* its pending bit was already set */
	return true;
}

static uint64_t exp_interval(struct sim *s, uint64_t rate)
{
	double ns = -log(rng_unit(&s->rng)) * 1e9 / (double)rate;

	return ns < 1.0 ? 1 : (uint64_t)ns;
}

static void on_traffic(struct sim *s, unsigned i)
{
	struct traffic_src *t = &s->traffic[i];
	uint64_t next = s->now + exp_interval(s, t->rate);
	unsigned count = t->entries ? t->nentries : t->d->nactive;

	if (count) {
		unsigned k = traffic_entry(&t->pos, count);

		(void)raise(s, t->sv, t->d, t->entries ? t->entries[k] : (unsigned)k, false);
	}
	if (next <= t->until)
		schedule(s, next, EV_TRAFFIC, i, 0);
}

/* Each traffic op's source, once the VMs and their devices exist. */
static void traffic_sources(struct sim *s)
{
	for (unsigned i = 0; i < s->sc->nops; i++) {
		const struct sc_op *op = &s->sc->ops[i];
		struct sim_vm *sv = &s->vms[op->vm];

		if (op->kind == OP_TRAFFIC)
			s->traffic[i] = (struct traffic_src){.sv = sv,
							     .d = &sv->devs[op->dev],
							     .entries = op->entries,
							     .nentries = op->nentries,
							     .rate = op->rate,
							     .until = op->until};
	}
}

/* ---- workload operations ------------------------------------------------------------------- */

static void irq_nop(struct guest *g, unsigned irq, void *dev_id)
{
	(void)g;
	(void)irq;
	(void)dev_id; /* the guest's observer counts; the handler has no work of its own */
}

/* Between op->min and op->count interrupts; Return: how many, or -errno. */
static int activate(struct sim_vm *sv, struct sim_dev *d, const struct sc_op *op)
{
	const struct cpumask *aff = op->spread ? NULL : &op->cpus;
	unsigned had = guest_ims_count(d->gdev);
	int r;

	if (d->sc->msix || d->sc->msi) {
		if (d->sc->msi)
			r = d->nactive ? -EBUSY /* MSI is allocated once */
				       : pci_alloc_irq_vectors_msi(sv->g, d->gdev, op->min,
								   op->count, aff);
		else if (op->managed)
			r = pci_alloc_irq_vectors_managed(sv->g, d->gdev, op->min, op->count);
		else
			r = pci_alloc_irq_vectors(sv->g, d->gdev, op->min, op->count, aff);
		for (unsigned n = 0; r > 0 && n < (unsigned)r; n++)
			d->irqs[n] = (unsigned)pci_irq_vector(d->gdev, n);
		return r;
	}
	if (d->nactive + op->count > d->sc->ims)
		return -ENOSPC;
	r = guest_ims_alloc(sv->g, d->gdev, &d->ims, op->min, op->count, aff);
	for (unsigned n = 0; r > 0 && n < (unsigned)r; n++)
		d->irqs[d->nactive + n] = (unsigned)guest_ims_irq(d->gdev, had + n);
	return r;
}

/*
 * The driver activates its interrupts, then requests each (installs its handler,
 * unmasks). The result says how many it got when that is fewer than it asked.
 */
static int op_activate(struct sim *s, const struct sc_op *op, struct sim_op_result *res)
{
	struct sim_vm *sv = &s->vms[op->vm];
	struct sim_dev *d = &sv->devs[op->dev];
	unsigned first = d->nactive;
	int got = activate(sv, d, op), err = got < 0 ? got : 0;

	if (got > 0 && (unsigned)got < op->count)
		res->granted = (unsigned)got;
	for (unsigned n = first; !err && n < first + (unsigned)got; n++) {
		err = request_irq(sv->g, d->irqs[n], irq_nop, d);
		d->nactive = err ? n : n + 1;
	}
	return err;
}

static int op_free(struct sim *s, const struct sc_op *op)
{
	struct sim_vm *sv = &s->vms[op->vm];
	struct sim_dev *d = &sv->devs[op->dev];

	if (op->count > d->nactive || (d->sc->msi && op->count != d->nactive))
		return -EINVAL; /* MSI goes whole, as pci_free_irq_vectors() frees it */
	for (unsigned n = d->nactive - op->count; n < d->nactive; n++)
		free_irq(sv->g, d->irqs[n]);
	if (d->sc->msix || d->sc->msi)
		pci_free_irq_vectors_last(sv->g, d->gdev, op->count);
	else
		guest_ims_free_last(sv->g, d->gdev, op->count);
	d->nactive -= op->count;
	return 0;
}

static int op_set_affinity(struct sim *s, const struct sc_op *op)
{
	struct sim_vm *sv = &s->vms[op->vm];
	struct sim_dev *d = &sv->devs[op->dev];

	if (op->index >= d->nactive)
		return -EINVAL; /* not an active interrupt (yet, or any more) */
	return irq_set_affinity(sv->g, d->irqs[op->index], &op->cpus);
}

/* Guest-physical address of storage entry @n, and whether it is in RAM (memory-kind IMS). */
static uint64_t entry_gpa(struct sim_vm *sv, struct sim_dev *d, unsigned n, bool *in_ram)
{
	struct assigned_dev *ad = vm_device_by_bdf(sv->vm, d->sc->guest_bdf);
	uint64_t ctx = 0;

	*in_ram = false;
	if (d->sc->msix)
		return assigned_dev_bar_gpa(ad, 0) + (uint64_t)n * PCI_MSIX_ENTRY_SIZE;
	if (d->sc->ims_storage == IMS_DEVICE)
		return assigned_dev_bar_gpa(ad, d->ims.bar) + (uint64_t)n * IMS_SLOT_SIZE;
	/* memory kind: the guest reads back where it told the device its slots are */
	*in_ram = true;
	if (vm_mmio_read(sv->vm, vm_vcpu(sv->vm, 0), assigned_dev_bar_gpa(ad, d->ims.bar), 8, &ctx))
		return 0;
	return ctx ? ctx + (uint64_t)n * IMS_SLOT_SIZE : 0;
}

static void store(struct sim_vm *sv, uint64_t gpa, bool in_ram, const uint32_t *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t v = w[i];

		if (in_ram)
			(void)!physmem_write(vm_memory(sv->vm), gpa + 4 * i, &v, 4);
		else
			(void)!vm_mmio_write(sv->vm, vm_vcpu(sv->vm, 0), gpa + 4 * i, 4, v);
	}
}

static void load(struct sim_vm *sv, uint64_t gpa, bool in_ram, uint32_t *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t x = UINT32_MAX;
		uint64_t v = UINT32_MAX;

		if (in_ram)
			(void)!physmem_read(vm_memory(sv->vm), gpa + 4 * i, &x, 4);
		else if (!vm_mmio_read(sv->vm, vm_vcpu(sv->vm, 0), gpa + 4 * i, 4, &v))
			x = (uint32_t)v;
		w[i] = x;
	}
}

/*
 * The guest writes a raw (address, data) into the entry, bypassing its
 * drivers; the device raises the entry once; then the entry is put back as it
 * was, so the driver's interrupt keeps working and the run shows this one.
 */
static int op_rogue_write(struct sim *s, const struct sc_op *op)
{
	struct sim_vm *sv = &s->vms[op->vm];
	struct sim_dev *d = &sv->devs[op->dev];
	uint32_t rogue[3] = {(uint32_t)op->addr, (uint32_t)(op->addr >> 32), op->data}, saved[3];
	bool in_ram;
	uint64_t gpa = entry_gpa(sv, d, op->index, &in_ram);

	if (!gpa)
		return -EFAULT; /* memory-kind storage the guest never set up */
	load(sv, gpa, in_ram, saved, 3);
	s->rogue_op = true;
	store(sv, gpa, in_ram, rogue, 3);
	(void)raise(s, sv, d, op->index, true);
	store(sv, gpa, in_ram, saved, 3);
	s->rogue_op = false;
	return 0;
}

static int op_hypercall(struct sim *s, const struct sc_op *op, struct sim_op_result *res)
{
	struct sim_vm *sv = &s->vms[op->vm];
	struct vcpu_regs regs = op->regs;

	vm_hypercall(sv->vm, vm_vcpu(sv->vm, op->vcpu), &regs);
	res->rax = (int64_t)regs.rax;
	res->rbx = regs.rbx;
	res->rcx = regs.rcx;
	res->rdx = regs.rdx;
	return 0; /* the result is what it returned, not an error of the run */
}

/* @v entered guest mode (a slice began): it takes what waited for it. */
static void entered(struct sim *s, const struct vcpu *v)
{
	struct sim_vm *sv = vm_of(s, v->vm);

	trace_sched(s, sv->idx, v->id, "sched_vcpu_in", "slice");
	handle_if_pending(s, sv, v->id, s->cost->posted_delivery);
}

static int vcpu_op(struct sim *s, const struct sc_op *op, struct sim_vm *sv, struct vcpu *v)
{
	int err;

	switch (op->kind) {
	case OP_PREEMPT:
		if (v->state != VCPU_RUNNING)
			return -EINVAL;
		host_vcpu_preempt(sv->host, v);
		break;
	case OP_BLOCK:
		if (v->state != VCPU_RUNNING)
			return -EINVAL;
		if (!host_vcpu_block(sv->host, v))
			return -EAGAIN; /* it had an interrupt to take: it does not halt */
		break;
	case OP_MIGRATE:
		return host_vcpu_migrate(sv->host, v, op->pcpu);
	case OP_ONLINE:
		/* the vCPU runs again, then its kernel brings the CPU's interrupts up */
		err = host_vcpu_online(sv->host, v);
		return err ? err : guest_cpu_online(sv->g, op->vcpu);
	default: /* OP_OFFLINE */
		err = guest_cpu_offline(sv->g, op->vcpu);
		if (!err)
			host_vcpu_offline(sv->host, v);
		return err;
	}
	schedule(s, s->now + op->for_ns, EV_RESUME, op->vm, op->vcpu);
	return 0;
}

/*
 * The op on a vCPU; the pCPU it leaves runs the next vCPU waiting there. The result
 * counts the managed interrupts an offline shut down or an online started again.
 */
static int op_vcpu(struct sim *s, const struct sc_op *op, struct sim_op_result *res)
{
	struct sim_vm *sv = &s->vms[op->vm];
	struct vcpu *v = vm_vcpu(sv->vm, op->vcpu);
	unsigned pcpu = v->pcpu;
	struct vcpu *before = host_pcpu_running(sv->host, pcpu);
	struct guest_stats was = *guest_stats(sv->g);
	int err = vcpu_op(s, op, sv, v);
	struct vcpu *now = host_pcpu_running(sv->host, pcpu);

	res->shut_down = (unsigned)(guest_stats(sv->g)->managed_shutdown - was.managed_shutdown);
	res->restarted = (unsigned)(guest_stats(sv->g)->managed_restarted - was.managed_restarted);
	if (now && now != before)
		entered(s, now);
	return err;
}

static void on_resume(struct sim *s, unsigned vm, unsigned cpu)
{
	struct sim_vm *sv = &s->vms[vm];
	struct vcpu *v = vm_vcpu(sv->vm, cpu);

	if (v->state != VCPU_PREEMPTED && v->state != VCPU_BLOCKED)
		return; /* woken already, or taken offline */
	if (v->queued)
		return; /* woken already: it waits for a slice */
	host_vcpu_run(sv->host, v);
	trace_sched(s, vm, cpu, v->state == VCPU_RUNNING ? "sched_vcpu_in" : "sched_vcpu_wait",
		    "resumed");
	handle_if_pending(s, sv, cpu, s->cost->posted_delivery);
}

/*
 * Slices end together on every pCPU where a vCPU waits: a model of the
 * scheduler tick that ends a task's slice once it has run its share. The
 * tick is armed only while someone waits, so a host that is not
 * overcommitted runs exactly as it would without a scheduler.
 */
static bool any_waiting(const struct sim *s)
{
	for (unsigned h = 0; h < s->nhosts; h++)
		if (host_sched_waiting(s->hosts[h]))
			return true;
	return false;
}

static void arm_slice(struct sim *s)
{
	if (s->slice_armed || !any_waiting(s))
		return;
	s->slice_armed = true;
	schedule(s, s->now + s->sc->slice_ns, EV_SLICE, 0, 0);
}

static void on_slice(struct sim *s)
{
	s->slice_armed = false;
	for (unsigned h = 0; h < s->nhosts; h++)
		for (unsigned p = 0; p < host_pcpus(s->hosts[h]) && host_sched_waiting(s->hosts[h]);
		     p++) {
			struct vcpu *v = host_sched_tick(s->hosts[h], p);

			if (v)
				entered(s, v);
		}
}

/* ---- migrate_vm (docs/migration.md) ------------------------------------------------ */

/* The destination's functions: the same devices, hot-added on the other host. */
static int dest_functions(struct sim *s, struct sim_vm *sv, struct host *to,
			  struct pci_func **funcs)
{
	const struct sc_vm *v = &s->sc->vms[sv->idx];

	for (unsigned d = 0; d < v->ndevs; d++) {
		struct pci_func_config c = device_config(&v->devs[d]);
		int err = host_add_device(to, &c, &funcs[d]);

		if (err)
			return err;
	}
	return 0;
}

/*
 * The switch: the VM's state moves to @to and the downtime starts. From now on the VM is
 * the destination's: its devices raise on the destination's functions, which latch until
 * the downtime ends; the guest does not run until then.
 */
static int op_migrate_vm(struct sim *s, const struct sc_op *op)
{
	struct sim_vm *sv = &s->vms[op->vm];
	const struct sc_vm *v = &s->sc->vms[op->vm];
	struct host *to = s->hosts[op->host];
	struct pci_func *funcs[SC_MAX_DEVS];
	struct sim_migration *rep;
	struct vm_migration *m = NULL;
	struct vm *src = sv->vm;
	int err;

	if (sv->mig)
		return -EBUSY; /* one move at a time */
	if (to == sv->host)
		return -EINVAL; /* it is there already */
	if (s->r->nmigrations == SIM_MAX_MIGRATIONS)
		return -ENOSPC;
	err = dest_functions(s, sv, to, funcs);
	if (!err)
		err = vm_migration_begin(src, to, funcs, v->ndevs, NULL, &m);
	if (!err)
		err = vm_migration_switch(m);
	if (err) {
		vm_migration_free(m);
		return err;
	}
	rep = &s->r->migrations[s->r->nmigrations];
	*rep = (struct sim_migration){.at_ns = s->now,
				      .downtime_ns = op->for_ns,
				      .handles = vm_hcall_entries(vm_migration_dest(m)),
				      .moved = vm_migration_moved(m)};
	snprintf(rep->vm, sizeof(rep->vm), "%s", v->name);
	snprintf(rep->from, sizeof(rep->from), "%s", s->sc->hosts[sv->host_idx].name);
	snprintf(rep->to, sizeof(rep->to), "%s", s->sc->hosts[op->host].name);
	sv->mig_report = s->r->nmigrations++;
	/* the source VM's counters stay the run's; it is freed when the downtime ends */
	add_exits(&sv->exits_before, vm_exits(src));
	sv->vmm_before = vmm_of(sv);
	sv->mig = m;
	sv->held = 0; /* what still waits is latched again, counted with this move */
	sv->retiring = src;
	sv->vm = vm_migration_dest(m);
	sv->host = to;
	sv->host_idx = op->host;
	for (unsigned d = 0; d < v->ndevs; d++)
		sv->devs[d].func = funcs[d];
	guest_rebind(sv->g, sv->vm);
	schedule(s, s->now + op->for_ns, EV_MIGRATED, op->vm, 0);
	return 0;
}

/* The downtime ends: the destination's functions run, and the guest with them. */
static void on_migrated(struct sim *s, unsigned vm)
{
	struct sim_vm *sv = &s->vms[vm];
	struct sim_migration *rep = &s->r->migrations[sv->mig_report];
	const struct sc_vm *v = &s->sc->vms[vm];

	if (!sv->mig)
		return;
	rep->latched = vm_pending(sv);
	(void)!vm_migration_finish(sv->mig); /* switched: it cannot fail */
	sv->held = vm_pending(sv);	     /* behind a handle that moved: masked until re-SYNC */
	rep->sent_at_resume = rep->latched - sv->held;
	rep->remap_event = vm_migration_remap_event(sv->mig);
	rep->done = true;
	vm_migration_free(sv->mig);
	vm_free(sv->retiring);
	sv->mig = NULL;
	sv->retiring = NULL;
	for (unsigned c = 0; c < v->vcpus; c++)
		handle_if_pending(s, sv, c, s->cost->posted_delivery);
}

static const char *const op_names[] = {
    [OP_ACTIVATE] = "activate",	  [OP_FREE] = "free",
    [OP_TRAFFIC] = "traffic",	  [OP_SET_AFFINITY] = "set_affinity",
    [OP_PREEMPT] = "preempt",	  [OP_BLOCK] = "block",
    [OP_MIGRATE] = "migrate",	  [OP_OFFLINE] = "offline",
    [OP_ONLINE] = "online",	  [OP_ROGUE_WRITE] = "rogue_write",
    [OP_HYPERCALL] = "hypercall", [OP_MIGRATE_VM] = "migrate_vm",
};

static void op_target(const struct sim *s, const struct sc_op *op, char *out, size_t len)
{
	const struct sc_vm *v = &s->sc->vms[op->vm];

	switch (op->kind) {
	case OP_PREEMPT:
	case OP_BLOCK:
	case OP_MIGRATE:
	case OP_OFFLINE:
	case OP_ONLINE:
	case OP_HYPERCALL:
		snprintf(out, len, "%s/%u", v->name, op->vcpu);
		break;
	case OP_SET_AFFINITY:
		snprintf(out, len, "%s/%s/%u", v->name, v->devs[op->dev].name, op->index);
		break;
	case OP_MIGRATE_VM:
		snprintf(out, len, "%s->%s", v->name, s->sc->hosts[op->host].name);
		break;
	default:
		snprintf(out, len, "%s/%s", v->name, v->devs[op->dev].name);
		break;
	}
}

static int run_op(struct sim *s, const struct sc_op *op, struct sim_op_result *res)
{
	switch (op->kind) {
	case OP_ACTIVATE:
		return op_activate(s, op, res);
	case OP_FREE:
		return op_free(s, op);
	case OP_SET_AFFINITY:
		return op_set_affinity(s, op);
	case OP_ROGUE_WRITE:
		return op_rogue_write(s, op);
	case OP_HYPERCALL:
		return op_hypercall(s, op, res);
	case OP_MIGRATE_VM:
		return op_migrate_vm(s, op);
	default:
		return op_vcpu(s, op, res);
	}
}

/* One workload operation, with what it did and what that costs in the model. */
static void on_op(struct sim *s, unsigned i)
{
	const struct sc_op *op = &s->sc->ops[i];
	struct sim_op_result res = {.at_ns = s->now, .op = op_names[op->kind]};
	struct work before = work_now(s), after;

	if (op->kind == OP_TRAFFIC) {
		on_traffic(s, i);
		return;
	}
	op_target(s, op, res.target, sizeof(res.target));
	res.err = run_op(s, op, &res);
	after = work_now(s);
	res.why = res.err ? limit_hit(&before, &after,
				      host_kernel(s->vms[op->vm].host) == HOST_KERNEL_TUNED)
			  : NULL;
	work_delta(s, &before, &after, &res);
	if (!res.err && op->kind == OP_ACTIVATE)
		latency_add(s, &s->r->setup, res.cost_ns);
	if (!res.err && op->kind == OP_SET_AFFINITY)
		latency_add(s, &s->r->affinity, res.cost_ns);
	record_op(s, &res);
	trace_op(s, op, &res);
	/* a move, a resume or a rogue write can leave something to take */
	for (unsigned c = 0; c < s->sc->vms[op->vm].vcpus; c++)
		handle_if_pending(s, &s->vms[op->vm], c, s->cost->posted_delivery);
}

static void on_tick(struct sim *s)
{
	for (unsigned i = 0; i < s->sc->nvms; i++)
		for (unsigned c = 0; c < s->sc->vms[i].vcpus; c++)
			if (vm_vcpu(s->vms[i].vm, c)->state == VCPU_RUNNING)
				guest_timer_tick(s->vms[i].g, c);
	for (unsigned h = 0; h < s->nhosts; h++)
		host_drain_faults(s->hosts[h]);
	if (s->now + TICK_NS <= s->sc->duration)
		schedule(s, s->now + TICK_NS, EV_TICK, 0, 0);
}

static void dispatch(struct sim *s, const struct event *e)
{
	switch ((enum ev_type)e->type) {
	case EV_MIGRATED:
		on_migrated(s, e->a);
		break;
	case EV_OP:
		on_op(s, e->a);
		break;
	case EV_TRAFFIC:
		on_traffic(s, e->a);
		break;
	case EV_HANDLE:
		on_handle(s, e->a, e->b);
		break;
	case EV_RESUME:
		on_resume(s, e->a, e->b);
		break;
	case EV_TICK:
		on_tick(s);
		break;
	case EV_SLICE:
		on_slice(s);
		break;
	}
	arm_slice(s);
}

/* ---- the end: what is still in flight, and the checks ---------------------------------------- */

static void violation(struct sim_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void violation(struct sim_report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->nviolations == SIM_MAX_VIOLATIONS)
		return;
	va_start(ap, fmt);
	vsnprintf(r->violations[r->nviolations++], sizeof(r->violations[0]), fmt, ap);
	va_end(ap);
}

static void count_pending(struct sim *s, struct sim_vm *sv)
{
	const struct sc_vm *v = &s->sc->vms[sv->idx];

	sv->irq.pending += vm_pending(sv);
	sv->irq.pending += vm_vmm_pending(sv->vm);
	for (unsigned c = 0; c < v->vcpus; c++) {
		struct vcpu *vc = vm_vcpu(sv->vm, c);

		sv->irq.pending += host_vcpu_pir_count(sv->host, vc) + vm_vcpu_irr_count(vc);
		sv->irq.coalesced += vm_vcpu_irr_merged(vc);
	}
}

static void irq_add(struct sim_irq_counts *to, const struct sim_irq_counts *c)
{
	to->raised += c->raised;
	to->delivered += c->delivered;
	to->coalesced += c->coalesced;
	to->blocked += c->blocked;
	to->pending += c->pending;
	to->lost += c->lost;
	to->misdelivered += c->misdelivered;
	to->spurious += c->spurious;
	to->not_raised += c->not_raised;
}

/*
 * Interrupts pending at the end are counted for the VM whose vCPU or device
 * holds them: a correct run never moves one across VMs, and a run that does
 * is already flagged as misdelivered.
 */
static void check_balance(struct sim_report *r, const char *who, struct sim_irq_counts *c)
{
	uint64_t out = c->delivered + c->coalesced + c->blocked + c->pending;

	c->lost = c->raised > out ? c->raised - out : 0;
	if (c->raised != out)
		violation(
		    r,
		    "%s: raised %llu != delivered %llu + coalesced %llu + blocked %llu + "
		    "pending %llu (%s %llu)",
		    who, (unsigned long long)c->raised, (unsigned long long)c->delivered,
		    (unsigned long long)c->coalesced, (unsigned long long)c->blocked,
		    (unsigned long long)c->pending, c->raised > out ? "lost" : "excess",
		    (unsigned long long)(c->raised > out ? c->raised - out : out - c->raised));
	if (c->misdelivered)
		violation(r, "%s: %llu interrupts misdelivered", who,
			  (unsigned long long)c->misdelivered);
}

static void check_accounting(struct sim *s)
{
	struct sim_report *r = s->r;
	/* handle windows reserve their IRTEs up front: only those in use are charged */
	uint32_t charged = 0, in_use = 0;

	for (unsigned h = 0; h < s->nhosts; h++) {
		struct host_ir_work ir;

		host_ir_work(s->hosts[h], &ir);
		in_use += ir.in_use - host_window_idle(s->hosts[h]);
	}

	for (unsigned i = 0; i < s->sc->nvms; i++) {
		struct sim_vm *sv = &s->vms[i];

		charged += vm_irte_used(sv->vm);
		if (!guest_check(sv->g))
			violation(r, "%s: the guest's vector or vIRTE accounting is inconsistent",
				  vm_name(sv->vm));
		if (!vm_routes_consistent(sv->vm))
			violation(r, "%s: KVM's routes or irqfds disagree with the VMM's table",
				  vm_name(sv->vm));
		if (guest_pvir(sv->g) && guest_virtes_in_use(sv->g) != vm_hcall_entries(sv->vm))
			violation(r, "%s: %u vIRTEs in use but %u with a host side",
				  vm_name(sv->vm), guest_virtes_in_use(sv->g),
				  vm_hcall_entries(sv->vm));
	}
	if (charged != in_use)
		violation(r, "host: %u IRTEs allocated but %u charged to VMs", in_use, charged);
	for (unsigned h = 0; h < s->nhosts; h++)
		if (!host_sched_check(s->hosts[h]))
			violation(r, "host: the run queues disagree with the vCPUs' states");
}

/* Did every vCPU run, and how few interrupts did the least served one take? */
static void vcpu_summary(struct sim *s)
{
	struct sim_report *r = s->r;

	for (unsigned h = 0; h < s->nhosts; h++)
		r->switches += host_stats(s->hosts[h])->switches;
	r->vcpu_min_delivered = UINT64_MAX;
	for (unsigned i = 0; i < s->sc->nvms; i++)
		for (unsigned c = 0; c < s->sc->vms[i].vcpus; c++) {
			const struct sim_vcpu *sc = &s->vms[i].vcpus[c];

			r->vcpus++;
			r->vcpus_never_ran += !vm_vcpu(s->vms[i].vm, c)->entries;
			if (sc->delivered < r->vcpu_min_delivered) {
				r->vcpu_min_delivered = sc->delivered;
				snprintf(r->vcpu_min, sizeof(r->vcpu_min), "%s/%u",
					 s->sc->vms[i].name, c);
			}
		}
}

static void finish(struct sim *s)
{
	struct sim_report *r = s->r;

	for (unsigned h = 0; h < s->nhosts; h++) {
		const struct host_stats *hs = host_stats(s->hosts[h]);
		struct host_ir_work ir;

		host_drain_faults(s->hosts[h]);
		host_ir_work(s->hosts[h], &ir);
		r->irte_writes += ir.irte_writes;
		r->iec_invalidations += ir.invalidations;
		r->posted += hs->posted;
		r->injected += hs->injected;
		r->format_changes += hs->format_changes;
		r->host_vectors += hs->vectors_held;
	}
	r->nvms = s->sc->nvms;
	for (unsigned i = 0; i < s->sc->nvms; i++) {
		struct sim_vm *sv = &s->vms[i];
		const struct vm_exits exits = exits_of(sv), *e = &exits;
		const struct vmm_stats vmm = vmm_of(sv);

		count_pending(s, sv);
		check_balance(r, vm_name(sv->vm), &sv->irq);
		irq_add(&r->irq, &sv->irq);
		snprintf(r->vms[i].name, sizeof(r->vms[i].name), "%s", vm_name(sv->vm));
		r->vms[i].irq = sv->irq;
		r->vms[i].irtes = vm_irte_used(sv->vm);
		r->vms[i].vectors = guest_vectors_in_use(sv->g);
		for (unsigned f = 0; f < IR_FAULT_COUNT; f++)
			r->faults[f] += sv->faults[f];
		for (unsigned f = 0; f < AMDVI_BLOCK_COUNT; f++)
			r->amd_faults[f] += sv->amd_faults[f];
		add_exits(&r->exits, e);
		r->device_writes += vmm.device_writes;
		r->set_irqs += vmm.set_irqs;
		r->irqfds += vmm.irqfds;
		r->route_commits += vmm.route_commits;
		r->routes_walked += vmm.routes_walked;
		r->pi_updates += vmm.pi_updates;
		r->msi_updates += vmm.msi_updates;
		r->vfio_setups += vmm.vfio_setups;
		r->ims_set_irqs += vmm.ims_set_irqs;
		r->msg_reads += vmm.msg_reads;
		r->bypass_reports += vmm.bypass_reports;
		r->irte_hints += vmm.irte_hints;
		r->retranslations += vmm.retranslations;
		r->vmm_refused += vmm.emul_errors + vmm.foreign_refused;
	}
	r->hypercalls = r->exits.hypercall;
	if (sim_latency_sort(&r->setup) | sim_latency_sort(&r->affinity) |
	    sim_latency_sort(&r->delivery))
		s->oom = true;
	vcpu_summary(s);
	check_accounting(s);
}

static void run_events(struct sim *s)
{
	sim_progress_fn progress = s->o ? s->o->progress : NULL;
	uint64_t duration = s->sc->duration;
	struct event e;

	for (unsigned i = 0; i < s->sc->nops; i++)
		schedule(s, s->sc->ops[i].at, EV_OP, i, 0);
	schedule(s, TICK_NS, EV_TICK, 0, 0);
	arm_slice(s);
	for (uint64_t n = 0; !s->oom && evq_pop(&s->q, &e) && e.time <= duration; n++) {
		s->now = e.time;
		dispatch(s, &e);
		if (progress && (e.type == EV_OP || n % 65536 == 0))
			progress(s->o->progress_ctx, s->design, s->now, duration);
	}
	trace_close_flows(s);
}

int sim_run(const struct scenario *sc, enum sim_design design, const struct sim_options *o,
	    struct sim_report *ret)
{
	struct sim s = {.sc = sc,
			.design = design,
			.o = o,
			.trace = o ? o->trace : NULL,
			.cost = &sc->costs,
			.r = ret,
			.raising = -1};
	int err;

	memset(ret, 0, sizeof(*ret));
	ret->design = design;
	ret->iommu = sc->iommu;
	ret->kernel = o && o->kernel_set ? o->kernel : sc->kernel;
	ret->seed = o && o->seed_set ? o->seed : sc->seed;
	s.rng = ret->seed;
	/* each source on a line of its own */
	s.traffic = calloc_aligned(alignof(struct traffic_src), sc->nops ? sc->nops : 1,
				   sizeof(*s.traffic));
	err = s.traffic ? build(&s) : -ENOMEM;
	if (!err) {
		traffic_sources(&s);
		name_tracks(&s);
	}
	if (!err) {
		if (o && o->fault == SIM_FAULT_LOSE_ONE)
			host_inject_fault(s.hosts[0], HOST_FAULT_DROP_NEXT_PIR);
		if (o && o->fault == SIM_FAULT_MISROUTE_ONE)
			host_inject_fault(s.hosts[0], HOST_FAULT_MISROUTE_NEXT);
		run_events(&s);
		err = s.oom ? -ENOMEM : 0;
	}
	if (!err) {
		finish(&s);
		err = s.oom ? -ENOMEM : 0;
	}
	teardown(&s);
	if (err)
		sim_report_done(ret); /* what a failed run gathered */
	return err;
}
