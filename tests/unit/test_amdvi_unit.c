// SPDX-License-Identifier: MIT
/*
 * The AMD-Vi unit: remapping in both formats, AVIC posting with the doorbell and the GA
 * log, every interrupt fault with the event it logs, the caches and the commands that
 * invalidate them, the logs' overflow, and one device never reaching another's table.
 * Events and GA log entries are checked with a decoder written here from the field
 * tables (Linux iommu_print_event() and VirtualBox's EVT_IO_PAGE_FAULT_T: device ID
 * 15:0, flags 59:48 with I at 51, code 63:60, address 127:64; GA log: tag 31:0, device
 * ID 47:32, type 63:60), not with the unit's own.
 */
#include "test.h"

#include <stdlib.h>

#include "pvir/amdvi_unit.h"
#include "pvir/msi.h"
#include "pvir/physmem.h"

#define MEM	  (1u << 20)
#define CMD_BASE  0x10000u
#define EVT_BASE  0x20000u
#define GA_BASE	  0x30000u
#define DEV_TABLE 0x80000u /* Size 1: two pages, 256 requester-ids */
#define IRT_A	  0x40000u
#define IRT_B	  0x44000u
#define PAGE	  0x50000u
#define STORE	  0x60000u
#define RID_A	  0x21
#define RID_B	  0x22
#define MSI_ADDR  0xfee00000u
#define LEN_256	  (UINT64_C(8) << 56)

struct fx {
	struct physmem *pm;
	struct amdvi_unit *u;
	uint32_t cmd_tail;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct amdvi_unit_config cfg = amdvi_unit_default_config();

	f->pm = physmem_new(MEM);
	f->u = amdvi_unit_new(f->pm, &cfg);
	amdvi_unit_write(f->u, AMDVI_MMIO_DEV_TABLE, 8, DEV_TABLE | 1);
	amdvi_unit_write(f->u, AMDVI_MMIO_CMD_BUF, 8, CMD_BASE | LEN_256);
	amdvi_unit_write(f->u, AMDVI_MMIO_EVT_LOG, 8, EVT_BASE | LEN_256);
	amdvi_unit_write(f->u, AMDVI_MMIO_GA_LOG, 8, GA_BASE | LEN_256);
	amdvi_unit_write(f->u, AMDVI_MMIO_CONTROL, 8,
			 UINT64_C(1) << AMDVI_CTRL_IOMMU_EN | UINT64_C(1) << AMDVI_CTRL_EVT_LOG_EN |
			     UINT64_C(1) << AMDVI_CTRL_EVT_INT_EN |
			     UINT64_C(1) << AMDVI_CTRL_CMD_BUF_EN);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	amdvi_unit_free(f->u);
	physmem_free(f->pm);
	free(f);
	return 0;
}

static void control_set(struct fx *f, unsigned bit, bool on)
{
	uint64_t c = amdvi_unit_read(f->u, AMDVI_MMIO_CONTROL, 8);

	c = on ? c | UINT64_C(1) << bit : c & ~(UINT64_C(1) << bit);
	amdvi_unit_write(f->u, AMDVI_MMIO_CONTROL, 8, c);
}

static void ga_mode(struct fx *f)
{
	control_set(f, AMDVI_CTRL_GA_EN, true);
	control_set(f, 25, true); /* GAM = vAPIC */
	control_set(f, 50, true); /* XTEn */
}

/* The DTE's interrupt qword, built from the field table (IV 0, IntTabLen 4:1, root 51:6,
 * IntCtl 61:60, NMIPass 58). */
static void dte(struct fx *f, uint16_t rid, uint64_t root, unsigned len, unsigned intctl,
		bool nmi_pass)
{
	uint64_t q =
	    1 | (uint64_t)len << 1 | root | (uint64_t)intctl << 60 | (uint64_t)nmi_pass << 58;

	assert_int_equal(physmem_store64(f->pm, DEV_TABLE + 32u * rid + 16, q), 0);
}

static void irte32(struct fx *f, uint64_t root, unsigned index, uint32_t v)
{
	assert_int_equal(physmem_write(f->pm, root + 4 * index, &v, 4), 0);
}

static void irte128(struct fx *f, uint64_t root, unsigned index, uint64_t lo, uint64_t hi)
{
	assert_int_equal(physmem_store64(f->pm, root + 16 * index, lo), 0);
	assert_int_equal(physmem_store64(f->pm, root + 16 * index + 8, hi), 0);
}

