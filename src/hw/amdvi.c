// SPDX-License-Identifier: MIT
/* AMD-Vi interrupt remapping formats: see the layouts in pvir/amdvi.h. */
#include "pvir/amdvi.h"

#include "pvir/compiler.h"

/* IntType 3 and 6 encode nothing (QEMU refuses them: "reserved int_type"). */
static bool int_type_reserved(unsigned t)
{
	return t == 3 || t == 6;
}

uint32_t amdvi_irte32_encode(const struct amdvi_irte32 *e)
{
	uint64_t v = 0;

	v = bit_set(v, 0, e->remap_en);
	v = bit_set(v, 1, e->sup_iopf);
	v = bits_set(v, 4, 2, e->int_type);
	v = bit_set(v, 5, e->rq_eoi);
	v = bit_set(v, 6, e->dm);
	v = bits_set(v, 15, 8, e->dest);
	v = bits_set(v, 23, 16, e->vector);
	return (uint32_t)v;
}

void amdvi_irte32_decode(uint32_t v, struct amdvi_irte32 *ret)
{
	*ret = (struct amdvi_irte32){
	    .remap_en = bit_get(v, 0),
	    .sup_iopf = bit_get(v, 1),
	    .int_type = (uint8_t)bits_get(v, 4, 2),
	    .rq_eoi = bit_get(v, 5),
	    .dm = bit_get(v, 6),
	    .dest = (uint8_t)bits_get(v, 15, 8),
	    .vector = (uint8_t)bits_get(v, 23, 16),
	};
}

uint32_t amdvi_irte32_reserved(uint32_t v)
{
	uint64_t r = v & (bits_mask(7, 7) | bits_mask(31, 24));

	if (int_type_reserved((unsigned)bits_get(v, 4, 2)))
		r |= bits_mask(4, 2) & v;
	return (uint32_t)r;
}

bool amdvi_ga_guest_mode(const struct amdvi_irte_ga *e)
{
	return bit_get(e->lo, 7);
}

/* The 32-bit destination: bits 23:0 in the low qword, 31:24 at the top of the high. */
static void put_dest(struct amdvi_irte_ga *e, uint32_t dest)
{
	e->lo = bits_set(e->lo, 31, 8, dest & 0xffffff);
	e->hi = bits_set(e->hi, 63, 56, dest >> 24);
}

static uint32_t get_dest(const struct amdvi_irte_ga *e)
{
	return (uint32_t)(bits_get(e->lo, 31, 8) | bits_get(e->hi, 63, 56) << 24);
}

void amdvi_ga_remap_encode(const struct amdvi_ga_remap *r, struct amdvi_irte_ga *ret)
{
	struct amdvi_irte_ga e = {0};

	e.lo = bit_set(e.lo, 0, r->remap_en);
	e.lo = bit_set(e.lo, 1, r->sup_iopf);
	e.lo = bits_set(e.lo, 4, 2, r->int_type);
	e.lo = bit_set(e.lo, 5, r->rq_eoi);
	e.lo = bit_set(e.lo, 6, r->dm);
	put_dest(&e, r->dest);
	e.hi = bits_set(e.hi, 7, 0, r->vector);
	*ret = e;
}

void amdvi_ga_remap_decode(const struct amdvi_irte_ga *e, struct amdvi_ga_remap *ret)
{
	*ret = (struct amdvi_ga_remap){
	    .remap_en = bit_get(e->lo, 0),
	    .sup_iopf = bit_get(e->lo, 1),
	    .int_type = (uint8_t)bits_get(e->lo, 4, 2),
	    .rq_eoi = bit_get(e->lo, 5),
	    .dm = bit_get(e->lo, 6),
	    .dest = get_dest(e),
	    .vector = (uint8_t)bits_get(e->hi, 7, 0),
	};
}

void amdvi_ga_vapic_encode(const struct amdvi_ga_vapic *v, struct amdvi_irte_ga *ret)
{
	struct amdvi_irte_ga e = {0};

	e.lo = bit_set(e.lo, 0, v->remap_en);
	e.lo = bit_set(e.lo, 1, v->sup_iopf);
	e.lo = bit_set(e.lo, 2, v->ga_log_intr);
	e.lo = bit_set(e.lo, 6, v->is_run);
	e.lo = bit_set(e.lo, 7, true); /* GuestMode */
	e.lo = bits_set(e.lo, 63, 32, v->ga_tag);
	put_dest(&e, v->dest);
	e.hi = bits_set(e.hi, 7, 0, v->vector);
	e.hi = bits_set(e.hi, 51, 12, v->ga_root_ptr);
	*ret = e;
}

void amdvi_ga_vapic_decode(const struct amdvi_irte_ga *e, struct amdvi_ga_vapic *ret)
{
	*ret = (struct amdvi_ga_vapic){
	    .remap_en = bit_get(e->lo, 0),
	    .sup_iopf = bit_get(e->lo, 1),
	    .ga_log_intr = bit_get(e->lo, 2),
	    .is_run = bit_get(e->lo, 6),
	    .dest = get_dest(e),
	    .ga_tag = (uint32_t)bits_get(e->lo, 63, 32),
	    .ga_root_ptr = bits_get(e->hi, 51, 12),
	    .vector = (uint8_t)bits_get(e->hi, 7, 0),
	};
}

struct amdvi_irte_ga amdvi_ga_reserved(const struct amdvi_irte_ga *e)
{
	struct amdvi_irte_ga r;

	if (amdvi_ga_guest_mode(e)) {
		r.lo = e->lo & bits_mask(5, 3);
		r.hi = e->hi & (bits_mask(11, 8) | bits_mask(55, 52));
		return r;
	}
	r.lo = e->lo & bits_mask(63, 32); /* GATag means nothing remapped */
	r.hi = e->hi & bits_mask(55, 8);  /* nor does GARootPtr */
	if (int_type_reserved((unsigned)bits_get(e->lo, 4, 2)))
		r.lo |= e->lo & bits_mask(4, 2);
	return r;
}

uint64_t amdvi_dte_intr_encode(const struct amdvi_dte_intr *d)
{
	uint64_t v = 0;

	v = bit_set(v, 0, d->iv);
	v = bits_set(v, 4, 1, d->int_tab_len);
	v = bits_set(v, 51, 6, d->int_table_root >> 6);
	v = bit_set(v, 56, d->init_pass);
	v = bit_set(v, 57, d->eint_pass);
	v = bit_set(v, 58, d->nmi_pass);
	v = bits_set(v, 61, 60, d->int_ctl);
	v = bit_set(v, 62, d->lint0_pass);
	v = bit_set(v, 63, d->lint1_pass);
	return v;
}

void amdvi_dte_intr_decode(uint64_t v, struct amdvi_dte_intr *ret)
{
	*ret = (struct amdvi_dte_intr){
	    .iv = bit_get(v, 0),
	    .int_tab_len = (uint8_t)bits_get(v, 4, 1),
	    .int_table_root = bits_get(v, 51, 6) << 6,
	    .init_pass = bit_get(v, 56),
	    .eint_pass = bit_get(v, 57),
	    .nmi_pass = bit_get(v, 58),
	    .int_ctl = (uint8_t)bits_get(v, 61, 60),
	    .lint0_pass = bit_get(v, 62),
	    .lint1_pass = bit_get(v, 63),
	};
}
