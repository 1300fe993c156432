/* SPDX-License-Identifier: MIT */
/*
 * The pvir hypercall ABI, version 1: the contract between a guest's
 * paravirtual interrupt-remapping driver and the VMM. docs/abi.md is its
 * prose; this header is its letter, shared by both sides of the simulator.
 *
 * Calling convention (KVM's): function number in RAX, arguments in RBX, RCX,
 * RDX, RSI; the result in RAX (0 or a negative Linux errno); extra outputs in
 * RBX, RCX, RDX.
 */
#ifndef PVIR_HCALL_ABI_H
#define PVIR_HCALL_ABI_H

#include <stdint.h>

/* Function numbers: "PV" in the high half keeps clear of KVM's KVM_HC_* (1..12). */
#define PVIR_HC_BASE	  UINT64_C(0x50560000)
#define PVIR_HC_QUERY	  (PVIR_HC_BASE + 1)
#define PVIR_HC_SET_TABLE (PVIR_HC_BASE + 2)
#define PVIR_HC_SYNC	  (PVIR_HC_BASE + 3)
#define PVIR_HC_SET_EVENT (PVIR_HC_BASE + 4) /* with PVIR_FEAT_REMAP_EVENT */

#define PVIR_ABI_VERSION 1

/* QUERY feature bits (RCX). */
#define PVIR_FEAT_POSTED      (UINT64_C(1) << 0) /* entries are posted to vCPUs */
#define PVIR_FEAT_BATCH	      (UINT64_C(1) << 1) /* SYNC takes count > 1 */
#define PVIR_FEAT_REMAP_EVENT (UINT64_C(1) << 2) /* the host may ask for a re-sync */
#define PVIR_FEAT_MSI	      (UINT64_C(1) << 3) /* vIRTEs may carry PVIR_VIRTE_MSI */
#define PVIR_FEAT_PARK	      (UINT64_C(1) << 4) /* PVIR_SHUTDOWN_VECTOR may be asked for */

/*
 * The remap event (docs/abi.md, docs/migration.md): the host writes -PVIR_ESTALE into the
 * status of every vIRTE whose host IRTE it no longer holds — the VM moved and the entry's
 * handle could not be kept — then sends the vector the guest gave SET_EVENT, once. Such
 * an entry's message in the device's storage is stale: the guest SYNCs it again and
 * writes the message it gets back. Linux's ESTALE.
 */
#define PVIR_ESTALE 116

/*
 * What KVM answers for a hypercall it does not know: -KVM_ENOSYS, which is
 * -1000, not -ENOSYS. A guest must take either as "no such service".
 */
#define PVIR_KVM_ENOSYS 1000

/* The table: 4 KiB aligned, at most this many entries. */
#define PVIR_TABLE_ALIGN       4096
#define PVIR_TABLE_MAX_ENTRIES 65536

/*
 * A vIRTE: 32 bytes, little-endian, in guest memory. The guest writes bytes
 * 0x00..0x0f; the host writes 0x10..0x1f back during SYNC.
 */
#define PVIR_VIRTE_SIZE	      32
#define PVIR_VIRTE_SID	      0x00 /* u16: the device's guest requester-id (BDF) */
#define PVIR_VIRTE_FLAGS      0x02 /* u16 */
#define PVIR_VIRTE_DEST	      0x04 /* u32: the target vCPU's guest APIC ID */
#define PVIR_VIRTE_VECTOR     0x08 /* u8: the guest vector */
#define PVIR_VIRTE_RSVD	      0x09 /* 7 bytes, must be zero */
#define PVIR_VIRTE_ADDR_LO    0x10 /* u32, host-written: message address low */
#define PVIR_VIRTE_ADDR_HI    0x14 /* u32, host-written: message address high */
#define PVIR_VIRTE_DATA	      0x18 /* u32, host-written: message data */
#define PVIR_VIRTE_STATUS     0x1c /* s32, host-written: 0 or -errno */
#define PVIR_VIRTE_GUEST_SIZE 0x10

/* vIRTE flags. */
#define PVIR_VIRTE_PRESENT    (1u << 0) /* program (or keep) a host IRTE */
#define PVIR_VIRTE_URGENT     (1u << 1) /* notify even while the vCPU is preempted */
#define PVIR_VIRTE_LEVEL      (1u << 2) /* must be 0: MSI, MSI-X and IMS are edge */
/*
 * With PVIR_FEAT_MSI: a vector of the device's MSI capability, not of its MSI-X table
 * or IMS. A multi-message MSI is one block: its vectors' vIRTEs consecutive, vector 0
 * first, all made present in the SYNC that enables it, which cannot add to it later
 * (-EBUSY). Vector 0's message goes into the capability; the device's vector n
 * reaches the host IRTE of the block's n-th vIRTE (docs/abi.md).
 */
#define PVIR_VIRTE_MSI	      (1u << 3)
#define PVIR_VIRTE_FLAGS_RSVD 0xfff0u

/* Vectors the guest may not ask for: the exceptions, and Linux's system vectors. */
#define PVIR_FIRST_VECTOR	 0x20
#define PVIR_FIRST_SYSTEM_VECTOR 0xec
#define PVIR_IA32_SYSCALL_VECTOR 0x80
/*
 * ... but for this one, with PVIR_FEAT_PARK: Linux's MANAGED_IRQ_SHUTDOWN_VECTOR, where
 * reservation mode parks an interrupt from its allocation to its request_irq(). No
 * handler owns it: an interrupt there is spurious to the guest (docs/abi.md).
 */
#define PVIR_SHUTDOWN_VECTOR	 0xef

#endif
