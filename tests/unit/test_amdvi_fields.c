// SPDX-License-Identifier: MIT
/*
 * Every field of the AMD-Vi formats against an encoder that knows nothing of
 * ours: a table of (word, low bit, width) per field, copied from the bitfield
 * declarations of the two sources, and a loop that shifts values into place.
 *
 *   32-bit IRTE     Linux amd_iommu_types.h union irte; QEMU amd_iommu.h union irte
 *   128-bit IRTE    Linux union irte_ga_lo (fields_remap, fields_vapic) and
 *                   union irte_ga_hi; QEMU union irte_ga_lo/irte_ga_hi (remapped
 *                   view only: QEMU refuses guest mode)
 *   DTE qword 2     Linux DTE_IRQ_* and DEV_ENTRY_*_PASS; QEMU AMDVI_DEV_*_PASS,
 *                   AMDVI_IR_INTCTL_MASK, AMDVI_IR_PHYS_ADDR_MASK
 *   event entry     Linux EVENT_TYPE_SHIFT/EVENT_FLAGS_SHIFT on event[1], devid in
 *                   event[0], address in event[2..3]; QEMU amdvi_encode_event()
 *   GA log entry    Linux GA_TAG/GA_DEVID/GA_REQ_TYPE (QEMU has no GA log)
 *
 * Each field is set alone, at several values, and must land exactly on its
 * bits and decode back with every other field zero; then all fields at once,
 * at pseudo-random values, must equal the OR of their independent encodings.
 */
#include <stdbool.h>
#include <string.h>

#include "test.h"

#include "pvir/amdvi.h"
#include "pvir/amdvi_unit.h"

/* Where a field's bits sit. A field may be split (the GA destination is). */
struct slice {
	unsigned word; /* 0: the low 64 bits, 1: the high */
	unsigned lo;
	unsigned width; /* 0 ends the list */
};

struct field {
	const char *name;
	size_t offset; /* in the decoded struct */
	size_t size;   /* of that member; a bool is size 1 and width 1 */
	bool is_bool;
	unsigned shift; /* the member holds the field's bits << shift (an address) */
	struct slice at[2];
};

struct format {
	const char *name;
	size_t struct_size;
	const struct field *fields;
	size_t nfields;
	uint64_t fixed[2]; /* bits the encoder always sets (GuestMode in the vAPIC view) */
	void (*encode)(const void *s, uint64_t raw[2]);
	void (*decode)(const uint64_t raw[2], void *s);
};

/* A field of @member's bits (slices given); B: a one-bit flag. */
#define MEMBER(type, m) .name = #m, .offset = offsetof(type, m), .size = sizeof(((type *)0)->m)
#define F(type, m, ...)                                \
	{                                              \
		MEMBER(type, m), .at = { __VA_ARGS__ } \
	}
#define B(type, m, word, bit)                                              \
	{                                                                  \
		MEMBER(type, m), .is_bool = true, .at = { {word, bit, 1} } \
	}

static const struct field irte32_fields[] = {
    B(struct amdvi_irte32, remap_en, 0, 0), /* valid */
    B(struct amdvi_irte32, sup_iopf, 0, 1), /* no_fault */
    F(struct amdvi_irte32, int_type, {0, 2, 3}),
    B(struct amdvi_irte32, rq_eoi, 0, 5),
    B(struct amdvi_irte32, dm, 0, 6),
    F(struct amdvi_irte32, dest, {0, 8, 8}),
    F(struct amdvi_irte32, vector, {0, 16, 8}),
};

static const struct field ga_remap_fields[] = {
    B(struct amdvi_ga_remap, remap_en, 0, 0),
    B(struct amdvi_ga_remap, sup_iopf, 0, 1),
    F(struct amdvi_ga_remap, int_type, {0, 2, 3}),
    B(struct amdvi_ga_remap, rq_eoi, 0, 5),
    B(struct amdvi_ga_remap, dm, 0, 6),
    /* destination:24 in lo, destination(_hi):8 at the top of hi */
    F(struct amdvi_ga_remap, dest, {0, 8, 24}, {1, 56, 8}),
    F(struct amdvi_ga_remap, vector, {1, 0, 8}),
};

