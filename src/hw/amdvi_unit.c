// SPDX-License-Identifier: MIT
/*
 * The AMD-Vi unit's interrupt path; see pvir/amdvi_unit.h. Where Linux, QEMU and
 * VirtualBox (whose model follows the AMD spec's text) say different things, the
 * choice and its reason are in docs/hardware.md, "AMD-Vi unit".
 */
#include "pvir/amdvi_unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/compiler.h"
#include "pvir/msi.h"
#include "pvir/physmem.h"

#define DTE_SIZE	  32
#define DTE_INTR_QWORD	  16		      /* bits 191:128 */
#define DTE_INTR_RESERVED (UINT64_C(3) << 52) /* QEMU AMDVI_DTE_QUAD2_RESERVED */
#define INT_TAB_LEN_MAX	  11		      /* 2^11 = 2048 entries */
#define CMD_SIZE	  16
#define EVT_SIZE	  16
#define GA_SIZE		  8
#define RING_OFFSET_HI	  18 /* head and tail pointers: byte offsets, bits 18:4 */
#define BASE_HI		  51
#define BASE_LO		  12
#define LEN_HI		  59
#define LEN_LO		  56
#define DEV_TABLE_SIZE_HI 8 /* (Size + 1) 4 KiB pages */
#define COMWAIT_STORE	  0
#define COMWAIT_INTERRUPT 1
#define COMWAIT_RESERVED  (UINT64_C(0xff) << 52) /* QEMU checks bits 59:52 */

struct dte_slot {
	bool valid;
	uint16_t devid;
	uint64_t intr; /* the DTE's interrupt qword */
};

struct irte_slot {
	bool valid;
	bool ga; /* the format it was read in */
	uint16_t devid;
	uint16_t index;
	struct amdvi_irte_ga e; /* a legacy entry in e.lo's low 32 bits */
};

/* A ring in host memory: the command buffer, the event log or the GA log. */
struct ring {
	uint64_t base_reg; /* as written: base 51:12, length 59:56 */
	uint32_t head;	   /* byte offsets */
	uint32_t tail;
	unsigned entry;	   /* bytes per entry */
	bool len_plus_one; /* the GA log: 2^(len + 1) entries */
};

struct amdvi_unit {
	struct physmem *mem;
	struct amdvi_unit_config cfg;
	uint64_t dev_table; /* as written */
	uint64_t control;
	uint64_t status;
	struct ring cmd, evt, ga;
	bool event_irq_due;
	bool ga_irq_due;
	struct dte_slot *dte_cache;
	struct irte_slot *irte_cache;
	struct amdvi_unit_stats stats;
};

/* ---- formats ----------------------------------------------------------------------------- */

static struct amdvi_cmd cmd_of(enum amdvi_cmd_op op, uint64_t lo, uint64_t hi)
{
	return (struct amdvi_cmd){.lo = bits_set(lo, 63, 60, op), .hi = hi};
}

struct amdvi_cmd amdvi_cmd_completion_wait(uint64_t store_addr, uint64_t store_data, bool irq)
{
	uint64_t lo = (store_addr & bits_mask(51, 3)) | UINT64_C(1) << COMWAIT_STORE;

	return cmd_of(AMDVI_CMD_COMPLETION_WAIT, bit_set(lo, COMWAIT_INTERRUPT, irq), store_data);
}

struct amdvi_cmd amdvi_cmd_inv_devtab_entry(uint16_t devid)
{
	return cmd_of(AMDVI_CMD_INV_DEVTAB_ENTRY, devid, 0);
}

struct amdvi_cmd amdvi_cmd_inv_intr_table(uint16_t devid)
{
	return cmd_of(AMDVI_CMD_INV_INTR_TABLE, devid, 0);
}

struct amdvi_cmd amdvi_cmd_inv_all(void)
{
	return cmd_of(AMDVI_CMD_INV_ALL, 0, 0);
}

void amdvi_event_encode(const struct amdvi_event *e, uint64_t ret[2])
{
	uint64_t lo = e->devid;

	lo = bits_set(lo, 59, 48, e->flags);
	ret[0] = bits_set(lo, 63, 60, e->code);
	ret[1] = e->addr;
}

void amdvi_event_decode(const uint64_t raw[2], struct amdvi_event *ret)
{
	*ret = (struct amdvi_event){
	    .code = (uint8_t)bits_get(raw[0], 63, 60),
	    .devid = (uint16_t)bits_get(raw[0], 15, 0),
	    .flags = (uint16_t)bits_get(raw[0], 59, 48),
	    .addr = raw[1],
	};
}

const char *amdvi_event_name(unsigned code)
{
	static const char *const names[] = {
	    [AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY] = "ILLEGAL_DEV_TABLE_ENTRY",
	    [AMDVI_EVT_IO_PAGE_FAULT] = "IO_PAGE_FAULT",
	    [AMDVI_EVT_DEV_TAB_HW_ERROR] = "DEV_TAB_HARDWARE_ERROR",
	    [AMDVI_EVT_ILLEGAL_COMMAND] = "ILLEGAL_COMMAND_ERROR",
	    [AMDVI_EVT_INVALID_DEVICE_REQUEST] = "INVALID_DEVICE_REQUEST",
	};

	return code < ARRAY_SIZE(names) && names[code] ? names[code] : "unknown";
}

