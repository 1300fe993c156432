// SPDX-License-Identifier: MIT
/*
 * The VT-d IR unit driven the way Linux drives it (irq_remapping.c): queued
 * invalidation first, then the table pointer, a global IEC flush, IRE, CFI
 * left clear. Each test then writes IRTEs into host memory and sends
 * interrupt writes as a device would.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "pvir/irte.h"
#include "pvir/ir_unit.h"
#include "pvir/msi.h"
#include "pvir/physmem.h"

#define MEM_SIZE    (UINT64_C(4) << 20)
#define IQ_BASE	    0x10000
#define STATUS_ADDR 0x20000
#define PID_ADDR    0x30000
#define IRT_BASE    0x100000
#define IRT_S	    7 /* 2^(7+1) = 256 entries */
#define IRT_ENTRIES 256
#define RID	    0x0300
#define IQ_ENTRIES  256

struct fx {
	struct physmem *pm;
	struct ir_unit *ir;
	uint32_t gcmd; /* Linux keeps a shadow of GCMD and writes it whole */
	uint32_t tail;
};

static void gcmd_write(struct fx *f, uint32_t bits, bool on)
{
	f->gcmd = (uint32_t)bit_set(f->gcmd, bits, on);
	ir_unit_write(f->ir, DMAR_GCMD_REG, 4, f->gcmd);
}

static void put_desc(struct fx *f, struct qi_desc d)
{
	uint64_t at = IQ_BASE + (uint64_t)f->tail * 16;

	assert_int_equal(physmem_store64(f->pm, at, d.lo), 0);
	assert_int_equal(physmem_store64(f->pm, at + 8, d.hi), 0);
	f->tail = (f->tail + 1) % IQ_ENTRIES;
}

/* Submits @d followed by a wait descriptor and checks that both completed. */
static void qi_submit(struct fx *f, struct qi_desc d)
{
	uint64_t status;

	assert_int_equal(physmem_store64(f->pm, STATUS_ADDR, 0), 0);
	put_desc(f, d);
	put_desc(f, qi_wait(STATUS_ADDR, 1));
	ir_unit_write(f->ir, DMAR_IQT_REG, 8, (uint64_t)f->tail << 4);
	assert_int_equal(physmem_load64(f->pm, STATUS_ADDR, &status), 0);
	assert_int_equal(status, 1);
}

static struct fx *fx_new_cfg(const struct ir_unit_config *cfg, bool eime, uint64_t irt_base,
			     unsigned s)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->pm = physmem_new(MEM_SIZE);
	f->ir = ir_unit_new(f->pm, cfg);
	assert_non_null(f->ir);
	ir_unit_write(f->ir, DMAR_IQA_REG, 8, IQ_BASE);
	gcmd_write(f, DMA_GCMD_QIE, true);
	ir_unit_write(f->ir, DMAR_IRTA_REG, 8, irt_base | (uint64_t)eime << DMA_IRTA_EIME | s);
	gcmd_write(f, DMA_GCMD_SIRTP, true);
	f->gcmd = (uint32_t)bit_set(f->gcmd, DMA_GCMD_SIRTP, false); /* one-shot */
	qi_submit(f, qi_iec_global());
	gcmd_write(f, DMA_GCMD_IRE, true);
	return f;
}

static struct fx *fx_new(bool eime)
{
	struct ir_unit_config cfg = ir_unit_default_config();

	return fx_new_cfg(&cfg, eime, IRT_BASE, IRT_S);
}

static int setup_x2apic(void **state)
{
	*state = fx_new(true);
	return 0;
}

static int setup_xapic(void **state)
{
	*state = fx_new(false);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ir_unit_free(f->ir);
	physmem_free(f->pm);
	free(f);
	return 0;
}

static void set_irte(struct fx *f, uint32_t index, struct irte e)
{
	uint64_t at = IRT_BASE + (uint64_t)index * IRTE_SIZE;

	assert_int_equal(physmem_store64(f->pm, at, e.lo), 0);
	assert_int_equal(physmem_store64(f->pm, at + 8, e.hi), 0);
}

static struct irte remapped(uint8_t vector, uint32_t dst, uint16_t sid)
{
	struct irte_remapped r = {
	    .p = true, .vector = vector, .dst = dst, .sid = sid, .svt = IRTE_SVT_RID};
	struct irte e;

	irte_remapped_encode(&r, &e);
	return e;
}

static struct irte posted(uint8_t vector, uint64_t pda, uint16_t sid)
{
	struct irte_posted p = {
	    .p = true, .vector = vector, .pda = pda, .sid = sid, .svt = IRTE_SVT_RID};
	struct irte e;

	irte_posted_encode(&p, &e);
	return e;
}

static struct msi_msg handle_msg(uint16_t handle)
{
	struct msi_msg m;

	msi_remap_encode(&(struct msi_remap){.handle = handle, .shv = true}, &m);
	return m;
}

static struct ir_result send(struct fx *f, struct msi_msg m, uint16_t rid)
{
	struct ir_result r;

