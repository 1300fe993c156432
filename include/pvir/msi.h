/* SPDX-License-Identifier: MIT */
/*
 * x86 MSI messages: the (address, data) pair a device writes to raise an
 * interrupt, in both formats the platform decodes.
 *
 * Compatibility format (Intel SDM vol. 3, "Message Address/Data Register
 * Format"; VT-d spec §5.1.2): address 0xFEE | dest[7:0] at 19:12 | RH at 3 |
 * DM at 2; data vector 7:0, delivery mode 10:8, level 14, trigger 15. Address
 * bits 11:5 carry destination ID bits 14:8 as the "extended destination ID"
 * that KVM and Hyper-V define for APIC IDs above 255 (Linux virt_destid_8_14).
 *
 * Remappable format (VT-d spec §5.1.3): address 0xFEE | handle[14:0] at 19:5 |
 * interrupt format (1) at 4 | SHV at 3 | handle[15] at 2; with SHV the
 * interrupt index is handle + data[15:0] and data[31:16] is reserved.
 *
 * Not modelled: the 64-bit address forms some platforms accept; address_hi is
 * reserved here, as in QEMU's VT-d model (fault 0x20 when set).
 */
#ifndef PVIR_MSI_H
#define PVIR_MSI_H

#include <stdbool.h>
#include <stdint.h>

#include "pvir/compiler.h"

/* Address bits 31:20 of every interrupt request (SDM: "0FEEH"). */
#define MSI_ADDR_HEAD	    UINT32_C(0xfee)
#define MSI_ADDR_BASE	    UINT32_C(0xfee00000)
/* Address bit 4: 0 = compatibility, 1 = remappable (VT-d §5.1.3). */
#define MSI_ADDR_IF_REMAP   4
/* Highest destination ID a compatibility message can carry: 8 + 7 ext. bits. */
#define MSI_COMPAT_DEST_MAX 0x7fffu

/* Delivery modes, data bits 10:8 (SDM table "Delivery Mode"). */
enum msi_delivery_mode {
	MSI_DM_FIXED = 0,
	MSI_DM_LOWPRI = 1,
	MSI_DM_SMI = 2,
	MSI_DM_NMI = 4,
	MSI_DM_INIT = 5,
	MSI_DM_EXTINT = 7,
};

struct msi_msg {
	uint32_t address_lo;
	uint32_t address_hi;
	uint32_t data;
};

enum msi_format {
	MSI_FORMAT_COMPAT,
	MSI_FORMAT_REMAPPABLE,
};

struct msi_compat {
	uint32_t dest_id; /* 15 bits: [7:0] in 19:12, [14:8] in 11:5 */
	bool rh;
	bool dm;
	uint8_t vector;
	uint8_t delivery_mode; /* enum msi_delivery_mode, 3 bits */
	bool level;
	bool trigger;
};

struct msi_remap {
	uint16_t handle;
	bool shv;
	uint16_t subhandle; /* data[15:0]; meaningful only with shv */
};

/** msi_msg_equal() - the same address and data */
static inline bool msi_msg_equal(const struct msi_msg *a, const struct msi_msg *b)
{
	return a->address_lo == b->address_lo && a->address_hi == b->address_hi &&
	       a->data == b->data;
}

/** msi_is_interrupt_address() - whether address bits 31:20 are 0xFEE */
bool msi_is_interrupt_address(const struct msi_msg *msg);

enum msi_format msi_format_of(const struct msi_msg *msg);

/**
 * msi_compat_encode() - build a compatibility-format message
 * Return: 0, or -ERANGE when a field does not fit its bits (dest_id above
 * MSI_COMPAT_DEST_MAX, delivery_mode above 7); @ret untouched then.
 */
int msi_compat_encode(const struct msi_compat *c, struct msi_msg *ret) WARN_UNUSED;
void msi_compat_decode(const struct msi_msg *msg, struct msi_compat *ret);

void msi_remap_encode(const struct msi_remap *r, struct msi_msg *ret);
void msi_remap_decode(const struct msi_msg *msg, struct msi_remap *ret);

/** msi_remap_index() - the IRTE index: handle, plus subhandle when SHV */
uint32_t msi_remap_index(const struct msi_remap *r);

/**
 * msi_reserved_bits() - the reserved bits set in @msg, for its format
 *
 * Compatibility: address_hi, data 13:11 and 31:16. Remappable: address_hi,
 * and data 31:16 when SHV. Address bits 31:20 are not "reserved": a message
 * outside 0xFEExxxxx is not an interrupt at all (msi_is_interrupt_address()).
 *
 * Return: a message whose set bits are the offending ones (all zero if none).
 */
struct msi_msg msi_reserved_bits(const struct msi_msg *msg);

bool msi_delivery_mode_is_reserved(unsigned mode);
const char *msi_delivery_mode_name(unsigned mode);

#endif
