// SPDX-License-Identifier: MIT
/*
 * A function's migration stream, as a VMM writes it to VFIO's resuming data fd
 * (src/hw/pci_state.c, src/host/vfio_mig.c). The VMM is user space: the kernel's
 * driver may not trust a byte of it. The input edits a valid stream, saved from a
 * function with MSI-X and device IMS programmed and vectors latched:
 *
 *   byte 0      how the length changes: 0 none, 1 cut by the next byte (x 16),
 *               2 extended by the next byte
 *   then        (u16 offset, u8 value) triples, each XORed into the stream
 *
 * and writes it through a resuming session. Whatever it holds:
 *
 *  - the load is refused with nothing changed, or it takes;
 *  - taken, the device's identity and capability list are its own, no control
 *    word has a bit beyond its writable ones, no vector beyond the function's is
 *    pending;
 *  - running it sends at most one message per latched vector, each with the
 *    function's requester-id.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/msi.h"
#include "pvir/pci.h"
#include "pvir/vfio_mig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MSIX	 16
#define IMS	 8
#define IMS_OFF	 0x4000
#define PBA_OFF	 0x2000
#define RID	 0x0300
#define CHECK(c) ((c) ? (void)0 : abort())

static const struct pci_func_config config = {
    .rid = RID,
    .vendor_id = 0x8086,
    .device_id = 0x1592,
    .bars = {[0] = {.size = 0x8000}},
    .msi_vectors = 4,
    .msi_64bit = true,
    .msi_per_vector_mask = true,
    .msix_vectors = MSIX,
    .msix_pba_offset = PBA_OFF,
    .ims_storage = IMS_DEVICE,
    .ims_entries = IMS,
    .ims_offset = IMS_OFF,
};

struct sent {
	unsigned n;
	bool foreign;
};

static void record(void *ctx, const struct msi_msg *m, uint16_t rid)
{
	struct sent *s = ctx;

	(void)m;
	s->n++;
	s->foreign |= rid != RID;
}

static struct pci_func *function(struct sent *s)
{
	struct msi_sink sink = {.deliver = record, .ctx = s};
	struct pci_func *f;

	CHECK(pci_func_create(&config, &f) == 0);
	pci_func_attach(f, &sink, NULL);
	pci_cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	return f;
}

/* The source: MSI-X on, entries programmed, some masked, vectors latched while stopped. */
static uint8_t *valid_stream(size_t *len)
{
	struct sent s = {0};
	struct pci_func *f = function(&s);
	uint8_t cap = pci_find_capability(f, PCI_CAP_ID_MSIX);
	enum pci_irq_result r;
	uint8_t *buf;

	pci_cfg_write(f, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	for (unsigned n = 0; n < MSIX; n++) {
		uint64_t e = (uint64_t)n * PCI_MSIX_ENTRY_SIZE;

		CHECK(pci_mmio_write(f, 0, e, 4, 0xfee00018 | n << 5) == 0);
		CHECK(pci_mmio_write(f, 0, e + 12, 4, n % 3 == 0) == 0);
	}
	for (unsigned n = 0; n < IMS; n++)
		CHECK(pci_mmio_write(f, 0, IMS_OFF + (uint64_t)n * 16 + 12, 4, n % 2) == 0);
	pci_func_stop(f, true);
	for (unsigned n = 0; n < MSIX; n += 2)
		CHECK(pci_func_raise_msix(f, n, &r) == 0);
	for (unsigned n = 0; n < IMS; n += 3)
		CHECK(pci_func_raise_ims(f, n, &r) == 0);
	*len = pci_func_state_size(f);
	buf = malloc(*len + 256);
	CHECK(buf && pci_func_save_state(f, buf, *len) == 0);
	pci_func_free(f);
	return buf;
}

/* The input's edits applied: the length first, then the XORs. */
static size_t edit(uint8_t *buf, size_t len, const uint8_t *data, size_t size)
{
	size_t i = 1;

	if (size >= 2 && data[0] % 3 == 1)
		len = (size_t)data[1] * 16 < len ? len - (size_t)data[1] * 16 : 0;
	else if (size >= 2 && data[0] % 3 == 2)
		len += data[1];
	i += size >= 2 && data[0] % 3;
	for (; i + 3 <= size; i += 3) {
		size_t off = (size_t)data[i] | (size_t)data[i + 1] << 8;

		if (off < len)
			buf[off] ^= data[i + 2];
	}
	return len;
}

/* What a loaded function may hold: its own identity, no bit software could not set. */
static void sane(struct pci_func *f)
{
	uint8_t cap = pci_find_capability(f, PCI_CAP_ID_MSIX);

	CHECK(pci_cfg_read(f, 0, 4) == (0x1592u << 16 | 0x8086u));
	CHECK(cap != 0);
	/* the stream may have turned memory space off: reads would then be all-ones */
	pci_cfg_write(f, PCI_COMMAND, 2,
		      (uint16_t)pci_cfg_read(f, PCI_COMMAND, 2) | PCI_COMMAND_MEMORY);
	for (unsigned n = 0; n < MSIX; n++) {
		uint64_t ctrl = 0;

		CHECK(pci_mmio_read(f, 0, (uint64_t)n * PCI_MSIX_ENTRY_SIZE + 12, 4, &ctrl) == 0);
		CHECK((ctrl & ~(uint64_t)PCI_MSIX_ENTRY_CTRL_MASKBIT) == 0);
	}
	for (unsigned n = 0; n < IMS; n++) {
		uint64_t ctrl = 0;

		CHECK(pci_mmio_read(f, 0, IMS_OFF + (uint64_t)n * 16 + 12, 4, &ctrl) == 0);
		CHECK((ctrl & ~(uint64_t)(IMS_CTRL_MASK | IMS_CTRL_PENDING)) == 0);
	}
	CHECK(pci_func_pending_count(f) <= 4 + MSIX + IMS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *valid;
	static size_t valid_len;
	struct sent s = {0};
	struct pci_func *f;
	struct vfio_mig *m;
	uint8_t *buf, *before, *after;
	size_t len, state_len;
	ssize_t w;
	unsigned pending;
	int err;

	if (!valid)
		valid = valid_stream(&valid_len);
	buf = malloc(valid_len + 256);
	CHECK(buf != NULL);
	memcpy(buf, valid, valid_len);
	memset(buf + valid_len, 0, 256);
	len = edit(buf, valid_len, data, size);

	f = function(&s);
	CHECK(vfio_mig_open(f, &m) == 0);
	CHECK(vfio_mig_set_state(m, VFIO_DEVICE_STATE_RESUMING) == 0);
	state_len = pci_func_state_size(f);
	before = malloc(state_len);
	after = malloc(state_len);
	CHECK(before && after && pci_func_save_state(f, before, state_len) == 0);
	w = vfio_mig_write(m, buf, len);
	CHECK(w == (ssize_t)len || (w == -ENOSPC && len > state_len));
	err = vfio_mig_set_state(m, VFIO_DEVICE_STATE_RUNNING);
	if (err) { /* refused: still resuming, the function as it was */
		CHECK(vfio_mig_state(m) == VFIO_DEVICE_STATE_RESUMING);
		CHECK(pci_func_save_state(f, after, state_len) == 0);
		CHECK(memcmp(before, after, state_len) == 0);
	} else {
		CHECK(vfio_mig_state(m) == VFIO_DEVICE_STATE_RUNNING);
		sane(f);
		/* running sent what was latched and unmasked, once, as this function */
		pending = pci_func_pending_count(f);
		CHECK(s.n + pending <= 4 + MSIX + IMS);
		CHECK(!s.foreign);
	}
	vfio_mig_close(m);
	pci_func_free(f);
	free(before);
	free(after);
	free(buf);
	return 0;
}
