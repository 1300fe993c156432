// SPDX-License-Identifier: MIT
/* IRTE formats, reserved bits and source validation, against VT-d §9.10-§9.11. */
#include "test.h"

#include <string.h>

#include "pvir/irte.h"

/* ---- remapped format ---------------------------------------------------- */

struct remapped_row {
	struct irte_remapped r;
	struct irte e;
};

static const struct remapped_row remapped_rows[] = {
    /* Linux-like MSI entry: P, RH, fixed, vector 0x31, x2APIC dest 5, SVT=1 SID 03:00.0.
	 * lo = P(0) | RH(3) | 0x31<<16 | 5<<32; hi = 0x0300 | 1<<18 */
    {{.p = true, .rh = true, .vector = 0x31, .dst = 5, .sid = 0x0300, .svt = IRTE_SVT_RID},
     {0x0000000500310009, 0x0000000000040300}},
    /* Every low-qword flag: P FPD DM TM, DLM=1 (7:5), AVAIL=0xa (11:8), vector 0xec,
	 * xAPIC dest 7 in DST[15:8]; SID 0x1234, SQ=3 (81:80), SVT=2 (83:82) */
    {{.p = true,
      .fpd = true,
      .dm = true,
      .tm = true,
      .dlm = 1,
      .avail = 0xa,
      .vector = 0xec,
      .dst = 0x0700,
      .sid = 0x1234,
      .sq = 3,
      .svt = IRTE_SVT_BUS},
     {0x0000070000ec0a37, 0x00000000000b1234}},
    /* not present, all zero: what Linux writes on deactivation */
    {{.p = false}, {0, 0}},
};

static void assert_remapped_equal(const struct irte_remapped *a, const struct irte_remapped *b)
{
	assert_int_equal(a->p, b->p);
	assert_int_equal(a->fpd, b->fpd);
	assert_int_equal(a->dm, b->dm);
	assert_int_equal(a->rh, b->rh);
	assert_int_equal(a->tm, b->tm);
	assert_int_equal(a->dlm, b->dlm);
	assert_int_equal(a->avail, b->avail);
	assert_int_equal(a->vector, b->vector);
	assert_int_equal(a->dst, b->dst);
	assert_int_equal(a->sid, b->sid);
	assert_int_equal(a->sq, b->sq);
	assert_int_equal(a->svt, b->svt);
}

static void remapped_golden(void **state)
{
	const struct remapped_row *row = *state;
	struct irte_remapped back;
	struct irte e;

	irte_remapped_encode(&row->r, &e);
	assert_int_equal(e.lo, row->e.lo);
	assert_int_equal(e.hi, row->e.hi);
	assert_false(irte_is_posted(&e));
	assert_int_equal(irte_is_present(&e), row->r.p);
	irte_remapped_decode(&row->e, &back);
	assert_remapped_equal(&back, &row->r);
}

/* xorshift: a fixed sequence of field values, so every bit of every field moves */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void remapped_roundtrip(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		uint64_t r = next_rand(&seed);
		struct irte_remapped in = {
		    .p = r & 1,
		    .fpd = r >> 1 & 1,
		    .dm = r >> 2 & 1,
		    .rh = r >> 3 & 1,
		    .tm = r >> 4 & 1,
		    .dlm = r >> 5 & 7,
		    .avail = r >> 8 & 0xf,
		    .vector = (uint8_t)(r >> 12),
		    .dst = (uint32_t)(r >> 20),
		    .sid = (uint16_t)(r >> 52),
		    .sq = r >> 60 & 3,
		    .svt = r >> 62 & 3,
		};
		struct irte_remapped out;
		struct irte e;

		irte_remapped_encode(&in, &e);
		irte_remapped_decode(&e, &out);
		assert_remapped_equal(&out, &in);
		/* an encoded entry never sets a reserved bit (x2APIC mode) */
		assert_int_equal(irte_reserved_bits(&e, true, true).lo, 0);
		assert_int_equal(irte_reserved_bits(&e, true, true).hi, 0);
	}
}

