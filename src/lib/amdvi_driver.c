// SPDX-License-Identifier: MIT
/* The AMD-Vi interrupt remapping driver; see pvir/amdvi_driver.h. */
#include "pvir/amdvi_driver.h"

#include <errno.h>
#include <stdlib.h>

#include "pvir/blockalloc.h"
#include "pvir/failpoint.h"
#include "pvir/msi.h"
#include "pvir/physmem.h"

#define PAGE_SIZE    4096
#define DTE_SIZE     32
#define DTE_INTR     16			 /* the interrupt qword's offset in an entry */
#define RING_LEN_256 (UINT64_C(8) << 56) /* 2^8 entries of 16 bytes */
#define GA_LEN_512   (UINT64_C(8) << 56) /* 2^(8+1) entries of 8 bytes (GA_LOG_SIZE_512) */
#define NO_DEVICE    UINT32_MAX

struct amdvi_dev {
	uint16_t devid;
	struct blockalloc alloc; /* entries of its table; entries == 0 while free */
};

struct amdvi_driver {
	struct physmem *mem;
	struct ir_regs regs;
	struct amdvi_driver_config cfg;
	uint32_t cmd_tail;
	uint64_t seq;	  /* the last COMPLETION_WAIT's store value */
	uint32_t *dev_of; /* by requester-id: its slot in @devs, or NO_DEVICE */
	struct amdvi_dev *devs;
	struct amdvi_driver_stats stats;
	bool off; /* amdvi_driver_power_off(): entries are released, not stored */
};

static uint64_t reg_read(const struct amdvi_driver *d, uint32_t off)
{
	return d->regs.read(d->regs.ctx, off, 8);
}

static void reg_write(struct amdvi_driver *d, uint32_t off, uint64_t val)
{
	d->regs.write(d->regs.ctx, off, 8, val);
}

static uint64_t unit_read(void *ctx, uint32_t off, unsigned size)
{
	return amdvi_unit_read(ctx, off, size);
}

static void unit_write(void *ctx, uint32_t off, unsigned size, uint64_t val)
{
	amdvi_unit_write(ctx, off, size, val);
}

static unsigned entry_size(const struct amdvi_driver *d)
{
	return d->cfg.ga ? 16 : 4;
}

static uint64_t table_bytes(const struct amdvi_driver *d)
{
	return (uint64_t)d->cfg.table_entries * entry_size(d);
}

static uint64_t table_of(const struct amdvi_driver *d, uint32_t slot)
{
	return d->cfg.tables + slot * table_bytes(d);
}

/* ---- commands ------------------------------------------------------------------------------ */

/*
 * The command is copied in as plain memory, as Linux's copy_cmd_to_buffer() copies
 * it: the unit reads it only after the tail register's write, which orders it.
 */
static int put_command(struct amdvi_driver *d, struct amdvi_cmd c)
{
	uint64_t at = d->cfg.cmd_base + d->cmd_tail;
	uint64_t words[2] = {c.lo, c.hi};
	int err = physmem_write(d->mem, at, words, sizeof(words));

	d->cmd_tail = (d->cmd_tail + 16) % AMDVI_RING_BYTES;
	return err;
}

/* @c, then a COMPLETION_WAIT whose store is checked (iommu_completion_wait()). */
static int submit_sync(struct amdvi_driver *d, struct amdvi_cmd c)
{
	uint64_t seq = ++d->seq, stored = 0;
	int err = put_command(d, c);

	if (!err)
		err = put_command(d, amdvi_cmd_completion_wait(d->cfg.store_addr, seq, false));
	if (err)
		return err;
	reg_write(d, AMDVI_MMIO_CMD_TAIL, d->cmd_tail);
	if (physmem_load64(d->mem, d->cfg.store_addr, &stored) || stored != seq)
		return -EIO;
	return 0;
}

/* An invalidation and its wait; the host's can be made to fail, as a command error. */
static int invalidate(struct amdvi_driver *d, struct amdvi_cmd c)
{
	if (d->cfg.failpoints && failpoint_hit(FAILPOINT_INVALIDATION))
		return -EIO;
	return submit_sync(d, c);
}