uint64_t amdvi_ga_entry_encode(const struct amdvi_ga_entry *e)
{
	uint64_t v = e->ga_tag;

	v = bits_set(v, 47, 32, e->devid);
	return bits_set(v, 63, 60, e->type);
}

void amdvi_ga_entry_decode(uint64_t raw, struct amdvi_ga_entry *ret)
{
	*ret = (struct amdvi_ga_entry){
	    .ga_tag = (uint32_t)bits_get(raw, 31, 0),
	    .devid = (uint16_t)bits_get(raw, 47, 32),
	    .type = (uint8_t)bits_get(raw, 63, 60),
	};
}

uint64_t amdvi_vapic_irr_qword(uint64_t backing_page, uint8_t vector)
{
	return backing_page + AMDVI_VAPIC_IRR + 0x10u * (vector / 32u);
}

const char *amdvi_block_name(enum amdvi_block why)
{
	static const char *const names[AMDVI_BLOCK_COUNT] = {
	    [AMDVI_BLOCK_NONE] = "none",
	    [AMDVI_BLOCK_NO_DTE] = "requester-id beyond the device table",
	    [AMDVI_BLOCK_DTE_RESERVED] = "reserved bits in the device table entry",
	    [AMDVI_BLOCK_INTCTL_ABORT] = "IntCtl target abort",
	    [AMDVI_BLOCK_INTCTL_RESERVED] = "IntCtl reserved",
	    [AMDVI_BLOCK_TABLE_LEN] = "IntTabLen reserved",
	    [AMDVI_BLOCK_INDEX] = "index beyond the interrupt table",
	    [AMDVI_BLOCK_REMAP_EN] = "IRTE RemapEn clear",
	    [AMDVI_BLOCK_IRTE_RESERVED] = "reserved bits in the IRTE",
	    [AMDVI_BLOCK_INT_TYPE] = "IRTE IntType neither fixed nor arbitrated",
	    [AMDVI_BLOCK_TABLE_ACCESS] = "interrupt table outside memory",
	    [AMDVI_BLOCK_NOT_PASSED] = "delivery mode not passed",
	    [AMDVI_BLOCK_DTE_ACCESS] = "device table entry outside memory",
	};

	return (unsigned)why < AMDVI_BLOCK_COUNT ? names[why] : "unknown";
}

const char *amdvi_block_key(enum amdvi_block why)
{
	static const char *const keys[AMDVI_BLOCK_COUNT] = {
	    [AMDVI_BLOCK_NONE] = "none",
	    [AMDVI_BLOCK_NO_DTE] = "no_dte",
	    [AMDVI_BLOCK_DTE_RESERVED] = "dte_reserved",
	    [AMDVI_BLOCK_INTCTL_ABORT] = "intctl_abort",
	    [AMDVI_BLOCK_INTCTL_RESERVED] = "intctl_reserved",
	    [AMDVI_BLOCK_TABLE_LEN] = "table_len",
	    [AMDVI_BLOCK_INDEX] = "index",
	    [AMDVI_BLOCK_REMAP_EN] = "remap_en",
	    [AMDVI_BLOCK_IRTE_RESERVED] = "irte_reserved",
	    [AMDVI_BLOCK_INT_TYPE] = "int_type",
	    [AMDVI_BLOCK_TABLE_ACCESS] = "table_access",
	    [AMDVI_BLOCK_NOT_PASSED] = "not_passed",
	    [AMDVI_BLOCK_DTE_ACCESS] = "dte_access",
	};

	return (unsigned)why < AMDVI_BLOCK_COUNT ? keys[why] : "unknown";
}

/* The event each block logs (docs/hardware.md, "AMD-Vi unit", for the sources). */
unsigned amdvi_block_event(enum amdvi_block why)
{
	static const uint8_t events[AMDVI_BLOCK_COUNT] = {
	    [AMDVI_BLOCK_NO_DTE] = AMDVI_EVT_IO_PAGE_FAULT,
	    [AMDVI_BLOCK_DTE_RESERVED] = AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY,
	    [AMDVI_BLOCK_INTCTL_ABORT] = AMDVI_EVT_IO_PAGE_FAULT,
	    [AMDVI_BLOCK_INTCTL_RESERVED] = AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY,
	    [AMDVI_BLOCK_TABLE_LEN] = AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY,
	    [AMDVI_BLOCK_INDEX] = AMDVI_EVT_IO_PAGE_FAULT,
	    [AMDVI_BLOCK_REMAP_EN] = AMDVI_EVT_IO_PAGE_FAULT,
	    [AMDVI_BLOCK_IRTE_RESERVED] = AMDVI_EVT_IO_PAGE_FAULT,
	    [AMDVI_BLOCK_INT_TYPE] = AMDVI_EVT_IO_PAGE_FAULT,
	    [AMDVI_BLOCK_DTE_ACCESS] = AMDVI_EVT_DEV_TAB_HW_ERROR,
	};

	return (unsigned)why < AMDVI_BLOCK_COUNT ? events[why] : 0;
}