	ir_unit_translate(f->ir, &m, rid, &r);
	return r;
}

static uint64_t frcd_hi(struct fx *f, unsigned i)
{
	return ir_unit_read(f->ir, DMAR_FRCD_REG + 16 * i + 8, 8);
}

static uint64_t frcd_lo(struct fx *f, unsigned i)
{
	return ir_unit_read(f->ir, DMAR_FRCD_REG + 16 * i, 8);
}

static uint32_t fsts(struct fx *f)
{
	return (uint32_t)ir_unit_read(f->ir, DMAR_FSTS_REG, 4);
}

/* ---- enabling ----------------------------------------------------------- */

static void caps_and_enable(void **state)
{
	struct fx *f = *state;
	uint64_t cap = ir_unit_read(f->ir, DMAR_CAP_REG, 8);
	uint64_t ecap = ir_unit_read(f->ir, DMAR_ECAP_REG, 8);
	uint32_t gsts = (uint32_t)ir_unit_read(f->ir, DMAR_GSTS_REG, 4);

	assert_int_equal(bits_get(cap, DMA_CAP_NFR_HI, DMA_CAP_NFR_LO), 8 - 1);
	assert_int_equal(bits_get(cap, DMA_CAP_FRO_HI, DMA_CAP_FRO_LO) * 16, DMAR_FRCD_REG);
	assert_true(bit_get(cap, DMA_CAP_PI));
	assert_false(bit_get(cap, DMA_CAP_CM));
	assert_true(bit_get(ecap, DMA_ECAP_QI));
	assert_true(bit_get(ecap, DMA_ECAP_IR));
	assert_true(bit_get(ecap, DMA_ECAP_EIM));
	assert_int_equal(bits_get(ecap, DMA_ECAP_MHMV_HI, DMA_ECAP_MHMV_LO), 15);
	assert_true(bit_get(gsts, DMA_GSTS_QIES));
	assert_true(bit_get(gsts, DMA_GSTS_IRTPS));
	assert_true(bit_get(gsts, DMA_GSTS_IRES));
	assert_false(bit_get(gsts, DMA_GSTS_CFIS));
	assert_int_equal(ir_unit_read(f->ir, DMAR_IRTA_REG, 8),
			 IRT_BASE | UINT64_C(1) << DMA_IRTA_EIME | IRT_S);
	assert_int_equal(ir_unit_table_entries(f->ir), IRT_ENTRIES);
	assert_true(ir_unit_eime(f->ir));
	/* the 32-bit halves of a 64-bit register */
	assert_int_equal(ir_unit_read(f->ir, DMAR_IRTA_REG + 4, 4), 0);
	assert_int_equal(ir_unit_read(f->ir, DMAR_IRTA_REG, 4), IRT_BASE | 1u << 11 | IRT_S);
	/* unaligned or odd-sized accesses read as all-ones */
	assert_int_equal(ir_unit_read(f->ir, DMAR_IRTA_REG + 2, 4), ~UINT64_C(0));
	assert_int_equal(ir_unit_read(f->ir, DMAR_IRTA_REG, 2), ~UINT64_C(0));
	/* GCMD is write-only */
	assert_int_equal(ir_unit_read(f->ir, DMAR_GCMD_REG, 4), 0);
}

static void ir_disabled_passes_through(void **state)
{
	struct fx *f = *state;
	struct msi_msg m = {.address_lo = 0xfee03000, .data = 0x41};
	struct ir_result r;

	gcmd_write(f, DMA_GCMD_IRE, false);
	r = send(f, m, RID);
	assert_int_equal(r.outcome, IR_PASSTHROUGH);
	assert_true(r.send_irq);
	assert_int_equal(r.irq.dest, 3);
	assert_int_equal(r.irq.vector, 0x41);
}

/* ---- delivery ----------------------------------------------------------- */

static void remapped_x2apic(void **state)
{
	struct fx *f = *state;
	struct ir_result r;

	set_irte(f, 5, remapped(0x31, 0x12345, RID));
	r = send(f, handle_msg(5), RID);
	assert_int_equal(r.outcome, IR_REMAPPED);
	assert_int_equal(r.index, 5);
	assert_true(r.send_irq);
	assert_int_equal(r.irq.vector, 0x31);
	assert_int_equal(r.irq.dest, 0x12345); /* beyond 8 bits: x2APIC */
	assert_int_equal(r.irq.dlm, MSI_DM_FIXED);
	assert_int_equal(ir_unit_stats(f->ir)->outcomes[IR_REMAPPED], 1);
}

static void remapped_xapic(void **state)
{
	struct fx *f = *state;
	struct ir_result r;

	set_irte(f, 5, remapped(0x31, 0x0700, RID)); /* APIC ID 7 in DST[15:8] */
	r = send(f, handle_msg(5), RID);
	assert_int_equal(r.outcome, IR_REMAPPED);
	assert_int_equal(r.irq.dest, 7);
}