/* ---- posted format ------------------------------------------------------ */

static void posted_golden(void **state)
{
	/* P, AVAIL=5, URG (14), IM (15), VV 0x41 (23:16); PDA 0x123456789abcdec0:
	 * address bits 31:6 in 63:38 (so lo[63:32] = 0x9abcdec0), bits 63:32 in 127:96;
	 * SID 0x0300 with SVT=1. Expected values computed outside this code base. */
	const struct irte_posted in = {.p = true,
				       .avail = 5,
				       .urg = true,
				       .vector = 0x41,
				       .pda = 0x123456789abcdec0,
				       .sid = 0x0300,
				       .svt = IRTE_SVT_RID};
	struct irte_posted out;
	struct irte e;

	(void)state;
	irte_posted_encode(&in, &e);
	assert_int_equal(e.lo, 0x9abcdec00041c501);
	assert_int_equal(e.hi, 0x1234567800040300);
	assert_true(irte_is_posted(&e));
	irte_posted_decode(&e, &out);
	assert_int_equal(out.p, 1);
	assert_int_equal(out.fpd, 0);
	assert_int_equal(out.avail, 5);
	assert_int_equal(out.urg, 1);
	assert_int_equal(out.vector, 0x41);
	assert_int_equal(out.pda, 0x123456789abcdec0);
	assert_int_equal(out.sid, 0x0300);
	assert_int_equal(out.sq, 0);
	assert_int_equal(out.svt, IRTE_SVT_RID);
	assert_int_equal(irte_reserved_bits(&e, true, true).lo, 0);
	assert_int_equal(irte_reserved_bits(&e, true, true).hi, 0);
}

static void posted_roundtrip(void **state)
{
	uint64_t seed = 0xdeadbeefcafef00d;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		uint64_t r = next_rand(&seed), r2 = next_rand(&seed);
		struct irte_posted in = {
		    .p = r & 1,
		    .fpd = r >> 1 & 1,
		    .avail = r >> 2 & 0xf,
		    .urg = r >> 6 & 1,
		    .vector = (uint8_t)(r >> 7),
		    .pda = r2 & ~UINT64_C(63),
		    .sid = (uint16_t)(r >> 20),
		    .sq = r >> 36 & 3,
		    .svt = r >> 38 & 3,
		};
		struct irte_posted out;
		struct irte e;

		irte_posted_encode(&in, &e);
		irte_posted_decode(&e, &out);
		assert_int_equal(out.p, in.p);
		assert_int_equal(out.fpd, in.fpd);
		assert_int_equal(out.avail, in.avail);
		assert_int_equal(out.urg, in.urg);
		assert_int_equal(out.vector, in.vector);
		assert_int_equal(out.pda, in.pda);
		assert_int_equal(out.sid, in.sid);
		assert_int_equal(out.sq, in.sq);
		assert_int_equal(out.svt, in.svt);
		assert_int_equal(irte_reserved_bits(&e, false, true).lo, 0);
	}
}

/* ---- reserved bits ------------------------------------------------------ */

struct rsvd_row {
	struct irte e;
	bool eime;
	bool posting;
	struct irte rsvd;
};

#define B(n)	   (UINT64_C(1) << (n))
#define REMAPPED_P 1
#define POSTED_P   (1 | B(15))

