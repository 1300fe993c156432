/* SPDX-License-Identifier: MIT */
/*
 * A scenario: the machine, the VMs and their devices, and a timed workload
 * (docs/design.md §8; every key in docs/scenarios.md). Loaded from YAML; a bad
 * scenario gets one message naming the file, the line and the key.
 */
#ifndef PVIR_SCENARIO_H
#define PVIR_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pvir/cost.h"
#include "pvir/cpumask.h"
#include "pvir/host.h"
#include "pvir/pci.h"
#include "pvir/vm.h"

#define SC_NAME_MAX   32
#define SC_MAX_VMS    32
#define SC_MAX_HOSTS  8
#define SC_MAX_DEVS   16
#define SC_MAX_IMS    65536
#define PCI_PASID_MAX 0xfffff /* 20 bits (PCIe PASID TLP prefix) */
#define SC_ERR_MAX    512

/* Limits on what a scenario may ask for (docs/scenarios.md, "Limits"). */
#define SC_MAX_FILE_BYTES (UINT64_C(1) << 20)	/* a scenario file */
#define SC_MAX_DEPTH	  16			/* nesting of lists and mappings */
#define SC_MAX_MEMORY	  (UINT64_C(4) << 30)	/* guest RAM per VM */
#define SC_MAX_DURATION	  UINT64_C(60000000000) /* 60 s of virtual time */
#define SC_MAX_COST	  UINT64_C(1000000000)	/* 1 s per cost constant */
#define SC_MAX_RAISES	  UINT64_C(20000000)	/* device raises over all traffic */

/*
 * The host scheduler's slice. The default is Linux's EEVDF base slice on a
 * host of 8 or more CPUs: sysctl_sched_base_slice, 0.75 ms scaled by
 * 1 + ilog2(min(ncpus, 8)) (kernel/sched/fair.c, v6.6). The bounds are what
 * sched_setattr() accepts as a task's own slice (0.1-100 ms, 857b158dc5e8).
 */
#define SC_DEFAULT_SLICE UINT64_C(3000000)
#define SC_MIN_SLICE	 UINT64_C(100000)
#define SC_MAX_SLICE	 UINT64_C(100000000)

struct sc_device {
	char name[SC_NAME_MAX];
	uint16_t bdf;
	uint16_t guest_bdf;
	unsigned msix; /* vectors, 0: none */
	unsigned ims;  /* entries, 0: none */
	unsigned msi;  /* vectors of its MSI capability (1, 2, 4, ... 32), 0: none */
	enum ims_storage ims_storage;
	uint32_t pasid;	    /* 0: none; functions sharing a bdf are told apart by it (SIOV) */
	bool handle_window; /* the function enforces a handle window (docs/design.md §5) */
};

/* The interrupts a device can have: its one kind of storage's entries. */
static inline unsigned sc_device_vectors(const struct sc_device *d)
{
	return d->msix + d->ims + d->msi; /* one of them is not 0 (scenario_load checks) */
}

/* A host: `host:`, or each of `hosts:`. */
struct sc_host {
	char name[SC_NAME_MAX]; /* "host" for `host:` */
	unsigned pcpus;
	uint64_t slice_ns;
	enum host_iommu iommu;
	uint32_t irte_entries;
	uint32_t amd_table;
	enum host_kernel kernel;
	bool msix_noresize;
	bool posting;
	bool x2apic;
};

struct sc_vm {
	char name[SC_NAME_MAX];
	unsigned host; /* where it runs: an index of scenario.hosts */
	unsigned vcpus;
	unsigned pin[VM_MAX_VCPUS];
	bool pinned;
	uint32_t irte_quota;
	uint64_t memory;
	bool guest_pvir;       /* the guest has the paravirtual IR driver */
	bool vectors_at_alloc; /* `vectors: at_alloc`: no reservation mode (guest_config) */
	bool vmm_pvir;	       /* the VMM has the hypercall service */
	struct sc_device devs[SC_MAX_DEVS];
	unsigned ndevs;
};