static void subhandle_selects_entry(void **state)
{
	struct fx *f = *state;
	struct msi_msg m;
	struct ir_result r;

	/* multi-MSI style: base handle 8, vector n uses data = n */
	set_irte(f, 8 + 3, remapped(0x53, 1, RID));
	msi_remap_encode(&(struct msi_remap){.handle = 8, .shv = true, .subhandle = 3}, &m);
	r = send(f, m, RID);
	assert_int_equal(r.outcome, IR_REMAPPED);
	assert_int_equal(r.index, 11);
	assert_int_equal(r.irq.vector, 0x53);
}

static void posted_delivery(void **state)
{
	struct fx *f = *state;
	struct pid_image pid = {.nv = 0xf2, .ndst = 3};
	struct ir_result r;

	assert_int_equal(pid_write(f->pm, PID_ADDR, &pid), 0);
	set_irte(f, 9, posted(0x41, PID_ADDR, RID));
	r = send(f, handle_msg(9), RID);
	assert_int_equal(r.outcome, IR_POSTED);
	assert_int_equal(r.posted_vector, 0x41);
	assert_int_equal(r.pda, PID_ADDR);
	assert_true(r.post.notify);
	assert_true(r.send_irq); /* the notification event */
	assert_int_equal(r.irq.vector, 0xf2);
	assert_int_equal(r.irq.dest, 3);
	assert_int_equal(pid_read(f->pm, PID_ADDR, &pid), 0);
	assert_true(pid_image_test_pir(&pid, 0x41));
	assert_true(pid.on);
	/* ON is set: the next post only sets its PIR bit */
	r = send(f, handle_msg(9), RID);
	assert_int_equal(r.outcome, IR_POSTED);
	assert_false(r.send_irq);
	assert_true(r.post.coalesced);
	assert_int_equal(ir_unit_stats(f->ir)->notifications, 1);
}

static void posted_xapic_ndst(void **state)
{
	struct fx *f = *state;
	struct pid_image pid = {.nv = 0xf2, .ndst = 0x0500}; /* xAPIC: ID 5 in 15:8 */
	struct ir_result r;

	assert_int_equal(pid_write(f->pm, PID_ADDR, &pid), 0);
	set_irte(f, 9, posted(0x41, PID_ADDR, RID));
	r = send(f, handle_msg(9), RID);
	assert_int_equal(r.outcome, IR_POSTED);
	assert_int_equal(r.irq.dest, 5);
}

/* ---- faults, one per reason --------------------------------------------- */

struct fault_row {
	struct msi_msg msg;
	uint16_t rid;
	struct irte entry; /* written at index 5 */
	uint8_t reason;
	uint32_t index;
};

#define MSG5                     \
	{                        \
		0xfee000b8, 0, 0 \
	} /* handle 5, SHV */
#define GOOD_ENTRY                                     \
	{                                              \
		0x0000000100310001, 0x0000000000040300 \
	} /* vector 0x31 dst 1, SVT=1 */

static const struct fault_row fault_rows[] = {
    /* 0x20: address_hi set */
    {{0xfee000b8, 1, 0}, RID, GOOD_ENTRY, IR_FAULT_REQ_RSVD, 0},
    /* 0x20: not in the interrupt range */
    {{0xfed000b8, 0, 0}, RID, GOOD_ENTRY, IR_FAULT_REQ_RSVD, 0},
    /* 0x20: SHV with data[31:16] set */
    {{0xfee000b8, 0, 0x10000}, RID, GOOD_ENTRY, IR_FAULT_REQ_RSVD, 5},
    /* 0x21: index 256 in a 256-entry table (handle 256 = 0x100 << 5) */
    {{0xfee02018, 0, 0}, RID, GOOD_ENTRY, IR_FAULT_INDEX, 256},
    /* 0x21: handle within range, handle + subhandle beyond it */
    {{0xfee000b8, 0, 251}, RID, GOOD_ENTRY, IR_FAULT_INDEX, 256},
    /* 0x22: P clear */
    {MSG5, RID, {0x0000000100310000, 0x0000000000040300}, IR_FAULT_NOT_PRESENT, 5},
    /* 0x24: reserved bit 12 in a present entry */
    {MSG5, RID, {0x0000000100311001, 0x0000000000040300}, IR_FAULT_IRTE_RSVD, 5},
    /* 0x24: reserved bit 84 */
    {MSG5, RID, {0x0000000100310001, 0x0000000000140300}, IR_FAULT_IRTE_RSVD, 5},
    /* 0x25: compatibility format while CFIS is clear */
    {{0xfee01000, 0, 0x31}, RID, GOOD_ENTRY, IR_FAULT_COMPAT, 0},
    /* 0x26: another function of the same device */
    {MSG5, 0x0301, GOOD_ENTRY, IR_FAULT_SID, 5},
    /* 0x26: reserved SVT encoding */
    {MSG5, RID, {0x0000000100310001, 0x00000000000c0300}, IR_FAULT_SID, 5},
    /* 0x27: posted entry whose descriptor lies beyond host memory (PDA 8 MiB) */
    {MSG5, RID, {0x0080000000318001, 0x0000000000040300}, IR_FAULT_PID_ACCESS, 5},
};