static struct msi_msg msg(unsigned index, unsigned dlm)
{
	return (struct msi_msg){.address_lo = MSI_ADDR, .data = index | dlm << 8};
}

static void translate(struct fx *f, uint16_t rid, struct msi_msg m, struct amdvi_result *r)
{
	amdvi_unit_translate(f->u, &m, rid, r);
}

/* The test's own decoder of the event at byte offset @at of the log. */
struct event_fields {
	unsigned code, flags, devid;
	uint64_t addr;
};

static struct event_fields event_at(struct fx *f, uint32_t at)
{
	uint64_t lo, hi;

	assert_int_equal(physmem_load64(f->pm, EVT_BASE + at, &lo), 0);
	assert_int_equal(physmem_load64(f->pm, EVT_BASE + at + 8, &hi), 0);
	return (struct event_fields){.code = (unsigned)(lo >> 60),
				     .flags = (unsigned)(lo >> 48) & 0xfff,
				     .devid = (unsigned)lo & 0xffff,
				     .addr = hi};
}

static uint32_t evt_tail(struct fx *f)
{
	return (uint32_t)amdvi_unit_read(f->u, AMDVI_MMIO_EVT_TAIL, 8);
}

static void command(struct fx *f, struct amdvi_cmd c)
{
	assert_int_equal(physmem_store64(f->pm, CMD_BASE + f->cmd_tail, c.lo), 0);
	assert_int_equal(physmem_store64(f->pm, CMD_BASE + f->cmd_tail + 8, c.hi), 0);
	f->cmd_tail = (f->cmd_tail + 16) % 4096;
	amdvi_unit_write(f->u, AMDVI_MMIO_CMD_TAIL, 8, f->cmd_tail);
}

/* ---- remapping ------------------------------------------------------------------------- */

static void legacy_entry_remaps(void **state)
{
	struct fx *f = *state;
	struct amdvi_result r;

	dte(f, RID_A, IRT_A, 9, AMDVI_INTCTL_REMAP, false);
	/* RemapEn, IntType fixed, DM 0, Destination 3, Vector 0x45 */
	irte32(f, IRT_A, 5, 0x00450301);
	irte32(f, IRT_A, 6, 0x00460401); /* its neighbour in the same qword */
	translate(f, RID_A, msg(5, MSI_DM_FIXED), &r);
	assert_int_equal(r.outcome, IR_REMAPPED);
	assert_int_equal(r.index, 5);
	assert_int_equal(r.irq.dest, 3);
	assert_int_equal(r.irq.vector, 0x45);
	assert_int_equal(r.irq.dlm, MSI_DM_FIXED);
	translate(f, RID_A, msg(6, MSI_DM_FIXED), &r);
	assert_int_equal(r.irq.dest, 4);
	assert_int_equal(r.irq.vector, 0x46);
	assert_int_equal(evt_tail(f), 0);
}

static void ga_entry_remaps_32_bit_destinations(void **state)
{
	struct fx *f = *state;
	struct amdvi_result r;

	ga_mode(f);
	dte(f, RID_A, IRT_A, 9, AMDVI_INTCTL_REMAP, false);
	/* RemapEn, arbitrated (IntType 1 at 4:2), Dest[23:0] = 0x012345 at 31:8,
	 * Dest[31:24] = 0x06 at 63:56 of the high qword, Vector 0x51 */
	irte128(f, IRT_A, 2, 0x01234505, 0x0600000000000051ull);
	translate(f, RID_A, msg(2, MSI_DM_FIXED), &r);
	assert_int_equal(r.outcome, IR_REMAPPED);
	assert_int_equal(r.irq.dest, 0x06012345);
	assert_int_equal(r.irq.dlm, MSI_DM_LOWPRI);
	assert_int_equal(r.irq.vector, 0x51);
	control_set(f, 50, false); /* without XTEn, eight destination bits */
	translate(f, RID_A, msg(2, MSI_DM_FIXED), &r);
	assert_int_equal(r.irq.dest, 0x45);
}

/* A guest-mode entry: RemapEn, GALogIntr 2, IsRun 6, GuestMode 7, dest, tag; vector and
 * GARootPtr (51:12) in the high qword. */
static void vapic_entry(struct fx *f, unsigned index, bool is_run, bool ga_log, uint32_t tag)
{
	uint64_t lo = 1 | (uint64_t)ga_log << 2 | (uint64_t)is_run << 6 | 1u << 7 | 9u << 8 |
		      (uint64_t)tag << 32;

	irte128(f, IRT_A, index, lo, (uint64_t)PAGE | 0x61);
}