/* ---- the unit ----------------------------------------------------------------------------- */

struct amdvi_unit_config amdvi_unit_default_config(void)
{
	return (struct amdvi_unit_config){.ga = true,
					  .gam = true,
					  .log_faults = true,
					  .xt = true,
					  .intr_2k = true,
					  .cache_slots = 256};
}

static bool is_pow2(unsigned n)
{
	return n && !(n & (n - 1));
}

struct amdvi_unit *amdvi_unit_new(struct physmem *hostmem, const struct amdvi_unit_config *cfg)
{
	struct amdvi_unit *u;

	if (!hostmem || !cfg || !is_pow2(cfg->cache_slots) || cfg->cache_slots > 65536)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->dte_cache = calloc(cfg->cache_slots, sizeof(*u->dte_cache));
	u->irte_cache = calloc(cfg->cache_slots, sizeof(*u->irte_cache));
	if (!u->dte_cache || !u->irte_cache) {
		amdvi_unit_free(u);
		return NULL;
	}
	u->mem = hostmem;
	u->cfg = *cfg;
	u->cmd.entry = CMD_SIZE;
	u->evt.entry = EVT_SIZE;
	u->ga.entry = GA_SIZE;
	u->ga.len_plus_one = true;
	return u;
}

void amdvi_unit_free(struct amdvi_unit *u)
{
	if (!u)
		return;
	free(u->dte_cache);
	free(u->irte_cache);
	free(u);
}

const struct amdvi_unit_stats *amdvi_unit_stats(const struct amdvi_unit *u)
{
	return &u->stats;
}

static bool control(const struct amdvi_unit *u, unsigned bit)
{
	return bit_get(u->control, bit);
}

static uint64_t ext_features(const struct amdvi_unit *u)
{
	uint64_t f = UINT64_C(1) << AMDVI_FEATURE_IA;

	f = bit_set(f, AMDVI_FEATURE_GA, u->cfg.ga);
	f = bit_set(f, AMDVI_FEATURE_GAM_VAPIC, u->cfg.ga && u->cfg.gam);
	return bit_set(f, AMDVI_FEATURE_XT, u->cfg.xt);
}

/* ---- caches ---------------------------------------------------------------------------- */

static void cache_flush(struct amdvi_unit *u)
{
	u->stats.flushes++;
	memset(u->dte_cache, 0, u->cfg.cache_slots * sizeof(*u->dte_cache));
	memset(u->irte_cache, 0, u->cfg.cache_slots * sizeof(*u->irte_cache));
}

static struct dte_slot *dte_slot(struct amdvi_unit *u, uint16_t devid)
{
	return &u->dte_cache[devid & (u->cfg.cache_slots - 1)];
}

static struct irte_slot *irte_slot(struct amdvi_unit *u, uint16_t devid, uint16_t index)
{
	uint32_t h = ((uint32_t)devid * UINT32_C(2654435761)) >> 16; /* spreads the devices */

	return &u->irte_cache[(h + index) & (u->cfg.cache_slots - 1)];
}

static void inv_intr_table(struct amdvi_unit *u, uint16_t devid)
{
	for (unsigned i = 0; i < u->cfg.cache_slots; i++)
		if (u->irte_cache[i].devid == devid)
			u->irte_cache[i].valid = false;
	u->stats.irt_invalidations++;
}

/* ---- rings ------------------------------------------------------------------------------ */

static uint32_t ring_bytes(const struct ring *r)
{
	unsigned len = (unsigned)bits_get(r->base_reg, LEN_HI, LEN_LO) + r->len_plus_one;

	return (uint32_t)r->entry << len;
}

static uint64_t ring_base(const struct ring *r)
{
	return r->base_reg & bits_mask(BASE_HI, BASE_LO);
}

static uint32_t ring_next(const struct ring *r, uint32_t at)
{
	return (at + r->entry) % ring_bytes(r);
}

/* Appends @words (entry / 8 of them) at the tail. Return: false when full or unwritable. */
static bool ring_append(struct amdvi_unit *u, struct ring *r, const uint64_t *words)
{
	uint32_t next = ring_next(r, r->tail);

	if (r->tail >= ring_bytes(r) || next == r->head)
		return false; /* full, or a tail software left outside the ring */
	for (unsigned i = 0; i < r->entry / 8; i++)
		if (physmem_store64(u->mem, ring_base(r) + r->tail + 8 * i, words[i]))
			return false;
	r->tail = next;
	return true;
}

