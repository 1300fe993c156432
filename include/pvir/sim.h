/* SPDX-License-Identifier: MIT */
/*
 * The discrete-event engine: builds the machine a scenario describes, runs
 * its workload in virtual nanoseconds — events ordered by (time, sequence),
 * randomness only from the seeded generator, so a scenario and seed give the
 * same report byte for byte — and checks the run's invariants at the end.
 *
 * The engine drives the worlds only through their interfaces: it raises
 * device interrupts, schedules vCPUs through the host, makes the guest's
 * driver calls, and observes landings and handled interrupts through the
 * hooks the host and guest offer. It counts; it does not decide.
 */
#ifndef PVIR_SIM_H
#define PVIR_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pvir/amdvi_unit.h"
#include "pvir/host.h"
#include "pvir/ir_unit.h"
#include "pvir/json.h"
#include "pvir/scenario.h"
#include "pvir/vm.h"

/* docs/design.md §3; src/sim/design.c says what each one configures. */
enum sim_design {
	SIM_DESIGN_TRAP,     /* VFIO MSI-X emulation, no vIOMMU */
	SIM_DESIGN_VIR_EMUL, /* an emulated VT-d vIOMMU with IR */
	SIM_DESIGN_HCALL,    /* this project's hypercall */
	SIM_DESIGN_COUNT,
};

/* Test-only fault injection, to show the invariant checker catches a broken run. */
enum sim_fault {
	SIM_FAULT_NONE,
	SIM_FAULT_LOSE_ONE,	/* the host drops a vector it takes from a PIR (a real loss) */
	SIM_FAULT_MISROUTE_ONE, /* the host programs its first IRTE one vector off */
};

/*
 * A trace of a run, written as the run goes so that a long run does not hold
 * it in memory. Several runs may write into one trace: each design has its
 * own processes (JSON) or its name on each line (text).
 *
 *   SIM_TRACE_JSON  Chrome/Perfetto trace events ({"traceEvents": [...]}),
 *                   which ui.perfetto.dev opens: fixed event names with
 *                   args, a category per world, and a flow from each raise
 *                   through the IOMMU and the post to the guest's handler;
 *   SIM_TRACE_TEXT  one line per event, "<design> <virtual us>: <name>
 *                   key value ...", the names those of QEMU's and KVM's
 *                   tracepoints where one exists (vtd_ir_*, kvm_*).
 */
enum sim_trace_format {
	SIM_TRACE_JSON,
	SIM_TRACE_TEXT,
};

struct sim_trace {
	FILE *f;
	bool owned; /* opened here, so closed here */
	enum sim_trace_format format;
	struct json j;
	uint64_t next_flow; /* flow ids, unique in the trace */
};

/** sim_trace_open() - create @path and start the trace; Return: 0 or -errno */
int sim_trace_open(struct sim_trace *t, const char *path, enum sim_trace_format format);
/** sim_trace_open_stream() - the same on @f, which the caller keeps open */
void sim_trace_open_stream(struct sim_trace *t, FILE *f, enum sim_trace_format format);
/** sim_trace_close() - end the trace (and the file); Return: 0 or the -errno of a failed write */
int sim_trace_close(struct sim_trace *t);

/* Called now and then while a run goes: virtual time @now of @duration ns. */
typedef void (*sim_progress_fn)(void *ctx, enum sim_design d, uint64_t now, uint64_t duration);

struct sim_options {
	bool seed_set;
	uint64_t seed;
	bool kernel_set; /* @kernel overrides the scenario's host.kernel */
	enum host_kernel kernel;
	enum sim_fault fault;
	struct sim_trace *trace; /* NULL: no trace */
	sim_progress_fn progress;
	void *progress_ctx;
};

/*
 * Samples in modelled ns, kept as a histogram of exact values, so that
 * percentiles are exact, in memory bounded by the range of the values
 * (src/sim/latency.c): below 2^32 ns in buckets of 65,536 values, each a list
 * of its samples' low bits until it holds LIST_MAX, then a count per value;
 * beyond, sorted bins. sim_latency_sort() closes it.
 */
