/* SPDX-License-Identifier: MIT */
/*
 * Test helpers for the PCI function model that read like a driver: enable the
 * function, program an entry, and a sink that records what the device sent.
 */
#ifndef PVIR_TEST_PCI_HELPERS_H
#define PVIR_TEST_PCI_HELPERS_H

#include "pvir/msi.h"
#include "pvir/pci.h"

#define SINK_MAX 64

struct sink_log {
	unsigned n;
	struct msi_msg msg[SINK_MAX];
	uint16_t rid[SINK_MAX];
};

static inline void sink_record(void *ctx, const struct msi_msg *msg, uint16_t rid)
{
	struct sink_log *log = ctx;

	if (log->n < SINK_MAX) {
		log->msg[log->n] = *msg;
		log->rid[log->n] = rid;
	}
	log->n++;
}

static inline void attach_log(struct pci_func *f, struct sink_log *log, const struct pci_dma *dma)
{
	struct msi_sink sink = {.deliver = sink_record, .ctx = log};

	pci_func_attach(f, &sink, dma);
}

/* Memory space and bus mastering on, as a driver's pci_enable_device + set_master. */
static inline void enable_function(struct pci_func *f)
{
	pci_cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

static inline void mmio_write32(struct pci_func *f, unsigned bar, uint64_t off, uint32_t v)
{
	assert_int_equal(pci_mmio_write(f, bar, off, 4, v), 0);
}

static inline uint64_t mmio_read(struct pci_func *f, unsigned bar, uint64_t off, unsigned size)
{
	uint64_t v;

	assert_int_equal(pci_mmio_read(f, bar, off, size, &v), 0);
	return v;
}

/* Linux's order for an MSI-X/IMS slot: address low, high, data; control last. */
static inline void program_slot(struct pci_func *f, unsigned bar, uint64_t slot_off,
				const struct msi_msg *m, bool masked)
{
	mmio_write32(f, bar, slot_off + 0, m->address_lo);
	mmio_write32(f, bar, slot_off + 4, m->address_hi);
	mmio_write32(f, bar, slot_off + 8, m->data);
	mmio_write32(f, bar, slot_off + 12, masked ? 1 : 0);
}

#endif