static void log_event(struct amdvi_unit *u, const struct amdvi_event *e, struct amdvi_result *ret)
{
	uint64_t raw[2];
	bool ok = false;

	amdvi_event_encode(e, raw);
	if (control(u, AMDVI_CTRL_EVT_LOG_EN) && !bit_get(u->status, AMDVI_STATUS_EVT_OVERFLOW)) {
		ok = ring_append(u, &u->evt, raw);
		if (!ok) /* a full log sets the overflow bit and stops logging until it is cleared */
			u->status = bit_set(u->status, AMDVI_STATUS_EVT_OVERFLOW, true);
	}
	if (ok) {
		u->stats.events_logged++;
		u->status = bit_set(u->status, AMDVI_STATUS_EVT_INT, true);
		u->event_irq_due = u->event_irq_due || control(u, AMDVI_CTRL_EVT_INT_EN);
	} else {
		u->stats.events_lost++;
	}
	if (ret) {
		ret->event = e->code;
		ret->event_lost = !ok;
	}
}

static bool log_ga(struct amdvi_unit *u, uint32_t tag, uint16_t devid)
{
	struct amdvi_ga_entry e = {.ga_tag = tag, .devid = devid, .type = AMDVI_GA_GUEST_NR};
	uint64_t raw = amdvi_ga_entry_encode(&e);
	bool ok = false;

	if (control(u, AMDVI_CTRL_GA_LOG_EN) && !bit_get(u->status, AMDVI_STATUS_GA_OVERFLOW)) {
		ok = ring_append(u, &u->ga, &raw);
		if (!ok)
			u->status = bit_set(u->status, AMDVI_STATUS_GA_OVERFLOW, true);
	}
	if (ok) {
		u->stats.ga_logged++;
		u->status = bit_set(u->status, AMDVI_STATUS_GA_INT, true);
		u->ga_irq_due = u->ga_irq_due || control(u, AMDVI_CTRL_GA_INT_EN);
	} else {
		u->stats.ga_lost++;
	}
	return ok;
}

void amdvi_unit_take_interrupts(struct amdvi_unit *u, bool *ret_event, bool *ret_ga)
{
	*ret_event = u->event_irq_due;
	*ret_ga = u->ga_irq_due;
	u->event_irq_due = false;
	u->ga_irq_due = false;
}

/* ---- commands ----------------------------------------------------------------------------- */

static bool illegal_command(struct amdvi_unit *u, uint64_t at)
{
	struct amdvi_event e = {.code = AMDVI_EVT_ILLEGAL_COMMAND, .addr = at};

	log_event(u, &e, NULL);
	return false;
}

static bool completion_wait(struct amdvi_unit *u, const struct amdvi_cmd *c, uint64_t at)
{
	if (c->lo & COMWAIT_RESERVED)
		return illegal_command(u, at);
	if (bit_get(c->lo, COMWAIT_STORE) &&
	    physmem_store64(u->mem, c->lo & bits_mask(51, 3), c->hi))
		return illegal_command(u, at); /* not in the model's memory: a command error */
	if (bit_get(c->lo, COMWAIT_INTERRUPT)) {
		u->status = bit_set(u->status, AMDVI_STATUS_COMWAIT_INT, true);
		u->event_irq_due = u->event_irq_due || control(u, AMDVI_CTRL_COMWAIT_INT);
	}
	return true;
}

/* Return: whether fetching goes on (an illegal command stops it, as VirtualBox does). */
static bool run_command(struct amdvi_unit *u, const struct amdvi_cmd *c, uint64_t at)
{
	uint16_t devid = (uint16_t)bits_get(c->lo, 15, 0);

	u->stats.commands++;
	switch (bits_get(c->lo, 63, 60)) {
	case AMDVI_CMD_COMPLETION_WAIT:
		return completion_wait(u, c, at);
	case AMDVI_CMD_INV_DEVTAB_ENTRY:
		if (dte_slot(u, devid)->devid == devid)
			dte_slot(u, devid)->valid = false;
		return true;
	case AMDVI_CMD_INV_INTR_TABLE: /* QEMU checks bits 59:16 and the second qword */
		if ((c->lo & bits_mask(59, 16)) || c->hi)
			return illegal_command(u, at);
		inv_intr_table(u, devid);
		return true;
	case AMDVI_CMD_INV_ALL:
		cache_flush(u);
		return true;
	default:
		return illegal_command(u, at);
	}
}

static void fetch_commands(struct amdvi_unit *u)
{
	struct ring *r = &u->cmd;

	if (!control(u, AMDVI_CTRL_IOMMU_EN) || !control(u, AMDVI_CTRL_CMD_BUF_EN))
		return;
	if (r->head >= ring_bytes(r) || r->tail >= ring_bytes(r))
		return; /* pointers outside the ring: nothing is fetched until they are fixed */
	while (r->head != r->tail) {
		uint64_t at = ring_base(r) + r->head;
		struct amdvi_cmd c;

		if (physmem_load64(u->mem, at, &c.lo) || physmem_load64(u->mem, at + 8, &c.hi)) {
			illegal_command(u, at);
			return;
		}
		r->head = ring_next(r, r->head);
		if (!run_command(u, &c, at))
			return;
	}
}

/* ---- registers ---------------------------------------------------------------------------- */