static void guest_mode_rings_the_doorbell(void **state)
{
	struct fx *f = *state;
	struct amdvi_result r;
	uint64_t irr;

	ga_mode(f);
	dte(f, RID_A, IRT_A, 9, AMDVI_INTCTL_REMAP, false);
	vapic_entry(f, 1, true, true, 0xabc);
	translate(f, RID_A, msg(1, MSI_DM_FIXED), &r);
	assert_int_equal(r.outcome, IR_POSTED);
	assert_true(r.doorbell);
	assert_false(r.ga_logged);
	assert_false(r.coalesced);
	assert_int_equal(r.irq.dest, 9);
	assert_int_equal(r.guest_vector, 0x61);
	/* vector 0x61: IRR register 3 (0x230), bit 1 */
	assert_int_equal(physmem_load64(f->pm, PAGE + 0x230, &irr), 0);
	assert_int_equal(irr, 2);
	translate(f, RID_A, msg(1, MSI_DM_FIXED), &r);
	assert_true(r.coalesced);
	assert_int_equal(amdvi_unit_stats(f->u)->doorbells, 2);
}

/* KVM moves a vCPU with no invalidation: IsRun, GALogIntr, Destination, GATag are read afresh. */
static void is_run_and_destination_are_not_cached(void **state)
{
	struct fx *f = *state;
	struct amdvi_result r;

	ga_mode(f);
	control_set(f, AMDVI_CTRL_GA_LOG_EN, true);
	dte(f, RID_A, IRT_A, 9, AMDVI_INTCTL_REMAP, false);
	vapic_entry(f, 1, true, false, 0xabc);
	translate(f, RID_A, msg(1, MSI_DM_FIXED), &r);
	assert_true(r.doorbell);
	vapic_entry(f, 1, false, true, 0xdef); /* vcpu_put, blocking: no invalidation */
	translate(f, RID_A, msg(1, MSI_DM_FIXED), &r);
	assert_false(r.doorbell);
	assert_true(r.ga_logged);
	assert_int_equal(r.ga_tag, 0xdef);
	/* the vector is cached, as the spec lets it be: a change needs the invalidation */
	irte128(f, IRT_A, 1, 1 | 1u << 6 | 1u << 7 | 9u << 8, (uint64_t)PAGE | 0x62);
	translate(f, RID_A, msg(1, MSI_DM_FIXED), &r);
	assert_true(r.doorbell);
	assert_int_equal(r.guest_vector, 0x61);
}

static void guest_mode_logs_a_vcpu_not_running(void **state)
{
	struct fx *f = *state;
	struct amdvi_result r;
	bool evt, ga;
	uint64_t raw;

	ga_mode(f);
	control_set(f, AMDVI_CTRL_GA_LOG_EN, true);
	control_set(f, AMDVI_CTRL_GA_INT_EN, true);
	dte(f, RID_A, IRT_A, 9, AMDVI_INTCTL_REMAP, false);
	vapic_entry(f, 1, false, true, 0xabc);
	vapic_entry(f, 2, false, false, 0xdef);
	translate(f, RID_A, msg(1, MSI_DM_FIXED), &r);
	assert_int_equal(r.outcome, IR_POSTED);
	assert_false(r.doorbell);
	assert_true(r.ga_logged);
	assert_int_equal(amdvi_unit_read(f->u, AMDVI_MMIO_GA_TAIL, 8), 8);
	assert_int_equal(physmem_load64(f->pm, GA_BASE, &raw), 0);
	assert_int_equal(raw & 0xffffffff, 0xabc);
	assert_int_equal((raw >> 32) & 0xffff, RID_A);
	assert_int_equal(raw >> 60, AMDVI_GA_GUEST_NR);
	amdvi_unit_take_interrupts(f->u, &evt, &ga);
	assert_false(evt);
	assert_true(ga);
	assert_true(amdvi_unit_read(f->u, AMDVI_MMIO_STATUS, 8) & 1u << AMDVI_STATUS_GA_INT);
	/* GALogIntr clear: posted into the IRR, nobody told */
	translate(f, RID_A, msg(2, MSI_DM_FIXED), &r);
	assert_int_equal(r.outcome, IR_POSTED);
	assert_false(r.ga_logged || r.doorbell);
	assert_int_equal(amdvi_unit_read(f->u, AMDVI_MMIO_GA_TAIL, 8), 8);
}