static int flush_irt(struct amdvi_driver *d, uint16_t devid)
{
	d->stats.irt_invalidations++;
	return invalidate(d, amdvi_cmd_inv_intr_table(devid));
}

/* ---- enabling ------------------------------------------------------------------------------ */

/* The DTE's interrupt qword: remapping through @table, or (0) abort as at boot. */
static uint64_t dte_intr_of(const struct amdvi_driver *d, uint64_t table)
{
	struct amdvi_dte_intr i = {.iv = true, .int_ctl = AMDVI_INTCTL_ABORT};

	if (table) {
		i.int_tab_len = (uint8_t)log2_u32(d->cfg.table_entries);
		i.int_table_root = table;
		i.int_ctl = AMDVI_INTCTL_REMAP;
	}
	return amdvi_dte_intr_encode(&i);
}

static int dte_store(struct amdvi_driver *d, uint16_t devid, uint64_t intr)
{
	d->stats.dte_writes++;
	return physmem_store64(d->mem, d->cfg.dev_table + (uint64_t)devid * DTE_SIZE + DTE_INTR,
			       intr);
}

static uint64_t control_of(const struct amdvi_driver *d)
{
	static const unsigned always[] = {AMDVI_CTRL_IOMMU_EN, AMDVI_CTRL_EVT_LOG_EN,
					  AMDVI_CTRL_EVT_INT_EN, AMDVI_CTRL_CMD_BUF_EN};
	static const unsigned vapic[] = {AMDVI_CTRL_GAM_VAPIC, AMDVI_CTRL_GA_LOG_EN,
					 AMDVI_CTRL_GA_INT_EN};
	uint64_t c = bit_set(0, AMDVI_CTRL_GA_EN, d->cfg.ga);

	for (unsigned i = 0; i < ARRAY_SIZE(always); i++)
		c = bit_set(c, always[i], true);
	for (unsigned i = 0; d->cfg.vapic && i < ARRAY_SIZE(vapic); i++)
		c = bit_set(c, vapic[i], true);
	c = bit_set(c, AMDVI_CTRL_XT_EN, d->cfg.x2apic);
	return bit_set(c, AMDVI_CTRL_NUM_INT_LO, d->cfg.table_entries == 2048);
}

static int enable(struct amdvi_driver *d)
{
	static const uint32_t pointers[] = {AMDVI_MMIO_CMD_HEAD, AMDVI_MMIO_CMD_TAIL,
					    AMDVI_MMIO_EVT_HEAD, AMDVI_MMIO_EVT_TAIL,
					    AMDVI_MMIO_GA_HEAD,	 AMDVI_MMIO_GA_TAIL};
	uint64_t abort = dte_intr_of(d, 0);

	for (uint32_t id = 0; id < d->cfg.devids; id++)
		if (dte_store(d, (uint16_t)id, abort))
			return -EFAULT;
	reg_write(d, AMDVI_MMIO_DEV_TABLE,
		  d->cfg.dev_table | (d->cfg.devids * DTE_SIZE / PAGE_SIZE - 1));
	reg_write(d, AMDVI_MMIO_CMD_BUF, d->cfg.cmd_base | RING_LEN_256);
	reg_write(d, AMDVI_MMIO_EVT_LOG, d->cfg.evt_base | RING_LEN_256);
	reg_write(d, AMDVI_MMIO_GA_LOG, d->cfg.ga_base | GA_LEN_512);
	for (unsigned i = 0; i < ARRAY_SIZE(pointers); i++)
		reg_write(d, pointers[i], 0);
	reg_write(d, AMDVI_MMIO_CONTROL, control_of(d));
	return submit_sync(d, amdvi_cmd_inv_all());
}