/* The ring a head or tail register belongs to, or NULL. */
static struct ring *ring_of(struct amdvi_unit *u, uint32_t reg, bool *ret_head)
{
	*ret_head =
	    reg == AMDVI_MMIO_CMD_HEAD || reg == AMDVI_MMIO_EVT_HEAD || reg == AMDVI_MMIO_GA_HEAD;
	switch (reg) {
	case AMDVI_MMIO_CMD_HEAD:
	case AMDVI_MMIO_CMD_TAIL:
		return &u->cmd;
	case AMDVI_MMIO_EVT_HEAD:
	case AMDVI_MMIO_EVT_TAIL:
		return &u->evt;
	case AMDVI_MMIO_GA_HEAD:
	case AMDVI_MMIO_GA_TAIL:
		return &u->ga;
	default:
		return NULL;
	}
}

static uint64_t status_read(const struct amdvi_unit *u)
{
	bool on = control(u, AMDVI_CTRL_IOMMU_EN);
	uint64_t s = u->status;

	s = bit_set(s, AMDVI_STATUS_EVT_RUN, on && control(u, AMDVI_CTRL_EVT_LOG_EN));
	s = bit_set(s, AMDVI_STATUS_CMD_RUN, on && control(u, AMDVI_CTRL_CMD_BUF_EN));
	return bit_set(s, AMDVI_STATUS_GA_RUN, on && control(u, AMDVI_CTRL_GA_LOG_EN));
}

/* Return: false for an offset the unit does not have. */
static bool reg_read(struct amdvi_unit *u, uint32_t reg, uint64_t *ret)
{
	bool head;
	struct ring *r = ring_of(u, reg, &head);

	if (r) {
		*ret = head ? r->head : r->tail;
		return true;
	}
	switch (reg) {
	case AMDVI_MMIO_DEV_TABLE:
		*ret = u->dev_table;
		return true;
	case AMDVI_MMIO_CMD_BUF:
		*ret = u->cmd.base_reg;
		return true;
	case AMDVI_MMIO_EVT_LOG:
		*ret = u->evt.base_reg;
		return true;
	case AMDVI_MMIO_GA_LOG:
		*ret = u->ga.base_reg;
		return true;
	case AMDVI_MMIO_CONTROL:
		*ret = u->control;
		return true;
	case AMDVI_MMIO_EXT_FEAT:
		*ret = ext_features(u);
		return true;
	case AMDVI_MMIO_EXT_FEAT2:
		*ret = (uint64_t)u->cfg.intr_2k << AMDVI_FEATURE2_NUM_INT_2K;
		return true;
	case AMDVI_MMIO_STATUS:
		*ret = status_read(u);
		return true;
	default:
		return false;
	}
}

static void control_write(struct amdvi_unit *u, uint64_t val)
{
	uint64_t was = u->control;

	u->control = val;
	if (bit_get(was, AMDVI_CTRL_GA_EN) != bit_get(val, AMDVI_CTRL_GA_EN))
		cache_flush(u); /* the entries' size changed under the cache */
	fetch_commands(u);
}

static void status_write(struct amdvi_unit *u, uint64_t val)
{
	static const unsigned w1c[] = {AMDVI_STATUS_EVT_OVERFLOW, AMDVI_STATUS_EVT_INT,
				       AMDVI_STATUS_COMWAIT_INT, AMDVI_STATUS_GA_OVERFLOW,
				       AMDVI_STATUS_GA_INT};

	for (unsigned i = 0; i < ARRAY_SIZE(w1c); i++)
		if (bit_get(val, w1c[i]))
			u->status = bit_set(u->status, w1c[i], false);
}

static void reg_write(struct amdvi_unit *u, uint32_t reg, uint64_t val)
{
	bool head;
	struct ring *r = ring_of(u, reg, &head);
	uint32_t ptr = (uint32_t)(val & bits_mask(RING_OFFSET_HI, 4));

	if (r) {
		*(head ? &r->head : &r->tail) = ptr;
		if (r == &u->cmd && !head)
			fetch_commands(u);
		return;
	}
	switch (reg) {
	case AMDVI_MMIO_DEV_TABLE:
		u->dev_table =
		    val & (bits_mask(BASE_HI, BASE_LO) | bits_mask(DEV_TABLE_SIZE_HI, 0));
		cache_flush(u);
		break;
	case AMDVI_MMIO_CMD_BUF:
	case AMDVI_MMIO_EVT_LOG:
	case AMDVI_MMIO_GA_LOG: {
		struct ring *b = reg == AMDVI_MMIO_CMD_BUF   ? &u->cmd
				 : reg == AMDVI_MMIO_EVT_LOG ? &u->evt
							     : &u->ga;

		b->base_reg = val & (bits_mask(BASE_HI, BASE_LO) | bits_mask(LEN_HI, LEN_LO));
		break;
	}
	case AMDVI_MMIO_CONTROL:
		control_write(u, val);
		break;
	case AMDVI_MMIO_STATUS:
		status_write(u, val);
		break;
	default:
		break;
	}
}

uint64_t amdvi_unit_read(struct amdvi_unit *u, uint32_t offset, unsigned size)
{
	uint64_t v;

	if (!dword_or_qword_aligned(offset, size) || !reg_read(u, offset & ~7u, &v))
		return size == 4 ? UINT32_MAX : UINT64_MAX;
	if (size == 8)
		return v;
	return (uint32_t)(offset & 4 ? v >> 32 : v);
}

