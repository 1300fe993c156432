// SPDX-License-Identifier: MIT
/*
 * PCI function: configuration space with write masks, BAR sizing, the
 * capability list, the MSI capability and its raise path, MMIO dispatch to
 * MSI-X (msix.c) and IMS (ims.c), and the raise/latch logic they share.
 */
#include "pci_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/zmem.h"

#define CAP_START	  0x40
#define MSI_CAP_SIZE	  0x18 /* the largest form: 64-bit with masking */
#define MSIX_CAP_SIZE	  0x0c
#define COMMAND_WMASK	  0x0407 /* I/O, memory, bus master, INTx disable */
#define BAR_FLAG_BITS	  0xf
#define CLASS_CODE_OFFSET 0x09

uint32_t pci_cfg_get(const struct pci_func *f, unsigned offset, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)f->config[offset + i] << (8 * i);
	return v;
}

void pci_cfg_set(struct pci_func *f, unsigned offset, unsigned size, uint32_t val)
{
	for (unsigned i = 0; i < size; i++)
		f->config[offset + i] = (uint8_t)(val >> (8 * i));
}

static void wmask_set(struct pci_func *f, unsigned offset, unsigned size, uint32_t mask)
{
	for (unsigned i = 0; i < size; i++)
		f->wmask[offset + i] = (uint8_t)(mask >> (8 * i));
}

bool pci_bus_master(const struct pci_func *f)
{
	return pci_cfg_get(f, PCI_COMMAND, 2) & PCI_COMMAND_MASTER;
}

static bool mem_enabled(const struct pci_func *f)
{
	return pci_cfg_get(f, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;
}

bool pci_in_range(unsigned bar, uint64_t offset, unsigned want_bar, uint64_t start, uint64_t len)
{
	return bar == want_bar && offset >= start && offset - start < len;
}

/* ---- validation --------------------------------------------------------- */

static bool is_pow2(uint64_t v)
{
	return v && (v & (v - 1)) == 0;
}

static uint64_t bar_size(const struct pci_func_config *c, unsigned bar)
{
	return bar < PCI_NUM_BARS ? c->bars[bar].size : 0;
}

static bool bars_valid(const struct pci_func_config *c)
{
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar_config *b = &c->bars[i];

		if (b->size && (!is_pow2(b->size) || b->size < 16))
			return false;
		if (b->is64 && (!b->size || i + 1 >= PCI_NUM_BARS || c->bars[i + 1].size))
			return false;
		if (b->is64)
			i++; /* the upper half is not a BAR of its own */
	}
	return true;
}

static bool fits(const struct pci_func_config *c, unsigned bar, uint64_t off, uint64_t len)
{
	uint64_t size = bar_size(c, bar);

	return size && off <= size && len <= size - off;
}

struct region {
	unsigned bar;
	uint64_t off;
	uint64_t len;
};

static bool overlap(const struct region *a, const struct region *b)
{
	return a->len && b->len && a->bar == b->bar && a->off < b->off + b->len &&
	       b->off < a->off + a->len;
}

static bool storage_valid(const struct pci_func_config *c)
{
	struct region r[3] = {0};

	if (c->msix_vectors) {
		if (c->msix_vectors > PCI_MSIX_MAX_VECTORS || c->msix_table_offset % 8 ||
		    c->msix_pba_offset % 8)
			return false;
		r[0] = (struct region){c->msix_table_bar, c->msix_table_offset,
				       (uint64_t)c->msix_vectors * PCI_MSIX_ENTRY_SIZE};
		r[1] = (struct region){c->msix_pba_bar, c->msix_pba_offset,
				       8 * (uint64_t)bitmap_words(c->msix_vectors)};
	}
	if (c->ims_storage == IMS_DEVICE)
		r[2] = (struct region){c->ims_bar, c->ims_offset,
				       (uint64_t)c->ims_entries * IMS_SLOT_SIZE};
	else if (c->ims_storage == IMS_MEMORY)
		r[2] = (struct region){c->ims_bar, c->ims_offset, IMS_REGS_SIZE};
	if (c->ims_storage != IMS_NONE && (!c->ims_entries || c->ims_offset % 8))
		return false;
	for (unsigned i = 0; i < ARRAY_SIZE(r); i++)
		if (r[i].len && !fits(c, r[i].bar, r[i].off, r[i].len))
			return false;
	return !overlap(&r[0], &r[1]) && !overlap(&r[0], &r[2]) && !overlap(&r[1], &r[2]);
}