struct latency_bucket {
	uint16_t *low;	  /* its samples' low 16 bits; ascending once closed */
	uint32_t nlow;	  /* of them, in the list */
	uint32_t low_cap; /* the list's room */
	uint64_t *counts; /* instead of the list: a count per low value */
	uint64_t total;	  /* samples in the bucket */
};

struct latency_bin {
	uint64_t value;
	uint64_t count;
};

struct latency {
	struct latency_bucket *buckets; /* values below 2^32, 65,536 to a bucket */
	size_t nbuckets;
	struct latency_bin *bins; /* values of 2^32 and up, one bin per distinct value */
	size_t nbins;
	size_t bins_cap;
	struct latency_bin *spare; /* the next merge's output, kept from the last */
	size_t spare_cap;
	uint64_t *pend; /* far samples not yet in the bins */
	size_t npend;
	size_t pend_cap;
	size_t n; /* samples */
	bool sorted;
};

/* Two names, two slashes and an index. */
#define SIM_TARGET_MAX (2 * SC_NAME_MAX + 16)

/* One workload operation (traffic aside): what it did, exactly, and its modelled cost. */
struct sim_op_result {
	uint64_t at_ns;
	const char *op;
	char target[SIM_TARGET_MAX]; /* vm/device[/index] or vm/vcpu */
	int err;		     /* negative errno; 0 done */
	unsigned granted;	     /* activate: fewer than asked, as the host granted; 0 all */
	unsigned shut_down;	     /* offline: managed interrupts it shut down */
	unsigned restarted;	     /* online: managed interrupts it started again */
	const char *why; /* for some errors: the limit that was hit, and what lifts it */
	uint64_t hypercalls;
	uint64_t mmio_traps;
	uint64_t cfg_exits;
	uint64_t irte_writes;
	uint64_t iec_invalidations;
	uint64_t device_writes;
	uint64_t device_reads;
	/* the host kernel's work (docs/host-kernel.md) */
	uint64_t set_irqs;	 /* VFIO_DEVICE_SET_IRQS calls */
	uint64_t vfio_setups;	 /* triggers attached (request_irq, eventfd, bypass producer) */
	uint64_t irqfds;	 /* KVM_IRQFD assignments */
	uint64_t route_commits;	 /* KVM_SET_GSI_ROUTING calls */
	uint64_t routes_walked;	 /* irqfds the commits walked */
	uint64_t pi_updates;	 /* IRTEs KVM re-aimed through IRQ bypass */
	uint64_t msi_updates;	 /* tuned: MSI irqfds updated alone, no commit */
	uint64_t format_changes; /* IRTEs switched between posted and remapped */
	int64_t host_vectors;	 /* host vectors taken (negative: released) */
	uint64_t retranslations; /* routes the vIOMMU translated again */
	uint64_t
	    vmm_refused; /* writes the VMM could not honour (an entry left masked): the guest was not told */
	uint64_t cost_ns;
	/* hypercall: the registers it returned */
	int64_t rax;
	uint64_t rbx;
	uint64_t rcx;
	uint64_t rdx;
};

struct sim_irq_counts {
	uint64_t raised;
	uint64_t delivered; /* taken by a vCPU (spurious ones included) */
	uint64_t coalesced;
	uint64_t blocked;
	uint64_t pending;
	uint64_t lost;
	uint64_t misdelivered;
	uint64_t spurious;
	uint64_t not_raised; /* the function was disabled or could not read its slot */
};

struct sim_vm_report {
	char name[SC_NAME_MAX];
	struct sim_irq_counts irq;
	/* held at the end of the run */
	uint32_t irtes;	  /* host IRTEs charged to the VM */
	unsigned vectors; /* vectors the guest's matrix has allocated */
};

#define SIM_MAX_VIOLATIONS 8
#define SIM_MAX_MIGRATIONS 16

/* A migrate_vm that ran (docs/migration.md). */
struct sim_migration {
	char vm[SC_NAME_MAX];
	char from[SC_NAME_MAX], to[SC_NAME_MAX];
	uint64_t at_ns;
	uint64_t downtime_ns;
	uint64_t latched;	 /* interrupts the stopped devices held when the downtime ended */
	uint64_t sent_at_resume; /* of them, sent as the devices ran again */
	uint64_t sent_after_resync; /* sent when the guest's re-SYNC unmasked their entries */
	uint32_t handles;	    /* vIRTEs the VM held */
	uint32_t moved;		    /* of them, whose handle the destination could not keep */
	bool remap_event;	    /* the guest was told (moved > 0) */
	bool done;		    /* the downtime ended within the run */
};

