/* SPDX-License-Identifier: MIT */
/*
 * The AMD-Vi interrupt remapping driver, over a unit's registers, as Linux's
 * drivers/iommu/amd/ does it: every device table entry starts with IV set and IntCtl at
 * abort (init_device_table()), so a device without a table of its own raises nothing; a
 * device gets its own interrupt table when it is attached (alloc_irq_table()), entries in
 * naturally aligned blocks of it (alloc_irq_index()); each entry change is written (one
 * 128-bit compare-and-exchange for the 128-bit format, as modify_irte_ga() does) and
 * followed by INVALIDATE_INTERRUPT_TABLE for the device and a COMPLETION_WAIT whose store
 * the driver checks (iommu_flush_irt_and_complete()). The event log and the GA log are
 * drained by their owners' calls.
 *
 * The host runs it on its unit; the registers are reached through struct ir_regs, whose
 * offsets are then the AMD-Vi unit's.
 */
#ifndef PVIR_AMDVI_DRIVER_H
#define PVIR_AMDVI_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "pvir/amdvi_unit.h"
#include "pvir/compiler.h"
#include "pvir/ir_driver.h"

struct physmem;
struct msi_msg;

#define AMDVI_RING_BYTES 4096 /* the command buffer, the event log and the GA log: one page each */

struct amdvi_driver_config {
	uint64_t dev_table;	/* 4 KiB aligned, 32 bytes per requester-id */
	uint32_t devids;	/* requester-ids it covers: 128 .. 65536, a multiple of 128 */
	uint64_t cmd_base;	/* 4 KiB aligned, AMDVI_RING_BYTES each */
	uint64_t evt_base;	/* */
	uint64_t ga_base;	/* */
	uint64_t store_addr;	/* 8-byte aligned: COMPLETION_WAIT's store */
	uint64_t tables;	/* 4 KiB aligned: room for @max_devices interrupt tables */
	uint32_t max_devices;	/* devices that can have a table at once */
	uint32_t table_entries; /* per device: 512, or 2048 (NumIntRemapMode) */
	bool ga;		/* the 128-bit entry format (GAEn) */
	bool vapic;		/* and guest mode: GAM, the GA log (needs @ga) */
	bool x2apic;		/* XTEn: 32-bit destinations */
	bool failpoints;	/* entry writes and invalidations can be made to fail */
};

struct amdvi_driver_stats {
	uint64_t irte_writes;
	uint64_t irt_invalidations;
	uint64_t dte_writes;
	uint64_t events_drained[16]; /* by event code */
	uint64_t ga_drained;
	uint64_t overflows_seen; /* times a log was found overflowed */
};

struct amdvi_driver;

/**
 * amdvi_driver_new() - bind a driver to @u and enable remapping
 * Return: 0 and *@ret; -EINVAL for a bad config (or 2048 entries, or @ga, that the unit
 * does not support), -ENOMEM, or -EIO when the unit does not complete the first
 * invalidation.
 */
int amdvi_driver_new(struct physmem *hostmem, struct amdvi_unit *u,
		     const struct amdvi_driver_config *cfg, struct amdvi_driver **ret) WARN_UNUSED;
int amdvi_driver_new_regs(struct physmem *mem, const struct ir_regs *regs,
			  const struct amdvi_driver_config *cfg,
			  struct amdvi_driver **ret) WARN_UNUSED;
void amdvi_driver_free(struct amdvi_driver *d);
/*
 * The machine is going away: as ir_driver_power_off(), entries are released
 * from now on without being stored or invalidated.
 */
void amdvi_driver_power_off(struct amdvi_driver *d);

/**
 * amdvi_dev_attach() - give requester-id @devid a table of its own and point its DTE at it
 * Return: 0, -EINVAL beyond the device table, -EEXIST if it has one, -ENOSPC when
 * @max_devices have tables, -EIO if the invalidation did not complete (then nothing
 * changed).
 */
int amdvi_dev_attach(struct amdvi_driver *d, uint16_t devid) WARN_UNUSED;
/**
 * amdvi_dev_detach() - back to IV set and IntCtl abort, and release the table
 * Return: 0, -ENOENT without a table, -EBUSY while entries are allocated, -EIO.
 */