static bool config_valid(const struct physmem *mem, const struct amdvi_driver_config *c)
{
	uint64_t per = (uint64_t)c->table_entries * (c->ga ? 16 : 4);

	return c->devids >= 128 && c->devids <= 65536 && c->devids % 128 == 0 &&
	       (c->table_entries == 512 || c->table_entries == 2048) && c->max_devices > 0 &&
	       c->dev_table % PAGE_SIZE == 0 && c->cmd_base % PAGE_SIZE == 0 &&
	       c->evt_base % PAGE_SIZE == 0 && c->ga_base % PAGE_SIZE == 0 &&
	       c->tables % PAGE_SIZE == 0 && c->store_addr % 8 == 0 &&
	       physmem_range_ok(mem, c->dev_table, (uint64_t)c->devids * DTE_SIZE) &&
	       physmem_range_ok(mem, c->cmd_base, AMDVI_RING_BYTES) &&
	       physmem_range_ok(mem, c->evt_base, AMDVI_RING_BYTES) &&
	       physmem_range_ok(mem, c->ga_base, AMDVI_RING_BYTES) &&
	       physmem_range_ok(mem, c->store_addr, 8) &&
	       physmem_range_ok(mem, c->tables, per * c->max_devices);
}

/* What the unit can do: GA and 2048 entries only where it says so. */
static bool unit_supports(const struct amdvi_driver *d)
{
	uint64_t efr = reg_read(d, AMDVI_MMIO_EXT_FEAT);
	uint64_t efr2 = reg_read(d, AMDVI_MMIO_EXT_FEAT2);

	return (!d->cfg.ga || bit_get(efr, AMDVI_FEATURE_GA)) &&
	       (!d->cfg.vapic || (d->cfg.ga && bit_get(efr, AMDVI_FEATURE_GAM_VAPIC))) &&
	       (!d->cfg.x2apic || bit_get(efr, AMDVI_FEATURE_XT)) &&
	       (d->cfg.table_entries != 2048 || bits_get(efr2, 9, 8) == 1);
}

int amdvi_driver_new(struct physmem *hostmem, struct amdvi_unit *u,
		     const struct amdvi_driver_config *cfg, struct amdvi_driver **ret)
{
	struct ir_regs regs = {.read = unit_read, .write = unit_write, .ctx = u};

	if (!u)
		return -EINVAL;
	return amdvi_driver_new_regs(hostmem, &regs, cfg, ret);
}

int amdvi_driver_new_regs(struct physmem *mem, const struct ir_regs *regs,
			  const struct amdvi_driver_config *cfg, struct amdvi_driver **ret)
{
	struct amdvi_driver *d;
	int err;

	if (!mem || !regs || !cfg || !config_valid(mem, cfg))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->mem = mem;
	d->regs = *regs;
	d->cfg = *cfg;
	d->dev_of = malloc(cfg->devids * sizeof(*d->dev_of));
	d->devs = calloc(cfg->max_devices, sizeof(*d->devs));
	if (!d->dev_of || !d->devs) {
		amdvi_driver_free(d);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cfg->devids; i++)
		d->dev_of[i] = NO_DEVICE;
	err = unit_supports(d) ? enable(d) : -EINVAL;
	if (err) {
		amdvi_driver_free(d);
		return err;
	}
	*ret = d;
	return 0;
}

void amdvi_driver_free(struct amdvi_driver *d)
{
	if (!d)
		return;
	for (uint32_t i = 0; d->devs && i < d->cfg.max_devices; i++)
		blockalloc_destroy(&d->devs[i].alloc);
	free(d->devs);
	free(d->dev_of);
	free(d);
}

/* ---- devices ------------------------------------------------------------------------------- */

static struct amdvi_dev *dev_find(const struct amdvi_driver *d, uint16_t devid)
{
	if (devid >= d->cfg.devids || d->dev_of[devid] == NO_DEVICE)
		return NULL;
	return &d->devs[d->dev_of[devid]];
}

bool amdvi_dev_attached(const struct amdvi_driver *d, uint16_t devid)
{
	return dev_find(d, devid) != NULL;
}

static int table_clear(struct amdvi_driver *d, uint64_t table)
{
	for (uint64_t off = 0; off < table_bytes(d); off += 8)
		if (physmem_store64(d->mem, table + off, 0))
			return -EFAULT;
	return 0;
}

