/* SPDX-License-Identifier: MIT */
/*
 * VT-d Interrupt Remapping Table Entry: 128 bits in two formats chosen by
 * IM (bit 15). Layout per the VT-d spec §9.10 (remapped) and §9.11 (posted),
 * as Linux's struct irte and QEMU's VTD_IR_TableEntry read it.
 * Bit numbers below are of the whole 128-bit entry.
 *
 * Remapped (IM=0): P 0, FPD 1, DM 2, RH 3, TM 4, DLM 7:5, AVAIL 11:8,
 *   V 23:16, DST 63:32, SID 79:64, SQ 81:80, SVT 83:82; reserved 14:12,
 *   31:24, 127:84, and in xAPIC mode (IRTA.EIME=0) DST[7:0] and DST[31:16]
 *   (the APIC ID sits in DST[15:8]).
 * Posted (IM=1): P 0, FPD 1, AVAIL 11:8, URG 14, VV 23:16, PDA[31:6] 63:38,
 *   SID 79:64, SQ 81:80, SVT 83:82, PDA[63:32] 127:96; reserved 7:2, 13:12,
 *   37:24, 95:84. Without posting support (CAP.PI=0) IM itself is reserved.
 */
#ifndef PVIR_IRTE_H
#define PVIR_IRTE_H

#include <stdbool.h>
#include <stdint.h>

#define IRTE_SIZE 16

/* Bit numbers within the low qword. */
#define IRTE_P	 0
#define IRTE_FPD 1
#define IRTE_IM	 15

/* Source validation type, SVT (VT-d §9.10). */
enum irte_svt {
	IRTE_SVT_NONE = 0, /* no requester-id check */
	IRTE_SVT_RID = 1,  /* SID compared to the requester-id under the SQ mask */
	IRTE_SVT_BUS = 2,  /* requester bus in [SID[15:8], SID[7:0]] */
	IRTE_SVT_RSVD = 3,
};

/* Source-id qualifier, SQ: which low requester-id bits SVT=1 ignores. */
enum irte_sq {
	IRTE_SQ_ALL = 0,     /* compare all 16 bits */
	IRTE_SQ_IGN_2 = 1,   /* ignore bit 2 */
	IRTE_SQ_IGN_2_1 = 2, /* ignore bits 2:1 */
	IRTE_SQ_IGN_2_0 = 3, /* ignore bits 2:0 (the function number) */
};

struct irte {
	uint64_t lo;
	uint64_t hi;
};

struct irte_remapped {
	bool p;
	bool fpd;
	bool dm;
	bool rh;
	bool tm;
	uint8_t dlm;   /* 3 bits */
	uint8_t avail; /* 4 bits */
	uint8_t vector;
	uint32_t dst;
	uint16_t sid;
	uint8_t sq;  /* 2 bits */
	uint8_t svt; /* 2 bits */
};

struct irte_posted {
	bool p;
	bool fpd;
	uint8_t avail; /* 4 bits */
	bool urg;
	uint8_t vector;
	uint64_t pda; /* 64-byte aligned descriptor address */
	uint16_t sid;
	uint8_t sq;
	uint8_t svt;
};

static inline bool irte_is_present(const struct irte *e)
{
	return e->lo & (UINT64_C(1) << IRTE_P);
}

static inline bool irte_is_posted(const struct irte *e)
{
	return e->lo & (UINT64_C(1) << IRTE_IM);
}

static inline bool irte_fpd(const struct irte *e)
{
	return e->lo & (UINT64_C(1) << IRTE_FPD);
}

/*
 * Encoders assert that every field fits its bits and that the PDA is 64-byte
 * aligned: passing anything else is a bug in the caller, not guest input.
 */
void irte_remapped_encode(const struct irte_remapped *r, struct irte *ret);
void irte_remapped_decode(const struct irte *e, struct irte_remapped *ret);
void irte_posted_encode(const struct irte_posted *p, struct irte *ret);
void irte_posted_decode(const struct irte *e, struct irte_posted *ret);

/**
 * irte_reserved_bits() - the reserved bits that are set in @e
 * @eime:	IRTA.EIME, the x2APIC-mode destination format (remapped only)
 * @posting:	whether the unit supports posting (CAP.PI); if not, IM is reserved
 *
 * Return: an entry whose set bits are the offending ones (zero if none).
 */
struct irte irte_reserved_bits(const struct irte *e, bool eime, bool posting);

/**
 * irte_xapic_dest() - the 8-bit APIC ID of an xAPIC-mode destination field
 * (DST[15:8]; also the posted-interrupt descriptor's NDST in xAPIC mode)
 */
static inline uint32_t irte_xapic_dest(uint32_t dst)
{
	return (dst >> 8) & 0xff;
}

/**
 * irte_sid_matches() - the source validation of VT-d §9.10 for SVT 0..2
 *
 * SVT=3 is a reserved encoding and never matches (QEMU faults it with 0x26).
 */
bool irte_sid_matches(uint16_t sid, unsigned sq, unsigned svt, uint16_t requester_id);

#endif