void amdvi_unit_write(struct amdvi_unit *u, uint32_t offset, unsigned size, uint64_t val)
{
	uint32_t reg = offset & ~7u;
	uint64_t old;

	if (!dword_or_qword_aligned(offset, size) || !reg_read(u, reg, &old))
		return;
	if (size == 4) {
		/* the other half as it reads; status bits that clear on 1 are written as 0 */
		old = reg == AMDVI_MMIO_STATUS ? 0 : old;
		val = offset & 4 ? (old & UINT32_MAX) | val << 32
				 : (old & ~(uint64_t)UINT32_MAX) | (uint32_t)val;
	}
	reg_write(u, reg, val);
}

/* ---- translation ------------------------------------------------------------------------- */

/* Blocked for @why, logged with its event unless the entry's SupIOPF @quiet-s it. */
static void blocked(struct amdvi_unit *u, enum amdvi_block why, bool quiet, uint16_t rid,
		    const struct msi_msg *msg, struct amdvi_result *ret)
{
	unsigned code = quiet || !u->cfg.log_faults ? 0 : amdvi_block_event(why);

	ret->outcome = IR_BLOCKED;
	ret->why = why;
	u->stats.blocked[why]++;
	if (code) {
		struct amdvi_event e = {
		    .code = (uint8_t)code,
		    .devid = rid,
		    .flags = AMDVI_EVT_FLAG_I,
		    .addr = (uint64_t)msg->address_hi << 32 | msg->address_lo,
		};

		log_event(u, &e, ret);
	}
}

static void passthrough(const struct msi_msg *msg, struct amdvi_result *ret)
{
	ret->outcome = IR_PASSTHROUGH;
	apic_irq_from_compat(msg, &ret->irq);
}

static uint32_t dev_table_entries(const struct amdvi_unit *u)
{
	return (uint32_t)(bits_get(u->dev_table, DEV_TABLE_SIZE_HI, 0) + 1) * (4096 / DTE_SIZE);
}

/* The requester-id's interrupt qword, from the cache or memory. Return: 0 or -EFAULT. */
static int dte_intr(struct amdvi_unit *u, uint16_t rid, uint64_t *ret)
{
	struct dte_slot *s = dte_slot(u, rid);
	uint64_t pa = (u->dev_table & bits_mask(BASE_HI, BASE_LO)) + (uint64_t)rid * DTE_SIZE;

	if (s->valid && s->devid == rid) {
		u->stats.cache_hits++;
		*ret = s->intr;
		return 0;
	}
	u->stats.cache_misses++;
	if (physmem_load64(u->mem, pa + DTE_INTR_QWORD, ret))
		return -EFAULT;
	*s = (struct dte_slot){.valid = true, .devid = rid, .intr = *ret};
	return 0;
}

/*
 * A guest-mode entry's Destination, IsRun and GATag are not cached: the unit reads them
 * afresh for each request, so KVM moves a vCPU without an invalidation (Linux
 * amd_iommu_update_ga(), "Per the IOMMU spec, the Destination, IsRun, and GATag fields
 * are not cached"). KVM updates GALogIntr the same way, so it is read afresh too.
 */
static int uncached_fields(struct amdvi_unit *u, const struct amdvi_dte_intr *d, uint16_t index,
			   struct amdvi_irte_ga *e)
{
	uint64_t lo_fresh = bits_mask(63, 8) | UINT64_C(1) << 6 | UINT64_C(1) << 2;
	uint64_t hi_fresh = bits_mask(63, 56), q[2];

	if (physmem_load128(u->mem, d->int_table_root + 16u * index, q))
		return -EFAULT;
	e->lo = (e->lo & ~lo_fresh) | (q[0] & lo_fresh);
	e->hi = (e->hi & ~hi_fresh) | (q[1] & hi_fresh);
	return 0;
}

static int irte_read(struct amdvi_unit *u, const struct amdvi_dte_intr *d, uint16_t rid,
		     uint16_t index, struct amdvi_irte_ga *ret)
{
	bool ga = control(u, AMDVI_CTRL_GA_EN);
	struct irte_slot *s = irte_slot(u, rid, index);
	int err;

	if (s->valid && s->devid == rid && s->index == index && s->ga == ga) {
		u->stats.cache_hits++;
		*ret = s->e;
		return amdvi_ga_guest_mode(ret) ? uncached_fields(u, d, index, ret) : 0;
	}
	u->stats.cache_misses++;
	*ret = (struct amdvi_irte_ga){0};
	if (ga) {
		uint64_t q[2];

		err = physmem_load128(u->mem, d->int_table_root + 16u * index, q);
		*ret = (struct amdvi_irte_ga){.lo = q[0], .hi = q[1]};
	} else { /* one 32-bit load: the half of its aligned qword */
		uint64_t pa = d->int_table_root + 4u * index, q;

		err = physmem_load64(u->mem, pa & ~UINT64_C(7), &q);
		ret->lo = (uint32_t)(q >> (8 * (pa & 4)));
	}
	if (err)
		return -EFAULT;
	*s = (struct irte_slot){.valid = true, .ga = ga, .devid = rid, .index = index, .e = *ret};
	return 0;
}