/* The DTE points at the table (or back at abort), then INVALIDATE_DEVTAB_ENTRY. */
static int dte_switch(struct amdvi_driver *d, uint16_t devid, uint64_t table)
{
	uint64_t pa = d->cfg.dev_table + (uint64_t)devid * DTE_SIZE + DTE_INTR, old;
	int err = physmem_load64(d->mem, pa, &old);

	if (!err)
		err = dte_store(d, devid, dte_intr_of(d, table));
	if (!err)
		err = invalidate(d, amdvi_cmd_inv_devtab_entry(devid));
	if (err == -EIO)
		(void)!dte_store(d, devid, old); /* not invalidated: the unit holds the old one */
	return err;
}

int amdvi_dev_attach(struct amdvi_driver *d, uint16_t devid)
{
	uint32_t slot = 0;
	int err;

	if (devid >= d->cfg.devids)
		return -EINVAL;
	if (dev_find(d, devid))
		return -EEXIST;
	while (slot < d->cfg.max_devices && d->devs[slot].alloc.entries)
		slot++;
	if (slot == d->cfg.max_devices)
		return -ENOSPC;
	err = table_clear(d, table_of(d, slot));
	if (!err)
		err = blockalloc_init(&d->devs[slot].alloc, d->cfg.table_entries);
	if (!err) {
		err = dte_switch(d, devid, table_of(d, slot));
		if (err)
			blockalloc_destroy(&d->devs[slot].alloc);
	}
	if (err)
		return err;
	d->devs[slot].devid = devid;
	d->dev_of[devid] = slot;
	return 0;
}

int amdvi_dev_detach(struct amdvi_driver *d, uint16_t devid)
{
	struct amdvi_dev *dev = dev_find(d, devid);
	int err;

	if (!dev)
		return -ENOENT;
	if (dev->alloc.in_use)
		return -EBUSY;
	err = dte_switch(d, devid, 0);
	if (err)
		return err;
	blockalloc_destroy(&dev->alloc);
	d->dev_of[devid] = NO_DEVICE;
	return 0;
}

/* ---- entries ------------------------------------------------------------------------------- */

int amdvi_irte_alloc(struct amdvi_driver *d, uint16_t devid, uint32_t count, uint32_t *ret_index)
{
	struct amdvi_dev *dev = dev_find(d, devid);

	return dev ? blockalloc_alloc(&dev->alloc, count, ret_index) : -ENOENT;
}

int amdvi_irte_alloc_at(struct amdvi_driver *d, uint16_t devid, uint32_t index, uint32_t count)
{
	struct amdvi_dev *dev = dev_find(d, devid);

	return dev ? blockalloc_alloc_at(&dev->alloc, index, count) : -ENOENT;
}

static uint64_t entry_pa(const struct amdvi_driver *d, const struct amdvi_dev *dev, uint32_t index)
{
	return table_of(d, (uint32_t)(dev - d->devs)) + (uint64_t)index * entry_size(d);
}

int amdvi_irte_read(const struct amdvi_driver *d, uint16_t devid, uint32_t index,
		    struct amdvi_irte_ga *ret)
{
	const struct amdvi_dev *dev = dev_find(d, devid);
	uint64_t pa, q[2];
	int err;

	if (!dev || index >= d->cfg.table_entries)
		return -EINVAL;
	pa = entry_pa(d, dev, index);
	if (d->cfg.ga) {
		err = physmem_load128(d->mem, pa, q);
		if (!err)
			*ret = (struct amdvi_irte_ga){.lo = q[0], .hi = q[1]};
		return err;
	}
	err = physmem_load64(d->mem, pa & ~UINT64_C(7), q);
	if (!err)
		*ret = (struct amdvi_irte_ga){.lo = (uint32_t)(q[0] >> (8 * (pa & 4)))};
	return err;
}

/*
 * One store the unit sees whole: a 128-bit compare-and-exchange for the GA format
 * (modify_irte_ga()), a 32-bit entry as the half of its qword (modify_irte()).
 */
