/* SPDX-License-Identifier: MIT */
/*
 * The cost model: what each counted event costs, in modelled nanoseconds.
 * Counts are exact; time is a model. Defaults come from published
 * measurements, each with its source in docs/cost-model.md, and a
 * scenario can override any constant by name.
 */
#ifndef PVIR_COST_H
#define PVIR_COST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cost_model {
	uint64_t hypercall;	  /* a hypercall served by the VMM (PERF A4) */
	uint64_t mmio_trap;	  /* a trapped MMIO access, exit to the VMM and back (A4) */
	uint64_t cfg_exit;	  /* a config-space access, emulated by the VMM (A4) */
	uint64_t ext_intr_exit;	  /* an exit for a host interrupt, handled in KVM (A1) */
	uint64_t irte_write;	  /* one host IRTE update (A12, an assumption) */
	uint64_t iec_inval;	  /* an IEC invalidation round trip (A11) */
	uint64_t dev_mmio_write;  /* a guest UC store reaching the device (A13) */
	uint64_t dev_mmio_read;	  /* a flushing read-back (A14) */
	uint64_t posted_delivery; /* notification to handler start, no exit (A15) */
	uint64_t inject;	  /* an interrupt the host injects: exit and re-entry (A16) */
	uint64_t wakeup;	/* waking a halted vCPU on its wakeup vector (A1 + A15, derived) */
	uint64_t guest_handler; /* the guest's handler itself (an assumption) */
	/* the host kernel's work, which every design pays (docs/host-kernel.md) */
	uint64_t route_commit;	    /* one KVM_SET_GSI_ROUTING, its fixed part (A9, derived) */
	uint64_t irqfd_walk;	    /* ... and per irqfd it walks (A9, derived) */
	uint64_t pi_update;	    /* KVM re-aiming one IRTE, beyond its write and flush (A8-A9) */
	uint64_t vfio_vector_setup; /* a trigger attached: request_irq, eventfd, producer (A10) */
	uint64_t viommu_translate;  /* the vIOMMU translating one route again (an assumption) */
};

/** cost_model_default() - the published defaults */
struct cost_model cost_model_default(void);

/** cost_model_set() - override constant @name; Return: false if there is no such name */
bool cost_model_set(struct cost_model *m, const char *name, uint64_t ns);

/** cost_model_names() - the constants' names, NULL-terminated, in struct order */
const char *const *cost_model_names(void);
uint64_t cost_model_get(const struct cost_model *m, size_t i);

#endif