static void iv_clear_and_unit_off_pass_unmapped(void **state)
{
	struct fx *f = *state;
	struct amdvi_result r;
	struct msi_msg m = {.address_lo = MSI_ADDR | 7u << 12, .data = 0x33};

	amdvi_unit_translate(f->u, &m, RID_B, &r); /* its DTE is all zero: IV clear */
	assert_int_equal(r.outcome, IR_PASSTHROUGH);
	assert_int_equal(r.irq.dest, 7);
	assert_int_equal(r.irq.vector, 0x33);
	control_set(f, AMDVI_CTRL_IOMMU_EN, false);
	dte(f, RID_B, IRT_B, 9, AMDVI_INTCTL_ABORT, false);
	amdvi_unit_translate(f->u, &m, RID_B, &r);
	assert_int_equal(r.outcome, IR_PASSTHROUGH);
}

static void index_2k_needs_the_mode_and_the_dm_bit(void **state)
{
	struct fx *f = *state;
	struct amdvi_result r;
	struct msi_msg m = {.address_lo = MSI_ADDR | 1u << 2, .data = 0x5ff};

	assert_int_equal(amdvi_unit_read(f->u, AMDVI_MMIO_EXT_FEAT2, 8), 1u << 8);
	dte(f, RID_A, IRT_A, 11, AMDVI_INTCTL_REMAP, false);
	irte32(f, IRT_A, 0x5ff, 0x00770101);
	/* without the mode, data[10:8] = 101b reads as INIT, which is not passed */
	amdvi_unit_translate(f->u, &m, RID_A, &r);
	assert_int_equal(r.why, AMDVI_BLOCK_NOT_PASSED);
	control_set(f, AMDVI_CTRL_NUM_INT_LO, true);
	amdvi_unit_translate(f->u, &m, RID_A, &r);
	assert_int_equal(r.outcome, IR_REMAPPED);
	assert_int_equal(r.index, 0x5ff);
	assert_int_equal(r.irq.vector, 0x77);
	/* DM clear: the delivery mode counts again */
	m.address_lo = MSI_ADDR;
	amdvi_unit_translate(f->u, &m, RID_A, &r);
	assert_int_equal(r.why, AMDVI_BLOCK_NOT_PASSED);
}

/* A unit as QEMU's amd-iommu is: no guest mode ("guest mode is not zero"), no fault logged. */
static void a_unit_like_qemus(void **state)
{
	struct fx *f = *state;
	struct amdvi_unit_config cfg = amdvi_unit_default_config();
	struct amdvi_unit *q;
	struct amdvi_result r;

	cfg.gam = false;
	cfg.log_faults = false;
	q = amdvi_unit_new(f->pm, &cfg);
	assert_non_null(q);
	assert_false(amdvi_unit_read(q, AMDVI_MMIO_EXT_FEAT, 8) & 1u << AMDVI_FEATURE_GAM_VAPIC);
	amdvi_unit_write(q, AMDVI_MMIO_DEV_TABLE, 8, DEV_TABLE | 1);
	amdvi_unit_write(q, AMDVI_MMIO_EVT_LOG, 8, EVT_BASE | LEN_256);
	amdvi_unit_write(q, AMDVI_MMIO_CONTROL, 8,
			 UINT64_C(1) << AMDVI_CTRL_IOMMU_EN | UINT64_C(1) << AMDVI_CTRL_EVT_LOG_EN |
			     UINT64_C(1) << AMDVI_CTRL_GA_EN | UINT64_C(1) << AMDVI_CTRL_GAM_VAPIC);
	dte(f, RID_A, IRT_A, 9, AMDVI_INTCTL_REMAP, false);
	vapic_entry(f, 1, true, false, 0);
	amdvi_unit_translate(q, &(struct msi_msg){.address_lo = MSI_ADDR, .data = 1}, RID_A, &r);
	assert_int_equal(r.outcome, IR_BLOCKED);
	assert_int_equal(r.why, AMDVI_BLOCK_IRTE_RESERVED);
	assert_int_equal(r.event, 0);
	assert_int_equal(amdvi_unit_read(q, AMDVI_MMIO_EVT_TAIL, 8), 0);
	amdvi_unit_free(q);
}

