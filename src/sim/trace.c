// SPDX-License-Identifier: MIT
/*
 * The trace: Chrome trace-event JSON ({"traceEvents": [...]}), streamed.
 * Tracks are (pid, tid) pairs named by metadata events. Each design has its
 * own block of processes, so `--design all` or `pvir compare` put the three
 * side by side in one file:
 *
 *   pid base + 0    "DESIGN: pCPUs", one thread per pCPU
 *   pid base + 1    "DESIGN: IOMMU"
 *   pid base + 2    "DESIGN: devices", one thread per device
 *   pid base + 3+i  "DESIGN: VM NAME", one thread per vCPU
 *
 * Timestamps are virtual, in microseconds with nanosecond decimals.
 */
#include "trace.h"

#include <errno.h>
#include <inttypes.h>

#define PIDS_PER_DESIGN 64

void sim_trace_open_stream(struct sim_trace *t, FILE *f)
{
	*t = (struct sim_trace){.f = f};
	fputs("{\"traceEvents\": [\n", t->f);
}

int sim_trace_open(struct sim_trace *t, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	sim_trace_open_stream(t, f);
	t->owned = true;
	return 0;
}

int sim_trace_close(struct sim_trace *t)
{
	int err;

	if (!t->f)
		return 0;
	fputs("\n]}\n", t->f);
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

static FILE *next(struct sim_trace *t)
{
	if (t->events++)
		fputs(",\n", t->f);
	return t->f;
}

static void ts(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
}

void trace_name_process(struct sim_trace *t, unsigned pid, const char *design, const char *what)
{
	if (!t)
		return;
	fprintf(next(t),
		"{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": %u, \"tid\": 0, "
		"\"args\": {\"name\": \"%s: %s\"}}",
		pid, design, what);
	fprintf(next(t),
		"{\"ph\": \"M\", \"name\": \"process_sort_index\", \"pid\": %u, \"tid\": 0, "
		"\"args\": {\"sort_index\": %u}}",
		pid, pid);
}

void trace_name_thread(struct sim_trace *t, unsigned pid, unsigned tid, const char *name)
{
	if (!t)
		return;
	fprintf(next(t),
		"{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": %u, \"tid\": %u, "
		"\"args\": {\"name\": \"%s\"}}",
		pid, tid, name);
}

void trace_slice(struct sim_trace *t, unsigned pid, unsigned tid, uint64_t at, uint64_t dur,
		 const char *name, const char *args_json)
{
	FILE *f;

	if (!t)
		return;
	f = next(t);
	fprintf(f, "{\"ph\": \"X\", \"pid\": %u, \"tid\": %u, \"ts\": ", pid, tid);
	ts(f, at);
	fputs(", \"dur\": ", f);
	ts(f, dur);
	fprintf(f, ", \"name\": \"%s\", \"args\": {%s}}", name, args_json ? args_json : "");
}

void trace_instant(struct sim_trace *t, unsigned pid, unsigned tid, uint64_t at, const char *name)
{
	FILE *f;

	if (!t)
		return;
	f = next(t);
	fprintf(f, "{\"ph\": \"i\", \"s\": \"t\", \"pid\": %u, \"tid\": %u, \"ts\": ", pid, tid);
	ts(f, at);
	fprintf(f, ", \"name\": \"%s\"}", name);
}