static void fault(void **state)
{
	const struct fault_row *row = *state;
	struct fx *f = fx_new(true);
	struct ir_result r;
	uint64_t hi;

	set_irte(f, 5, row->entry);
	r = send(f, row->msg, row->rid);
	assert_int_equal(r.outcome, IR_BLOCKED);
	assert_false(r.send_irq);
	assert_int_equal(r.fault, row->reason);
	assert_true(r.fault_recorded);
	/* the record: F, reason, requester-id; the index in lo[63:48] */
	hi = frcd_hi(f, 0);
	assert_true(bit_get(hi, DMA_FRCD_F));
	assert_int_equal(bits_get(hi, DMA_FRCD_FR_HI, DMA_FRCD_FR_LO), row->reason);
	assert_int_equal(bits_get(hi, DMA_FRCD_SID_HI, DMA_FRCD_SID_LO), row->rid);
	assert_int_equal(frcd_lo(f, 0) >> 48, row->index & 0xffff);
	assert_true(bit_get(fsts(f), DMA_FSTS_PPF));
	assert_int_equal(bits_get(fsts(f), DMA_FSTS_FRI_HI, DMA_FSTS_FRI_LO), 0);
	assert_int_equal(ir_unit_stats(f->ir)->faults[row->reason - IR_FAULT_FIRST], 1);
	teardown((void **)&f);
}

static void fault_table_access(void **state)
{
	/* A 512-entry table in the last 4 KiB of memory: entries 256.. lie outside. */
	struct ir_unit_config cfg = ir_unit_default_config();
	struct fx *f = fx_new_cfg(&cfg, true, MEM_SIZE - 4096, 8);
	struct ir_result r;

	(void)state;
	r = send(f, handle_msg(300), RID);
	assert_int_equal(r.outcome, IR_BLOCKED);
	assert_int_equal(r.fault, IR_FAULT_TABLE_ACCESS);
	assert_int_equal(frcd_lo(f, 0) >> 48, 300);
	r = send(f, handle_msg(255), RID); /* inside memory, all zero: not present */
	assert_int_equal(r.fault, IR_FAULT_NOT_PRESENT);
	teardown((void **)&f);
}

static void compat_blocking(void **state)
{
	struct msi_msg compat = {.address_lo = 0xfee01000, .data = 0x31};
	struct fx *x2 = fx_new(true), *x1 = fx_new(false);
	struct ir_result r;

	(void)state;
	/* CFI set, xAPIC mode: compatibility format passes through */
	gcmd_write(x1, DMA_GCMD_CFI, true);
	assert_true(bit_get(ir_unit_read(x1->ir, DMAR_GSTS_REG, 4), DMA_GSTS_CFIS));
	r = send(x1, compat, RID);
	assert_int_equal(r.outcome, IR_PASSTHROUGH);
	assert_int_equal(r.irq.dest, 1);
	assert_int_equal(r.irq.vector, 0x31);
	/* CFI set, x2APIC mode (EIME=1): still blocked */
	gcmd_write(x2, DMA_GCMD_CFI, true);
	r = send(x2, compat, RID);
	assert_int_equal(r.outcome, IR_BLOCKED);
	assert_int_equal(r.fault, IR_FAULT_COMPAT);
	teardown((void **)&x1);
	teardown((void **)&x2);
}

/* Source validation through translate: each SVT, and each SQ mask under SVT=1. */
struct sid_case {
	uint16_t sid;
	uint8_t sq;
	uint8_t svt;
	uint16_t pass_rid; /* a requester the entry accepts */
	uint16_t fail_rid; /* one it refuses (0 = none: SVT=0 accepts all) */
};

static const struct sid_case sid_cases[] = {
    {0x0300, IRTE_SQ_ALL, IRTE_SVT_NONE, 0xbeef, 0},
    {0x0300, IRTE_SQ_ALL, IRTE_SVT_RID, 0x0300, 0x0301},
    {0x0300, IRTE_SQ_IGN_2, IRTE_SVT_RID, 0x0304, 0x0302},
    {0x0300, IRTE_SQ_IGN_2_1, IRTE_SVT_RID, 0x0306, 0x0301},
    {0x0300, IRTE_SQ_IGN_2_0, IRTE_SVT_RID, 0x0307, 0x0308},
    {0x0305, IRTE_SQ_ALL, IRTE_SVT_BUS, 0x0410, 0x0600},
    {0x0300, IRTE_SQ_ALL, IRTE_SVT_RSVD, 0, 0x0300},
};

static void source_validation(void **state)
{
	struct fx *f = *state;

	for (uint16_t i = 0; i < ARRAY_SIZE(sid_cases); i++) {
		const struct sid_case *c = &sid_cases[i];
		struct irte_remapped r = {
		    .p = true, .vector = 0x40, .dst = 1, .sid = c->sid, .sq = c->sq, .svt = c->svt};
		struct irte e;

		irte_remapped_encode(&r, &e);
		set_irte(f, 20 + i, e);
		if (c->svt != IRTE_SVT_RSVD)
			assert_int_equal(send(f, handle_msg(20 + i), c->pass_rid).outcome,
					 IR_REMAPPED);
		if (c->fail_rid)
			assert_int_equal(send(f, handle_msg(20 + i), c->fail_rid).fault,
					 IR_FAULT_SID);
	}
}