int amdvi_dev_detach(struct amdvi_driver *d, uint16_t devid) WARN_UNUSED;
bool amdvi_dev_attached(const struct amdvi_driver *d, uint16_t devid);

/**
 * amdvi_irte_alloc() - a naturally aligned block of @count entries in @devid's table
 * Return: 0 and *@ret_index; -ENOENT without a table, -EINVAL for a bad @count, -ENOSPC.
 */
int amdvi_irte_alloc(struct amdvi_driver *d, uint16_t devid, uint32_t count,
		     uint32_t *ret_index) WARN_UNUSED;
/** amdvi_irte_alloc_at() - the block at @index of @devid's table, if free; as ir_irte_alloc_at() */
int amdvi_irte_alloc_at(struct amdvi_driver *d, uint16_t devid, uint32_t index,
			uint32_t count) WARN_UNUSED;
/** amdvi_irte_free() - clear a block, invalidate the device's table, release the block */
int amdvi_irte_free(struct amdvi_driver *d, uint16_t devid, uint32_t index,
		    uint32_t count) WARN_UNUSED;

/**
 * amdvi_irte_write() - replace entry @index of @devid with @e, and invalidate
 * @e: the 128-bit entry; in the legacy format its low 32 bits
 * Return: 0; -EINVAL for an entry not allocated; -EIO when the invalidation did not
 * complete: then the old entry is stored back, so memory and the unit's cache both say
 * what the entry said before the call.
 */
int amdvi_irte_write(struct amdvi_driver *d, uint16_t devid, uint32_t index,
		     const struct amdvi_irte_ga *e) WARN_UNUSED;
/**
 * amdvi_irte_update() - amdvi_irte_write(), but an entry that already holds @e is only
 * counted, as written and flushed (Linux rewrites and flushes whether or not it changed)
 */
int amdvi_irte_update(struct amdvi_driver *d, uint16_t devid, uint32_t index,
		      const struct amdvi_irte_ga *e) WARN_UNUSED;
/**
 * amdvi_irte_set_run() - store a guest-mode entry whose IsRun, GALogIntr, Destination or
 * GATag changed, with no invalidation: the unit reads those afresh (amd_iommu_update_ga())
 * Return: 0, -EINVAL unless both the entry and @e are guest-mode and allocated.
 */
int amdvi_irte_set_run(struct amdvi_driver *d, uint16_t devid, uint32_t index,
		       const struct amdvi_irte_ga *e) WARN_UNUSED;
int amdvi_irte_read(const struct amdvi_driver *d, uint16_t devid, uint32_t index,
		    struct amdvi_irte_ga *ret) WARN_UNUSED;

/**
 * amdvi_msi_compose() - the message that names entry @index of a device's table
 * (Linux fill_msi_msg(): data is the index; with 2048-entry tables address bit 2 is set)
 */
void amdvi_msi_compose(const struct amdvi_driver *d, uint32_t index, struct msi_msg *ret);

/** amdvi_driver_drain_events() - read every logged event; Return: how many */
unsigned amdvi_driver_drain_events(struct amdvi_driver *d);

typedef void (*amdvi_ga_fn)(void *ctx, uint32_t ga_tag, uint16_t devid);
/** amdvi_driver_drain_ga_log() - @fn for each GA log entry, oldest first; Return: how many */
unsigned amdvi_driver_drain_ga_log(struct amdvi_driver *d, amdvi_ga_fn fn, void *ctx);

bool amdvi_driver_ga(const struct amdvi_driver *d);
/** amdvi_driver_vapic() - entries can post in guest mode (AVIC) */
bool amdvi_driver_vapic(const struct amdvi_driver *d);
/** amdvi_driver_in_use() - entries allocated, over every device's table */
uint32_t amdvi_driver_in_use(const struct amdvi_driver *d);
uint32_t amdvi_driver_table_entries(const struct amdvi_driver *d);
const struct amdvi_driver_stats *amdvi_driver_stats(const struct amdvi_driver *d);

/**
 * amdvi_driver_set_memory() - the memory the driver's tables live in is now @mem, holding the same
 * bytes at the same addresses: a guest kernel whose VM migrated (guest_rebind())
 */
void amdvi_driver_set_memory(struct amdvi_driver *d, struct physmem *mem);

#endif