static void inv_intr_table_reserved_bits(void **state)
{
	struct fx *f = *state;
	struct amdvi_cmd c = amdvi_cmd_inv_intr_table(RID_A);

	c.lo |= UINT64_C(1) << 20;
	command(f, c);
	assert_int_equal(event_at(f, 0).code, AMDVI_EVT_ILLEGAL_COMMAND);
	assert_int_equal(amdvi_unit_stats(f->u)->irt_invalidations, 0);
}

/* ---- faults ----------------------------------------------------------------------------- */

struct fault_row {
	const char *name;
	uint16_t rid;
	unsigned len, intctl, index, dlm;
	uint32_t irte;
	enum amdvi_block why;
	unsigned code; /* 0: no event */
};

static const struct fault_row fault_rows[] = {
    {"no DTE", 0x200, 9, AMDVI_INTCTL_REMAP, 0, MSI_DM_FIXED, 0x00450301, AMDVI_BLOCK_NO_DTE,
     AMDVI_EVT_IO_PAGE_FAULT},
    {"IntCtl abort", RID_A, 9, AMDVI_INTCTL_ABORT, 0, MSI_DM_FIXED, 0x00450301,
     AMDVI_BLOCK_INTCTL_ABORT, AMDVI_EVT_IO_PAGE_FAULT},
    {"IntCtl reserved", RID_A, 9, 3, 0, MSI_DM_FIXED, 0x00450301, AMDVI_BLOCK_INTCTL_RESERVED,
     AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY},
    {"IntTabLen 4096", RID_A, 12, AMDVI_INTCTL_REMAP, 0, MSI_DM_FIXED, 0x00450301,
     AMDVI_BLOCK_TABLE_LEN, AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY},
    {"index beyond IntTabLen", RID_A, 1, AMDVI_INTCTL_REMAP, 2, MSI_DM_FIXED, 0x00450301,
     AMDVI_BLOCK_INDEX, AMDVI_EVT_IO_PAGE_FAULT},
    {"RemapEn clear", RID_A, 9, AMDVI_INTCTL_REMAP, 0, MSI_DM_FIXED, 0x00450300,
     AMDVI_BLOCK_REMAP_EN, AMDVI_EVT_IO_PAGE_FAULT},
    {"RemapEn clear, SupIOPF", RID_A, 9, AMDVI_INTCTL_REMAP, 0, MSI_DM_FIXED, 0x00450302,
     AMDVI_BLOCK_REMAP_EN, 0},
    {"IRTE reserved bit 31", RID_A, 9, AMDVI_INTCTL_REMAP, 0, MSI_DM_FIXED, 0x80450301,
     AMDVI_BLOCK_IRTE_RESERVED, AMDVI_EVT_IO_PAGE_FAULT},
    {"IRTE IntType NMI", RID_A, 9, AMDVI_INTCTL_REMAP, 0, MSI_DM_FIXED, 0x00450311,
     AMDVI_BLOCK_INT_TYPE, AMDVI_EVT_IO_PAGE_FAULT},
    {"NMI not passed", RID_A, 9, AMDVI_INTCTL_REMAP, 0, MSI_DM_NMI, 0x00450301,
     AMDVI_BLOCK_NOT_PASSED, 0},
};

static void fault_is_logged(void **state)
{
	const struct fault_row *row = *state;
	struct fx *f;
	struct amdvi_result r;
	struct event_fields e;

	setup((void **)&f);
	dte(f, RID_A, IRT_A, row->len, row->intctl, false);
	irte32(f, IRT_A, row->index, row->irte);
	translate(f, row->rid, msg(row->index, row->dlm), &r);
	assert_int_equal(r.outcome, IR_BLOCKED);
	assert_int_equal(r.why, row->why);
	assert_int_equal(r.event, row->code);
	assert_int_equal(evt_tail(f), row->code ? 16 : 0);
	if (row->code) {
		e = event_at(f, 0);
		assert_int_equal(e.code, row->code);
		assert_int_equal(e.flags, 0x008); /* I: an interrupt request */
		assert_int_equal(e.devid, row->rid);
		assert_int_equal(e.addr, MSI_ADDR);
		assert_true(amdvi_unit_read(f->u, AMDVI_MMIO_STATUS, 8) &
			    1u << AMDVI_STATUS_EVT_INT);
	}
	assert_int_equal(amdvi_unit_stats(f->u)->blocked[row->why], 1);
	teardown((void **)&f);
}

