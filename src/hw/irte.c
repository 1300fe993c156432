// SPDX-License-Identifier: MIT
/*
 * IRTE encode/decode, reserved-bit detection and source-id validation. The
 * bit positions are the spec's (see pvir/irte.h); nothing here has state.
 */
#include "pvir/irte.h"

#include <assert.h>

#include "pvir/compiler.h"

/* Low qword, both formats. */
#define LO_AVAIL_HI  11
#define LO_AVAIL_LO  8
#define LO_VECTOR_HI 23
#define LO_VECTOR_LO 16
/* Low qword, remapped format. */
#define LO_DM	     2
#define LO_RH	     3
#define LO_TM	     4
#define LO_DLM_HI    7
#define LO_DLM_LO    5
#define LO_DST_HI    63
#define LO_DST_LO    32
/* Low qword, posted format. */
#define LO_URG	     14
#define LO_PDAL_HI   63
#define LO_PDAL_LO   38
/* High qword, both formats (entry bits 83:64). */
#define HI_SID_HI    15
#define HI_SID_LO    0
#define HI_SQ_HI     17
#define HI_SQ_LO     16
#define HI_SVT_HI    19
#define HI_SVT_LO    18
/* High qword, posted format (entry bits 127:96). */
#define HI_PDAH_HI   63
#define HI_PDAH_LO   32

/* The PDA's low half in the entry holds address bits 31:6. */
#define PDA_ALIGN_SHIFT 6
#define PDA_LOW_BITS	32

static uint64_t encode_source(uint16_t sid, uint8_t sq, uint8_t svt)
{
	uint64_t hi = 0;

	assert(bits_fit(sq, 2) && bits_fit(svt, 2));
	hi = bits_set(hi, HI_SID_HI, HI_SID_LO, sid);
	hi = bits_set(hi, HI_SQ_HI, HI_SQ_LO, sq);
	return bits_set(hi, HI_SVT_HI, HI_SVT_LO, svt);
}

void irte_remapped_encode(const struct irte_remapped *r, struct irte *ret)
{
	uint64_t lo = 0;

	assert(bits_fit(r->dlm, 3) && bits_fit(r->avail, 4));
	lo = bit_set(lo, IRTE_P, r->p);
	lo = bit_set(lo, IRTE_FPD, r->fpd);
	lo = bit_set(lo, LO_DM, r->dm);
	lo = bit_set(lo, LO_RH, r->rh);
	lo = bit_set(lo, LO_TM, r->tm);
	lo = bits_set(lo, LO_DLM_HI, LO_DLM_LO, r->dlm);
	lo = bits_set(lo, LO_AVAIL_HI, LO_AVAIL_LO, r->avail);
	lo = bits_set(lo, LO_VECTOR_HI, LO_VECTOR_LO, r->vector);
	lo = bits_set(lo, LO_DST_HI, LO_DST_LO, r->dst);
	ret->lo = lo;
	ret->hi = encode_source(r->sid, r->sq, r->svt);
}

void irte_remapped_decode(const struct irte *e, struct irte_remapped *ret)
{
	ret->p = bit_get(e->lo, IRTE_P);
	ret->fpd = bit_get(e->lo, IRTE_FPD);
	ret->dm = bit_get(e->lo, LO_DM);
	ret->rh = bit_get(e->lo, LO_RH);
	ret->tm = bit_get(e->lo, LO_TM);
	ret->dlm = (uint8_t)bits_get(e->lo, LO_DLM_HI, LO_DLM_LO);
	ret->avail = (uint8_t)bits_get(e->lo, LO_AVAIL_HI, LO_AVAIL_LO);
	ret->vector = (uint8_t)bits_get(e->lo, LO_VECTOR_HI, LO_VECTOR_LO);
	ret->dst = (uint32_t)bits_get(e->lo, LO_DST_HI, LO_DST_LO);
	ret->sid = (uint16_t)bits_get(e->hi, HI_SID_HI, HI_SID_LO);
	ret->sq = (uint8_t)bits_get(e->hi, HI_SQ_HI, HI_SQ_LO);
	ret->svt = (uint8_t)bits_get(e->hi, HI_SVT_HI, HI_SVT_LO);
}

