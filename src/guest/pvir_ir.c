// SPDX-License-Identifier: MIT
/*
 * The paravirtual interrupt-remapping domain: the guest's side of the ABI in
 * docs/abi.md. It sits where Linux's IR domain sits, between the vector
 * domain and the MSI-X/IMS bus domains. It owns the vIRTE table in guest RAM,
 * hands out vIRTE indices, and turns each vIRTE update into a SYNC.
 *
 * Discovery is positive: the domain is used only after QUERY answered with
 * our ABI version and SET_TABLE succeeded. Any other answer — -ENOSYS, KVM's
 * -1000, a newer version — leaves the guest on the emulated path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "guest_internal.h"
#include "pvir/hcall_abi.h"
#include "pvir/physmem.h"
#include "pvir/vm.h"
#include "pvir/vmm.h"

#define DEFAULT_TABLE_ENTRIES 4096
/* Where the remap event comes: Linux's HYPERVISOR_CALLBACK_VECTOR, a system vector. */
#define EVENT_VECTOR	      0xf3

static struct vcpu_regs hypercall(struct guest *g, uint64_t nr, uint64_t rbx, uint64_t rcx)
{
	struct vcpu_regs r = {.rax = nr, .rbx = rbx, .rcx = rcx};

	vm_hypercall(g->vm, guest_vcpu(g, 0), &r);
	return r;
}

/* Unless told, room for every vIRTE the host will grant (QUERY's quota), at least 4096. */
static uint32_t table_size(const struct guest *g, uint64_t quota)
{
	if (g->cfg.table_entries)
		return g->cfg.table_entries;
	if (quota > PVIR_TABLE_MAX_ENTRIES)
		return PVIR_TABLE_MAX_ENTRIES;
	return quota > DEFAULT_TABLE_ENTRIES ? (uint32_t)quota : DEFAULT_TABLE_ENTRIES;
}

void pvir_probe(struct guest *g)
{
	uint64_t table, features;
	uint32_t entries;
	struct vcpu_regs r;

	g->pv = false;
	g->pv_probe = -ENOSYS;
	if (!g->cfg.pvir_driver)
		return;
	r = hypercall(g, PVIR_HC_QUERY, 0, 0);
	if ((int64_t)r.rax != 0) {
		g->pv_probe = (int)(int64_t)r.rax; /* -ENOSYS or KVM's -1000: no service */
		return;
	}
	if (r.rbx != PVIR_ABI_VERSION) {
		g->pv_probe = -EPROTONOSUPPORT;
		return;
	}
	features = r.rcx;
	entries = table_size(g, r.rdx);
	table = guest_alloc_ram(g, (uint64_t)entries * PVIR_VIRTE_SIZE);
	g->virte_used = calloc((entries + 63) / 64, sizeof(*g->virte_used));
	g->virte_stale = calloc((entries + 63) / 64, sizeof(*g->virte_stale));
	if (!table || !g->virte_used || !g->virte_stale) {
		g->pv_probe = -ENOMEM;
		return;
	}
	r = hypercall(g, PVIR_HC_SET_TABLE, table, entries);
	if ((int64_t)r.rax != 0) {
		g->pv_probe = (int)(int64_t)r.rax;
		return;
	}
	g->table_gpa = table;
	g->table_entries = entries;
	g->pv = true;
	g->pv_msi = features & PVIR_FEAT_MSI;
	g->pv_park = features & PVIR_FEAT_PARK;
	g->pv_probe = 0;
	/* a host that may move us asks for re-syncs: listen (vCPU 0, APIC ID 0) */
	if ((features & PVIR_FEAT_REMAP_EVENT) &&
	    (int64_t)hypercall(g, PVIR_HC_SET_EVENT, EVENT_VECTOR, 0).rax == 0)
		g->event_vector = EVENT_VECTOR;
}

void pvir_free(struct guest *g)
{
	free(g->virte_used);
	free(g->virte_stale);
	g->virte_used = NULL;
	g->virte_stale = NULL;
}

static bool used(const struct guest *g, uint32_t i)
{
	return bitmap_test(g->virte_used, i);
}

static void mark(struct guest *g, uint32_t i, bool on)
{
	bitmap_assign(g->virte_used, i, on);
}

/* A contiguous run, so that a batch is one SYNC. First fit. */
int virte_alloc(struct guest *g, unsigned count, uint32_t *ret_base)
{
	uint32_t run = 0;

	for (uint32_t i = 0; count && i < g->table_entries; i++) {
		run = used(g, i) ? 0 : run + 1;
		if (run < count)
			continue;
		*ret_base = i + 1 - count;
		for (uint32_t j = *ret_base; j <= i; j++)
			mark(g, j, true);
		g->virtes_in_use += count;
		return 0;
	}
	return -ENOSPC;
}