enum sc_op_kind {
	OP_ACTIVATE,
	OP_FREE,
	OP_TRAFFIC,
	OP_SET_AFFINITY,
	OP_PREEMPT,
	OP_BLOCK,
	OP_MIGRATE,
	OP_OFFLINE,
	OP_ONLINE,
	OP_ROGUE_WRITE,
	OP_HYPERCALL,
	OP_MIGRATE_VM,
};

struct sc_op {
	enum sc_op_kind kind;
	unsigned line;
	uint64_t at; /* ns */
	unsigned vm;
	unsigned dev;	/* activate, free, traffic, set_affinity, rogue_write */
	unsigned vcpu;	/* preempt, block, migrate, offline, hypercall */
	unsigned index; /* set_affinity: the device's n-th interrupt; rogue_write: entry */
	unsigned count;
	unsigned min;	     /* activate: the fewest the driver takes (pci_alloc_irq_vectors) */
	bool managed;	     /* activate: PCI_IRQ_AFFINITY, spread by group_cpus_evenly() */
	bool spread;	     /* activate: affinity spread (default) */
	struct cpumask cpus; /* activate (when not spread), set_affinity */
	uint64_t rate;	     /* traffic: per second */
	uint64_t until;	     /* traffic: ns */
	uint64_t for_ns;     /* preempt, block */
	unsigned pcpu;	     /* migrate */
	unsigned host;	     /* migrate_vm: where to (for_ns: the downtime) */
	unsigned *entries;   /* traffic: the entries to raise; NULL: every active one */
	unsigned nentries;
	uint64_t addr; /* rogue_write */
	uint32_t data;
	struct vcpu_regs regs; /* hypercall */
};

struct scenario {
	char name[64];
	uint64_t seed;
	uint64_t duration; /* ns */
	unsigned pcpus;
	uint64_t slice_ns;	 /* host.slice */
	enum host_iommu iommu;	 /* host.iommu.kind */
	uint32_t irte_entries;	 /* VT-d: the table's size */
	uint32_t amd_table;	 /* AMD-Vi: entries per device (host.iommu.table) */
	enum host_kernel kernel; /* host.kernel */
	bool msix_noresize;	 /* host.vfio_msix: noresize */
	bool posting;
	bool x2apic;
	/* every host; the fields above are the first one's */
	struct sc_host hosts[SC_MAX_HOSTS];
	unsigned nhosts;
	struct sc_vm vms[SC_MAX_VMS];
	unsigned nvms;
	struct sc_op *ops;
	unsigned nops;
	struct cost_model costs;
};

/**
 * scenario_parse() - parse YAML @text; @file names it in messages
 * Return: 0 and *@ret, or -EINVAL with "FILE:LINE: KEY: what is wrong" in
 * @err (or -ENOMEM).
 */
int scenario_parse(const char *text, size_t len, const char *file, struct scenario **ret, char *err,
		   size_t errlen);
/** scenario_read() - read @f to its end and parse it, calling it @name in errors */
int scenario_read(FILE *f, const char *name, struct scenario **ret, char *err, size_t errlen);
/** scenario_load() - read and parse @path; a file that cannot be read is an error too */
int scenario_load(const char *path, struct scenario **ret, char *err, size_t errlen);
void scenario_free(struct scenario *sc);

/**
 * scenario_set_iommu() - run @sc on @iommu instead of its host.iommu.kind
 * Return: 0, or -EINVAL with the device that an AMD-Vi table cannot hold named in @err.
 */
int scenario_set_iommu(struct scenario *sc, enum host_iommu iommu, char *err, size_t errlen);
/** scenario_set_vectors() - every VM's guest takes its vectors at allocation (@at_alloc) or not */
void scenario_set_vectors(struct scenario *sc, bool at_alloc);
/**
 * scenario_vectors_name() - where the guests take their vectors: "at_request" (no VM
 * with `vectors: at_alloc`), "at_alloc" (every VM), or "mixed"
 */
const char *scenario_vectors_name(const struct scenario *sc);

/** scenario_default_text() - the scenario embedded in the binary (scenarios/default.yaml) */
const char *scenario_default_text(void);

#endif
