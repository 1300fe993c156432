// SPDX-License-Identifier: MIT
#include "report.h"

#include <inttypes.h>
#include <string.h>

#include "pvir/json.h"
#include "table.h"

/* ---- JSON ------------------------------------------------------------------------------------ */

static void json_latency(struct json *j, const char *key, const struct latency *l)
{
	json_object_begin(j, key);
	json_uint(j, "n", l->n);
	json_uint(j, "p50", sim_percentile(l, 50));
	json_uint(j, "p99", sim_percentile(l, 99));
	json_uint(j, "max", sim_percentile(l, 100));
	json_object_end(j);
}

static void json_irq(struct json *j, const struct sim_irq_counts *c)
{
	json_uint(j, "raised", c->raised);
	json_uint(j, "delivered", c->delivered);
	json_uint(j, "coalesced", c->coalesced);
	json_uint(j, "blocked", c->blocked);
	json_uint(j, "pending", c->pending);
	json_uint(j, "lost", c->lost);
	json_uint(j, "misdelivered", c->misdelivered);
	json_uint(j, "spurious", c->spurious);
	json_uint(j, "not_raised", c->not_raised);
}

static void json_exits(struct json *j, const struct vm_exits *e)
{
	json_object_begin(j, "exits");
	json_uint(j, "total", e->total);
	json_uint(j, "hypercall", e->hypercall);
	json_uint(j, "mmio_trap", e->mmio_trap);
	json_uint(j, "ext_intr", e->ext_intr);
	json_uint(j, "wakeup", e->wakeup);
	json_uint(j, "hlt", e->hlt);
	json_uint(j, "cfg", e->cfg);
	json_object_end(j);
}

/* VT-d: by fault reason ("0x20"...); AMD-Vi: by why the unit blocked ("index"...). */
static void json_faults(struct json *j, const struct sim_report *r)
{
	json_object_begin(j, "faults");
	for (unsigned f = 0; r->iommu == HOST_IOMMU_VTD && f < IR_FAULT_COUNT; f++) {
		char key[8];

		snprintf(key, sizeof(key), "0x%02x", IR_FAULT_FIRST + f);
		json_uint(j, key, r->faults[f]);
	}
	for (unsigned f = 1; r->iommu == HOST_IOMMU_AMDVI && f < AMDVI_BLOCK_COUNT; f++)
		json_uint(j, amdvi_block_key((enum amdvi_block)f), r->amd_faults[f]);
	json_object_end(j);
}

static bool is_hypercall(const struct sim_op_result *o)
{
	return !strcmp(o->op, "hypercall");
}