static bool config_valid(const struct pci_func_config *c)
{
	bool msi_ok = c->msi_vectors == 0 ||
		      (is_pow2(c->msi_vectors) && c->msi_vectors <= PCI_MSI_MAX_VECTORS);

	return msi_ok && c->class_code <= 0xffffff && bars_valid(c) && storage_valid(c);
}

/* ---- reset image -------------------------------------------------------- */

static void init_header(struct pci_func *f)
{
	const struct pci_func_config *c = &f->cfg;

	pci_cfg_set(f, PCI_VENDOR_ID, 2, c->vendor_id);
	pci_cfg_set(f, PCI_DEVICE_ID, 2, c->device_id);
	pci_cfg_set(f, CLASS_CODE_OFFSET, 3, c->class_code);
	wmask_set(f, PCI_COMMAND, 2, COMMAND_WMASK);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		uint64_t size = c->bars[i].size;
		uint64_t mask = ~(size - 1) & ~(uint64_t)BAR_FLAG_BITS;
		unsigned reg = PCI_BASE_ADDRESS_0 + 4 * i;

		if (!size)
			continue;
		/* Address bits below the size are read-only zero: that is how
		 * software sizes a BAR, by writing ones and reading back. */
		pci_cfg_set(f, reg, 4, c->bars[i].is64 ? PCI_BAR_MEM_TYPE_64 : 0);
		wmask_set(f, reg, 4, (uint32_t)mask);
		if (c->bars[i].is64)
			wmask_set(f, reg + 4, 4, (uint32_t)(mask >> 32));
	}
}

static uint8_t add_capability(struct pci_func *f, uint8_t *next_free, uint8_t id, uint8_t size)
{
	uint8_t at = *next_free;
	uint8_t prev = (uint8_t)pci_cfg_get(f, PCI_CAPABILITY_LIST, 1);

	/* Insert at the head; the list order is not significant. */
	pci_cfg_set(f, at, 1, id);
	pci_cfg_set(f, at + 1, 1, prev);
	pci_cfg_set(f, PCI_CAPABILITY_LIST, 1, at);
	pci_cfg_set(f, PCI_STATUS, 2, PCI_STATUS_CAP_LIST);
	*next_free = (uint8_t)(at + size);
	return at;
}

static unsigned msi_data_off(const struct pci_func *f)
{
	return f->msi_cap + (f->cfg.msi_64bit ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32);
}

