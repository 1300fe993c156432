// SPDX-License-Identifier: MIT
/*
 * A function's migration state, as a VFIO migration driver handles it
 * (include/uapi/linux/vfio.h, VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE):
 *
 *  - stopping: "While in STOP the device must stop the operation of the
 *    device. The device must not generate interrupts, DMA, or any other
 *    change to external state." A vector raised while stopped latches in its
 *    pending bit, as a masked one does, and reads no memory; leaving STOP
 *    sends every latched vector that is unmasked, as an unmask does. MSI-X
 *    and config space still answer while stopped (the same text);
 *  - the interrupt state as bytes: config space, the MSI-X table and PBA,
 *    device-resident IMS slots, the memory-kind IMS registers, and every
 *    pending bit. Loading checks the stream whole before it changes
 *    anything: a stream that is short, long, of another version or of
 *    another kind of device is refused (the uapi's "incomplete,
 *    inconsistent, or otherwise invalid"), and the stream can set only what
 *    software or the device itself could set: config space through its
 *    write mask, control words through their writable bits, pending bits
 *    only for vectors that exist.
 *
 * The layout is ours, little-endian, versioned (docs/migration.md).
 */
#include <errno.h>
#include <string.h>

#include "pci_internal.h"

#define STATE_MAGIC   0x53445650u /* "PVDS" */
#define STATE_VERSION 1u

/* A bounded byte stream: writes past the end and reads past the end are counted, not done. */
struct stream {
	uint8_t *out;
	const uint8_t *in;
	size_t pos, len;
	bool overrun;
};

static void put(struct stream *s, uint64_t v, unsigned bytes)
{
	if (s->out && s->pos + bytes <= s->len)
		for (unsigned i = 0; i < bytes; i++)
			s->out[s->pos + i] = (uint8_t)(v >> (8 * i));
	s->overrun |= s->pos + bytes > s->len;
	s->pos += bytes;
}

static uint64_t get(struct stream *s, unsigned bytes)
{
	uint64_t v = 0;

	if (s->pos + bytes > s->len) {
		s->overrun = true;
		return 0;
	}
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)s->in[s->pos + i] << (8 * i);
	s->pos += bytes;
	return v;
}

/* ---- stopping ------------------------------------------------------------ */

bool pci_may_send(const struct pci_func *f)
{
	return !f->stopped && pci_bus_master(f);
}

bool pci_func_stopped(const struct pci_func *f)
{
	return f->stopped;
}

void pci_func_stop(struct pci_func *f, bool stop)
{
	bool was = f->stopped;

	f->stopped = stop;
	if (was && !stop)
		pci_flush_all_pending(f);
}

/* ---- the stream ---------------------------------------------------------- */

/* What a stream must match: the kind of device, not the host it sits on. */
static void put_shape(struct stream *s, const struct pci_func *f)
{
	put(s, STATE_MAGIC, 4);
	put(s, STATE_VERSION, 4);
	put(s, (uint32_t)f->cfg.vendor_id << 16 | f->cfg.device_id, 4);
	put(s, f->cfg.msi_vectors, 4);
	put(s, f->cfg.msix_vectors, 4);
	put(s, (uint32_t)f->cfg.ims_storage, 4);
	put(s, f->cfg.ims_entries, 4);
}

static void put_slots(struct stream *s, const struct irq_slot *slots, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		put(s, slots[i].addr_lo, 4);
		put(s, slots[i].addr_hi, 4);
		put(s, slots[i].data, 4);
		put(s, slots[i].ctrl, 4);
	}
}

static void put_bitmap(struct stream *s, const uint64_t *map, unsigned bits)
{
	for (unsigned w = 0; w < bitmap_words(bits); w++)
		put(s, map ? map[w] : 0, 8);
}

static void put_state(struct stream *s, const struct pci_func *f)
{
	put_shape(s, f);
	for (unsigned i = 0; i < PCI_CFG_SIZE; i++)
		put(s, f->config[i], 1);
	put_slots(s, f->msix_table, f->cfg.msix_vectors);
	put_bitmap(s, f->msix_pba, f->cfg.msix_vectors);
	put_slots(s, f->ims_slots, f->cfg.ims_storage == IMS_DEVICE ? f->cfg.ims_entries : 0);
	put_bitmap(s, f->ims_pending, f->cfg.ims_entries);
	put(s, f->ims_ctx_base, 8);
	put(s, f->ims_ctrl, 4);
}