static const struct field ga_vapic_fields[] = {
    B(struct amdvi_ga_vapic, remap_en, 0, 0),
    B(struct amdvi_ga_vapic, sup_iopf, 0, 1),
    B(struct amdvi_ga_vapic, ga_log_intr, 0, 2),
    B(struct amdvi_ga_vapic, is_run, 0, 6),
    F(struct amdvi_ga_vapic, dest, {0, 8, 24}, {1, 56, 8}),
    F(struct amdvi_ga_vapic, ga_tag, {0, 32, 32}),
    F(struct amdvi_ga_vapic, vector, {1, 0, 8}),
    F(struct amdvi_ga_vapic, ga_root_ptr, {1, 12, 40}),
};

/* The DTE's third qword alone: Linux's DEV_ENTRY_* bit numbers count from the
 * DTE's start (0xb8 is bit 56 of qword 2). */
static const struct field dte_fields[] = {
    B(struct amdvi_dte_intr, iv, 0, 0),
    F(struct amdvi_dte_intr, int_tab_len, {0, 1, 4}),
    /* bits 51:6 of the address, in place (DTE_IRQ_PHYS_ADDR_MASK) */
    {MEMBER(struct amdvi_dte_intr, int_table_root), .shift = 6, .at = {{0, 6, 46}}},
    B(struct amdvi_dte_intr, init_pass, 0, 56),
    B(struct amdvi_dte_intr, eint_pass, 0, 57),
    B(struct amdvi_dte_intr, nmi_pass, 0, 58),
    F(struct amdvi_dte_intr, int_ctl, {0, 60, 2}),
    B(struct amdvi_dte_intr, lint0_pass, 0, 62),
    B(struct amdvi_dte_intr, lint1_pass, 0, 63),
};

static const struct field event_fields[] = {
    F(struct amdvi_event, devid, {0, 0, 16}),
    F(struct amdvi_event, flags, {0, 48, 12}),
    F(struct amdvi_event, code, {0, 60, 4}),
    F(struct amdvi_event, addr, {1, 0, 64}),
};

static const struct field ga_log_fields[] = {
    F(struct amdvi_ga_entry, ga_tag, {0, 0, 32}),
    F(struct amdvi_ga_entry, devid, {0, 32, 16}),
    F(struct amdvi_ga_entry, type, {0, 60, 4}),
};

/* Our encoders and decoders, behind one signature. */
static void irte32_enc(const void *s, uint64_t raw[2])
{
	raw[0] = amdvi_irte32_encode(s);
	raw[1] = 0;
}
static void irte32_dec(const uint64_t raw[2], void *s)
{
	amdvi_irte32_decode((uint32_t)raw[0], s);
}
static void ga_remap_enc(const void *s, uint64_t raw[2])
{
	struct amdvi_irte_ga e;

	amdvi_ga_remap_encode(s, &e);
	raw[0] = e.lo;
	raw[1] = e.hi;
}
static void ga_remap_dec(const uint64_t raw[2], void *s)
{
	struct amdvi_irte_ga e = {raw[0], raw[1]};

	amdvi_ga_remap_decode(&e, s);
}
static void ga_vapic_enc(const void *s, uint64_t raw[2])
{
	struct amdvi_irte_ga e;

	amdvi_ga_vapic_encode(s, &e);
	raw[0] = e.lo;
	raw[1] = e.hi;
}
static void ga_vapic_dec(const uint64_t raw[2], void *s)
{
	struct amdvi_irte_ga e = {raw[0], raw[1]};

	amdvi_ga_vapic_decode(&e, s);
}
static void dte_enc(const void *s, uint64_t raw[2])
{
	raw[0] = amdvi_dte_intr_encode(s);
	raw[1] = 0;
}
static void dte_dec(const uint64_t raw[2], void *s)
{
	amdvi_dte_intr_decode(raw[0], s);
}
static void event_enc(const void *s, uint64_t raw[2])
{
	amdvi_event_encode(s, raw);
}
static void event_dec(const uint64_t raw[2], void *s)
{
	amdvi_event_decode(raw, s);
}
static void ga_log_enc(const void *s, uint64_t raw[2])
{
	raw[0] = amdvi_ga_entry_encode(s);
	raw[1] = 0;
}
static void ga_log_dec(const uint64_t raw[2], void *s)
{
	amdvi_ga_entry_decode(raw[0], s);
}