static const struct rsvd_row rsvd_rows[] = {
    {{REMAPPED_P | B(12), 0}, true, true, {B(12), 0}}, /* 14:12 */
    {{REMAPPED_P | B(14), 0}, true, true, {B(14), 0}},
    {{REMAPPED_P | B(24) | B(31), 0}, true, true, {B(24) | B(31), 0}}, /* 31:24 */
    {{REMAPPED_P, B(20)}, true, true, {0, B(20)}}, /* 127:84 starts at hi bit 20 */
    {{REMAPPED_P, B(63)}, true, true, {0, B(63)}},
    /* xAPIC mode: DST[7:0] (lo 39:32) and DST[31:16] (lo 63:48) are reserved */
    {{REMAPPED_P | B(32), 0}, false, true, {B(32), 0}},
    {{REMAPPED_P | B(48), 0}, false, true, {B(48), 0}},
    {{REMAPPED_P | B(40) | B(47), 0}, false, true, {0, 0}}, /* DST[15:8]: the APIC ID */
    /* x2APIC mode: the whole DST is the destination */
    {{REMAPPED_P | B(32) | B(48) | B(63), 0}, true, true, {0, 0}},
    /* posted: 7:2, 13:12, 37:24, 95:84 */
    {{POSTED_P | B(2), 0}, true, true, {B(2), 0}},
    {{POSTED_P | B(7), 0}, true, true, {B(7), 0}},
    {{POSTED_P | B(13), 0}, true, true, {B(13), 0}},
    {{POSTED_P | B(24) | B(37), 0}, true, true, {B(24) | B(37), 0}},
    {{POSTED_P, B(20) | B(31)}, true, true, {0, B(20) | B(31)}},
    /* posted: bits that are fields there (URG, PDA) are not reserved */
    {{POSTED_P | B(14) | B(38) | B(63), B(32) | B(63)}, true, true, {0, 0}},
    /* without posting support IM itself is reserved (and the entry is remapped) */
    {{POSTED_P, 0}, true, false, {B(15), 0}},
};

static void reserved(void **state)
{
	const struct rsvd_row *row = *state;
	struct irte r = irte_reserved_bits(&row->e, row->eime, row->posting);

	assert_int_equal(r.lo, row->rsvd.lo);
	assert_int_equal(r.hi, row->rsvd.hi);
}

/* ---- source validation -------------------------------------------------- */

struct sid_row {
	uint16_t sid;
	unsigned sq;
	unsigned svt;
	uint16_t rid;
	bool match;
};

static const struct sid_row sid_rows[] = {
    {0x0300, 0, IRTE_SVT_NONE, 0xffff, true}, /* SVT=0: anyone */
    {0x0300, 0, IRTE_SVT_RID, 0x0300, true},
    {0x0300, 0, IRTE_SVT_RID, 0x0301, false}, /* SQ=0: every bit */
    {0x0300, 1, IRTE_SVT_RID, 0x0304, true},  /* SQ=1: bit 2 ignored */
    {0x0300, 1, IRTE_SVT_RID, 0x0302, false},
    {0x0300, 2, IRTE_SVT_RID, 0x0306, true}, /* SQ=2: bits 2:1 ignored */
    {0x0300, 2, IRTE_SVT_RID, 0x0301, false},
    {0x0300, 3, IRTE_SVT_RID, 0x0307, true},  /* SQ=3: the function ignored */
    {0x0300, 3, IRTE_SVT_RID, 0x0308, false}, /* ... not the device */
    {0x0305, 0, IRTE_SVT_BUS, 0x0300, true},  /* SVT=2: buses 3..5 */
    {0x0305, 0, IRTE_SVT_BUS, 0x05ff, true},
    {0x0305, 0, IRTE_SVT_BUS, 0x0200, false},
    {0x0305, 0, IRTE_SVT_BUS, 0x0600, false},
    {0x0300, 0, IRTE_SVT_RSVD, 0x0300, false}, /* SVT=3: reserved, never */
};

static void sid_match(void **state)
{
	const struct sid_row *row = *state;

	assert_int_equal(irte_sid_matches(row->sid, row->sq, row->svt, row->rid), row->match);
}