size_t pci_func_state_size(const struct pci_func *f)
{
	struct stream s = {0};

	put_state(&s, f);
	return s.pos;
}

int pci_func_save_state(const struct pci_func *f, void *buf, size_t len)
{
	struct stream s = {.out = buf, .len = len};

	if (len < pci_func_state_size(f))
		return -ENOSPC;
	put_state(&s, f);
	return 0;
}

/* ---- loading: check whole, then apply ------------------------------------ */

static bool shape_matches(struct stream *s, const struct pci_func *f)
{
	uint8_t want[28];
	struct stream w = {.out = want, .len = sizeof(want)};

	put_shape(&w, f);
	for (unsigned i = 0; i < sizeof(want); i++)
		if (get(s, 1) != want[i])
			return false;
	return true;
}

/* Software's bits of config space from the stream, the device's own from @f; MSI's
 * pending bits are the device's state, so they come from the stream. */
static void load_config(struct stream *s, struct pci_func *f)
{
	uint32_t msi_pending = 0;
	unsigned pending_off = 0;

	if (f->msi_cap && f->cfg.msi_per_vector_mask)
		pending_off = pci_msi_pending_off(f);
	for (unsigned i = 0; i < PCI_CFG_SIZE; i++) {
		uint8_t b = (uint8_t)get(s, 1);

		if (pending_off && i >= pending_off && i < pending_off + 4)
			msi_pending |= (uint32_t)b << (8 * (i - pending_off));
		f->config[i] = (uint8_t)((f->config[i] & ~f->wmask[i]) | (b & f->wmask[i]));
	}
	if (pending_off)
		pci_cfg_set(f, pending_off, 4,
			    msi_pending & (uint32_t)bits_mask(f->cfg.msi_vectors - 1, 0));
}

static void load_slots(struct stream *s, struct irq_slot *slots, unsigned n, uint32_t ctrl_bits)
{
	for (unsigned i = 0; i < n; i++) {
		slots[i].addr_lo = (uint32_t)get(s, 4);
		slots[i].addr_hi = (uint32_t)get(s, 4);
		slots[i].data = (uint32_t)get(s, 4);
		slots[i].ctrl = (uint32_t)get(s, 4) & ctrl_bits;
	}
}

/* Bits beyond the last vector are dropped: they name nothing. */
static void load_bitmap(struct stream *s, uint64_t *map, unsigned bits)
{
	for (unsigned w = 0; w < bitmap_words(bits); w++) {
		uint64_t v = get(s, 8);
		unsigned left = bits - 64 * w;

		if (map)
			map[w] = left >= 64 ? v : v & bits_mask(left - 1, 0);
	}
}

static void load_state(struct stream *s, struct pci_func *f)
{
	load_config(s, f);
	load_slots(s, f->msix_table, f->cfg.msix_vectors, PCI_MSIX_ENTRY_CTRL_MASKBIT);
	load_bitmap(s, f->msix_pba, f->cfg.msix_vectors);
	load_slots(s, f->ims_slots, f->cfg.ims_storage == IMS_DEVICE ? f->cfg.ims_entries : 0,
		   IMS_CTRL_MASK | IMS_CTRL_PENDING);
	load_bitmap(s, f->ims_pending, f->cfg.ims_entries);
	f->ims_ctx_base = get(s, 8);
	f->ims_ctrl = (uint32_t)get(s, 4) & IMS_REG_CTRL_ENABLE;
}

int pci_func_load_state(struct pci_func *f, const void *buf, size_t len)
{
	struct stream s = {.in = buf, .len = len};

	if (!f->stopped)
		return -EBUSY;
	if (!buf || len != pci_func_state_size(f) || !shape_matches(&s, f))
		return -EINVAL;
	load_state(&s, f);
	return 0;
}