#define N(a)	   (sizeof(a) / sizeof((a)[0]))
#define GUEST_MODE (1ull << 7)

static const struct format formats[] = {
    {"irte32",
     sizeof(struct amdvi_irte32),
     irte32_fields,
     N(irte32_fields),
     {0, 0},
     irte32_enc,
     irte32_dec},
    {"ga-remap",
     sizeof(struct amdvi_ga_remap),
     ga_remap_fields,
     N(ga_remap_fields),
     {0, 0},
     ga_remap_enc,
     ga_remap_dec},
    {"ga-vapic",
     sizeof(struct amdvi_ga_vapic),
     ga_vapic_fields,
     N(ga_vapic_fields),
     {GUEST_MODE, 0},
     ga_vapic_enc,
     ga_vapic_dec},
    {"dte-intr",
     sizeof(struct amdvi_dte_intr),
     dte_fields,
     N(dte_fields),
     {0, 0},
     dte_enc,
     dte_dec},
    {"event",
     sizeof(struct amdvi_event),
     event_fields,
     N(event_fields),
     {0, 0},
     event_enc,
     event_dec},
    {"ga-log",
     sizeof(struct amdvi_ga_entry),
     ga_log_fields,
     N(ga_log_fields),
     {0, 0},
     ga_log_enc,
     ga_log_dec},
};

static uint64_t ones(unsigned width)
{
	return width >= 64 ? ~0ull : (1ull << width) - 1;
}

static unsigned field_width(const struct field *f)
{
	return f->at[0].width + f->at[1].width;
}

/* The member's value: the field's bits, placed as the struct holds them. */
static uint64_t member_value(const struct field *f, uint64_t bits)
{
	return (bits & ones(field_width(f))) << f->shift;
}

/* The independent encoder: the field's bits, slice by slice. */
static void place(const struct field *f, uint64_t bits, uint64_t raw[2])
{
	for (size_t i = 0; i < N(f->at) && f->at[i].width; i++) {
		raw[f->at[i].word] |= (bits & ones(f->at[i].width)) << f->at[i].lo;
		bits = f->at[i].width >= 64 ? 0 : bits >> f->at[i].width;
	}
}

static void member_set(void *s, const struct field *f, uint64_t v)
{
	unsigned char *p = (unsigned char *)s + f->offset;

	if (f->is_bool) {
		bool b = v & 1;
		memcpy(p, &b, sizeof(b));
		return;
	}
	switch (f->size) {
	case 1: {
		uint8_t x = (uint8_t)v;
		memcpy(p, &x, 1);
		break;
	}
	case 2: {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
		break;
	}
	default:
		memcpy(p, &v, 8);
	}
}

static uint64_t member_get(const void *s, const struct field *f)
{
	const unsigned char *p = (const unsigned char *)s + f->offset;

	if (f->is_bool) {
		bool b;
		memcpy(&b, p, sizeof(b));
		return b;
	}
	switch (f->size) {
	case 1: {
		uint8_t x;
		memcpy(&x, p, 1);
		return x;
	}
	case 2: {
		uint16_t x;
		memcpy(&x, p, 2);
		return x;
	}
	case 4: {
		uint32_t x;
		memcpy(&x, p, 4);
		return x;
	}
	default: {
		uint64_t x;
		memcpy(&x, p, 8);
		return x;
	}
	}
}

