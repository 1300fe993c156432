/* SPDX-License-Identifier: MIT */
/*
 * The AMD-Vi unit's interrupt remapping: the hardware between a device's interrupt write
 * and the local APICs on an AMD host. The formats are pvir/amdvi.h's; docs/hardware.md
 * ("AMD-Vi unit") gives the sources of each behaviour and where they disagree.
 *
 * Modelled: the registers the interrupt path uses (device table base, command buffer,
 * event log, control, extended features, GA log, their head and tail pointers, status);
 * the device table, one 256-bit entry per requester-id, of which the unit reads the
 * interrupt qword; per-device interrupt tables in both formats (legacy 32-bit, and
 * 128-bit when Control.GAEn is set) with the remapped and guest (AVIC) views; a cache of
 * device table entries and IRTEs that keeps serving what it holds until software
 * invalidates it (INVALIDATE_DEVTAB_ENTRY, INVALIDATE_INTERRUPT_TABLE, INVALIDATE_ALL);
 * COMPLETION_WAIT with its store and interrupt; the event log with overflow; guest mode
 * 2048-entry tables (NumIntRemapMode, a message with address bit 2 set indexes with
 * data[10:0]); posting into the vAPIC backing page's IRR, with a doorbell to a running vCPU's core
 * or a GA log entry for one that is not running; the event and GA log interrupts, which
 * the owner takes with amdvi_unit_take_interrupts(). Not modelled: DMA translation, page
 * tables, PPR, the MSI capability of the unit itself, hardware error events.
 */
#ifndef PVIR_AMDVI_UNIT_H
#define PVIR_AMDVI_UNIT_H

#include <stdbool.h>
#include <stdint.h>

#include "pvir/amdvi.h"
#include "pvir/ir_unit.h"

struct physmem;
struct msi_msg;

/* MMIO offsets (Linux amd_iommu_types.h MMIO_*_OFFSET; QEMU amd_iommu.h AMDVI_MMIO_*). */
#define AMDVI_MMIO_DEV_TABLE 0x0000
#define AMDVI_MMIO_CMD_BUF   0x0008
#define AMDVI_MMIO_EVT_LOG   0x0010
#define AMDVI_MMIO_CONTROL   0x0018
#define AMDVI_MMIO_EXT_FEAT  0x0030
#define AMDVI_MMIO_GA_LOG    0x00e0
#define AMDVI_MMIO_EXT_FEAT2 0x01a0
#define AMDVI_MMIO_CMD_HEAD  0x2000
#define AMDVI_MMIO_CMD_TAIL  0x2008
#define AMDVI_MMIO_EVT_HEAD  0x2010
#define AMDVI_MMIO_EVT_TAIL  0x2018
#define AMDVI_MMIO_STATUS    0x2020
#define AMDVI_MMIO_GA_HEAD   0x2040
#define AMDVI_MMIO_GA_TAIL   0x2048

/* Control register bits (Linux CONTROL_*; QEMU AMDVI_MMIO_CONTROL_*). */
#define AMDVI_CTRL_IOMMU_EN    0
#define AMDVI_CTRL_EVT_LOG_EN  2
#define AMDVI_CTRL_EVT_INT_EN  3
#define AMDVI_CTRL_COMWAIT_INT 4
#define AMDVI_CTRL_CMD_BUF_EN  12
#define AMDVI_CTRL_GA_EN       17
#define AMDVI_CTRL_GAM_VAPIC   25 /* GAM = 001b: guest virtual APIC mode (Linux CONTROL_GAM_EN) */
#define AMDVI_CTRL_GA_LOG_EN   28
#define AMDVI_CTRL_GA_INT_EN   29
#define AMDVI_CTRL_NUM_INT_LO  43 /* NumIntRemapMode, 44:43: 1 = 2048 entries per device */
#define AMDVI_CTRL_XT_EN       50

/* Status register bits (Linux MMIO_STATUS_*_MASK; QEMU AMDVI_MMIO_STATUS_*). */
#define AMDVI_STATUS_EVT_OVERFLOW 0 /* write 1 to clear */
#define AMDVI_STATUS_EVT_INT	  1 /* write 1 to clear */
#define AMDVI_STATUS_COMWAIT_INT  2 /* write 1 to clear */
#define AMDVI_STATUS_EVT_RUN	  3
#define AMDVI_STATUS_CMD_RUN	  4
#define AMDVI_STATUS_GA_RUN	  8
#define AMDVI_STATUS_GA_OVERFLOW  9  /* write 1 to clear */
#define AMDVI_STATUS_GA_INT	  10 /* write 1 to clear */

