/* SPDX-License-Identifier: MIT */
/*
 * The VT-d interrupt-remapping driver, over an IR unit's registers
 * (Linux drivers/iommu/intel/irq_remapping.c): the enable sequence Linux uses, an IRTE allocator of
 * naturally aligned power-of-two blocks, the IRTE write protocol (one 128-bit
 * compare-and-exchange whenever the old or the new entry is posted, else low
 * qword then high qword), an index-selective IEC invalidation followed by a
 * wait after every change, and draining of the fault log.
 *
 * Entry 0 is reserved, never allocated: a message with a zero handle faults.
 *
 * The host runs it on its unit; a `vir-emul` guest runs the same driver on its
 * emulated vIOMMU, through register accessors that make trapped MMIO accesses.
 *
 * The driver owns three areas of memory (host memory, or the guest's RAM): the IR table, the invalidation
 * queue and the wait-status word. It keeps no copy of the table: what is in
 * memory is the truth, so a test can inspect it directly.
 */
#ifndef PVIR_IR_DRIVER_H
#define PVIR_IR_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "pvir/compiler.h"
#include "pvir/ir_unit.h"
#include "pvir/irte.h"

struct physmem;

struct ir_driver_config {
	uint64_t irt_base;    /* 4 KiB aligned, room for @entries * 16 bytes */
	uint32_t entries;     /* a power of two, 2 .. IR_MAX_ENTRIES */
	uint64_t qi_base;     /* 4 KiB aligned, one page: 256 descriptors */
	uint64_t status_addr; /* 4-byte aligned word for wait descriptors */
	bool x2apic;	      /* IRTA.EIME */
	bool failpoints;      /* the host's: IRTE writes and invalidations can be made to fail */
};

/* How the driver reaches the unit's registers (VT-d §10.4 offsets). */
struct ir_regs {
	uint64_t (*read)(void *ctx, uint32_t offset, unsigned size);
	void (*write)(void *ctx, uint32_t offset, unsigned size, uint64_t val);
	void *ctx;
};

struct ir_driver_stats {
	uint64_t irte_writes;
	uint64_t iec_invalidations;
	uint64_t faults_drained[IR_FAULT_COUNT];
	uint64_t overflows_seen; /* times PFO was found set */
};

struct ir_driver;

/**
 * ir_driver_new() - bind a driver to @ir and enable interrupt remapping
 *
 * Enables queued invalidation, points the unit at the table (SIRTP), flushes
 * the IEC globally, enables IR and blocks compatibility-format interrupts
 * (CFI clear), checking GSTS after each step as Linux polls it.
 *
 * Return: 0 and *@ret, -EINVAL for a bad config, -ENOMEM, or -EIO when the
 * unit does not report a step done.
 */
int ir_driver_new(struct physmem *hostmem, struct ir_unit *ir, const struct ir_driver_config *cfg,
		  struct ir_driver **ret) WARN_UNUSED;
/** ir_driver_new_regs() - the same, for a unit reached through @regs, its areas in @mem */
int ir_driver_new_regs(struct physmem *mem, const struct ir_regs *regs,
		       const struct ir_driver_config *cfg, struct ir_driver **ret) WARN_UNUSED;
void ir_driver_free(struct ir_driver *d);
/*
 * The machine is going away (a run's end): nothing will translate through
 * the table again, so from now on entries are released without being stored
 * or invalidated, and a teardown of 65,535 interrupts runs no queued
 * invalidations. Writes and updates succeed without storing. Not for a host
 * that stays up: a VM that leaves mid-run is torn down whole.
 */
void ir_driver_power_off(struct ir_driver *d);

/**
 * ir_irte_alloc() - reserve a naturally aligned block of @count entries
 * @count:	a power of two no larger than 2^ECAP.MHMV and the table
 * Return: 0 and *@ret_index, -EINVAL for a bad @count, -ENOSPC when full.
 */
int ir_irte_alloc(struct ir_driver *d, uint32_t count, uint32_t *ret_index) WARN_UNUSED;

/**
 * ir_irte_alloc_at() - the block of @count entries at @index, if it is free: how a
 * destination host keeps a migrated VM's handles (docs/migration.md)
 * Return: 0; -EINVAL for a bad @count or an @index not aligned to it or past the table;
 * -EBUSY when an entry of the block is taken.
 */
int ir_irte_alloc_at(struct ir_driver *d, uint32_t index, uint32_t count) WARN_UNUSED;

/**
 * ir_irte_free() - clear a block's entries, invalidate them, release them
 * Return: 0, -EINVAL if [@index, @index + @count) is not an allocated block
 * start, or -EIO if the invalidation did not complete.
 */
int ir_irte_free(struct ir_driver *d, uint32_t index, uint32_t count) WARN_UNUSED;

/**
 * ir_irte_write() - replace entry @index (allocated) with @e and invalidate it
 * Return: 0, -EINVAL for an unallocated index, -EIO if the invalidation did
 * not complete (the entry is written; the cache may still hold the old one).
 */
int ir_irte_write(struct ir_driver *d, uint32_t index, const struct irte *e) WARN_UNUSED;

/**
 * ir_irte_update() - ir_irte_write() as the host's modify_irte() uses it
 *
 * An entry that already holds @e is only counted, as written and flushed:
 * Linux rewrites and flushes even when nothing changed, and KVM's route
 * commits on a `legacy` kernel do it for every irqfd of a VM, millions of
 * times in a large run; the unit would refetch the same entry.
 * If the invalidation does not complete, the old entry is stored back, so
 * that memory and whatever the cache holds both say what the entry said
 * before the call, and the caller's own record of it stays true.
 * Return: as ir_irte_write(); on any error the entry is as it was.
 */
int ir_irte_update(struct ir_driver *d, uint32_t index, const struct irte *e) WARN_UNUSED;

/** ir_irte_read() - the entry as it is in memory */
int ir_irte_read(const struct ir_driver *d, uint32_t index, struct irte *ret) WARN_UNUSED;

bool ir_irte_allocated(const struct ir_driver *d, uint32_t index);
uint32_t ir_driver_in_use(const struct ir_driver *d);
uint32_t ir_driver_entries(const struct ir_driver *d);

/**
 * ir_driver_drain_faults() - read and clear every pending fault record
 * Return: the number of records drained; counts go to the stats by reason.
 */
unsigned ir_driver_drain_faults(struct ir_driver *d);

/** ir_driver_remapping_secure() - IR on and compatibility format blocked */
bool ir_driver_remapping_secure(const struct ir_driver *d);
bool ir_driver_posting(const struct ir_driver *d);
bool ir_driver_x2apic(const struct ir_driver *d);
const struct ir_driver_stats *ir_driver_stats(const struct ir_driver *d);

/**
 * ir_driver_set_memory() - the memory the driver's tables live in is now @mem, holding the same
 * bytes at the same addresses: a guest kernel whose VM migrated (guest_rebind())
 */
void ir_driver_set_memory(struct ir_driver *d, struct physmem *mem);

#endif