/* ---- fault recording ---------------------------------------------------- */

static void fpd_suppresses_recording_not_blocking(void **state)
{
	struct fx *f = *state;
	struct irte e = remapped(0x31, 1, RID);
	struct ir_result r;

	e.lo |= UINT64_C(1) << IRTE_FPD;
	set_irte(f, 6, e);
	r = send(f, handle_msg(6), 0x0999); /* wrong source */
	assert_int_equal(r.outcome, IR_BLOCKED);
	assert_int_equal(r.fault, IR_FAULT_SID);
	assert_false(r.fault_recorded);
	/* FPD with P clear: still blocked, still not recorded */
	set_irte(f, 7, (struct irte){.lo = UINT64_C(1) << IRTE_FPD});
	r = send(f, handle_msg(7), RID);
	assert_int_equal(r.fault, IR_FAULT_NOT_PRESENT);
	assert_false(r.fault_recorded);
	assert_false(bit_get(fsts(f), DMA_FSTS_PPF));
	assert_int_equal(ir_unit_stats(f->ir)->faults_fpd_suppressed, 2);
}

static void clear_frcd(struct fx *f, unsigned i)
{
	/* Linux clears F with a 32-bit write of bit 31 to the record's top dword */
	ir_unit_write(f->ir, DMAR_FRCD_REG + 16 * i + 12, 4, UINT32_C(1) << 31);
}

static void primary_fault_overflow(void **state)
{
	struct ir_unit_config cfg = ir_unit_default_config();
	struct fx *f;
	struct ir_result r;

	(void)state;
	cfg.nfr = 2;
	f = fx_new_cfg(&cfg, true, IRT_BASE, IRT_S);
	assert_true(send(f, handle_msg(1), RID).fault_recorded);
	assert_true(send(f, handle_msg(2), RID).fault_recorded);
	/* FRI names the first pending record */
	assert_int_equal(bits_get(fsts(f), DMA_FSTS_FRI_HI, DMA_FSTS_FRI_LO), 0);
	/* recording wrapped to record 0, which is still F=1: overflow */
	r = send(f, handle_msg(3), RID);
	assert_int_equal(r.fault, IR_FAULT_NOT_PRESENT);
	assert_false(r.fault_recorded);
	assert_true(bit_get(fsts(f), DMA_FSTS_PFO));
	/* servicing a record does not end the overflow: PFO blocks recording */
	clear_frcd(f, 0);
	assert_false(send(f, handle_msg(4), RID).fault_recorded);
	/* clearing PFO (write 1) does */
	ir_unit_write(f->ir, DMAR_FSTS_REG, 4, UINT32_C(1) << DMA_FSTS_PFO);
	assert_false(bit_get(fsts(f), DMA_FSTS_PFO));
	assert_true(send(f, handle_msg(5), RID).fault_recorded);
	assert_int_equal(frcd_lo(f, 0) >> 48, 5);
	/* record 1 was pending all along, so PPF never dropped: FRI still 0 */
	assert_int_equal(bits_get(fsts(f), DMA_FSTS_FRI_HI, DMA_FSTS_FRI_LO), 0);
	assert_int_equal(frcd_lo(f, 1) >> 48, 2); /* untouched, still pending */
	assert_int_equal(ir_unit_stats(f->ir)->faults_overflow_lost, 2);
	assert_int_equal(ir_unit_stats(f->ir)->faults_recorded, 3);
	clear_frcd(f, 0);
	clear_frcd(f, 1);
	assert_false(bit_get(fsts(f), DMA_FSTS_PPF));
	teardown((void **)&f);
}

/* ---- the interrupt-entry cache ------------------------------------------ */

static void iec_serves_stale_until_invalidated(void **state)
{
	struct fx *f = *state;

	set_irte(f, 5, remapped(0x31, 1, RID));
	assert_int_equal(send(f, handle_msg(5), RID).irq.vector, 0x31);
	/* software rewrites the entry but forgets the invalidation */
	set_irte(f, 5, remapped(0x32, 2, RID));
	assert_int_equal(send(f, handle_msg(5), RID).irq.vector, 0x31);
	/* invalidating another index does not help */
	qi_submit(f, qi_iec_index(6, 0));
	assert_int_equal(send(f, handle_msg(5), RID).irq.vector, 0x31);
	/* the selective invalidation of index 5 does */
	qi_submit(f, qi_iec_index(5, 0));
	assert_int_equal(send(f, handle_msg(5), RID).irq.vector, 0x32);
	assert_int_equal(send(f, handle_msg(5), RID).irq.dest, 2);
	assert_true(ir_unit_stats(f->ir)->iec_hits >= 3);
}

