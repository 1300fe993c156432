/* SPDX-License-Identifier: MIT */
/*
 * VT-d interrupt-remapping unit: the hardware that sits between a device's
 * interrupt write and the local APICs (VT-d spec ch. 5 and §10.4).
 *
 * Modelled: the registers software uses for IR (CAP, ECAP, GCMD/GSTS, IRTA,
 * FSTS, the fault recording registers, IQA/IQH/IQT); the IR table in host
 * memory with its size (IRTA.S) and x2APIC mode (IRTA.EIME); compatibility-
 * format blocking (CFIS); an interrupt-entry cache that keeps serving a
 * cached entry until software invalidates it; queued invalidation with IEC
 * and wait descriptors; translation with every IR fault reason 0x20..0x27;
 * posting into posted-interrupt descriptors; fault recording with primary
 * fault overflow; the fault event (FECTL.IP, IM), which the unit's owner
 * takes with ir_unit_take_fault_event() as the message it would send. Not
 * modelled: DMA remapping, the event message's FEDATA/FEADDR, 256-bit descriptors,
 * fault collapsing (the spec permits, QEMU does, we record every fault).
 *
 * One thread drives a unit; only the descriptors it posts into are shared.
 */
#ifndef PVIR_IR_UNIT_H
#define PVIR_IR_UNIT_H

#include <stdbool.h>
#include <stdint.h>

#include "pvir/compiler.h"
#include "pvir/pi_desc.h"

struct physmem;
struct msi_msg;

/* Register offsets (VT-d §10.4). */
#define DMAR_VER_REG   0x00
#define DMAR_CAP_REG   0x08
#define DMAR_ECAP_REG  0x10
#define DMAR_GCMD_REG  0x18
#define DMAR_GSTS_REG  0x1c
#define DMAR_FSTS_REG  0x34
#define DMAR_FECTL_REG 0x38
#define DMAR_IQH_REG   0x80
#define DMAR_IQT_REG   0x88
#define DMAR_IQA_REG   0x90
#define DMAR_ICS_REG   0x9c
#define DMAR_IRTA_REG  0xb8
#define DMAR_FRCD_REG  0x220 /* CAP.FRO = 0x22, as QEMU places it */

/* GCMD and GSTS bits (VT-d, Global Command and Global Status registers). */
#define DMA_GCMD_QIE   26
#define DMA_GCMD_IRE   25
#define DMA_GCMD_SIRTP 24
#define DMA_GCMD_CFI   23
#define DMA_GSTS_QIES  26
#define DMA_GSTS_IRES  25
#define DMA_GSTS_IRTPS 24
#define DMA_GSTS_CFIS  23

/* CAP and ECAP fields. */
#define DMA_CAP_CM	 7
#define DMA_CAP_FRO_HI	 33
#define DMA_CAP_FRO_LO	 24
#define DMA_CAP_NFR_HI	 47
#define DMA_CAP_NFR_LO	 40
#define DMA_CAP_PI	 59
#define DMA_CAP_ESIRTPS	 62
#define DMA_ECAP_QI	 1
#define DMA_ECAP_IR	 3
#define DMA_ECAP_EIM	 4
#define DMA_ECAP_MHMV_HI 23
#define DMA_ECAP_MHMV_LO 20

/* IRTA: table address 63:12, EIME 11, S 3:0 (2^(S+1) entries). */
#define DMA_IRTA_EIME  11
#define DMA_IRTA_S_HI  3
#define DMA_IRTA_S_LO  0
#define IR_MAX_ENTRIES 65536

/* FSTS bits; PFO, IQE are write-1-to-clear, PPF and FRI read-only. */
#define DMA_FSTS_PFO	0
#define DMA_FSTS_PPF	1
#define DMA_FSTS_IQE	4
#define DMA_FSTS_FRI_HI 15
#define DMA_FSTS_FRI_LO 8
#define DMA_FECTL_IM	31
#define DMA_FECTL_IP	30
#define DMA_ICS_IWC	0