/* Extended feature bits (Linux FEATURE_*; QEMU AMDVI_FEATURE_*). */
#define AMDVI_FEATURE_XT	  2
#define AMDVI_FEATURE_IA	  6
#define AMDVI_FEATURE_GA	  7
#define AMDVI_FEATURE_GAM_VAPIC	  21
/* EFR2 NumIntRemapSup, bits 9:8: 1 = 2048 entries (Linux FEATURE_NUM_INT_REMAP_SUP_2K) */
#define AMDVI_FEATURE2_NUM_INT_2K 8

/* Command opcodes, bits 63:60 of the first qword (Linux CMD_*; QEMU AMDVI_CMD_*). */
enum amdvi_cmd_op {
	AMDVI_CMD_COMPLETION_WAIT = 0x1,
	AMDVI_CMD_INV_DEVTAB_ENTRY = 0x2,
	AMDVI_CMD_INV_INTR_TABLE = 0x5,
	AMDVI_CMD_INV_ALL = 0x8,
};

/* Event codes, bits 63:60 of an event (Linux EVENT_TYPE_*; VirtualBox IOMMU_EVT_*). */
enum amdvi_event_code {
	AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY = 0x1,
	AMDVI_EVT_IO_PAGE_FAULT = 0x2,
	AMDVI_EVT_DEV_TAB_HW_ERROR = 0x3,
	AMDVI_EVT_ILLEGAL_COMMAND = 0x5,
	AMDVI_EVT_INVALID_DEVICE_REQUEST = 0x8,
};
#define AMDVI_EVT_FLAG_I 0x008 /* the event's flags, bits 59:48: an interrupt request */

/* A command, 128 bits. */
struct amdvi_cmd {
	uint64_t lo;
	uint64_t hi;
};

struct amdvi_cmd amdvi_cmd_completion_wait(uint64_t store_addr, uint64_t store_data, bool irq);
struct amdvi_cmd amdvi_cmd_inv_devtab_entry(uint16_t devid);
struct amdvi_cmd amdvi_cmd_inv_intr_table(uint16_t devid);
struct amdvi_cmd amdvi_cmd_inv_all(void);

/* An event log entry, decoded. */
struct amdvi_event {
	uint8_t code;	/* enum amdvi_event_code */
	uint16_t devid; /* the requester-id; 0 for command errors */
	uint16_t flags; /* bits 59:48 */
	uint64_t addr;	/* the request's address, or the command's */
};

void amdvi_event_encode(const struct amdvi_event *e, uint64_t ret[2]);
void amdvi_event_decode(const uint64_t raw[2], struct amdvi_event *ret);
/** amdvi_event_name() - the event code's name, as Linux prints it; "unknown" otherwise */
const char *amdvi_event_name(unsigned code);

/* A GA log entry (64 bits): the vCPU a post found not running. */
struct amdvi_ga_entry {
	uint32_t ga_tag;
	uint16_t devid;
	uint8_t type; /* 1: GA_GUEST_NR, an interrupt for a vCPU not running */
};
#define AMDVI_GA_GUEST_NR 1

uint64_t amdvi_ga_entry_encode(const struct amdvi_ga_entry *e);
void amdvi_ga_entry_decode(uint64_t raw, struct amdvi_ga_entry *ret);

/* The vAPIC backing page's IRR as AVIC reads it: vector v at 0x200 + 0x10 * (v / 32). */
#define AMDVI_VAPIC_IRR 0x200
uint64_t amdvi_vapic_irr_qword(uint64_t backing_page, uint8_t vector);

struct amdvi_unit_config {
	bool ga;	 /* EFR.GASup: the 128-bit format */
	bool gam;	 /* EFR.GAMSup (vAPIC): guest mode; QEMU's unit has none */
	bool log_faults; /* interrupt faults reach the event log (QEMU's do not) */

	bool xt;	      /* EFR.XTSup: 32-bit destinations */
	bool intr_2k;	      /* EFR2.NumIntRemapSup: 2048-entry tables, indexed by data[10:0] */
	unsigned cache_slots; /* the DTE and IRTE caches, a power of two each */
};

struct amdvi_unit_config amdvi_unit_default_config(void);