static void iec_stale_after_clearing_present(void **state)
{
	struct fx *f = *state;

	set_irte(f, 5, remapped(0x31, 1, RID));
	assert_int_equal(send(f, handle_msg(5), RID).outcome, IR_REMAPPED);
	set_irte(f, 5, (struct irte){0});
	/* torn down in memory, still delivered from the cache */
	assert_int_equal(send(f, handle_msg(5), RID).outcome, IR_REMAPPED);
	qi_submit(f, qi_iec_global());
	assert_int_equal(send(f, handle_msg(5), RID).fault, IR_FAULT_NOT_PRESENT);
}

static void iec_index_mask(void **state)
{
	struct fx *f = *state;

	for (uint16_t i = 4; i < 8; i++)
		set_irte(f, i, remapped((uint8_t)(0x40 + i), 1, RID));
	for (uint16_t i = 4; i < 8; i++)
		assert_int_equal(send(f, handle_msg(i), RID).irq.vector, 0x40 + i);
	for (uint16_t i = 4; i < 8; i++)
		set_irte(f, i, remapped((uint8_t)(0x50 + i), 1, RID));
	/* IM=1 at IIDX=6 covers 6 and 7 only */
	qi_submit(f, qi_iec_index(6, 1));
	assert_int_equal(send(f, handle_msg(5), RID).irq.vector, 0x45);
	assert_int_equal(send(f, handle_msg(6), RID).irq.vector, 0x56);
	assert_int_equal(send(f, handle_msg(7), RID).irq.vector, 0x57);
	/* IM=2 at IIDX=4 covers 4..7 */
	qi_submit(f, qi_iec_index(4, 2));
	assert_int_equal(send(f, handle_msg(4), RID).irq.vector, 0x54);
	assert_int_equal(send(f, handle_msg(5), RID).irq.vector, 0x55);
}

/* The ranges IEC invalidations named, for an owner that derives from entries (a VMM). */
static void invalidated_ranges_are_reported(void **state)
{
	struct fx *f = *state;
	struct ir_inval r[IR_INVAL_RANGES];

	(void)!ir_unit_take_invalidated(f->ir, r); /* whatever setup did */
	assert_int_equal(ir_unit_take_invalidated(f->ir, r), 0);
	qi_submit(f, qi_iec_index(6, 1));
	qi_submit(f, qi_iec_index(9, 0));
	assert_int_equal(ir_unit_take_invalidated(f->ir, r), 2);
	assert_int_equal(r[0].first, 6);
	assert_int_equal(r[0].count, 2);
	assert_int_equal(r[1].first, 9);
	assert_int_equal(r[1].count, 1);
	assert_int_equal(ir_unit_take_invalidated(f->ir, r), 0); /* taken: forgotten */
	qi_submit(f, qi_iec_global());
	assert_int_equal(ir_unit_take_invalidated(f->ir, r), -1);
	for (uint16_t i = 0; i <= IR_INVAL_RANGES; i++)
		qi_submit(f, qi_iec_index(i, 0));
	assert_int_equal(ir_unit_take_invalidated(f->ir, r), -1); /* more than fit */
}

static void iec_does_not_cache_faults(void **state)
{
	struct fx *f = *state;

	assert_int_equal(send(f, handle_msg(5), RID).fault, IR_FAULT_NOT_PRESENT);
	set_irte(f, 5, remapped(0x31, 1, RID));
	/* no invalidation needed: a not-present entry was never cached */
	assert_int_equal(send(f, handle_msg(5), RID).outcome, IR_REMAPPED);
}

static void sirtp_invalidates_only_with_esirtps(void **state)
{
	struct ir_unit_config cfg = ir_unit_default_config();
	struct fx *plain, *es;

	(void)state;
	plain = fx_new_cfg(&cfg, true, IRT_BASE, IRT_S);
	cfg.esirtps = true;
	es = fx_new_cfg(&cfg, true, IRT_BASE, IRT_S);
	for (int i = 0; i < 2; i++) {
		struct fx *f = i ? es : plain;

		set_irte(f, 5, remapped(0x31, 1, RID));
		assert_int_equal(send(f, handle_msg(5), RID).irq.vector, 0x31);
		set_irte(f, 5, remapped(0x32, 1, RID));
		gcmd_write(f, DMA_GCMD_SIRTP, true);
		assert_int_equal(send(f, handle_msg(5), RID).irq.vector, i ? 0x32 : 0x31);
	}
	teardown((void **)&plain);
	teardown((void **)&es);
}

/* ---- queued invalidation errors ----------------------------------------- */