static int store_entry(struct amdvi_driver *d, const struct amdvi_dev *dev, uint32_t index,
		       const struct amdvi_irte_ga *e)
{
	uint64_t pa = entry_pa(d, dev, index), old[2], q;
	int err;

	if (d->cfg.ga) {
		uint64_t new[2] = {e->lo, e->hi};

		err = physmem_load128(d->mem, pa, old);
		while (!err && (err = physmem_cmpxchg128(d->mem, pa, old, new)) == -EAGAIN)
			; /* only another writer can race: the unit never writes entries */
		return err;
	}
	err = physmem_load64(d->mem, pa & ~UINT64_C(7), &q);
	while (!err) {
		unsigned shift = 8 * (unsigned)(pa & 4);
		uint64_t want = (q & ~(UINT64_C(0xffffffff) << shift)) | (uint64_t)(uint32_t)e->lo
									     << shift;

		err = physmem_cmpxchg64(d->mem, pa & ~UINT64_C(7), &q, want);
		if (err != -EAGAIN)
			break;
		err = 0;
	}
	return err;
}

int amdvi_irte_write(struct amdvi_driver *d, uint16_t devid, uint32_t index,
		     const struct amdvi_irte_ga *e)
{
	struct amdvi_dev *dev = dev_find(d, devid);
	struct amdvi_irte_ga old;
	int err;

	if (!dev || !blockalloc_used(&dev->alloc, index))
		return -EINVAL;
	if (d->off)
		return 0;
	if (d->cfg.failpoints && failpoint_hit(FAILPOINT_IRTE_WRITE))
		return -EIO; /* the entry as it was */
	err = amdvi_irte_read(d, devid, index, &old);
	if (!err)
		err = store_entry(d, dev, index, e);
	if (err)
		return err;
	d->stats.irte_writes++;
	err = flush_irt(d, devid);
	if (err == -EIO)
		(void)!store_entry(d, dev, index, &old); /* read above: the same address stores */
	return err;
}

int amdvi_irte_update(struct amdvi_driver *d, uint16_t devid, uint32_t index,
		      const struct amdvi_irte_ga *e)
{
	struct amdvi_dev *dev = dev_find(d, devid);
	struct amdvi_irte_ga old;

	if (!dev || !blockalloc_used(&dev->alloc, index) || amdvi_irte_read(d, devid, index, &old))
		return -EINVAL;
	if (old.lo == e->lo && old.hi == e->hi) {
		d->stats.irte_writes++; /* the same entry: counted, not run through the unit */
		d->stats.irt_invalidations++;
		return 0;
	}
	return amdvi_irte_write(d, devid, index, e);
}

int amdvi_irte_set_run(struct amdvi_driver *d, uint16_t devid, uint32_t index,
		       const struct amdvi_irte_ga *e)
{
	struct amdvi_dev *dev = dev_find(d, devid);
	struct amdvi_irte_ga old;

	if (!d->cfg.vapic || !dev || !blockalloc_used(&dev->alloc, index) ||
	    amdvi_irte_read(d, devid, index, &old) || !amdvi_ga_guest_mode(&old) ||
	    !amdvi_ga_guest_mode(e))
		return -EINVAL;
	d->stats.irte_writes++;
	return store_entry(d, dev, index, e);
}

int amdvi_irte_free(struct amdvi_driver *d, uint16_t devid, uint32_t index, uint32_t count)
{
	struct amdvi_dev *dev = dev_find(d, devid);
	const struct amdvi_irte_ga zero = {0};

	if (!dev || !blockalloc_is_block(&dev->alloc, index, count))
		return -EINVAL;
	if (d->off)
		return blockalloc_free(&dev->alloc, index, count);
	for (uint32_t i = index; i < index + count; i++) {
		int err = store_entry(d, dev, i, &zero);

		if (err)
			return err;
		d->stats.irte_writes++;
	}
	(void)!blockalloc_free(&dev->alloc, index, count); /* a block: checked above */
	return flush_irt(d, devid);
}