static unsigned msi_mask_off(const struct pci_func *f)
{
	return f->msi_cap + (f->cfg.msi_64bit ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
}

unsigned pci_msi_pending_off(const struct pci_func *f)
{
	return f->msi_cap + (f->cfg.msi_64bit ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32);
}

static void init_msi(struct pci_func *f, uint8_t *next_free)
{
	const struct pci_func_config *c = &f->cfg;
	uint16_t flags = (uint16_t)(log2_u32(c->msi_vectors) << 1);

	f->msi_cap = add_capability(f, next_free, PCI_CAP_ID_MSI, MSI_CAP_SIZE);
	if (c->msi_64bit)
		flags |= PCI_MSI_FLAGS_64BIT;
	if (c->msi_per_vector_mask)
		flags |= PCI_MSI_FLAGS_MASKBIT;
	pci_cfg_set(f, f->msi_cap + PCI_MSI_FLAGS, 2, flags);
	wmask_set(f, f->msi_cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	wmask_set(f, f->msi_cap + PCI_MSI_ADDRESS_LO, 4, 0xfffffffc);
	if (c->msi_64bit)
		wmask_set(f, f->msi_cap + PCI_MSI_ADDRESS_HI, 4, 0xffffffff);
	wmask_set(f, msi_data_off(f), 2, 0xffff);
	if (c->msi_per_vector_mask)
		wmask_set(f, msi_mask_off(f), 4, (uint32_t)bits_mask(c->msi_vectors - 1, 0));
}

static void init_msix_cap(struct pci_func *f, uint8_t *next_free)
{
	const struct pci_func_config *c = &f->cfg;

	f->msix_cap = add_capability(f, next_free, PCI_CAP_ID_MSIX, MSIX_CAP_SIZE);
	pci_cfg_set(f, f->msix_cap + PCI_MSIX_FLAGS, 2, c->msix_vectors - 1);
	wmask_set(f, f->msix_cap + PCI_MSIX_FLAGS, 2,
		  PCI_MSIX_FLAGS_MASKALL | PCI_MSIX_FLAGS_ENABLE);
	pci_cfg_set(f, f->msix_cap + PCI_MSIX_TABLE, 4, c->msix_table_offset | c->msix_table_bar);
	pci_cfg_set(f, f->msix_cap + PCI_MSIX_PBA, 4, c->msix_pba_offset | c->msix_pba_bar);
}

int pci_func_create(const struct pci_func_config *cfg, struct pci_func **ret)
{
	uint8_t next_free = CAP_START;
	struct pci_func *f;

	if (!config_valid(cfg))
		return -EINVAL;
	/* aligned, so that a raise reads the few cache lines pci_internal.h lays out */
	f = calloc_aligned(alignof(struct pci_func), 1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->cfg = *cfg;
	init_header(f);
	if (cfg->msi_vectors)
		init_msi(f, &next_free);
	if (cfg->msix_vectors)
		init_msix_cap(f, &next_free);
	if (msix_init(f) || ims_init(f)) {
		pci_func_free(f);
		return -ENOMEM;
	}
	*ret = f;
	return 0;
}

void pci_func_free(struct pci_func *f)
{
	if (!f)
		return;
	free(f->msix_table);
	free(f->msix_pba);
	free(f->ims_slots);
	free(f->ims_pending);
	free(f);
}

void pci_func_attach(struct pci_func *f, const struct msi_sink *sink, const struct pci_dma *dma)
{
	f->sink = sink ? *sink : (struct msi_sink){0};
	f->dma = dma ? *dma : (struct pci_dma){0};
}

static unsigned popcount_words(const uint64_t *w, unsigned bits)
{
	unsigned n = 0;

	for (unsigned i = 0; w && i < bitmap_words(bits); i++)
		n += (unsigned)__builtin_popcountll(w[i]);
	return n;
}

unsigned pci_func_pending_count(const struct pci_func *f)
{
	const struct pci_func_config *c = &f->cfg;
	unsigned n = popcount_words(f->msix_pba, c->msix_vectors);

	if (c->msi_per_vector_mask)
		n += (unsigned)__builtin_popcount(pci_cfg_get(f, pci_msi_pending_off(f), 4));
	if (c->ims_storage == IMS_MEMORY)
		n += popcount_words(f->ims_pending, c->ims_entries);
	for (unsigned i = 0; c->ims_storage == IMS_DEVICE && i < c->ims_entries; i++)
		n += (f->ims_slots[i].ctrl & IMS_CTRL_PENDING) != 0;
	return n;
}

void pci_func_set_dma(struct pci_func *f, const struct pci_dma *dma)
{
	f->dma = dma ? *dma : (struct pci_dma){0};
}

uint64_t pci_func_bar_size(const struct pci_func *f, unsigned bar)
{
	return bar_size(&f->cfg, bar);
}

bool pci_func_ims(const struct pci_func *f, unsigned *ret_bar, uint64_t *ret_off, uint64_t *ret_len)
{
	const struct pci_func_config *c = &f->cfg;

	if (c->ims_storage == IMS_NONE)
		return false;
	*ret_bar = c->ims_bar;
	*ret_off = c->ims_offset;
	*ret_len =
	    c->ims_storage == IMS_DEVICE ? (uint64_t)c->ims_entries * IMS_SLOT_SIZE : IMS_REGS_SIZE;
	return true;
}

enum ims_storage pci_func_ims_storage(const struct pci_func *f)
{
	return f->cfg.ims_storage;
}

unsigned pci_func_ims_entries(const struct pci_func *f)
{
	return f->cfg.ims_storage == IMS_NONE ? 0 : f->cfg.ims_entries;
}

uint16_t pci_func_rid(const struct pci_func *f)
{
	return f->cfg.rid;
}

const struct pci_func_stats *pci_func_stats(const struct pci_func *f)
{
	return &f->stats;
}

uint8_t pci_find_capability(struct pci_func *f, uint8_t id)
{
	uint8_t at = (uint8_t)pci_cfg_get(f, PCI_CAPABILITY_LIST, 1);

	/* Bounded walk: a list can have at most 48 entries in 192 bytes. */
	for (unsigned hops = 0; at && hops < 48; hops++) {
		if (pci_cfg_get(f, at, 1) == id)
			return at;
		at = (uint8_t)pci_cfg_get(f, at + 1u, 1);
	}
	return 0;
}

/* ---- delivery shared by MSI, MSI-X and IMS ------------------------------- */

int pci_func_set_handle_window(struct pci_func *f, uint32_t base, uint32_t count)
{
	if (!f->cfg.handle_window)
		return -EOPNOTSUPP;
	f->win_base = base;
	f->win_count = count;
	return 0;
}

bool pci_func_has_handle_window(const struct pci_func *f)
{
	return f->cfg.handle_window;
}

/*
 * A function with a handle window lets out only remappable messages naming
 * an IRTE in it: a guest that owns one interface's storage cannot name an
 * IRTE of another interface behind the same requester-id, which source
 * validation alone could not tell apart.
 */
static bool in_window(const struct pci_func *f, const struct msi_msg *msg)
{
	struct msi_remap r;
	uint32_t index;

	if (!f->cfg.handle_window)
		return true;
	if (!msi_is_interrupt_address(msg) || msg->address_hi ||
	    msi_format_of(msg) != MSI_FORMAT_REMAPPABLE)
		return false;
	msi_remap_decode(msg, &r);
	index = msi_remap_index(&r);
	return index >= f->win_base && index - f->win_base < f->win_count;
}

static bool send(struct pci_func *f, const struct msi_msg *msg)
{
	if (!in_window(f, msg)) {
		f->stats.window_refused++;
		return false;
	}
	f->stats.sent++;
	if (f->sink.deliver)
		f->sink.deliver(f->sink.ctx, msg, f->cfg.rid);
	return true;
}

void pci_send_pending(struct pci_func *f, const struct msi_msg *msg)
{
	f->stats.sent_from_pending++;
	(void)send(f, msg); /* outside the window: dropped, counted */
}

enum pci_irq_result pci_deliver_or_latch(struct pci_func *f, bool enabled, bool masked,
					 uint64_t *pending, unsigned n, const struct msi_msg *msg)
{
	if (!enabled || !pci_bus_master(f)) {
		f->stats.disabled++;
		return PCI_IRQ_DISABLED;
	}
	if (masked || f->stopped) {
		if (bitmap_test(pending, n))
			f->stats.pending_coalesced++;
		bitmap_assign(pending, n, true);
		f->stats.pending_set++;
		return PCI_IRQ_PENDING;
	}
	return send(f, msg) ? PCI_IRQ_SENT : PCI_IRQ_WINDOW;
}

/* ---- MSI ---------------------------------------------------------------- */

static unsigned msi_enabled_vectors(const struct pci_func *f)
{
	uint16_t flags = (uint16_t)pci_cfg_get(f, f->msi_cap + PCI_MSI_FLAGS, 2);

	unsigned asked;

	if (!(flags & PCI_MSI_FLAGS_ENABLE))
		return 0;
	/*
	 * Multiple Message Enable above what the function is capable of (the PCI spec
	 * forbids software to write it; 110b and 111b are reserved) gets what it has.
	 */
	asked = 1u << ((flags & PCI_MSI_FLAGS_QSIZE) >> 4);
	return asked < f->cfg.msi_vectors ? asked : f->cfg.msi_vectors;
}

/* The message for vector @n: the low log2(enabled) data bits carry @n. */
static struct msi_msg msi_message(const struct pci_func *f, unsigned n)
{
	unsigned count = msi_enabled_vectors(f);
	uint32_t data = pci_cfg_get(f, msi_data_off(f), 2);

	return (struct msi_msg){
	    .address_lo = pci_cfg_get(f, f->msi_cap + PCI_MSI_ADDRESS_LO, 4),
	    .address_hi = f->cfg.msi_64bit ? pci_cfg_get(f, f->msi_cap + PCI_MSI_ADDRESS_HI, 4) : 0,
	    .data = (data & ~(count - 1)) | n,
	};
}

static bool msi_masked(const struct pci_func *f, unsigned n)
{
	return f->cfg.msi_per_vector_mask && bit_get(pci_cfg_get(f, msi_mask_off(f), 4), n);
}

int pci_func_raise_msi(struct pci_func *f, unsigned n, enum pci_irq_result *ret)
{
	struct msi_msg msg;
	uint64_t pending;

	if (n >= f->cfg.msi_vectors)
		return -EINVAL;
	msg = msi_message(f, n);
	pending = f->cfg.msi_per_vector_mask ? pci_cfg_get(f, pci_msi_pending_off(f), 4) : 0;
	/* A vector beyond the enabled count cannot be signalled at all. */
	*ret = pci_deliver_or_latch(f, n < msi_enabled_vectors(f), msi_masked(f, n), &pending, n,
				    &msg);
	if (f->cfg.msi_per_vector_mask)
		pci_cfg_set(f, pci_msi_pending_off(f), 4, (uint32_t)pending);
	return 0;
}

void msi_flush_pending(struct pci_func *f)
{
	uint32_t pending;

	if (!f->cfg.msi_per_vector_mask || !pci_may_send(f))
		return;
	pending = pci_cfg_get(f, pci_msi_pending_off(f), 4);
	for (unsigned n = 0; n < msi_enabled_vectors(f); n++) {
		struct msi_msg msg;

		if (!bit_get(pending, n) || msi_masked(f, n))
			continue;
		pending = (uint32_t)bit_set(pending, n, false);
		msg = msi_message(f, n);
		pci_send_pending(f, &msg);
	}
	pci_cfg_set(f, pci_msi_pending_off(f), 4, pending);
}

void pci_flush_all_pending(struct pci_func *f)
{
	msi_flush_pending(f);
	msix_flush_pending(f);
	ims_flush_pending(f);
}

/* ---- configuration space ------------------------------------------------ */

static bool access_ok(uint32_t offset, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && !(offset & (size - 1)) &&
	       offset + size <= PCI_CFG_SIZE;
}

uint32_t pci_cfg_read(struct pci_func *f, uint16_t offset, unsigned size)
{
	if (!access_ok(offset, size))
		return UINT32_MAX;
	return pci_cfg_get(f, offset, size);
}

static bool touches(uint16_t offset, unsigned size, unsigned cap, unsigned cap_size)
{
	return cap && offset < cap + cap_size && cap < offset + size;
}

void pci_cfg_write(struct pci_func *f, uint16_t offset, unsigned size, uint32_t val)
{
	if (!access_ok(offset, size))
		return;
	for (unsigned i = 0; i < size; i++) {
		uint8_t m = f->wmask[offset + i];
		uint8_t b = (uint8_t)(val >> (8 * i));

		f->config[offset + i] = (uint8_t)((f->config[offset + i] & ~m) | (b & m));
	}
	/* Enabling, unmasking or turning on bus mastering releases latched vectors. */
	if (touches(offset, size, f->msi_cap, MSI_CAP_SIZE) ||
	    touches(offset, size, PCI_COMMAND, 2))
		msi_flush_pending(f);
	if (touches(offset, size, f->msix_cap, MSIX_CAP_SIZE) ||
	    touches(offset, size, PCI_COMMAND, 2))
		msix_flush_pending(f);
}

/* ---- MMIO --------------------------------------------------------------- */

static int check_bar(const struct pci_func *f, unsigned bar, uint64_t offset, unsigned size)
{
	uint64_t bsize = bar_size(&f->cfg, bar);

	if (!bsize || offset >= bsize || size > bsize - offset)
		return -ERANGE;
	return 0;
}

int pci_mmio_read(struct pci_func *f, unsigned bar, uint64_t offset, unsigned size, uint64_t *ret)
{
	int err = check_bar(f, bar, offset, size);

	if (err)
		return err;
	if (!mem_enabled(f)) {
		*ret = size >= 8 ? UINT64_MAX : bits_mask(8 * size - 1, 0);
		return 0;
	}
	err = msix_mmio_read(f, bar, offset, size, ret);
	if (err == -ENOENT)
		err = ims_mmio_read(f, bar, offset, size, ret);
	if (err == -ENOENT) {
		*ret = 0; /* device registers that are not interrupt storage */
		err = 0;
	}
	if (err == -EINVAL) {
		f->stats.bad_accesses++;
		*ret = size >= 8 ? UINT64_MAX : bits_mask(8 * size - 1, 0);
	}
	return err;
}

int pci_mmio_write(struct pci_func *f, unsigned bar, uint64_t offset, unsigned size, uint64_t val)
{
	int err = check_bar(f, bar, offset, size);

	if (err || !mem_enabled(f))
		return err;
	err = msix_mmio_write(f, bar, offset, size, val);
	if (err == -ENOENT)
		err = ims_mmio_write(f, bar, offset, size, val);
	if (err == -ENOENT)
		err = 0;
	if (err == -EINVAL)
		f->stats.bad_accesses++;
	return err;
}