void irte_posted_encode(const struct irte_posted *p, struct irte *ret)
{
	uint64_t lo = 0, hi;

	assert(bits_fit(p->avail, 4));
	assert(p->pda % (UINT64_C(1) << PDA_ALIGN_SHIFT) == 0);
	lo = bit_set(lo, IRTE_P, p->p);
	lo = bit_set(lo, IRTE_FPD, p->fpd);
	lo = bits_set(lo, LO_AVAIL_HI, LO_AVAIL_LO, p->avail);
	lo = bit_set(lo, LO_URG, p->urg);
	lo = bit_set(lo, IRTE_IM, true);
	lo = bits_set(lo, LO_VECTOR_HI, LO_VECTOR_LO, p->vector);
	lo = bits_set(lo, LO_PDAL_HI, LO_PDAL_LO,
		      bits_get(p->pda, PDA_LOW_BITS - 1, PDA_ALIGN_SHIFT));
	hi = encode_source(p->sid, p->sq, p->svt);
	hi = bits_set(hi, HI_PDAH_HI, HI_PDAH_LO, p->pda >> PDA_LOW_BITS);
	ret->lo = lo;
	ret->hi = hi;
}

void irte_posted_decode(const struct irte *e, struct irte_posted *ret)
{
	ret->p = bit_get(e->lo, IRTE_P);
	ret->fpd = bit_get(e->lo, IRTE_FPD);
	ret->avail = (uint8_t)bits_get(e->lo, LO_AVAIL_HI, LO_AVAIL_LO);
	ret->urg = bit_get(e->lo, LO_URG);
	ret->vector = (uint8_t)bits_get(e->lo, LO_VECTOR_HI, LO_VECTOR_LO);
	ret->pda = bits_get(e->lo, LO_PDAL_HI, LO_PDAL_LO) << PDA_ALIGN_SHIFT |
		   bits_get(e->hi, HI_PDAH_HI, HI_PDAH_LO) << PDA_LOW_BITS;
	ret->sid = (uint16_t)bits_get(e->hi, HI_SID_HI, HI_SID_LO);
	ret->sq = (uint8_t)bits_get(e->hi, HI_SQ_HI, HI_SQ_LO);
	ret->svt = (uint8_t)bits_get(e->hi, HI_SVT_HI, HI_SVT_LO);
}

struct irte irte_reserved_bits(const struct irte *e, bool eime, bool posting)
{
	struct irte mask;

	if (irte_is_posted(e) && posting) {
		mask.lo = bits_mask(7, 2) | bits_mask(13, 12) | bits_mask(37, 24);
		mask.hi = bits_mask(31, 20);
	} else {
		mask.lo = bits_mask(14, 12) | bits_mask(31, 24);
		if (!posting)
			mask.lo |= UINT64_C(1) << IRTE_IM;
		if (!eime)
			mask.lo |= bits_mask(39, 32) | bits_mask(63, 48);
		mask.hi = bits_mask(63, 20);
	}
	return (struct irte){.lo = e->lo & mask.lo, .hi = e->hi & mask.hi};
}

/* SQ → requester-id bits compared (VT-d §9.10; QEMU vtd_irte_get's table). */
static const uint16_t sq_compare_mask[] = {0xffff, 0xfffb, 0xfff9, 0xfff8};

bool irte_sid_matches(uint16_t sid, unsigned sq, unsigned svt, uint16_t requester_id)
{
	unsigned bus = requester_id >> 8;

	switch (svt) {
	case IRTE_SVT_NONE:
		return true;
	case IRTE_SVT_RID:
		assert(sq < ARRAY_SIZE(sq_compare_mask));
		return (sid & sq_compare_mask[sq]) == (requester_id & sq_compare_mask[sq]);
	case IRTE_SVT_BUS:
		/* SID[15:8] is the first bus, SID[7:0] the last (Linux set_irte_verify_bus). */
		return bus >= (unsigned)(sid >> 8) && bus <= (unsigned)(sid & 0xff);
	default:
		return false;
	}
}