/* Fault recording register, high qword: F 63 (RW1C), FR 39:32, SID 15:0;
 * low qword for IR faults: the interrupt index in 63:48 (VT-d, Fault
 * Recording Registers). */
#define DMA_FRCD_F	63
#define DMA_FRCD_FR_HI	39
#define DMA_FRCD_FR_LO	32
#define DMA_FRCD_SID_HI 15
#define DMA_FRCD_SID_LO 0
#define DMA_FRCD_IDX_HI 63
#define DMA_FRCD_IDX_LO 48

/* IR fault reasons (VT-d §7.1.3; Linux dmar.c irq_remap_fault_reasons). */
enum ir_fault {
	IR_FAULT_REQ_RSVD = 0x20, /* reserved field set in the remappable request */
	IR_FAULT_INDEX = 0x21,	  /* index beyond the table size */
	IR_FAULT_NOT_PRESENT = 0x22,
	IR_FAULT_TABLE_ACCESS = 0x23,
	IR_FAULT_IRTE_RSVD = 0x24,  /* reserved field set in a present IRTE */
	IR_FAULT_COMPAT = 0x25,	    /* compatibility-format request blocked */
	IR_FAULT_SID = 0x26,	    /* source-id verification failed */
	IR_FAULT_PID_ACCESS = 0x27, /* posted-interrupt descriptor access failed */
};
#define IR_FAULT_FIRST IR_FAULT_REQ_RSVD
#define IR_FAULT_COUNT 8

/** ir_fault_name() - short spec name of a fault reason, "unknown" otherwise */
const char *ir_fault_name(unsigned reason);

/* Queued-invalidation descriptors (128-bit). */
struct qi_desc {
	uint64_t lo;
	uint64_t hi;
};
#define QI_TYPE_IEC  4
#define QI_TYPE_WAIT 5

/** qi_iec_global() - an IEC invalidation of every entry (G=0) */
struct qi_desc qi_iec_global(void);
/** qi_iec_index() - IEC invalidation of 2^@im entries from @index (G=1) */
struct qi_desc qi_iec_index(uint16_t index, unsigned im);
/** qi_wait() - a wait descriptor that writes @status to @addr (SW=1) */
struct qi_desc qi_wait(uint64_t addr, uint32_t status);

struct ir_unit_config {
	unsigned nfr;	    /* fault recording registers, 1..256 */
	unsigned iec_slots; /* interrupt-entry cache size, a power of two */
	unsigned mhmv;	    /* ECAP.MHMV, largest IEC index mask */
	bool posting;	    /* CAP.PI */
	bool esirtps;	    /* CAP.ESIRTPS: SIRTP invalidates the IEC */
	bool eim;	    /* ECAP.EIM: x2APIC mode supported */
	bool caching_mode;  /* CAP.CM: a virtual IOMMU */
};

/** ir_unit_default_config() - a unit like a current server part's */
struct ir_unit_config ir_unit_default_config(void);

/* What became of one interrupt request. */
enum ir_outcome {
	IR_PASSTHROUGH, /* compatibility format let through (IR off, or CFIS) */
	IR_REMAPPED,
	IR_POSTED,
	IR_BLOCKED,
};

/* An interrupt as the APIC bus carries it. */
struct apic_irq {
	uint32_t dest; /* APIC ID (x2APIC) or 8-bit ID (xAPIC), per @dm */
	bool dm;       /* logical destination mode */
	bool rh;
	uint8_t dlm;
	bool tm; /* level */
	uint8_t vector;
};

/** apic_irq_from_compat() - the interrupt a compatibility-format message names */
void apic_irq_from_compat(const struct msi_msg *msg, struct apic_irq *ret);

struct ir_result {
	enum ir_outcome outcome;
	uint32_t index; /* the interrupt index, where the request had one */
	/* IR_BLOCKED */
	uint8_t fault;
	bool fault_recorded; /* false when FPD or overflow kept it out of the log */
	/* IR_POSTED */
	uint64_t pda;
	uint8_t posted_vector;
	bool urgent;
	struct pid_post_result post;
	/*
	 * The interrupt to put on the APIC bus: the request itself (passthrough),
	 * the remapped one, or the notification event of a post (post.notify).
	 */
	bool send_irq;
	struct apic_irq irq;
};