static void json_errors(struct json *j, const struct sim_report *r)
{
	json_array_begin(j, "errors");
	for (size_t i = 0; i < r->nops; i++) {
		if (!r->ops[i].err)
			continue;
		json_object_begin(j, NULL);
		json_uint(j, "at_ns", r->ops[i].at_ns);
		json_string(j, "op", r->ops[i].op);
		json_string(j, "target", r->ops[i].target);
		json_string(j, "errno", sim_errno_name(r->ops[i].err));
		if (r->ops[i].why)
			json_string(j, "why", r->ops[i].why);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_op(struct json *j, const struct sim_op_result *o)
{
	json_object_begin(j, NULL);
	json_uint(j, "at_ns", o->at_ns);
	json_string(j, "op", o->op);
	json_string(j, "target", o->target);
	json_string(j, "result", o->err ? sim_errno_name(o->err) : "ok");
	json_uint(j, "hypercalls", o->hypercalls);
	json_uint(j, "mmio_traps", o->mmio_traps);
	json_uint(j, "cfg_exits", o->cfg_exits);
	json_uint(j, "irte_writes", o->irte_writes);
	json_uint(j, "iec_invalidations", o->iec_invalidations);
	json_uint(j, "device_writes", o->device_writes);
	json_uint(j, "device_reads", o->device_reads);
	json_uint(j, "set_irqs", o->set_irqs);
	json_uint(j, "vfio_setups", o->vfio_setups);
	json_uint(j, "irqfds", o->irqfds);
	json_uint(j, "route_commits", o->route_commits);
	json_uint(j, "routes_walked", o->routes_walked);
	json_uint(j, "pi_updates", o->pi_updates);
	json_uint(j, "msi_updates", o->msi_updates);
	json_uint(j, "format_changes", o->format_changes);
	json_int(j, "host_vectors", o->host_vectors);
	json_uint(j, "retranslations", o->retranslations);
	json_uint(j, "vmm_refused", o->vmm_refused);
	json_uint(j, "modelled_ns", o->cost_ns);
	if (o->granted) /* only where the host granted fewer than asked */
		json_uint(j, "granted", o->granted);
	if (o->shut_down) /* only where an offline shut managed interrupts down */
		json_uint(j, "managed_shut_down", o->shut_down);
	if (o->restarted)
		json_uint(j, "managed_restarted", o->restarted);
	if (is_hypercall(o)) {
		json_int(j, "rax", o->rax);
		if (o->rax < 0)
			json_string(j, "errno", sim_errno_name((int)o->rax));
		json_uint(j, "rbx", o->rbx);
		json_uint(j, "rcx", o->rcx);
		json_uint(j, "rdx", o->rdx);
	}
	json_object_end(j);
}

/* Only where a migrate_vm ran: the key is absent otherwise. */
static void json_migrations(struct json *j, const struct sim_report *r)
{
	if (!r->nmigrations)
		return;
	json_array_begin(j, "migrations");
	for (unsigned i = 0; i < r->nmigrations; i++) {
		const struct sim_migration *m = &r->migrations[i];

		json_object_begin(j, NULL);
		json_string(j, "vm", m->vm);
		json_string(j, "from", m->from);
		json_string(j, "to", m->to);
		json_uint(j, "at_ns", m->at_ns);
		json_uint(j, "downtime_ns", m->downtime_ns);
		json_uint(j, "latched", m->latched);
		json_uint(j, "sent_at_resume", m->sent_at_resume);
		json_uint(j, "sent_after_resync", m->sent_after_resync);
		json_uint(j, "handles", m->handles);
		json_uint(j, "handles_moved", m->moved);
		json_bool(j, "remap_event", m->remap_event);
		json_bool(j, "done", m->done);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_design(struct json *j, const struct sim_report *r)
{
	json_object_begin(j, sim_design_name(r->design));
	json_exits(j, &r->exits);
	json_uint(j, "hypercalls", r->hypercalls);
	json_uint(j, "irte_writes", r->irte_writes);
	json_uint(j, "iec_invalidations", r->iec_invalidations);
	json_uint(j, "device_writes", r->device_writes);
	json_uint(j, "set_irqs", r->set_irqs);
	json_uint(j, "vfio_setups", r->vfio_setups);
	json_uint(j, "irqfds", r->irqfds);
	json_uint(j, "route_commits", r->route_commits);
	json_uint(j, "routes_walked", r->routes_walked);
	json_uint(j, "pi_updates", r->pi_updates);
	json_uint(j, "msi_updates", r->msi_updates);
	json_uint(j, "format_changes", r->format_changes);
	json_uint(j, "host_vectors", r->host_vectors);
	json_object_begin(j, "uapi_additions");
	json_uint(j, "vfio_ims_index", r->ims_set_irqs);
	json_uint(j, "vfio_irq_guest_storage", r->msg_reads);
	json_uint(j, "kvm_routing_report_bypass", r->bypass_reports);
	json_uint(j, "vfio_irte_hint", r->irte_hints);
	json_object_end(j);
	json_uint(j, "retranslations", r->retranslations);
	json_uint(j, "vmm_refused", r->vmm_refused);
	json_object_begin(j, "interrupts");
	json_irq(j, &r->irq);
	json_uint(j, "posted", r->posted);
	json_uint(j, "injected", r->injected);
	json_object_end(j);
	json_object_begin(j, "vcpus");
	json_uint(j, "count", r->vcpus);
	json_uint(j, "never_ran", r->vcpus_never_ran);
	json_uint(j, "min_delivered", r->vcpu_min_delivered);
	json_string(j, "min_delivered_vcpu", r->vcpu_min);
	json_uint(j, "slice_switches", r->switches);
	json_object_end(j);
	json_object_begin(j, "vms");
	for (unsigned v = 0; v < r->nvms; v++) {
		json_object_begin(j, r->vms[v].name);
		json_irq(j, &r->vms[v].irq);
		json_uint(j, "irtes_in_use", r->vms[v].irtes);
		json_uint(j, "vectors_in_use", r->vms[v].vectors);
		json_object_end(j);
	}
	json_object_end(j);
	json_faults(j, r);
	json_object_begin(j, "latency_ns");
	json_latency(j, "setup", &r->setup);
	json_latency(j, "affinity", &r->affinity);
	json_latency(j, "delivery", &r->delivery);
	json_object_end(j);
	json_errors(j, r);
	json_migrations(j, r);
	json_array_begin(j, "operations");
	for (size_t i = 0; i < r->nops; i++)
		json_op(j, &r->ops[i]);
	json_array_end(j);
	json_array_begin(j, "violations");
	for (unsigned i = 0; i < r->nviolations; i++)
		json_string(j, NULL, r->violations[i]);
	json_array_end(j);
	json_object_end(j);
}

void report_json_value(struct json *j, const char *key, const struct scenario *sc,
		       const struct sim_report *r, unsigned n)
{
	json_object_begin(j, key);
	json_string(j, "scenario", sc->name);
	json_uint(j, "seed", n ? r[0].seed : sc->seed);
	json_string(j, "iommu", sc->iommu == HOST_IOMMU_AMDVI ? "amdvi" : "vtd");
	json_string(j, "host_kernel", host_kernel_name(n ? r[0].kernel : sc->kernel));
	json_string(j, "vectors", scenario_vectors_name(sc));
	json_uint(j, "duration_ns", sc->duration);
	json_object_begin(j, "designs");
	for (unsigned i = 0; i < n; i++)
		json_design(j, &r[i]);
	json_object_end(j);
	json_object_end(j);
}

void report_json(FILE *out, const struct scenario *sc, const struct sim_report *r, unsigned n)
{
	struct json j;

	json_init(&j, out);
	report_json_value(&j, NULL, sc, r, n);
	json_finish(&j);
}

/* ---- text -------------------------------------------------------------------------------------- */

/* n, p50, p99 and max with their units, or NO_VALUE where there is no sample. */
static void text_latency(struct table *t, const char *name, const struct latency *l)
{
	char n[24], v[3][TABLE_CELL];
	const char *cells[] = {name, n, v[0], v[1], v[2]};
	static const unsigned pct[] = {50, 99, 100};

	snprintf(n, sizeof(n), "%zu", l->n);
	for (unsigned i = 0; i < 3; i++) {
		if (l->n)
			fmt_ns(v[i], sizeof(v[i]), sim_percentile(l, pct[i]));
		else
			snprintf(v[i], sizeof(v[i]), NO_VALUE);
	}
	table_row(t, cells);
}

static int text_latencies(FILE *out, const struct sim_report *r)
{
	static const char *const head[] = {"modelled latency", "n", "p50", "p99", "max"};
	struct table t;
	int rc;

	fprintf(out, "\n");
	table_init(&t, 5, "");
	table_row(&t, head);
	text_latency(&t, "  setup", &r->setup);
	text_latency(&t, "  affinity", &r->affinity);
	text_latency(&t, "  delivery", &r->delivery);
	rc = table_print(&t, out);
	table_free(&t);
	return rc;
}

static void text_irq_row(struct table *t, const char *name, const struct sim_irq_counts *c)
{
	const uint64_t v[] = {c->raised,  c->delivered, c->coalesced,	 c->blocked,
			      c->pending, c->lost,	c->misdelivered, c->spurious};
	char cell[8][24];
	const char *cells[9] = {name};

	for (unsigned i = 0; i < 8; i++) {
		fmt_u64(cell[i], sizeof(cell[i]), v[i]);
		cells[1 + i] = cell[i];
	}
	table_row(t, cells);
}

static int text_exits(FILE *out, const struct sim_report *r)
{
	const struct vm_exits *e = &r->exits;

	static const char *const head[] = {"exits",    "total",	 "hypercall", "mmio_trap",
					   "ext_intr", "wakeup", "hlt",	      "cfg"};
	const uint64_t v[] = {e->total,	 e->hypercall, e->mmio_trap, e->ext_intr,
			      e->wakeup, e->hlt,       e->cfg};
	char cell[7][24];
	const char *cells[8] = {""};
	struct table t;
	int rc;

	for (unsigned i = 0; i < 7; i++) {
		fmt_u64(cell[i], sizeof(cell[i]), v[i]);
		cells[1 + i] = cell[i];
	}
	fprintf(out, "\n");
	table_init(&t, 8, "");
	table_row(&t, head);
	table_row(&t, cells);
	rc = table_print(&t, out);
	table_free(&t);
	fprintf(out,
		"host       hypercalls %" PRIu64 ", IRTE writes %" PRIu64
		", %s invalidations %" PRIu64 ", device writes %" PRIu64 "\n",
		r->hypercalls, r->irte_writes, r->iommu == HOST_IOMMU_AMDVI ? "IRT" : "IEC",
		r->iec_invalidations, r->device_writes);
	fprintf(out,
		"kernel     VFIO SET_IRQS %" PRIu64 " (triggers %" PRIu64 "), irqfds %" PRIu64
		", route commits %" PRIu64 " (irqfds walked %" PRIu64 ", IRTEs re-aimed %" PRIu64
		")\n           posted<->remapped %" PRIu64 ", host vectors held %" PRIu64 "\n",
		r->set_irqs, r->vfio_setups, r->irqfds, r->route_commits, r->routes_walked,
		r->pi_updates, r->format_changes, r->host_vectors);
	if (r->ims_set_irqs || r->msg_reads || r->bypass_reports || r->irte_hints) {
		fprintf(out,
			"uapi       beyond stock Linux: VFIO IMS index %" PRIu64
			" SET_IRQS, VFIO guest storage %" PRIu64
			" reads, KVM bypass report %" PRIu64 " commits",
			r->ims_set_irqs, r->msg_reads, r->bypass_reports);
		if (r->irte_hints) /* only a migration's destination sets them */
			fprintf(out, ", VFIO IRTE hint %" PRIu64 " sets", r->irte_hints);
		fprintf(out, " (docs/host-kernel.md)\n");
	}
	if (r->retranslations || r->vmm_refused)
		fprintf(out,
			"vmm        vIOMMU retranslations %" PRIu64 ", writes refused %" PRIu64
			"\n",
			r->retranslations, r->vmm_refused);
	return rc;
}

static int text_interrupts(FILE *out, const struct sim_report *r)
{
	static const char *const head[] = {"interrupts", "raised",  "delivered",
					   "coalesced",	 "blocked", "pending",
					   "lost",	 "misdel",  "spurious"};
	struct table t;
	int rc;

	fprintf(out, "\n");
	table_init(&t, 9, "");
	table_row(&t, head);
	for (unsigned v = 0; v < r->nvms; v++)
		text_irq_row(&t, r->vms[v].name, &r->vms[v].irq);
	if (r->nvms > 1)
		text_irq_row(&t, "all", &r->irq);
	rc = table_print(&t, out);
	table_free(&t);
	fprintf(out,
		"           reached a vCPU: posted %" PRIu64 ", injected by the host %" PRIu64 "\n",
		r->posted, r->injected);
	fprintf(out,
		"vcpus      %u, never ran %u, fewest delivered %" PRIu64
		" (%s), slice switches %" PRIu64 "\n",
		r->vcpus, r->vcpus_never_ran, r->vcpu_min_delivered, r->vcpu_min, r->switches);
	return rc;
}

static void text_faults(FILE *out, const struct sim_report *r)
{
	bool any = false;

	fprintf(out, "\nfaults     ");
	for (unsigned f = 0; r->iommu == HOST_IOMMU_VTD && f < IR_FAULT_COUNT; f++) {
		if (!r->faults[f])
			continue;
		fprintf(out, "%s0x%02x %s: %" PRIu64 "\n", any ? "           " : "",
			IR_FAULT_FIRST + f, ir_fault_name(IR_FAULT_FIRST + f), r->faults[f]);
		any = true;
	}
	for (unsigned f = 1; r->iommu == HOST_IOMMU_AMDVI && f < AMDVI_BLOCK_COUNT; f++) {
		unsigned event = amdvi_block_event((enum amdvi_block)f);

		if (!r->amd_faults[f])
			continue;
		fprintf(out, "%s%s (%s): %" PRIu64 "\n", any ? "           " : "",
			amdvi_block_name((enum amdvi_block)f),
			event ? amdvi_event_name(event) : "no event", r->amd_faults[f]);
		any = true;
	}
	if (!any)
		fprintf(out, "none\n");
}

/* Each migrate_vm: its downtime, what the stopped devices latched, the handles it moved. */
static void text_migrations(FILE *out, const struct sim_report *r)
{
	for (unsigned i = 0; i < r->nmigrations; i++) {
		const struct sim_migration *m = &r->migrations[i];

		fprintf(out,
			"%s%s %s -> %s at %.3f ms: downtime %.3f ms, %" PRIu64
			" entries latched across it (sent at resume %" PRIu64
			", after re-SYNC %" PRIu64 "), handles kept %u of %u%s%s\n",
			i ? "           " : "migrated   ", m->vm, m->from, m->to,
			(double)m->at_ns / 1e6, (double)m->downtime_ns / 1e6, m->latched,
			m->sent_at_resume, m->sent_after_resync, m->handles - m->moved, m->handles,
			m->remap_event ? " (remap event sent)" : "",
			m->done ? "" : " (the run ended in the downtime)");
	}
}

/* The operations that failed, again, so that none is missed in a long table. */
static void text_errors(FILE *out, const struct sim_report *r)
{
	bool any = false;

	fprintf(out, "errors     ");
	for (size_t i = 0; i < r->nops; i++) {
		const struct sim_op_result *o = &r->ops[i];

		if (!o->err && !o->vmm_refused)
			continue;
		fprintf(out, "%s%.3f ms %s %s: ", any ? "           " : "", (double)o->at_ns / 1e6,
			o->op, o->target);
		if (o->err)
			fprintf(out, "%s%s%s%s\n", sim_errno_name(o->err), o->why ? " (" : "",
				o->why ? o->why : "", o->why ? ")" : "");
		else
			fprintf(out,
				"%" PRIu64
				" writes the VMM could not honour; the guest was not told\n",
				o->vmm_refused);
		any = true;
	}
	if (!any)
		fprintf(out, "none\n");
}

static void op_result(char *buf, size_t len, const struct sim_op_result *o)
{
	if (is_hypercall(o))
		snprintf(buf, len, "rax %" PRId64 "%s%s", o->rax, o->rax < 0 ? " " : "",
			 o->rax < 0 ? sim_errno_name((int)o->rax) : "");
	else if (o->err)
		snprintf(buf, len, "%s", sim_errno_name(o->err));
	else if (o->vmm_refused)
		snprintf(buf, len, "ok, %" PRIu64 " refused", o->vmm_refused);
	else if (o->granted)
		snprintf(buf, len, "ok, %u granted", o->granted);
	else if (o->shut_down)
		snprintf(buf, len, "ok, %u managed shut down", o->shut_down);
	else if (o->restarted)
		snprintf(buf, len, "ok, %u managed restarted", o->restarted);
	else
		snprintf(buf, len, "ok");
}

static void text_op_row(struct table *t, const struct sim_op_result *o)
{
	char at[24], n[5][24], cost[TABLE_CELL], res[TABLE_CELL];
	const uint64_t v[] = {o->hypercalls, o->mmio_traps + o->cfg_exits, o->irte_writes,
			      o->iec_invalidations, o->device_writes};
	const char *cells[] = {at, o->op, o->target, n[0], n[1], n[2], n[3], n[4], cost, res};

	snprintf(at, sizeof(at), "%.3f", (double)o->at_ns / 1e6);
	for (unsigned i = 0; i < 5; i++)
		fmt_u64(n[i], sizeof(n[i]), v[i]);
	if (o->err)
		snprintf(cost, sizeof(cost), NO_VALUE); /* a failed operation's time is no cost */
	else
		fmt_ns(cost, sizeof(cost), o->cost_ns);
	op_result(res, sizeof(res), o);
	table_row(t, cells);
}

static int text_ops(FILE *out, const struct sim_report *r)
{
	static const char *const head[] = {"at ms", "operation", "target", "hcall",    "exits",
					   "irte",  "iec",	 "dev_wr", "modelled", "result"};
	struct table t;
	int rc;

	fprintf(out, "\n");
	table_init(&t, 10, "");
	table_align(&t, "lllrrrrrrl");
	table_row(&t, head);
	for (size_t i = 0; i < r->nops; i++)
		text_op_row(&t, &r->ops[i]);
	rc = table_print(&t, out);
	table_free(&t);
	return rc;
}

const char *report_vectors_note(const struct scenario *sc)
{
	const char *v = scenario_vectors_name(sc);

	if (!strcmp(v, "at_alloc"))
		return " vectors at_alloc";
	return strcmp(v, "mixed") ? "" : " vectors mixed";
}

int report_text(FILE *out, const struct scenario *sc, const struct sim_report *r)
{
	int rc = 0;

	fprintf(out,
		"pvir run: scenario %s, design %s,%s host kernel %s,%s%s seed %" PRIu64
		", %.3f ms virtual\n",
		sc->name, sim_design_name(r->design),
		r->iommu == HOST_IOMMU_AMDVI ? " IOMMU AMD-Vi," : "", host_kernel_name(r->kernel),
		report_vectors_note(sc), *report_vectors_note(sc) ? "," : "", r->seed,
		(double)sc->duration / 1e6);
	rc |= text_ops(out, r);
	rc |= text_latencies(out, r);
	rc |= text_exits(out, r);
	rc |= text_interrupts(out, r);
	text_faults(out, r);
	text_migrations(out, r);
	text_errors(out, r);
	for (unsigned i = 0; i < r->nviolations; i++)
		fprintf(out, "%s%s\n", i ? "           " : "\nVIOLATED   ", r->violations[i]);
	return rc;
}