static void dte_reserved_bits_are_illegal(void **state)
{
	struct fx *f = *state;
	struct amdvi_result r;

	dte(f, RID_A, IRT_A, 9, AMDVI_INTCTL_REMAP, false);
	assert_int_equal(physmem_store64(f->pm, DEV_TABLE + 32u * RID_A + 16,
					 1 | 9u << 1 | IRT_A | 2ull << 60 | 1ull << 52),
			 0);
	translate(f, RID_A, msg(0, MSI_DM_FIXED), &r);
	assert_int_equal(r.why, AMDVI_BLOCK_DTE_RESERVED);
	assert_int_equal(event_at(f, 0).code, AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY);
}

static void nmi_passes_with_its_bit(void **state)
{
	struct fx *f = *state;
	struct amdvi_result r;

	dte(f, RID_A, IRT_A, 9, AMDVI_INTCTL_ABORT, true);
	translate(f, RID_A, msg(0x02, MSI_DM_NMI), &r);
	assert_int_equal(r.outcome, IR_PASSTHROUGH);
	assert_int_equal(r.irq.dlm, MSI_DM_NMI);
}

/* ---- isolation ------------------------------------------------------------------------ */

static void a_device_only_reaches_its_own_table(void **state)
{
	struct fx *f = *state;
	struct amdvi_result r;

	dte(f, RID_A, IRT_A, 1, AMDVI_INTCTL_REMAP, false); /* two entries */
	dte(f, RID_B, IRT_B, 9, AMDVI_INTCTL_REMAP, false);
	irte32(f, IRT_A, 1, 0x00410101);
	irte32(f, IRT_B, 1, 0x00b10201);
	irte32(f, IRT_B, 5, 0x00b50201);
	translate(f, RID_A, msg(1, MSI_DM_FIXED), &r);
	assert_int_equal(r.irq.vector, 0x41); /* the same index names A's own entry */
	translate(f, RID_B, msg(1, MSI_DM_FIXED), &r);
	assert_int_equal(r.irq.vector, 0xb1);
	/* B's index 5 from A: beyond A's table, logged, never B's entry */
	translate(f, RID_A, msg(5, MSI_DM_FIXED), &r);
	assert_int_equal(r.outcome, IR_BLOCKED);
	assert_int_equal(r.why, AMDVI_BLOCK_INDEX);
	assert_int_equal(event_at(f, 0).devid, RID_A);
}

/* ---- caches and commands --------------------------------------------------------------- */

static void entries_stay_cached_until_invalidated(void **state)
{
	struct fx *f = *state;
	struct amdvi_result r;
	uint64_t done = 0;

	dte(f, RID_A, IRT_A, 9, AMDVI_INTCTL_REMAP, false);
	dte(f, RID_B, IRT_B, 9, AMDVI_INTCTL_REMAP, false);
	irte32(f, IRT_A, 3, 0x00430101);
	translate(f, RID_A, msg(3, MSI_DM_FIXED), &r);
	irte32(f, IRT_A, 3, 0x00530101);
	translate(f, RID_A, msg(3, MSI_DM_FIXED), &r);
	assert_int_equal(r.irq.vector, 0x43); /* stale, as hardware serves it */
	command(f, amdvi_cmd_inv_intr_table(RID_B));
	translate(f, RID_A, msg(3, MSI_DM_FIXED), &r);
	assert_int_equal(r.irq.vector, 0x43); /* another device's invalidation */
	command(f, amdvi_cmd_inv_intr_table(RID_A));
	command(f, amdvi_cmd_completion_wait(STORE, 0x1234, false));
	assert_int_equal(physmem_load64(f->pm, STORE, &done), 0);
	assert_int_equal(done, 0x1234);
	assert_int_equal(amdvi_unit_read(f->u, AMDVI_MMIO_CMD_HEAD, 8), f->cmd_tail);
	translate(f, RID_A, msg(3, MSI_DM_FIXED), &r);
	assert_int_equal(r.irq.vector, 0x53);
	/* the DTE is cached too, until INVALIDATE_DEVTAB_ENTRY */
	dte(f, RID_A, IRT_A, 9, AMDVI_INTCTL_ABORT, false);
	translate(f, RID_A, msg(3, MSI_DM_FIXED), &r);
	assert_int_equal(r.outcome, IR_REMAPPED);
	command(f, amdvi_cmd_inv_devtab_entry(RID_A));
	translate(f, RID_A, msg(3, MSI_DM_FIXED), &r);
	assert_int_equal(r.why, AMDVI_BLOCK_INTCTL_ABORT);
	command(f, amdvi_cmd_inv_all());
	assert_int_equal(amdvi_unit_stats(f->u)->commands, 5);
}