void amdvi_driver_power_off(struct amdvi_driver *d)
{
	d->off = true;
}

void amdvi_msi_compose(const struct amdvi_driver *d, uint32_t index, struct msi_msg *ret)
{
	*ret = (struct msi_msg){
	    .address_lo = MSI_ADDR_BASE | (d->cfg.table_entries == 2048 ? 1u << 2 : 0),
	    .data = index,
	};
}

/* ---- logs ---------------------------------------------------------------------------------- */

static void check_overflow(struct amdvi_driver *d, unsigned bit)
{
	if (bit_get(reg_read(d, AMDVI_MMIO_STATUS), bit)) {
		d->stats.overflows_seen++;
		reg_write(d, AMDVI_MMIO_STATUS, UINT64_C(1) << bit);
	}
}

unsigned amdvi_driver_drain_events(struct amdvi_driver *d)
{
	uint32_t head = (uint32_t)reg_read(d, AMDVI_MMIO_EVT_HEAD);
	uint32_t tail = (uint32_t)reg_read(d, AMDVI_MMIO_EVT_TAIL);
	unsigned n = 0;

	while (head != tail && head < AMDVI_RING_BYTES && n < AMDVI_RING_BYTES / 16) {
		uint64_t raw[2];
		struct amdvi_event e;

		if (physmem_load64(d->mem, d->cfg.evt_base + head, &raw[0]) ||
		    physmem_load64(d->mem, d->cfg.evt_base + head + 8, &raw[1]))
			break;
		amdvi_event_decode(raw, &e);
		d->stats.events_drained[e.code]++;
		head = (head + 16) % AMDVI_RING_BYTES;
		n++;
	}
	reg_write(d, AMDVI_MMIO_EVT_HEAD, head);
	reg_write(d, AMDVI_MMIO_STATUS, UINT64_C(1) << AMDVI_STATUS_EVT_INT);
	check_overflow(d, AMDVI_STATUS_EVT_OVERFLOW);
	return n;
}

unsigned amdvi_driver_drain_ga_log(struct amdvi_driver *d, amdvi_ga_fn fn, void *ctx)
{
	uint32_t head = (uint32_t)reg_read(d, AMDVI_MMIO_GA_HEAD);
	uint32_t tail = (uint32_t)reg_read(d, AMDVI_MMIO_GA_TAIL);
	unsigned n = 0;

	while (head != tail && head < AMDVI_RING_BYTES && n < AMDVI_RING_BYTES / 8) {
		uint64_t raw;
		struct amdvi_ga_entry e;

		if (physmem_load64(d->mem, d->cfg.ga_base + head, &raw))
			break;
		amdvi_ga_entry_decode(raw, &e);
		d->stats.ga_drained++;
		if (e.type == AMDVI_GA_GUEST_NR && fn)
			fn(ctx, e.ga_tag, e.devid);
		head = (head + 8) % AMDVI_RING_BYTES;
		n++;
	}
	reg_write(d, AMDVI_MMIO_GA_HEAD, head);
	reg_write(d, AMDVI_MMIO_STATUS, UINT64_C(1) << AMDVI_STATUS_GA_INT);
	check_overflow(d, AMDVI_STATUS_GA_OVERFLOW);
	return n;
}

bool amdvi_driver_ga(const struct amdvi_driver *d)
{
	return d->cfg.ga;
}

bool amdvi_driver_vapic(const struct amdvi_driver *d)
{
	return d->cfg.vapic;
}

uint32_t amdvi_driver_in_use(const struct amdvi_driver *d)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < d->cfg.max_devices; i++)
		n += d->devs[i].alloc.in_use;
	return n;
}

uint32_t amdvi_driver_table_entries(const struct amdvi_driver *d)
{
	return d->cfg.table_entries;
}

const struct amdvi_driver_stats *amdvi_driver_stats(const struct amdvi_driver *d)
{
	return &d->stats;
}

void amdvi_driver_set_memory(struct amdvi_driver *d, struct physmem *mem)
{
	d->mem = mem;
}
