// SPDX-License-Identifier: MIT
/*
 * Encoding and decoding of x86 MSI messages; see pvir/msi.h for the formats
 * and their sources. Pure functions: no state, no allocation.
 */
#include "pvir/msi.h"

#include <errno.h>

/* Compatibility format, address. */
#define ADDR_HEAD_HI	  31
#define ADDR_HEAD_LO	  20
#define ADDR_DEST_HI	  19
#define ADDR_DEST_LO	  12
#define ADDR_EXTDEST_HI	  11
#define ADDR_EXTDEST_LO	  5
#define ADDR_RH		  3
#define ADDR_DM		  2
/* Compatibility format, data. */
#define DATA_VECTOR_HI	  7
#define DATA_VECTOR_LO	  0
#define DATA_DLM_HI	  10
#define DATA_DLM_LO	  8
#define DATA_RSVD_HI	  13
#define DATA_RSVD_LO	  11
#define DATA_LEVEL	  14
#define DATA_TRIGGER	  15
#define DATA_UPPER_HI	  31
#define DATA_UPPER_LO	  16
/* Remappable format, address. */
#define ADDR_HANDLE_HI	  19
#define ADDR_HANDLE_LO	  5
#define ADDR_SHV	  3
#define ADDR_HANDLE15	  2
#define HANDLE_LOW_BITS	  15
#define DATA_SUBHANDLE_HI 15

bool msi_is_interrupt_address(const struct msi_msg *msg)
{
	return bits_get(msg->address_lo, ADDR_HEAD_HI, ADDR_HEAD_LO) == MSI_ADDR_HEAD;
}

enum msi_format msi_format_of(const struct msi_msg *msg)
{
	return bit_get(msg->address_lo, MSI_ADDR_IF_REMAP) ? MSI_FORMAT_REMAPPABLE
							   : MSI_FORMAT_COMPAT;
}

int msi_compat_encode(const struct msi_compat *c, struct msi_msg *ret)
{
	uint64_t addr = MSI_ADDR_BASE, data = 0;

	if (c->dest_id > MSI_COMPAT_DEST_MAX || !bits_fit(c->delivery_mode, 3))
		return -ERANGE;
	addr = bits_set(addr, ADDR_DEST_HI, ADDR_DEST_LO, c->dest_id & 0xff);
	addr = bits_set(addr, ADDR_EXTDEST_HI, ADDR_EXTDEST_LO, c->dest_id >> 8);
	addr = bit_set(addr, ADDR_RH, c->rh);
	addr = bit_set(addr, ADDR_DM, c->dm);
	data = bits_set(data, DATA_VECTOR_HI, DATA_VECTOR_LO, c->vector);
	data = bits_set(data, DATA_DLM_HI, DATA_DLM_LO, c->delivery_mode);
	data = bit_set(data, DATA_LEVEL, c->level);
	data = bit_set(data, DATA_TRIGGER, c->trigger);
	ret->address_lo = (uint32_t)addr;
	ret->address_hi = 0;
	ret->data = (uint32_t)data;
	return 0;
}

void msi_compat_decode(const struct msi_msg *msg, struct msi_compat *ret)
{
	uint32_t a = msg->address_lo, d = msg->data;

	ret->dest_id = (uint32_t)(bits_get(a, ADDR_DEST_HI, ADDR_DEST_LO) |
				  bits_get(a, ADDR_EXTDEST_HI, ADDR_EXTDEST_LO) << 8);
	ret->rh = bit_get(a, ADDR_RH);
	ret->dm = bit_get(a, ADDR_DM);
	ret->vector = (uint8_t)bits_get(d, DATA_VECTOR_HI, DATA_VECTOR_LO);
	ret->delivery_mode = (uint8_t)bits_get(d, DATA_DLM_HI, DATA_DLM_LO);
	ret->level = bit_get(d, DATA_LEVEL);
	ret->trigger = bit_get(d, DATA_TRIGGER);
}

void msi_remap_encode(const struct msi_remap *r, struct msi_msg *ret)
{
	uint64_t addr = MSI_ADDR_BASE;

	addr = bits_set(addr, ADDR_HANDLE_HI, ADDR_HANDLE_LO, r->handle);
	addr = bit_set(addr, ADDR_HANDLE15, bit_get(r->handle, HANDLE_LOW_BITS));
	addr = bit_set(addr, MSI_ADDR_IF_REMAP, true);
	addr = bit_set(addr, ADDR_SHV, r->shv);
	ret->address_lo = (uint32_t)addr;
	ret->address_hi = 0;
	ret->data = r->shv ? r->subhandle : 0;
}

void msi_remap_decode(const struct msi_msg *msg, struct msi_remap *ret)
{
	uint32_t a = msg->address_lo;

	ret->handle = (uint16_t)(bits_get(a, ADDR_HANDLE_HI, ADDR_HANDLE_LO) |
				 (uint64_t)bit_get(a, ADDR_HANDLE15) << HANDLE_LOW_BITS);
	ret->shv = bit_get(a, ADDR_SHV);
	ret->subhandle = (uint16_t)bits_get(msg->data, DATA_SUBHANDLE_HI, 0);
}

uint32_t msi_remap_index(const struct msi_remap *r)
{
	return (uint32_t)r->handle + (r->shv ? r->subhandle : 0);
}

struct msi_msg msi_reserved_bits(const struct msi_msg *msg)
{
	struct msi_msg rsvd = {.address_hi = msg->address_hi};

	if (msi_format_of(msg) == MSI_FORMAT_COMPAT) {
		rsvd.data = msg->data & (uint32_t)(bits_mask(DATA_RSVD_HI, DATA_RSVD_LO) |
						   bits_mask(DATA_UPPER_HI, DATA_UPPER_LO));
	} else if (bit_get(msg->address_lo, ADDR_SHV)) {
		rsvd.data = msg->data & (uint32_t)bits_mask(DATA_UPPER_HI, DATA_UPPER_LO);
	}
	return rsvd;
}

bool msi_delivery_mode_is_reserved(unsigned mode)
{
	return mode == 3 || mode == 6 || mode > MSI_DM_EXTINT;
}

const char *msi_delivery_mode_name(unsigned mode)
{
	switch (mode) {
	case MSI_DM_FIXED:
		return "fixed";
	case MSI_DM_LOWPRI:
		return "lowest-priority";
	case MSI_DM_SMI:
		return "SMI";
	case MSI_DM_NMI:
		return "NMI";
	case MSI_DM_INIT:
		return "INIT";
	case MSI_DM_EXTINT:
		return "ExtINT";
	default:
		return "reserved";
	}
}