static void qi_invalid_descriptor(void **state)
{
	struct fx *f = *state;
	struct qi_desc bad = qi_iec_index(5, 0);
	uint32_t at = f->tail;

	set_irte(f, 5, remapped(0x31, 1, RID));
	assert_int_equal(send(f, handle_msg(5), RID).irq.vector, 0x31);
	set_irte(f, 5, remapped(0x32, 1, RID));
	bad.lo |= UINT64_C(1) << 5; /* reserved */
	put_desc(f, bad);
	ir_unit_write(f->ir, DMAR_IQT_REG, 8, (uint64_t)f->tail << 4);
	assert_true(bit_get(fsts(f), DMA_FSTS_IQE));
	assert_int_equal(ir_unit_read(f->ir, DMAR_IQH_REG, 8) >> 4, at); /* stops at it */
	assert_int_equal(send(f, handle_msg(5), RID).irq.vector, 0x31);	 /* not processed */
	/* software repairs the descriptor in place and clears IQE: processing resumes */
	assert_int_equal(physmem_store64(f->pm, IQ_BASE + at * 16, qi_iec_index(5, 0).lo), 0);
	ir_unit_write(f->ir, DMAR_FSTS_REG, 4, UINT32_C(1) << DMA_FSTS_IQE);
	assert_false(bit_get(fsts(f), DMA_FSTS_IQE));
	assert_int_equal(ir_unit_read(f->ir, DMAR_IQH_REG, 8) >> 4, f->tail);
	assert_int_equal(send(f, handle_msg(5), RID).irq.vector, 0x32);
}

static void qi_unknown_type_and_big_mask(void **state)
{
	struct fx *f = *state;

	put_desc(f, (struct qi_desc){.lo = 0xf}); /* type 15 */
	ir_unit_write(f->ir, DMAR_IQT_REG, 8, (uint64_t)f->tail << 4);
	assert_true(bit_get(fsts(f), DMA_FSTS_IQE));
	teardown(state);
	{
		struct ir_unit_config cfg = ir_unit_default_config();

		cfg.mhmv = 2;
		*state = fx_new_cfg(&cfg, true, IRT_BASE, IRT_S);
	}
	f = *state;
	put_desc(f, qi_iec_index(0, 3)); /* IM above ECAP.MHMV */
	ir_unit_write(f->ir, DMAR_IQT_REG, 8, (uint64_t)f->tail << 4);
	assert_true(bit_get(fsts(f), DMA_FSTS_IQE));
}

/*
 * A hostile queue: stopped on a bad descriptor at 300 of 512 with the tail
 * at 400, then shrunk to 256 entries under the running queue (IQA written
 * while QI is enabled, which VT-d leaves undefined). Repairing and clearing
 * IQE must give a queue error, not a head that laps the queue for ever
 * looking for a tail past its end.
 */
static void qi_queue_shrunk_under_the_tail(void **state)
{
	struct fx *f = *state;
	struct qi_desc good = qi_iec_global();

	for (uint32_t i = 0; i < 2 * IQ_ENTRIES; i++) {
		assert_int_equal(physmem_store64(f->pm, IQ_BASE + i * 16, good.lo), 0);
		assert_int_equal(physmem_store64(f->pm, IQ_BASE + i * 16 + 8, good.hi), 0);
	}
	assert_int_equal(physmem_store64(f->pm, IQ_BASE + 300 * 16, 0xf), 0); /* type 15 */
	ir_unit_write(f->ir, DMAR_IQA_REG, 8, IQ_BASE | 1); /* QS=1: 512 entries */
	ir_unit_write(f->ir, DMAR_IQT_REG, 8, (uint64_t)400 << 4);
	assert_true(bit_get(fsts(f), DMA_FSTS_IQE));
	assert_int_equal(ir_unit_read(f->ir, DMAR_IQH_REG, 8) >> 4, 300);
	ir_unit_write(f->ir, DMAR_IQA_REG, 8, IQ_BASE); /* QS=0: 256 entries */
	assert_int_equal(physmem_store64(f->pm, IQ_BASE + 300 * 16, good.lo), 0);
	ir_unit_write(f->ir, DMAR_FSTS_REG, 4, UINT32_C(1) << DMA_FSTS_IQE);
	assert_true(bit_get(fsts(f), DMA_FSTS_IQE)); /* an error, and it returned */
}

/* Every register written with hostile values, in both sizes: each write returns. */
static void hostile_register_writes_return(void **state)
{
	static const uint64_t values[] = {
	    0, UINT64_MAX, UINT64_C(0x5555555555555555), UINT64_C(0xaaaaaaaaaaaaaaaa), 0x7, 0xfff0};
	struct fx *f = *state;

	for (unsigned r = 0; r < 3; r++)
		for (uint32_t off = 0; off < 0x400; off += 4)
			for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
				ir_unit_write(f->ir, off, 4, values[v] >> (8 * r));
				if (off % 8 == 0)
					ir_unit_write(f->ir, off, 8, values[v] << r);
				(void)ir_unit_read(f->ir, off, 4);
			}
	assert_true(ir_unit_read(f->ir, DMAR_IQH_REG, 8) >> 4 < 8 * IQ_ENTRIES);
}

/*
 * The fault event (VT-d §7.3.1): the first fault recorded sets FECTL.IP and
 * sends one event; more faults while IP is set send none; IP clears once the
 * records are cleared; with IM set the event is held, and sent on unmask.
 */