struct sim_report {
	enum sim_design design;
	enum host_iommu iommu;
	enum host_kernel kernel;
	uint64_t seed;
	struct vm_exits exits;
	uint64_t hypercalls;
	uint64_t irte_writes;
	uint64_t iec_invalidations;
	uint64_t device_writes;
	uint64_t set_irqs;
	uint64_t irqfds;
	uint64_t route_commits;
	uint64_t routes_walked;
	uint64_t pi_updates;
	uint64_t msi_updates;
	uint64_t vfio_setups;
	uint64_t format_changes;
	uint64_t host_vectors; /* held at the end */
	/* what the run used that stock Linux lacks (docs/host-kernel.md) */
	uint64_t ims_set_irqs;	 /* SET_IRQS on the VFIO IMS index */
	uint64_t msg_reads;	 /* reads of the VFIO guest-storage feature */
	uint64_t bypass_reports; /* route commits with KVM_IRQ_ROUTING_REPORT_BYPASS */
	uint64_t irte_hints;	 /* VFIO IRTE-index hints a migration's destination set */
	uint64_t retranslations;
	uint64_t vmm_refused; /* see sim_op_result */
	uint64_t posted;
	uint64_t injected;
	/* the host scheduler */
	unsigned vcpus;		       /* over every VM */
	unsigned vcpus_never_ran;      /* never in guest mode */
	uint64_t vcpu_min_delivered;   /* the fewest interrupts one vCPU took */
	char vcpu_min[SIM_TARGET_MAX]; /* that vCPU: vm/i */
	uint64_t switches;	       /* slices that ended with another vCPU waiting */
	struct sim_irq_counts irq;
	struct sim_vm_report vms[SC_MAX_VMS];
	unsigned nvms;
	uint64_t faults[IR_FAULT_COUNT];	/* VT-d: by fault reason - IR_FAULT_FIRST */
	uint64_t amd_faults[AMDVI_BLOCK_COUNT]; /* AMD-Vi: by enum amdvi_block */
	struct latency setup;
	struct latency affinity;
	struct latency delivery;
	struct sim_op_result *ops; /* in the order they ran; failed ones are the report's errors */
	size_t nops;
	struct sim_migration migrations[SIM_MAX_MIGRATIONS];
	unsigned nmigrations;
	char violations[SIM_MAX_VIOLATIONS][256];
	unsigned nviolations;
};

/**
 * sim_run() - run @sc under @design
 * Return: 0 with @ret filled (check ret->nviolations), -ENOMEM, or -EINVAL
 * when the machine could not be built (the message in ret->violations[0]).
 */
int sim_run(const struct scenario *sc, enum sim_design design, const struct sim_options *o,
	    struct sim_report *ret);
void sim_report_done(struct sim_report *r);

const char *sim_design_name(enum sim_design d);
/** sim_design_parse() - the design named @name; Return: false if there is none */
bool sim_design_parse(const char *name, enum sim_design *ret);
/** sim_errno_name() - "ENOSPC" for -ENOSPC; "KVM_ENOSYS" for -1000 */
const char *sim_errno_name(int err);
/** sim_latency_add() - one sample; Return: 0, or -ENOMEM (the sample is not counted) */
int sim_latency_add(struct latency *l, uint64_t value) WARN_UNUSED;
/** sim_percentile() - nearest-rank percentile @p (0..100) of sorted @l; 0 if empty */
uint64_t sim_percentile(const struct latency *l, unsigned p);
/** sim_latency_distinct() - the distinct values among sorted @l's samples */
size_t sim_latency_distinct(const struct latency *l);
/**
 * sim_latency_sort() - every sample in order, and the histogram closed
 * (sim_run does it for its report). Return: 0, or -ENOMEM.
 */
int sim_latency_sort(struct latency *l) WARN_UNUSED;
void sim_latency_free(struct latency *l);

#endif