/* The member is wide enough for its field: a table error, not a code error. */
static void table_is_sane(const struct format *fmt)
{
	uint64_t seen[2] = {fmt->fixed[0], fmt->fixed[1]};

	for (size_t i = 0; i < fmt->nfields; i++) {
		const struct field *f = &fmt->fields[i];
		uint64_t mine[2] = {0, 0};

		assert_true(f->is_bool ? field_width(f) == 1
				       : field_width(f) + f->shift <= 8 * f->size);
		place(f, ~0ull, mine);
		/* no two fields share a bit */
		assert_int_equal(mine[0] & seen[0], 0);
		assert_int_equal(mine[1] & seen[1], 0);
		seen[0] |= mine[0];
		seen[1] |= mine[1];
	}
}

/* Decoded @raw: the one field at @bits, every other zero. */
static void decodes_alone(const struct format *fmt, const struct field *f, uint64_t bits,
			  const uint64_t raw[2])
{
	unsigned char s[64];

	fmt->decode(raw, s);
	for (size_t j = 0; j < fmt->nfields; j++) {
		const struct field *g = &fmt->fields[j];
		uint64_t want = g == f ? member_value(f, bits) : 0;

		if (member_get(s, g) != want)
			fail_msg("%s: decoding %s=%#llx gave %s=%#llx", fmt->name, f->name,
				 (unsigned long long)bits, g->name,
				 (unsigned long long)member_get(s, g));
	}
}

static void field_alone(const struct format *fmt, const struct field *f, uint64_t bits)
{
	unsigned char s[64];
	uint64_t want[2] = {fmt->fixed[0], fmt->fixed[1]}, got[2];

	bits &= ones(field_width(f));
	memset(s, 0, sizeof(s));
	member_set(s, f, member_value(f, bits));
	place(f, bits, want);
	fmt->encode(s, got);
	if (got[0] != want[0] || got[1] != want[1])
		fail_msg("%s: %s=%#llx encoded %016llx %016llx, the table says %016llx %016llx",
			 fmt->name, f->name, (unsigned long long)bits, (unsigned long long)got[1],
			 (unsigned long long)got[0], (unsigned long long)want[1],
			 (unsigned long long)want[0]);
	decodes_alone(fmt, f, bits, want);
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void all_fields_at_once(const struct format *fmt, uint64_t *seed)
{
	unsigned char s[64], d[64];
	uint64_t bits[16], want[2] = {fmt->fixed[0], fmt->fixed[1]}, got[2];

	assert_true(fmt->nfields <= N(bits));
	memset(s, 0, sizeof(s));
	for (size_t i = 0; i < fmt->nfields; i++) {
		const struct field *f = &fmt->fields[i];

		bits[i] = xorshift(seed) & ones(field_width(f));
		member_set(s, f, member_value(f, bits[i]));
		place(f, bits[i], want);
	}
	fmt->encode(s, got);
	assert_int_equal(got[0], want[0]);
	assert_int_equal(got[1], want[1]);
	fmt->decode(want, d);
	for (size_t i = 0; i < fmt->nfields; i++)
		assert_int_equal(member_get(d, &fmt->fields[i]),
				 member_value(&fmt->fields[i], bits[i]));
}

static void every_field(void **state)
{
	const struct format *fmt = *state;
	static const uint64_t patterns[] = {1, ~0ull, 0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull};
	uint64_t seed = 0x9e3779b97f4a7c15ull;

	assert_true(fmt->struct_size <= 64);
	table_is_sane(fmt);
	for (size_t i = 0; i < fmt->nfields; i++)
		for (size_t p = 0; p < N(patterns); p++)
			field_alone(fmt, &fmt->fields[i], patterns[p]);
	for (int round = 0; round < 64; round++)
		all_fields_at_once(fmt, &seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_ROW("irte32", every_field, &formats[0]),
	    TEST_ROW("ga-remap", every_field, &formats[1]),
	    TEST_ROW("ga-vapic", every_field, &formats[2]),
	    TEST_ROW("dte-intr", every_field, &formats[3]),
	    TEST_ROW("event", every_field, &formats[4]),
	    TEST_ROW("ga-log", every_field, &formats[5]),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