static void fault_event_rises_once_and_clears(void **state)
{
	struct fx *f = *state;
	uint32_t ip = UINT32_C(1) << DMA_FECTL_IP, im = UINT32_C(1) << DMA_FECTL_IM;

	(void)send(f, handle_msg(9), RID); /* IRTE 9 not present: 0x22 */
	assert_true(ir_unit_read(f->ir, DMAR_FECTL_REG, 4) & ip);
	assert_true(ir_unit_take_fault_event(f->ir));
	(void)send(f, handle_msg(9), RID);
	assert_false(ir_unit_take_fault_event(f->ir)); /* IP was still set */
	for (uint32_t r = 0; r < 2; r++)
		ir_unit_write(f->ir, DMAR_FRCD_REG + 16 * r + 12, 4, UINT32_C(1) << 31);
	assert_false(ir_unit_read(f->ir, DMAR_FECTL_REG, 4) & ip);
	ir_unit_write(f->ir, DMAR_FECTL_REG, 4, im);
	(void)send(f, handle_msg(9), RID);
	assert_true(ir_unit_read(f->ir, DMAR_FECTL_REG, 4) & ip);
	assert_false(ir_unit_take_fault_event(f->ir)); /* masked: held */
	ir_unit_write(f->ir, DMAR_FECTL_REG, 4, 0);
	assert_true(ir_unit_take_fault_event(f->ir)); /* unmasked: sent */
}

static void fault_names(void **state)
{
	(void)state;
	assert_string_equal(ir_fault_name(0x26), "source-id verification failed");
	assert_string_equal(ir_fault_name(0x27), "posted descriptor access error");
	assert_string_equal(ir_fault_name(0x1f), "unknown");
	assert_string_equal(ir_fault_name(0x28), "unknown");
}

static void bad_config(void **state)
{
	struct physmem *pm = physmem_new(4096);
	struct ir_unit_config cfg = ir_unit_default_config();

	(void)state;
	cfg.iec_slots = 3;
	assert_null(ir_unit_new(pm, &cfg));
	cfg = ir_unit_default_config();
	cfg.nfr = 0;
	assert_null(ir_unit_new(pm, &cfg));
	cfg = ir_unit_default_config();
	assert_null(ir_unit_new(NULL, &cfg));
	physmem_free(pm);
}

#define FX(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    FX(caps_and_enable, setup_x2apic),
	    FX(ir_disabled_passes_through, setup_x2apic),
	    FX(remapped_x2apic, setup_x2apic),
	    FX(remapped_xapic, setup_xapic),
	    FX(subhandle_selects_entry, setup_x2apic),
	    FX(posted_delivery, setup_x2apic),
	    FX(posted_xapic_ndst, setup_xapic),
	    TEST_ROW("ir/fault/0x20-address-hi", fault, &fault_rows[0]),
	    TEST_ROW("ir/fault/0x20-not-interrupt-range", fault, &fault_rows[1]),
	    TEST_ROW("ir/fault/0x20-shv-data-upper", fault, &fault_rows[2]),
	    TEST_ROW("ir/fault/0x21-index-beyond-table", fault, &fault_rows[3]),
	    TEST_ROW("ir/fault/0x21-subhandle-beyond-table", fault, &fault_rows[4]),
	    TEST_ROW("ir/fault/0x22-not-present", fault, &fault_rows[5]),
	    TEST_ROW("ir/fault/0x24-reserved-bit-12", fault, &fault_rows[6]),
	    TEST_ROW("ir/fault/0x24-reserved-bit-84", fault, &fault_rows[7]),
	    TEST_ROW("ir/fault/0x25-compat-blocked", fault, &fault_rows[8]),
	    TEST_ROW("ir/fault/0x26-other-function", fault, &fault_rows[9]),
	    TEST_ROW("ir/fault/0x26-reserved-svt", fault, &fault_rows[10]),
	    TEST_ROW("ir/fault/0x27-descriptor-outside-memory", fault, &fault_rows[11]),
	    TEST(fault_table_access),
	    TEST(compat_blocking),
	    FX(source_validation, setup_x2apic),
	    FX(fpd_suppresses_recording_not_blocking, setup_x2apic),
	    TEST(primary_fault_overflow),
	    FX(iec_serves_stale_until_invalidated, setup_x2apic),
	    FX(iec_stale_after_clearing_present, setup_x2apic),
	    FX(iec_index_mask, setup_x2apic),
	    FX(invalidated_ranges_are_reported, setup_x2apic),
	    FX(iec_does_not_cache_faults, setup_x2apic),
	    TEST(sirtp_invalidates_only_with_esirtps),
	    FX(qi_invalid_descriptor, setup_x2apic),
	    FX(qi_unknown_type_and_big_mask, setup_x2apic),
	    FX(qi_queue_shrunk_under_the_tail, setup_x2apic),
	    FX(hostile_register_writes_return, setup_x2apic),
	    FX(fault_event_rises_once_and_clears, setup_x2apic),
	    TEST(fault_names),
	    TEST(bad_config),
	};

	return cmocka_run_group_tests_name("ir_unit", tests, NULL, NULL);
}