static void xapic_dest(void **state)
{
	(void)state;
	assert_int_equal(irte_xapic_dest(0x0700), 7);
	assert_int_equal(irte_xapic_dest(0xffff00ff), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_ROW("irte/remapped/golden-linux-msi", remapped_golden, &remapped_rows[0]),
	    TEST_ROW("irte/remapped/golden-every-flag-xapic", remapped_golden, &remapped_rows[1]),
	    TEST_ROW("irte/remapped/golden-not-present", remapped_golden, &remapped_rows[2]),
	    TEST(remapped_roundtrip),
	    TEST(posted_golden),
	    TEST(posted_roundtrip),
	    TEST_ROW("irte/rsvd/remapped-14:12-low", reserved, &rsvd_rows[0]),
	    TEST_ROW("irte/rsvd/remapped-14:12-high", reserved, &rsvd_rows[1]),
	    TEST_ROW("irte/rsvd/remapped-31:24", reserved, &rsvd_rows[2]),
	    TEST_ROW("irte/rsvd/remapped-127:84-low", reserved, &rsvd_rows[3]),
	    TEST_ROW("irte/rsvd/remapped-127:84-high", reserved, &rsvd_rows[4]),
	    TEST_ROW("irte/rsvd/xapic-dst-7:0", reserved, &rsvd_rows[5]),
	    TEST_ROW("irte/rsvd/xapic-dst-31:16", reserved, &rsvd_rows[6]),
	    TEST_ROW("irte/rsvd/xapic-dst-15:8-is-id", reserved, &rsvd_rows[7]),
	    TEST_ROW("irte/rsvd/x2apic-dst-all-valid", reserved, &rsvd_rows[8]),
	    TEST_ROW("irte/rsvd/posted-7:2-low", reserved, &rsvd_rows[9]),
	    TEST_ROW("irte/rsvd/posted-7:2-high", reserved, &rsvd_rows[10]),
	    TEST_ROW("irte/rsvd/posted-13", reserved, &rsvd_rows[11]),
	    TEST_ROW("irte/rsvd/posted-37:24", reserved, &rsvd_rows[12]),
	    TEST_ROW("irte/rsvd/posted-95:84", reserved, &rsvd_rows[13]),
	    TEST_ROW("irte/rsvd/posted-fields-not-reserved", reserved, &rsvd_rows[14]),
	    TEST_ROW("irte/rsvd/posted-without-cap-pi", reserved, &rsvd_rows[15]),
	    TEST_ROW("irte/sid/svt0-anyone", sid_match, &sid_rows[0]),
	    TEST_ROW("irte/sid/svt1-sq0-match", sid_match, &sid_rows[1]),
	    TEST_ROW("irte/sid/svt1-sq0-other-function", sid_match, &sid_rows[2]),
	    TEST_ROW("irte/sid/svt1-sq1-ignores-bit2", sid_match, &sid_rows[3]),
	    TEST_ROW("irte/sid/svt1-sq1-checks-bit1", sid_match, &sid_rows[4]),
	    TEST_ROW("irte/sid/svt1-sq2-ignores-bits2:1", sid_match, &sid_rows[5]),
	    TEST_ROW("irte/sid/svt1-sq2-checks-bit0", sid_match, &sid_rows[6]),
	    TEST_ROW("irte/sid/svt1-sq3-ignores-function", sid_match, &sid_rows[7]),
	    TEST_ROW("irte/sid/svt1-sq3-checks-device", sid_match, &sid_rows[8]),
	    TEST_ROW("irte/sid/svt2-first-bus", sid_match, &sid_rows[9]),
	    TEST_ROW("irte/sid/svt2-last-bus", sid_match, &sid_rows[10]),
	    TEST_ROW("irte/sid/svt2-below", sid_match, &sid_rows[11]),
	    TEST_ROW("irte/sid/svt2-above", sid_match, &sid_rows[12]),
	    TEST_ROW("irte/sid/svt3-reserved", sid_match, &sid_rows[13]),
	    TEST(xapic_dest),
	};

	return cmocka_run_group_tests_name("irte", tests, NULL, NULL);
}