struct ir_unit_stats {
	uint64_t requests;
	uint64_t outcomes[4];		 /* by enum ir_outcome */
	uint64_t faults[IR_FAULT_COUNT]; /* by reason - IR_FAULT_FIRST */
	uint64_t faults_recorded;
	uint64_t faults_fpd_suppressed;
	uint64_t faults_overflow_lost;
	uint64_t iec_hits;
	uint64_t iec_misses;
	uint64_t iec_invalidations; /* IEC descriptors processed */
	uint64_t qi_descriptors;
	uint64_t notifications;
};

struct ir_unit;

/**
 * ir_unit_take_fault_event() - whether a fault event message is due, and
 * clear it: the unit's owner delivers it (the host drains its fault log then,
 * as Linux's dmar_fault() does on the event interrupt)
 */
bool ir_unit_take_fault_event(struct ir_unit *ir);

/**
 * ir_unit_new() - a unit whose IR table and descriptors live in @hostmem
 * Return: the unit, or NULL for an invalid config or no memory.
 */
struct ir_unit *ir_unit_new(struct physmem *hostmem, const struct ir_unit_config *cfg);
void ir_unit_free(struct ir_unit *ir);

/*
 * Register access. @size is 4 or 8 and @offset naturally aligned; anything
 * else reads as all-ones and is ignored on write, as for a register the unit
 * does not have. 32-bit halves of 64-bit registers are accessible.
 */
uint64_t ir_unit_read(struct ir_unit *ir, uint32_t offset, unsigned size);
void ir_unit_write(struct ir_unit *ir, uint32_t offset, unsigned size, uint64_t val);

/**
 * ir_unit_translate() - process one interrupt write from a device
 * @rid:	the requester-id the write carried
 *
 * Never fails: a bad request is an architectural outcome (IR_BLOCKED with its
 * reason, recorded unless suppressed), not an error.
 */
void ir_unit_translate(struct ir_unit *ir, const struct msi_msg *msg, uint16_t rid,
		       struct ir_result *ret);

const struct ir_unit_stats *ir_unit_stats(const struct ir_unit *ir);

/* A range of interrupt indices an invalidation named. */
struct ir_inval {
	uint32_t first;
	uint32_t count;
};

#define IR_INVAL_RANGES 8

/**
 * ir_unit_take_invalidated() - the index ranges IEC invalidations named
 * since the last call, into @ret (IR_INVAL_RANGES at most), and forget them.
 * For an owner that keeps what it derived from entries (a VMM's routes).
 * Return: the number of ranges, or -1 if every entry may have changed (a
 * global invalidation, a new table, more ranges than fit).
 */
int ir_unit_take_invalidated(struct ir_unit *ir, struct ir_inval *ret) WARN_UNUSED;

/** ir_unit_table_entries() - entries of the active table (0 before SIRTP) */
uint32_t ir_unit_table_entries(const struct ir_unit *ir);
/** ir_unit_eime() - whether the active table is in x2APIC mode */
bool ir_unit_eime(const struct ir_unit *ir);
/** ir_unit_posting() - CAP.PI of this unit */
bool ir_unit_posting(const struct ir_unit *ir);

/**
 * ir_unit_restore() - @ir takes the state @from holds, as a VMM's emulated unit on a
 * migration's destination (QEMU's intel-iommu vmstate): registers, the latched table, the
 * invalidation queue and the fault records. The entry cache starts empty; the tables are
 * in the memory the two units read, copied with it. Return: 0, or -EINVAL for a unit of
 * another model (capabilities, fault records, cache size), with @ir unchanged.
 */
int ir_unit_restore(struct ir_unit *ir, const struct ir_unit *from) WARN_UNUSED;

#endif