static void remapped(struct amdvi_unit *u, uint32_t dest, bool dm, bool rq_eoi, uint8_t int_type,
		     uint8_t vector, const struct msi_msg *msg, struct amdvi_result *ret)
{
	ret->outcome = IR_REMAPPED;
	ret->irq = (struct apic_irq){
	    .dest = control(u, AMDVI_CTRL_XT_EN) ? dest : dest & 0xff,
	    .dm = dm,
	    .rh = rq_eoi,
	    .dlm = int_type,
	    .tm = bit_get(msg->data, 15),
	    .vector = vector,
	};
}

/* AVIC: the guest vector into the backing page's IRR, then a doorbell or a GA log entry. */
static void post_guest(struct amdvi_unit *u, const struct amdvi_ga_vapic *v, uint16_t rid,
		       const struct msi_msg *msg, struct amdvi_result *ret)
{
	uint64_t page = v->ga_root_ptr << 12, old;
	uint64_t bit = UINT64_C(1) << (v->vector % 32);

	if (physmem_fetch_or64(u->mem, amdvi_vapic_irr_qword(page, v->vector), bit, &old)) {
		blocked(u, AMDVI_BLOCK_TABLE_ACCESS, false, rid, msg, ret);
		return;
	}
	ret->outcome = IR_POSTED;
	ret->backing_page = page;
	ret->guest_vector = v->vector;
	ret->coalesced = old & bit;
	ret->ga_tag = v->ga_tag;
	ret->irq.dest = control(u, AMDVI_CTRL_XT_EN) ? v->dest : v->dest & 0xff;
	if (v->is_run) {
		ret->doorbell = true;
		u->stats.doorbells++;
	} else if (v->ga_log_intr) {
		ret->ga_logged = log_ga(u, v->ga_tag, rid);
	}
}

static void remap_ga(struct amdvi_unit *u, const struct amdvi_irte_ga *e, uint16_t rid,
		     const struct msi_msg *msg, struct amdvi_result *ret)
{
	struct amdvi_irte_ga rsvd = amdvi_ga_reserved(e);
	struct amdvi_ga_remap r;

	if (!amdvi_ga_guest_mode(e))
		rsvd.lo &= ~bits_mask(4, 2); /* a reserved IntType is named on its own below */
	if (rsvd.lo || rsvd.hi ||
	    (amdvi_ga_guest_mode(e) && (!u->cfg.gam || !control(u, AMDVI_CTRL_GAM_VAPIC)))) {
		blocked(u, AMDVI_BLOCK_IRTE_RESERVED, false, rid, msg, ret);
		return;
	}
	if (amdvi_ga_guest_mode(e)) {
		struct amdvi_ga_vapic v;

		amdvi_ga_vapic_decode(e, &v);
		post_guest(u, &v, rid, msg, ret);
		return;
	}
	amdvi_ga_remap_decode(e, &r);
	if (r.int_type > MSI_DM_LOWPRI) {
		blocked(u, AMDVI_BLOCK_INT_TYPE, false, rid, msg, ret);
		return;
	}
	remapped(u, r.dest, r.dm, r.rq_eoi, r.int_type, r.vector, msg, ret);
}

static void remap_legacy(struct amdvi_unit *u, uint32_t raw, uint16_t rid,
			 const struct msi_msg *msg, struct amdvi_result *ret)
{
	struct amdvi_irte32 e;

	amdvi_irte32_decode(raw, &e);
	if (amdvi_irte32_reserved(raw) & ~bits_mask(4, 2)) {
		blocked(u, AMDVI_BLOCK_IRTE_RESERVED, false, rid, msg, ret);
		return;
	}
	if (e.int_type > MSI_DM_LOWPRI) {
		blocked(u, AMDVI_BLOCK_INT_TYPE, false, rid, msg, ret);
		return;
	}
	remapped(u, e.dest, e.dm, e.rq_eoi, e.int_type, e.vector, msg, ret);
}

/* IntCtl = 10b: through the device's own table. */
static void remap(struct amdvi_unit *u, const struct amdvi_dte_intr *d, uint16_t rid,
		  const struct msi_msg *msg, struct amdvi_result *ret)
{
	struct amdvi_irte_ga e;

	ret->index = (uint16_t)amdvi_msi_index(msg->data);
	if (d->int_tab_len > INT_TAB_LEN_MAX) {
		blocked(u, AMDVI_BLOCK_TABLE_LEN, false, rid, msg, ret);
		return;
	}
	if (ret->index >= 1u << d->int_tab_len) {
		blocked(u, AMDVI_BLOCK_INDEX, false, rid, msg, ret);
		return;
	}
	if (irte_read(u, d, rid, ret->index, &e)) {
		blocked(u, AMDVI_BLOCK_TABLE_ACCESS, false, rid, msg, ret);
		return;
	}
	if (!bit_get(e.lo, 0)) { /* RemapEn; SupIOPF keeps the event out of the log */
		blocked(u, AMDVI_BLOCK_REMAP_EN, bit_get(e.lo, 1), rid, msg, ret);
		return;
	}
	if (control(u, AMDVI_CTRL_GA_EN))
		remap_ga(u, &e, rid, msg, ret);
	else
		remap_legacy(u, (uint32_t)e.lo, rid, msg, ret);
}

