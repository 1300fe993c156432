// SPDX-License-Identifier: MIT
/*
 * AMD-Vi formats against vectors built by hand from the bitfields of Linux's
 * amd_iommu_types.h (union irte, union irte_ga_lo/_hi) and QEMU's
 * amd_iommu.h, and against what Linux itself writes: set_dte_irq_entry()'s
 * DTE qword for a 512-entry table.
 */
#include "test.h"

#include "pvir/amdvi.h"
#include "pvir/msi.h"

/* Field by field: structs have padding, which memcmp would compare. */
static void remap_equal(const struct amdvi_ga_remap *a, const struct amdvi_ga_remap *b)
{
	assert_true(a->remap_en == b->remap_en && a->sup_iopf == b->sup_iopf &&
		    a->int_type == b->int_type && a->rq_eoi == b->rq_eoi && a->dm == b->dm &&
		    a->dest == b->dest && a->vector == b->vector);
}

static void vapic_equal(const struct amdvi_ga_vapic *a, const struct amdvi_ga_vapic *b)
{
	assert_true(a->remap_en == b->remap_en && a->sup_iopf == b->sup_iopf &&
		    a->ga_log_intr == b->ga_log_intr && a->is_run == b->is_run &&
		    a->dest == b->dest && a->ga_tag == b->ga_tag &&
		    a->ga_root_ptr == b->ga_root_ptr && a->vector == b->vector);
}

static void dte_equal(const struct amdvi_dte_intr *a, const struct amdvi_dte_intr *b)
{
	assert_true(a->iv == b->iv && a->int_tab_len == b->int_tab_len &&
		    a->int_table_root == b->int_table_root && a->init_pass == b->init_pass &&
		    a->eint_pass == b->eint_pass && a->nmi_pass == b->nmi_pass &&
		    a->lint0_pass == b->lint0_pass && a->lint1_pass == b->lint1_pass &&
		    a->int_ctl == b->int_ctl);
}

static void legacy_irte_round_trip(void **state)
{
	/* RemapEn, IntType NMI (4: bits 4:2 = 100b), DM, Destination 5, Vector 0x41 */
	struct amdvi_irte32 e = {.remap_en = true,
				 .int_type = MSI_DM_NMI,
				 .dm = true,
				 .dest = 5,
				 .vector = 0x41},
			    d;

	(void)state;
	assert_int_equal(amdvi_irte32_encode(&e), 0x00410551);
	amdvi_irte32_decode(0x00410551, &d);
	assert_true(d.remap_en && !d.sup_iopf && d.int_type == MSI_DM_NMI && !d.rq_eoi && d.dm &&
		    d.dest == 5 && d.vector == 0x41);
	assert_int_equal(amdvi_irte32_reserved(0x00410551), 0);
	/* bit 7 and 31:24 are reserved; so is IntType 3 */
	assert_int_equal(amdvi_irte32_reserved(0x81410581), 0x81000080);
	assert_int_equal(amdvi_irte32_reserved(0x0041050d), 0x0000000c);
}

static void ga_remapped_splits_the_destination(void **state)
{
	/* a 32-bit x2APIC destination: 23:0 in lo 31:8, 31:24 in hi 63:56 */
	struct amdvi_ga_remap r = {.remap_en = true, .dest = 0x12345678, .vector = 0xec}, d;
	struct amdvi_irte_ga e, rsvd;

	(void)state;
	amdvi_ga_remap_encode(&r, &e);
	assert_true(e.lo == 0x34567801);
	assert_true(e.hi == 0x12000000000000ec);
	assert_false(amdvi_ga_guest_mode(&e));
	amdvi_ga_remap_decode(&e, &d);
	remap_equal(&d, &r);
	rsvd = amdvi_ga_reserved(&e);
	assert_true(rsvd.lo == 0 && rsvd.hi == 0);
	/* GATag and GARootPtr mean nothing to a remapped entry: reserved there */
	e.lo |= UINT64_C(1) << 40;
	e.hi |= UINT64_C(1) << 20;
	rsvd = amdvi_ga_reserved(&e);
	assert_true(rsvd.lo == UINT64_C(1) << 40 && rsvd.hi == UINT64_C(1) << 20);
}

static void ga_guest_mode_for_avic(void **state)
{
	/* GuestMode, IsRun, GALogIntr; host core 2; tag 0xdeadbeef; backing page 0x123456789a000 */
	struct amdvi_ga_vapic v = {.remap_en = true,
				   .ga_log_intr = true,
				   .is_run = true,
				   .dest = 2,
				   .ga_tag = 0xdeadbeef,
				   .ga_root_ptr = 0x123456789a,
				   .vector = 0x31},
			      d;
	struct amdvi_irte_ga e, rsvd;

	(void)state;
	amdvi_ga_vapic_encode(&v, &e);
	assert_true(e.lo == UINT64_C(0xdeadbeef000002c5));
	assert_true(e.hi == UINT64_C(0x000123456789a031));
	assert_true(amdvi_ga_guest_mode(&e));
	amdvi_ga_vapic_decode(&e, &d);
	vapic_equal(&d, &v);
	rsvd = amdvi_ga_reserved(&e);
	assert_true(rsvd.lo == 0 && rsvd.hi == 0);
	e.lo |= UINT64_C(1) << 4; /* in guest mode bits 5:3 are reserved */
	rsvd = amdvi_ga_reserved(&e);
	assert_true(rsvd.lo == UINT64_C(1) << 4);
}

/* Linux's set_dte_irq_entry: table | DTE_IRQ_REMAP_INTCTL | DTE_INTTABLEN_512 | ENABLE */
static void dte_as_linux_writes_it(void **state)
{
	struct amdvi_dte_intr d = {.iv = true,
				   .int_tab_len = 9,
				   .int_table_root = 0x100900000,
				   .int_ctl = AMDVI_INTCTL_REMAP},
			      back;

	(void)state;
	assert_true(amdvi_dte_intr_encode(&d) == UINT64_C(0x2000000100900013));
	d.nmi_pass = d.lint0_pass = d.lint1_pass = true; /* DEV_ENTRY_NMI/LINT0/LINT1_PASS */
	assert_true(amdvi_dte_intr_encode(&d) == UINT64_C(0xe400000100900013));
	amdvi_dte_intr_decode(UINT64_C(0xe400000100900013), &back);
	dte_equal(&back, &d);
}

static void msi_data_names_the_index(void **state)
{
	(void)state;
	assert_int_equal(amdvi_msi_index(0x7ff), 2047);
	assert_int_equal(amdvi_msi_index(0x1801), 1); /* only data[10:0] */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(legacy_irte_round_trip),
	    cmocka_unit_test(ga_remapped_splits_the_destination),
	    cmocka_unit_test(ga_guest_mode_for_avic),
	    cmocka_unit_test(dte_as_linux_writes_it),
	    cmocka_unit_test(msi_data_names_the_index),
	};

	return cmocka_run_group_tests_name("amdvi", tests, NULL, NULL);
}
