/* SPDX-License-Identifier: MIT */
/*
 * The engine's trace events (trace.c); every call does nothing when @t is
 * NULL. An event has a fixed name, a category (the world it happens in) and
 * typed args; in a JSON trace it sits on a track (pid, tid), in a text trace
 * it is one line.
 */
#ifndef PVIR_SIM_TRACE_H
#define PVIR_SIM_TRACE_H

#include "pvir/sim.h"

enum trace_proc {
	TRACE_PCPUS,
	TRACE_IOMMU,
	TRACE_DEVICES,
	TRACE_VM, /* + the VM's index */
};

/* An event's place: the track, the design it belongs to, the virtual time. */
struct trace_at {
	enum sim_design design;
	unsigned pid, tid;
	uint64_t ns;
};

struct trace_arg {
	const char *key;
	const char *str; /* a string arg if not NULL, else @num */
	uint64_t num;
	bool hex; /* @num shown in hex in a text trace (addresses, data, ids) */
};

#define TARG_U(k, v) ((struct trace_arg){.key = (k), .num = (uint64_t)(v)})
#define TARG_X(k, v) ((struct trace_arg){.key = (k), .num = (uint64_t)(v), .hex = true})
#define TARG_S(k, v) ((struct trace_arg){.key = (k), .str = (v)})

enum trace_flow_phase {
	TRACE_FLOW_START,
	TRACE_FLOW_STEP,
	TRACE_FLOW_END,
};

unsigned trace_pid(enum sim_design d, enum trace_proc p, unsigned vm);
void trace_name_process(struct sim_trace *t, unsigned pid, const char *design, const char *what);
void trace_name_thread(struct sim_trace *t, unsigned pid, unsigned tid, const char *name);
/* A slice of @dur ns from @at; slices on one track nest or follow each other. */
void trace_slice(struct sim_trace *t, const struct trace_at *at, uint64_t dur, const char *cat,
		 const char *name, const struct trace_arg *args, unsigned nargs);
void trace_instant(struct sim_trace *t, const struct trace_at *at, const char *cat,
		   const char *name, const struct trace_arg *args, unsigned nargs);
/* A new flow id, unique in @t (0 when @t is NULL). */
uint64_t trace_flow_new(struct sim_trace *t);
/*
 * One step of flow @id, bound to the slice that encloses @at on its track
 * (JSON only: a text trace names the flow in the events' args instead).
 */
void trace_flow(struct sim_trace *t, const struct trace_at *at, uint64_t id,
		enum trace_flow_phase phase);

#endif