static void fixed_or_arbitrated(struct amdvi_unit *u, const struct amdvi_dte_intr *d, uint16_t rid,
				const struct msi_msg *msg, struct amdvi_result *ret)
{
	switch (d->int_ctl) {
	case AMDVI_INTCTL_ABORT:
		blocked(u, AMDVI_BLOCK_INTCTL_ABORT, false, rid, msg, ret);
		return;
	case AMDVI_INTCTL_PASS:
		passthrough(msg, ret);
		return;
	case AMDVI_INTCTL_REMAP:
		remap(u, d, rid, msg, ret);
		return;
	default:
		blocked(u, AMDVI_BLOCK_INTCTL_RESERVED, false, rid, msg, ret);
		return;
	}
}

/*
 * In 2048-entry mode, a message whose address has DM (bit 2) set names its entry with all of
 * data[10:0]; it is remapped whatever data[10:8] say (the AMD patch adding `numint2k` to
 * QEMU; Linux sets that bit for such devices, fill_msi_msg()).
 */
static bool indexes_2k(const struct amdvi_unit *u, const struct msi_msg *msg)
{
	return u->cfg.intr_2k &&
	       bits_get(u->control, AMDVI_CTRL_NUM_INT_LO + 1, AMDVI_CTRL_NUM_INT_LO) == 1 &&
	       bit_get(msg->address_lo, 2);
}

/* By the message's delivery mode: only fixed and arbitrated go through the table. */
static void route(struct amdvi_unit *u, const struct amdvi_dte_intr *d, uint16_t rid,
		  const struct msi_msg *msg, struct amdvi_result *ret)
{
	bool pass;

	if (indexes_2k(u, msg)) {
		fixed_or_arbitrated(u, d, rid, msg, ret);
		return;
	}
	switch (bits_get(msg->data, 10, 8)) {
	case MSI_DM_FIXED:
	case MSI_DM_LOWPRI:
		fixed_or_arbitrated(u, d, rid, msg, ret);
		return;
	case MSI_DM_NMI:
		pass = d->nmi_pass;
		break;
	case MSI_DM_INIT:
		pass = d->init_pass;
		break;
	case MSI_DM_EXTINT:
		pass = d->eint_pass;
		break;
	default: /* SMI (no SMI filter modelled) and the reserved 3 and 6 */
		pass = false;
		break;
	}
	if (pass)
		passthrough(msg, ret);
	else
		blocked(u, AMDVI_BLOCK_NOT_PASSED, false, rid, msg, ret);
}

void amdvi_unit_translate(struct amdvi_unit *u, const struct msi_msg *msg, uint16_t rid,
			  struct amdvi_result *ret)
{
	struct amdvi_dte_intr d;
	uint64_t intr;

	*ret = (struct amdvi_result){0};
	u->stats.requests++;
	if (!control(u, AMDVI_CTRL_IOMMU_EN))
		passthrough(msg, ret);
	else if (rid >= dev_table_entries(u))
		blocked(u, AMDVI_BLOCK_NO_DTE, false, rid, msg, ret);
	else if (dte_intr(u, rid, &intr))
		blocked(u, AMDVI_BLOCK_DTE_ACCESS, false, rid, msg, ret);
	else if (!bit_get(intr, 0)) /* IV clear: interrupts go through unmapped */
		passthrough(msg, ret);
	else if (intr & DTE_INTR_RESERVED)
		blocked(u, AMDVI_BLOCK_DTE_RESERVED, false, rid, msg, ret);
	else {
		amdvi_dte_intr_decode(intr, &d);
		route(u, &d, rid, msg, ret);
	}
	u->stats.outcomes[ret->outcome]++;
}

/* ---- a migration's destination ------------------------------------------------------ */

int amdvi_unit_restore(struct amdvi_unit *u, const struct amdvi_unit *from)
{
	if (u->cfg.cache_slots != from->cfg.cache_slots || u->cfg.gam != from->cfg.gam ||
	    u->cfg.log_faults != from->cfg.log_faults || u->cfg.intr_2k != from->cfg.intr_2k)
		return -EINVAL; /* another model of unit */
	u->dev_table = from->dev_table;
	u->control = from->control;
	u->status = from->status;
	u->cmd = from->cmd;
	u->evt = from->evt;
	u->ga = from->ga;
	u->event_irq_due = from->event_irq_due;
	u->ga_irq_due = from->ga_irq_due;
	/* the caches start empty, refilled from the tables in the copied memory */
	memset(u->dte_cache, 0, u->cfg.cache_slots * sizeof(*u->dte_cache));
	memset(u->irte_cache, 0, u->cfg.cache_slots * sizeof(*u->irte_cache));
	return 0;
}
