/* SPDX-License-Identifier: MIT */
/* The engine's trace events (trace.c); every call does nothing when @t is NULL. */
#ifndef PVIR_SIM_TRACE_H
#define PVIR_SIM_TRACE_H

#include "pvir/sim.h"

enum trace_proc {
	TRACE_PCPUS,
	TRACE_IOMMU,
	TRACE_DEVICES,
	TRACE_VM, /* + the VM's index */
};

unsigned trace_pid(enum sim_design d, enum trace_proc p, unsigned vm);
void trace_name_process(struct sim_trace *t, unsigned pid, const char *design, const char *what);
void trace_name_thread(struct sim_trace *t, unsigned pid, unsigned tid, const char *name);
/* A slice of @dur ns from @at; @args_json is the inside of the args object, or NULL. */
void trace_slice(struct sim_trace *t, unsigned pid, unsigned tid, uint64_t at, uint64_t dur,
		 const char *name, const char *args_json);
void trace_instant(struct sim_trace *t, unsigned pid, unsigned tid, uint64_t at, const char *name);

#endif