static void completion_wait_interrupt(void **state)
{
	struct fx *f = *state;
	bool evt, ga;

	control_set(f, AMDVI_CTRL_COMWAIT_INT, true);
	command(f, amdvi_cmd_completion_wait(STORE, 1, true));
	assert_true(amdvi_unit_read(f->u, AMDVI_MMIO_STATUS, 8) & 1u << AMDVI_STATUS_COMWAIT_INT);
	amdvi_unit_take_interrupts(f->u, &evt, &ga);
	assert_true(evt);
	amdvi_unit_write(f->u, AMDVI_MMIO_STATUS, 8, 1u << AMDVI_STATUS_COMWAIT_INT);
	assert_false(amdvi_unit_read(f->u, AMDVI_MMIO_STATUS, 8) & 1u << AMDVI_STATUS_COMWAIT_INT);
}

static void illegal_command_is_logged_and_stops_the_fetch(void **state)
{
	struct fx *f = *state;
	struct amdvi_cmd bad = {.lo = UINT64_C(0xf) << 60};
	uint64_t done = 0;

	command(f, bad);
	assert_int_equal(event_at(f, 0).code, AMDVI_EVT_ILLEGAL_COMMAND);
	assert_int_equal(event_at(f, 0).addr, CMD_BASE);
	/* reserved bits 59:52 of a completion wait, as QEMU checks */
	bad = amdvi_cmd_completion_wait(STORE, 7, false);
	bad.lo |= UINT64_C(1) << 52;
	command(f, bad);
	assert_int_equal(event_at(f, 16).code, AMDVI_EVT_ILLEGAL_COMMAND);
	assert_int_equal(physmem_load64(f->pm, STORE, &done), 0);
	assert_int_equal(done, 0);
	/* the next tail write fetches again */
	command(f, amdvi_cmd_completion_wait(STORE, 8, false));
	assert_int_equal(physmem_load64(f->pm, STORE, &done), 0);
	assert_int_equal(done, 8);
}

static void event_log_overflow(void **state)
{
	struct fx *f = *state;
	struct amdvi_result r;

	/* length 1: two slots, one usable before the tail would meet the head */
	amdvi_unit_write(f->u, AMDVI_MMIO_EVT_LOG, 8, EVT_BASE | UINT64_C(1) << 56);
	dte(f, RID_A, IRT_A, 9, AMDVI_INTCTL_ABORT, false);
	translate(f, RID_A, msg(0, MSI_DM_FIXED), &r);
	assert_false(r.event_lost);
	translate(f, RID_A, msg(0, MSI_DM_FIXED), &r);
	assert_true(r.event_lost);
	assert_true(amdvi_unit_read(f->u, AMDVI_MMIO_STATUS, 8) & 1u << AMDVI_STATUS_EVT_OVERFLOW);
	/* software drains the entry and clears the overflow: logging resumes */
	amdvi_unit_write(f->u, AMDVI_MMIO_EVT_HEAD, 8, 16);
	amdvi_unit_write(f->u, AMDVI_MMIO_STATUS, 4, 1u << AMDVI_STATUS_EVT_OVERFLOW);
	translate(f, RID_A, msg(0, MSI_DM_FIXED), &r);
	assert_false(r.event_lost);
	assert_int_equal(evt_tail(f), 0); /* wrapped */
	assert_int_equal(amdvi_unit_stats(f->u)->events_lost, 1);
}

