/* SPDX-License-Identifier: MIT */
/*
 * Private to the PCI function model (pci.c, msix.c, ims.c): the function's
 * state, split kvmtool-style into the guest-visible register image (config
 * space, MSI-X table and PBA, IMS slots) and the device's private state.
 */
#ifndef PVIR_PCI_INTERNAL_H
#define PVIR_PCI_INTERNAL_H

#include <stdalign.h>

#include "pvir/msi.h"
#include "pvir/pci.h"

/* One 16-byte interrupt slot: the MSI-X table entry layout, shared by IMS. */
struct irq_slot {
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
	uint32_t ctrl;
};

/*
 * Ordered for the raise path, not by kind: a fleet's dozens of functions
 * interleave their raises, so what one reads sits in few cache lines. The
 * struct is allocated 64-byte aligned (pci_func_create), and:
 *   line 0: the interrupt storage, the sink, the window, the migration stop;
 *   line 1: the counters;
 *   line 2: the configuration a raise reads (pci_func_config leads with it);
 * then the config space, whose command register (bus master) a raise reads too.
 */
struct pci_func {
	/* guest-visible image: MSI-X table and PBA, device IMS slots */
	struct irq_slot *msix_table;
	struct irq_slot *ims_slots; /* device kind */
	uint64_t *msix_pba;
	/* private */
	uint64_t *ims_pending; /* both kinds; bit n = slot n latched while masked */
	struct msi_sink sink;
	uint32_t win_base, win_count; /* the handle window, if the function has one */
	bool stopped;		      /* by its migration driver (pci_state.c) */
	uint8_t msi_cap;
	uint8_t msix_cap;
	alignas(64) struct pci_func_stats stats;
	alignas(64) struct pci_func_config cfg;
	struct pci_dma dma;
	/* guest-visible image: memory-kind IMS registers, config space */
	uint64_t ims_ctx_base;
	uint32_t ims_ctrl;
	alignas(64) uint8_t config[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];
};
_Static_assert(offsetof(struct pci_func, stats) == 64, "what a raise reads first: one line");

static inline unsigned bitmap_words(unsigned bits)
{
	return (bits + 63) / 64;
}

/* Config-space accessors that bypass the write mask (device-side updates). */
uint32_t pci_cfg_get(const struct pci_func *f, unsigned offset, unsigned size);
void pci_cfg_set(struct pci_func *f, unsigned offset, unsigned size, uint32_t val);

/* The common tail of every raise: enabled? masked? then send or latch. */
enum pci_irq_result pci_deliver_or_latch(struct pci_func *f, bool enabled, bool masked,
					 uint64_t *pending, unsigned n, const struct msi_msg *msg);
/* Sends a message latched earlier; counts it. */
void pci_send_pending(struct pci_func *f, const struct msi_msg *msg);
bool pci_bus_master(const struct pci_func *f);
/* Bus master on and not stopped: the function may send (and read memory). */
bool pci_may_send(const struct pci_func *f);
/* Sends every latched vector that is now unmasked: MSI, MSI-X and IMS. */
void pci_flush_all_pending(struct pci_func *f);
unsigned pci_msi_pending_off(const struct pci_func *f);

/* A BAR-relative range [offset, offset + len) in BAR @bar. */
bool pci_in_range(unsigned bar, uint64_t offset, unsigned want_bar, uint64_t start, uint64_t len);

/*
 * Slot arrays (MSI-X table, device IMS): aligned DWORD/QWORD accesses only.
 * Control words keep only @ctrl_wmask writable. Return 0 or -EINVAL.
 */
int irq_slots_read(const struct irq_slot *slots, uint64_t offset, unsigned size, uint64_t *ret);
int irq_slots_write(struct irq_slot *slots, uint64_t offset, unsigned size, uint64_t val,
		    uint32_t ctrl_wmask);
struct msi_msg irq_slot_msg(const struct irq_slot *s);

/* MSI-X (msix.c) and IMS (ims.c) hooks; mmio ones return -ENOENT when the
 * access is not theirs. */
int msix_init(struct pci_func *f);
int msix_mmio_read(struct pci_func *f, unsigned bar, uint64_t off, unsigned size, uint64_t *ret);
int msix_mmio_write(struct pci_func *f, unsigned bar, uint64_t off, unsigned size, uint64_t val);
void msix_flush_pending(struct pci_func *f);
void msi_flush_pending(struct pci_func *f);

int ims_init(struct pci_func *f);
int ims_mmio_read(struct pci_func *f, unsigned bar, uint64_t off, unsigned size, uint64_t *ret);
int ims_mmio_write(struct pci_func *f, unsigned bar, uint64_t off, unsigned size, uint64_t val);
void ims_flush_pending(struct pci_func *f);

#endif