void virte_free(struct guest *g, uint32_t base, unsigned count)
{
	for (uint32_t j = base; j < base + count; j++)
		if (used(g, j)) {
			mark(g, j, false);
			g->virtes_in_use--;
		}
}

static uint64_t entry_gpa(const struct guest *g, uint32_t idx)
{
	return g->table_gpa + (uint64_t)idx * PVIR_VIRTE_SIZE;
}

/* Fills in the guest half of @d's vIRTE from its vector data. */
void virte_write(struct guest *g, const struct irq_desc *d, bool present)
{
	uint8_t e[PVIR_VIRTE_GUEST_SIZE] = {0};
	uint16_t sid = d->dev->bdf;
	uint16_t flags = present ? PVIR_VIRTE_PRESENT : 0;
	uint32_t dest = d->vd.cpu; /* the guest's APIC IDs are its CPU numbers */

	if (present && d->bus == IRQ_BUS_MSI)
		flags |= PVIR_VIRTE_MSI; /* a vector of the MSI capability's block */

	e[PVIR_VIRTE_SID] = (uint8_t)sid;
	e[PVIR_VIRTE_SID + 1] = (uint8_t)(sid >> 8);
	e[PVIR_VIRTE_FLAGS] = (uint8_t)flags;
	e[PVIR_VIRTE_FLAGS + 1] = (uint8_t)(flags >> 8);
	for (int i = 0; i < 4; i++)
		e[PVIR_VIRTE_DEST + i] = (uint8_t)(dest >> (8 * i));
	e[PVIR_VIRTE_VECTOR] = present ? d->vd.vector : 0;
	/* our own RAM, allocated for the table: cannot fail */
	(void)!physmem_write(g->ram, entry_gpa(g, (uint32_t)d->virte), e, sizeof(e));
}

struct msi_msg virte_msg(struct guest *g, uint32_t idx)
{
	uint8_t b[12];

	(void)!physmem_read(g->ram, entry_gpa(g, idx) + PVIR_VIRTE_ADDR_LO, b, sizeof(b));
	return (struct msi_msg){
	    .address_lo =
		(uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24,
	    .address_hi =
		(uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24,
	    .data = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
		    (uint32_t)b[11] << 24,
	};
}

int virte_status(struct guest *g, uint32_t idx)
{
	uint8_t b[4];

	(void)!physmem_read(g->ram, entry_gpa(g, idx) + PVIR_VIRTE_STATUS, b, sizeof(b));
	return (int)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		     (uint32_t)b[3] << 24);
}

static void set_stale(struct guest *g, uint32_t i, bool on)
{
	bitmap_assign(g->virte_stale, i, on);
	g->virtes_stale = on ? g->virtes_stale + 1 : g->virtes_stale - 1;
}

/*
 * The host side of vIRTEs [first, first + count), already written not
 * present, torn down. The SYNC can fail (the host could not copy an entry,
 * or ran out of memory): entries before the one named are done, and the
 * rest is tried once more from it. What still fails keeps its host IRTE:
 * those indices stay out of the pool, stale, until virte_reap() succeeds.
 */
void virte_teardown(struct guest *g, uint32_t first, uint32_t count)
{
	uint32_t end = first + count;
	uint64_t failed = first;

	for (unsigned tries = 0; failed < end && tries < 2; tries++)
		if (!pvir_sync(g, (uint32_t)failed, end - (uint32_t)failed, &failed, NULL))
			failed = end;
	for (uint32_t i = first; i < end; i++)
		if (i >= failed && used(g, i) && !bitmap_test(g->virte_stale, i))
			set_stale(g, i, true);
}

/* Stale vIRTEs tried again, one SYNC each; those the host lets go are free. */
void virte_reap(struct guest *g)
{
	for (uint32_t i = 0; g->virtes_stale && i < g->table_entries; i++)
		if (bitmap_test(g->virte_stale, i) && !pvir_sync(g, i, 1, NULL, NULL)) {
			set_stale(g, i, false);
			virte_free(g, i, 1);
		}
}

void virte_revive(struct guest *g, uint32_t i)
{
	if (virte_is_stale(g, i))
		set_stale(g, i, false);
}

bool virte_is_stale(const struct guest *g, uint32_t i)
{
	return g->virte_stale && i < g->table_entries && bitmap_test(g->virte_stale, i);
}

int pvir_sync(struct guest *g, uint32_t first, uint32_t count, uint64_t *ret_failed,
	      uint64_t *ret_left)
{
	struct vcpu_regs r = hypercall(g, PVIR_HC_SYNC, first, count);

	g->stats.hypercalls++;
	if (ret_failed)
		*ret_failed = r.rbx;
	if (ret_left)
		*ret_left = r.rcx;
	return (int)(int64_t)r.rax;
}
