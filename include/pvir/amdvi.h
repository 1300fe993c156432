/* SPDX-License-Identifier: MIT */
/*
 * AMD-Vi interrupt remapping: the formats, bit-exact (the unit that reads
 * them is pvir/amdvi_unit.h). The AMD IOMMU specification (document 48882) is not at hand:
 * every field is placed where Linux (drivers/iommu/amd/amd_iommu_types.h:
 * union irte, union irte_ga_lo/_hi, DTE_IRQ_*, DEV_ENTRY_*_PASS) and QEMU
 * (hw/i386/amd_iommu.h and .c) both put it; where they differ,
 * docs/hardware.md says which we chose and why.
 *
 * Unlike VT-d, each requester-id has its own interrupt remapping table,
 * found through its device table entry (DTE), and isolation comes from
 * that choice of table, not from a source-id in the entry. The MSI data
 * holds the table index (data[10:0]).
 *
 *   legacy IRTE, 32 bits:  0 RemapEn  1 SupIOPF  4:2 IntType  5 RqEoi  6 DM
 *                          7 reserved  15:8 Destination  23:16 Vector
 *                          31:24 reserved
 *   GA IRTE, 128 bits, low qword:  0 RemapEn  1 SupIOPF  7 GuestMode
 *       remapped (GuestMode=0):    4:2 IntType  5 RqEoi  6 DM  31:8 Dest[23:0]
 *                                  63:32 reserved
 *       guest (GuestMode=1, AVIC): 2 GALogIntr  5:3 reserved  6 IsRun
 *                                  31:8 Dest[23:0] (the host core's APIC ID)
 *                                  63:32 GATag
 *     high qword:  7:0 Vector (the guest's, in guest mode)  11:8 reserved
 *                  51:12 GARootPtr (vAPIC backing page >> 12; guest mode,
 *                  else reserved)  55:52 reserved  63:56 Dest[31:24]
 *   DTE, its third qword (bits 191:128 of the 256-bit entry): 0 IV
 *       4:1 IntTabLen (2^n entries)  51:6 IntTableRootPtr (>> 6)
 *       56 InitPass  57 EIntPass  58 NMIPass  61:60 IntCtl  62 Lint0Pass
 *       63 Lint1Pass
 */
#ifndef PVIR_AMDVI_H
#define PVIR_AMDVI_H

#include <stdbool.h>
#include <stdint.h>

/*
 * IntType is a delivery mode, encoded as in MSI data and the IOAPIC (enum
 * msi_delivery_mode, pvir/msi.h); 3 and 6 are reserved.
 */

/* DTE IntCtl: what the unit does with a fixed or arbitrated interrupt. */
enum amdvi_intctl {
	AMDVI_INTCTL_ABORT = 0,
	AMDVI_INTCTL_PASS = 1,
	AMDVI_INTCTL_REMAP = 2, /* 3 is reserved */
};

#define AMDVI_MSI_INDEX_MASK 0x7ffu /* MSI data[10:0]: the IRTE's index */

struct amdvi_irte32 {
	bool remap_en;
	bool sup_iopf; /* suppress I/O page fault logging */
	uint8_t int_type;
	bool rq_eoi;
	bool dm;
	uint8_t dest;
	uint8_t vector;
};

struct amdvi_irte_ga {
	uint64_t lo;
	uint64_t hi;
};

/* The GA entry read as remapped (GuestMode=0). */
struct amdvi_ga_remap {
	bool remap_en;
	bool sup_iopf;
	uint8_t int_type;
	bool rq_eoi;
	bool dm;
	uint32_t dest; /* 32 bits: x2APIC */
	uint8_t vector;
};

/* The GA entry read in guest mode (GuestMode=1): AVIC posting. */
struct amdvi_ga_vapic {
	bool remap_en;
	bool sup_iopf;
	bool ga_log_intr;     /* log to the GA log when the vCPU does not run */
	bool is_run;	      /* the vCPU runs: ring the doorbell at @dest */
	uint32_t dest;	      /* the host core the vCPU runs on */
	uint32_t ga_tag;      /* the host's tag for the vCPU, echoed in GA log entries */
	uint64_t ga_root_ptr; /* the vAPIC backing page, >> 12 (40 bits) */
	uint8_t vector;	      /* the guest's vector */
};

struct amdvi_dte_intr {
	bool iv;		 /* the interrupt fields are valid */
	uint8_t int_tab_len;	 /* the table holds 2^int_tab_len entries */
	uint64_t int_table_root; /* physical address, 128-byte aligned */
	bool init_pass, eint_pass, nmi_pass, lint0_pass, lint1_pass;
	uint8_t int_ctl;
};

uint32_t amdvi_irte32_encode(const struct amdvi_irte32 *e);
void amdvi_irte32_decode(uint32_t v, struct amdvi_irte32 *ret);
/* @v masked down to its reserved bits, IntType's reserved encodings included */
uint32_t amdvi_irte32_reserved(uint32_t v);

bool amdvi_ga_guest_mode(const struct amdvi_irte_ga *e);
void amdvi_ga_remap_encode(const struct amdvi_ga_remap *r, struct amdvi_irte_ga *ret);
void amdvi_ga_remap_decode(const struct amdvi_irte_ga *e, struct amdvi_ga_remap *ret);
void amdvi_ga_vapic_encode(const struct amdvi_ga_vapic *v, struct amdvi_irte_ga *ret);
void amdvi_ga_vapic_decode(const struct amdvi_irte_ga *e, struct amdvi_ga_vapic *ret);
/* @e masked down to its reserved bits, in the view its GuestMode selects */
struct amdvi_irte_ga amdvi_ga_reserved(const struct amdvi_irte_ga *e);

uint64_t amdvi_dte_intr_encode(const struct amdvi_dte_intr *d);
void amdvi_dte_intr_decode(uint64_t dte2, struct amdvi_dte_intr *ret);

/* The IRTE index an MSI's data names. */
static inline unsigned amdvi_msi_index(uint32_t data)
{
	return data & AMDVI_MSI_INDEX_MASK;
}

#endif