/* Why a request was blocked, beyond its event code. */
enum amdvi_block {
	AMDVI_BLOCK_NONE,
	AMDVI_BLOCK_NO_DTE,	     /* the requester-id lies beyond the device table */
	AMDVI_BLOCK_DTE_RESERVED,    /* IV=1 with reserved bits set */
	AMDVI_BLOCK_INTCTL_ABORT,    /* IntCtl = 00b: target abort */
	AMDVI_BLOCK_INTCTL_RESERVED, /* IntCtl = 11b */
	AMDVI_BLOCK_TABLE_LEN,	     /* IntTabLen above 2048 entries */
	AMDVI_BLOCK_INDEX,	     /* the index is beyond the device's table */
	AMDVI_BLOCK_REMAP_EN,	     /* the IRTE's RemapEn is clear */
	AMDVI_BLOCK_IRTE_RESERVED,   /* reserved bits, or a guest-mode entry GAEn does not allow */
	AMDVI_BLOCK_INT_TYPE,	     /* the IRTE's IntType is neither fixed nor arbitrated */
	AMDVI_BLOCK_TABLE_ACCESS,    /* the interrupt table or backing page lies outside memory */
	AMDVI_BLOCK_NOT_PASSED,	     /* NMI, INIT or ExtINT without its pass bit; SMI; reserved */
	AMDVI_BLOCK_DTE_ACCESS,	     /* the device table entry lies outside memory */
};
#define AMDVI_BLOCK_COUNT 13

const char *amdvi_block_name(enum amdvi_block why);
/** amdvi_block_key() - a short name for machines: "index", "remap_en", ... */
const char *amdvi_block_key(enum amdvi_block why);
/** amdvi_block_event() - the event code the unit logs for @why (0: none is logged) */
unsigned amdvi_block_event(enum amdvi_block why);

struct amdvi_result {
	enum ir_outcome outcome; /* PASSTHROUGH, REMAPPED, POSTED or BLOCKED */
	uint16_t index;		 /* MSI data[10:0], where the request was remapped */
	enum amdvi_block why;	 /* IR_BLOCKED */
	uint8_t event;		 /* the event code logged, 0 if none */
	bool event_lost;	 /* the event log was full (or off) */
	/* IR_POSTED: guest mode */
	uint64_t backing_page;
	uint8_t guest_vector;
	bool coalesced;	 /* the IRR bit was already set */
	bool doorbell;	 /* IsRun: ring @irq.dest's doorbell */
	bool ga_logged;	 /* not running, GALogIntr: a GA log entry was written */
	uint32_t ga_tag; /* the entry's tag */
	/* PASSTHROUGH and REMAPPED: the interrupt on the APIC bus */
	struct apic_irq irq;
};

struct amdvi_unit_stats {
	uint64_t requests;
	uint64_t outcomes[4]; /* by enum ir_outcome */
	uint64_t blocked[AMDVI_BLOCK_COUNT];
	uint64_t events_logged;
	uint64_t events_lost;
	uint64_t ga_logged;
	uint64_t ga_lost;
	uint64_t doorbells;
	uint64_t cache_hits;
	uint64_t cache_misses;
	uint64_t commands;
	uint64_t irt_invalidations;
	uint64_t flushes; /* both caches emptied: INVALIDATE_ALL, a new device table, GAEn */
};

struct amdvi_unit;

/** amdvi_unit_new() - a unit whose tables, buffers and logs live in @hostmem */
struct amdvi_unit *amdvi_unit_new(struct physmem *hostmem, const struct amdvi_unit_config *cfg);
void amdvi_unit_free(struct amdvi_unit *u);

/*
 * Register access: @size 4 or 8, naturally aligned; 32-bit halves of the 64-bit
 * registers work. Anything else reads as all-ones and is ignored on write. A write of
 * the command tail runs the commands up to it, as the unit fetches them.
 */
uint64_t amdvi_unit_read(struct amdvi_unit *u, uint32_t offset, unsigned size);
void amdvi_unit_write(struct amdvi_unit *u, uint32_t offset, unsigned size, uint64_t val);

/**
 * amdvi_unit_translate() - one interrupt write from requester-id @rid
 *
 * Never fails: a bad request is an architectural outcome (IR_BLOCKED, with its reason and
 * the event it logged), not an error.
 */
void amdvi_unit_translate(struct amdvi_unit *u, const struct msi_msg *msg, uint16_t rid,
			  struct amdvi_result *ret);

/** amdvi_unit_take_interrupts() - the unit's event and GA log interrupts due, cleared */
void amdvi_unit_take_interrupts(struct amdvi_unit *u, bool *ret_event, bool *ret_ga);

const struct amdvi_unit_stats *amdvi_unit_stats(const struct amdvi_unit *u);

/**
 * amdvi_unit_restore() - @u takes the state @from holds (a VMM's emulated unit on a
 * migration's destination): the device table base, control, status, the three rings. The
 * caches start empty. Return: 0, or -EINVAL for a unit of another model, @u unchanged.
 */
int amdvi_unit_restore(struct amdvi_unit *u, const struct amdvi_unit *from) WARN_UNUSED;

#endif