static void registers(void **state)
{
	struct fx *f = *state;

	assert_true(amdvi_unit_read(f->u, AMDVI_MMIO_EXT_FEAT, 8) & 1u << AMDVI_FEATURE_GA);
	assert_int_equal(amdvi_unit_read(f->u, AMDVI_MMIO_CMD_BUF + 4, 4), LEN_256 >> 32);
	assert_int_equal(amdvi_unit_read(f->u, AMDVI_MMIO_CMD_BUF, 4), CMD_BASE);
	amdvi_unit_write(f->u, AMDVI_MMIO_GA_LOG + 4, 4, 0x01000000);
	assert_int_equal(amdvi_unit_read(f->u, AMDVI_MMIO_GA_LOG, 8), GA_BASE | UINT64_C(1) << 56);
	assert_int_equal(amdvi_unit_read(f->u, 0x1000, 8), UINT64_MAX);
	assert_int_equal(amdvi_unit_read(f->u, AMDVI_MMIO_CONTROL, 2), UINT64_MAX);
	assert_int_equal(amdvi_unit_read(f->u, AMDVI_MMIO_CONTROL + 2, 4), UINT32_MAX);
	/* status: the running bits follow Control; write 1 clears only what clears */
	assert_true(amdvi_unit_read(f->u, AMDVI_MMIO_STATUS, 8) & 1u << AMDVI_STATUS_CMD_RUN);
	amdvi_unit_write(f->u, AMDVI_MMIO_STATUS, 8, UINT64_MAX);
	assert_true(amdvi_unit_read(f->u, AMDVI_MMIO_STATUS, 8) & 1u << AMDVI_STATUS_CMD_RUN);
	/* a command tail outside the ring fetches nothing */
	amdvi_unit_write(f->u, AMDVI_MMIO_CMD_TAIL, 8, 0x40000);
	assert_int_equal(amdvi_unit_read(f->u, AMDVI_MMIO_CMD_HEAD, 8), 0);
	assert_int_equal(amdvi_unit_stats(f->u)->commands, 0);
}

static void formats(void **state)
{
	struct amdvi_event e = {.code = 2, .devid = 0x1234, .flags = 0x8, .addr = 0xfee00000}, d;
	struct amdvi_ga_entry g = {.ga_tag = 0xdeadbeef, .devid = 0x21, .type = 1}, h;
	uint64_t raw[2];

	(void)state;
	amdvi_event_encode(&e, raw);
	/* Linux's view as 32-bit words: devid in event[0], flags and type in event[1] */
	assert_int_equal((uint32_t)raw[0], 0x1234);
	assert_int_equal((uint32_t)(raw[0] >> 32), 0x20080000);
	assert_int_equal(raw[1], 0xfee00000);
	amdvi_event_decode(raw, &d);
	assert_true(d.code == 2 && d.devid == 0x1234 && d.flags == 8 && d.addr == 0xfee00000);
	assert_string_equal(amdvi_event_name(2), "IO_PAGE_FAULT");
	assert_string_equal(amdvi_event_name(9), "unknown");
	assert_int_equal(amdvi_ga_entry_encode(&g), 0x10000021deadbeefull);
	amdvi_ga_entry_decode(0x10000021deadbeefull, &h);
	assert_true(h.ga_tag == g.ga_tag && h.devid == g.devid && h.type == g.type);
	assert_int_equal(amdvi_vapic_irr_qword(0x5000, 0xff), 0x5270);
	assert_int_equal(amdvi_cmd_inv_intr_table(0x21).lo, 0x5000000000000021ull);
	assert_int_equal(amdvi_cmd_completion_wait(0x6008, 9, true).lo, 0x1000000000006008ull | 3);
}

#define FX(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

#define FAULT(i) TEST_ROW(fault_rows[i].name, fault_is_logged, &fault_rows[i])

int main(void)
{
	const struct CMUnitTest tests[] = {
	    FX(legacy_entry_remaps),
	    FX(ga_entry_remaps_32_bit_destinations),
	    FX(guest_mode_rings_the_doorbell),
	    FX(guest_mode_logs_a_vcpu_not_running),
	    FX(is_run_and_destination_are_not_cached),
	    FX(iv_clear_and_unit_off_pass_unmapped),
	    FX(index_2k_needs_the_mode_and_the_dm_bit),
	    FX(a_unit_like_qemus),
	    FX(inv_intr_table_reserved_bits),
	    FX(dte_reserved_bits_are_illegal),
	    FX(nmi_passes_with_its_bit),
	    FX(a_device_only_reaches_its_own_table),
	    FX(entries_stay_cached_until_invalidated),
	    FX(completion_wait_interrupt),
	    FX(illegal_command_is_logged_and_stops_the_fetch),
	    FX(event_log_overflow),
	    FX(registers),
	    TEST(formats),
	    FAULT(0),
	    FAULT(1),
	    FAULT(2),
	    FAULT(3),
	    FAULT(4),
	    FAULT(5),
	    FAULT(6),
	    FAULT(7),
	    FAULT(8),
	    FAULT(9),
	};

	_Static_assert(ARRAY_SIZE(fault_rows) == 10, "a FAULT() line per row");
	return cmocka_run_group_tests_name("amdvi_unit", tests, NULL, NULL);
}
