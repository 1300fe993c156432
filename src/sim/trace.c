// SPDX-License-Identifier: MIT
/*
 * The trace, streamed. JSON: Chrome trace events ({"traceEvents": [...]})
 * through the project's JSON writer, so every name and string is escaped.
 * Tracks are (pid, tid) pairs named by metadata events. Each design has its
 * own block of processes, so `--design all` or `pvir compare` put the three
 * side by side in one file:
 *
 *   pid base + 0    "DESIGN: pCPUs", one thread per pCPU
 *   pid base + 1    "DESIGN: IOMMU"
 *   pid base + 2    "DESIGN: devices", one thread per device
 *   pid base + 3+i  "DESIGN: VM NAME", one thread per vCPU and one for the
 *                   workload's operations
 *
 * Timestamps are virtual, in microseconds with nanosecond decimals. Flows
 * use the "s"/"t"/"f" phases, each bound to the slice enclosing it ("bp":
 * "e"), which Perfetto and the Chrome trace viewer both draw as arrows.
 *
 * Text: one line per event, "<design> <us>: <name> key value ...", the way
 * QEMU's log backend prints its trace events, so that the two can be read
 * side by side.
 */
#include "trace.h"

#include <errno.h>
#include <inttypes.h>

#define PIDS_PER_DESIGN 64

void sim_trace_open_stream(struct sim_trace *t, FILE *f, enum sim_trace_format format)
{
	*t = (struct sim_trace){.f = f, .format = format};
	if (format != SIM_TRACE_JSON)
		return;
	json_init(&t->j, f);
	json_break_at(&t->j, 2); /* an event per line */
	json_object_begin(&t->j, NULL);
	json_array_begin(&t->j, "traceEvents");
}

int sim_trace_open(struct sim_trace *t, const char *path, enum sim_trace_format format)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	sim_trace_open_stream(t, f, format);
	t->owned = true;
	return 0;
}

int sim_trace_close(struct sim_trace *t)
{
	int err;

	if (!t->f)
		return 0;
	if (t->format == SIM_TRACE_JSON) {
		json_array_end(&t->j);
		json_object_end(&t->j);
		json_finish(&t->j);
	}
	/* A failed write leaves the error flag; flushing again says which error it was. */
	err = fflush(t->f) ? -errno : ferror(t->f) ? -EIO : 0;
	if (t->owned && fclose(t->f) && !err)
		err = -errno;
	t->f = NULL;
	return err;
}

unsigned trace_pid(enum sim_design d, enum trace_proc p, unsigned vm)
{
	return (unsigned)d * PIDS_PER_DESIGN + (unsigned)p + (p == TRACE_VM ? vm : 0);
}

static bool json_on(const struct sim_trace *t)
{
	return t && t->f && t->format == SIM_TRACE_JSON;
}

static void metadata(struct sim_trace *t, unsigned pid, unsigned tid, const char *name,
		     const char *key, const char *str, unsigned num)
{
	struct json *j = &t->j;

	json_object_begin(j, NULL);
	json_string(j, "ph", "M");
	json_string(j, "name", name);
	json_uint(j, "pid", pid);
	json_uint(j, "tid", tid);
	json_object_begin(j, "args");
	if (str)
		json_string(j, key, str);
	else
		json_uint(j, key, num);
	json_object_end(j);
	json_object_end(j);
}

void trace_name_process(struct sim_trace *t, unsigned pid, const char *design, const char *what)
{
	char name[128];

	if (!json_on(t))
		return;
	snprintf(name, sizeof(name), "%s: %s", design, what);
	metadata(t, pid, 0, "process_name", "name", name, 0);
	metadata(t, pid, 0, "process_sort_index", "sort_index", NULL, pid);
}

void trace_name_thread(struct sim_trace *t, unsigned pid, unsigned tid, const char *name)
{
	if (json_on(t))
		metadata(t, pid, tid, "thread_name", "name", name, 0);
}

/* The fields every JSON event has, the object left open. */
static void event_begin(struct sim_trace *t, const char *ph, const struct trace_at *at,
			const char *cat, const char *name)
{
	struct json *j = &t->j;

	json_object_begin(j, NULL);
	json_string(j, "ph", ph);
	json_string(j, "cat", cat);
	json_string(j, "name", name);
	json_uint(j, "pid", at->pid);
	json_uint(j, "tid", at->tid);
	json_fixed(j, "ts", at->ns, 3);
}

static void json_args(struct json *j, const struct trace_arg *args, unsigned nargs)
{
	json_object_begin(j, "args");
	for (unsigned i = 0; i < nargs; i++) {
		if (args[i].str)
			json_string(j, args[i].key, args[i].str);
		else
			json_uint(j, args[i].key, args[i].num);
	}
	json_object_end(j);
}

/* "hcall 12.000345: vtd_ir_remap index 0x1c vector 0x21 ..." */
static void text_event(struct sim_trace *t, const struct trace_at *at, const char *name,
		       const struct trace_arg *args, unsigned nargs)
{
	fprintf(t->f, "%s %" PRIu64 ".%03" PRIu64 ": %s", sim_design_name(at->design),
		at->ns / 1000, at->ns % 1000, name);
	for (unsigned i = 0; i < nargs; i++) {
		if (args[i].str)
			fprintf(t->f, " %s %s", args[i].key, args[i].str);
		else if (args[i].hex)
			fprintf(t->f, " %s 0x%" PRIx64, args[i].key, args[i].num);
		else
			fprintf(t->f, " %s %" PRIu64, args[i].key, args[i].num);
	}
	fputc('\n', t->f);
}

/* A slice of *@dur ns, or an instant when @dur is NULL. */
static void event(struct sim_trace *t, const struct trace_at *at, const uint64_t *dur,
		  const char *cat, const char *name, const struct trace_arg *args, unsigned nargs)
{
	if (!t || !t->f)
		return;
	if (t->format == SIM_TRACE_TEXT) {
		text_event(t, at, name, args, nargs);
		return;
	}
	event_begin(t, dur ? "X" : "i", at, cat, name);
	if (dur)
		json_fixed(&t->j, "dur", *dur, 3);
	else
		json_string(&t->j, "s", "t"); /* on its thread's track */
	json_args(&t->j, args, nargs);
	json_object_end(&t->j);
}

void trace_slice(struct sim_trace *t, const struct trace_at *at, uint64_t dur, const char *cat,
		 const char *name, const struct trace_arg *args, unsigned nargs)
{
	event(t, at, &dur, cat, name, args, nargs);
}

void trace_instant(struct sim_trace *t, const struct trace_at *at, const char *cat,
		   const char *name, const struct trace_arg *args, unsigned nargs)
{
	event(t, at, NULL, cat, name, args, nargs);
}

uint64_t trace_flow_new(struct sim_trace *t)
{
	return t && t->f ? ++t->next_flow : 0;
}

void trace_flow(struct sim_trace *t, const struct trace_at *at, uint64_t id,
		enum trace_flow_phase phase)
{
	static const char *const ph[] = {"s", "t", "f"};

	if (!json_on(t) || !id)
		return;
	event_begin(t, ph[phase], at, "flow", "interrupt");
	json_uint(&t->j, "id", id);
	json_string(&t->j, "bp", "e");
	json_object_end(&t->j);
}
