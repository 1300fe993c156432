/* SPDX-License-Identifier: MIT */
/*
 * A PCI function as software sees it: 4 KiB of configuration space with a
 * capability list, memory BARs, the MSI and MSI-X capabilities, the MSI-X
 * table and PBA in a BAR (PCI Local Bus 3.0 §6.8; PCIe base spec §7.7), and
 * device-specific IMS storage in one of two kinds:
 *
 *  - device: 16-byte slots in a BAR (address low/high, data, control with a
 *    mask bit at 0 and a read-only pending bit at 1), like the IDXD demo
 *    irqchip's layout (docs/hardware.md);
 *  - memory: 16-byte slots of the same layout in a context area in memory,
 *    which the device reads by DMA each time it fires. The device has three
 *    registers in its BAR: context base (64-bit), control (bit 0 enable) and
 *    a doorbell that makes it re-read one slot after software unmasked it.
 *
 * The device raises interrupts by writing (address, data, requester-id) to
 * the sink it is attached to (the IOMMU, in this project). Masked vectors
 * latch a pending bit and send on unmask, as MSI-X requires; nothing is
 * dropped silently: every outcome of a raise is returned and counted.
 *
 * Not modelled: I/O BARs, INTx, PCIe capability and extended capabilities,
 * device registers other than interrupt storage (they read 0, ignore writes),
 * MSI extended message data.
 */
#ifndef PVIR_PCI_H
#define PVIR_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvir/compiler.h"

struct msi_msg;

#define PCI_CFG_SIZE 4096
#define PCI_NUM_BARS 6

/* Type 0 header (PCI 3.0 §6.1). */
#define PCI_VENDOR_ID	    0x00
#define PCI_DEVICE_ID	    0x02
#define PCI_COMMAND	    0x04
#define PCI_STATUS	    0x06
#define PCI_CLASS_REVISION  0x08
#define PCI_HEADER_TYPE	    0x0e
#define PCI_BASE_ADDRESS_0  0x10
#define PCI_CAPABILITY_LIST 0x34
#define PCI_COMMAND_MEMORY  0x2 /* memory space enable */
#define PCI_COMMAND_MASTER  0x4 /* bus master enable: needed to send MSIs */
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_BAR_MEM_TYPE_64 0x4

#define PCI_CAP_ID_MSI	0x05
#define PCI_CAP_ID_MSIX 0x11

/* MSI capability (PCI 3.0 §6.8.1). */
#define PCI_MSI_FLAGS	      2
#define PCI_MSI_FLAGS_ENABLE  0x0001
#define PCI_MSI_FLAGS_QMASK   0x000e /* multiple message capable, log2 */
#define PCI_MSI_FLAGS_QSIZE   0x0070 /* multiple message enable, log2 */
#define PCI_MSI_FLAGS_64BIT   0x0080
#define PCI_MSI_FLAGS_MASKBIT 0x0100 /* per-vector masking capable */
#define PCI_MSI_ADDRESS_LO    4
#define PCI_MSI_ADDRESS_HI    8 /* 64-bit only */
#define PCI_MSI_DATA_32	      8
#define PCI_MSI_DATA_64	      12
#define PCI_MSI_MASK_32	      12
#define PCI_MSI_MASK_64	      16
#define PCI_MSI_PENDING_32    16
#define PCI_MSI_PENDING_64    20
#define PCI_MSI_MAX_VECTORS   32

/* MSI-X capability (PCI 3.0 §6.8.2). */
#define PCI_MSIX_FLAGS		    2
#define PCI_MSIX_FLAGS_QSIZE	    0x07ff /* table size - 1 */
#define PCI_MSIX_FLAGS_MASKALL	    0x4000
#define PCI_MSIX_FLAGS_ENABLE	    0x8000
#define PCI_MSIX_TABLE		    4
#define PCI_MSIX_PBA		    8
#define PCI_MSIX_BIR		    0x7
#define PCI_MSIX_MAX_VECTORS	    2048
#define PCI_MSIX_ENTRY_SIZE	    16
#define PCI_MSIX_ENTRY_LOWER_ADDR   0
#define PCI_MSIX_ENTRY_UPPER_ADDR   4
#define PCI_MSIX_ENTRY_DATA	    8
#define PCI_MSIX_ENTRY_VECTOR_CTRL  12
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 0x1

/* IMS slots (both kinds) and the memory kind's registers. */
#define IMS_SLOT_SIZE	    16
#define IMS_SLOT_ADDR_LO    0
#define IMS_SLOT_ADDR_HI    4
#define IMS_SLOT_DATA	    8
#define IMS_SLOT_CTRL	    12
#define IMS_CTRL_MASK	    0x1
#define IMS_CTRL_PENDING    0x2 /* device kind only, read-only */
#define IMS_REG_CTX_BASE    0x0 /* 64-bit */
#define IMS_REG_CTRL	    0x8
#define IMS_REG_DOORBELL    0xc
#define IMS_REG_CTRL_ENABLE 0x1
#define IMS_REGS_SIZE	    16

enum ims_storage {
	IMS_NONE,
	IMS_DEVICE, /* slots in a BAR */
	IMS_MEMORY, /* slots in memory, read by DMA */
};

struct pci_bar_config {
	uint64_t size; /* 0 = no BAR; else a power of two >= 16 */
	bool is64;     /* takes this BAR and the next */
};

struct pci_func_config {
	/* what a raise reads first, together (pci_internal.h) */
	uint16_t rid; /* bus << 8 | device << 3 | function */
	/*
	 * The function sends only remappable messages whose interrupt index lies
	 * in a window the host sets (pci_func_set_handle_window), as a Scalable
	 * IOV device can per interface: docs/design.md §5's device-enforced mode.
	 */
	bool handle_window;
	unsigned msix_vectors; /* 0 = no MSI-X capability; else up to 2048 */
	enum ims_storage ims_storage;
	unsigned ims_entries;
	unsigned msi_vectors; /* 0 = no MSI capability; else 1, 2, 4, ... 32 */
	bool msi_64bit;
	bool msi_per_vector_mask;
	uint16_t vendor_id;
	uint16_t device_id;
	uint32_t class_code; /* 24 bits */
	struct pci_bar_config bars[PCI_NUM_BARS];
	unsigned msix_table_bar;
	uint32_t msix_table_offset; /* 8-byte aligned */
	unsigned msix_pba_bar;
	uint32_t msix_pba_offset;
	unsigned ims_bar;
	uint32_t ims_offset; /* slots (device kind) or registers (memory kind) */
};

/* Where the function's interrupt writes go. */
struct msi_sink {
	void (*deliver)(void *ctx, const struct msi_msg *msg, uint16_t rid);
	void *ctx;
};

/* How the function reads memory (memory-resident IMS). Returns 0 or -errno. */
struct pci_dma {
	int (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	void *ctx;
};

/* What a raise did. */
enum pci_irq_result {
	PCI_IRQ_SENT,	   /* the message went to the sink */
	PCI_IRQ_PENDING,   /* masked: pending bit set, sent on unmask */
	PCI_IRQ_DISABLED,  /* MSI/MSI-X/IMS off or bus mastering off: nothing sent */
	PCI_IRQ_DMA_ERROR, /* memory-resident slot could not be read */
	PCI_IRQ_WINDOW,	   /* outside the function's handle window: not sent */
};

struct pci_func_stats {
	uint64_t sent; /* messages delivered to the sink, pending ones included */
	uint64_t sent_from_pending;
	uint64_t pending_set;
	uint64_t pending_coalesced; /* raises onto a pending bit already set */
	uint64_t disabled;
	uint64_t dma_errors;
	uint64_t bad_accesses;	 /* MMIO of wrong size/alignment to interrupt storage */
	uint64_t window_refused; /* messages outside the handle window, not sent */
};

struct pci_func;

/**
 * pci_func_create() - build a function in its reset state
 * Return: 0 and *@ret, or -EINVAL (a config that no device could have: BAR
 * sizes, vector counts, storage outside its BAR or overlapping) or -ENOMEM.
 */
int pci_func_create(const struct pci_func_config *cfg, struct pci_func **ret) WARN_UNUSED;
void pci_func_free(struct pci_func *f);

void pci_func_attach(struct pci_func *f, const struct msi_sink *sink, const struct pci_dma *dma);
uint16_t pci_func_rid(const struct pci_func *f);
const struct pci_func_stats *pci_func_stats(const struct pci_func *f);

/*
 * Configuration space: @size 1, 2 or 4, naturally aligned, @offset < 4096.
 * Other accesses read all-ones and are ignored on write.
 */
uint32_t pci_cfg_read(struct pci_func *f, uint16_t offset, unsigned size);
void pci_cfg_write(struct pci_func *f, uint16_t offset, unsigned size, uint32_t val);

/**
 * pci_mmio_read() / pci_mmio_write() - a memory access inside BAR @bar
 *
 * With memory space disabled, reads return all-ones and writes are dropped
 * (an unsupported request). Interrupt storage takes aligned DWORD or QWORD
 * accesses only; others are undefined by the spec, so they are refused.
 *
 * Return: 0, -EINVAL for a refused access to interrupt storage (reads then
 * give all-ones), -ERANGE for an offset outside the BAR or no such BAR.
 */
int pci_mmio_read(struct pci_func *f, unsigned bar, uint64_t offset, unsigned size,
		  uint64_t *ret) WARN_UNUSED;
int pci_mmio_write(struct pci_func *f, unsigned bar, uint64_t offset, unsigned size,
		   uint64_t val) WARN_UNUSED;

/*
 * The device side: raise MSI vector / MSI-X entry / IMS slot @n.
 * Return: 0 and *@ret, or -EINVAL when @n is beyond what the function has.
 */
int pci_func_raise_msi(struct pci_func *f, unsigned n, enum pci_irq_result *ret) WARN_UNUSED;
int pci_func_raise_msix(struct pci_func *f, unsigned n, enum pci_irq_result *ret) WARN_UNUSED;
int pci_func_raise_ims(struct pci_func *f, unsigned n, enum pci_irq_result *ret) WARN_UNUSED;

/**
 * pci_func_set_handle_window() - the host's (privileged) window register:
 * from now on the function sends a message only if it is remappable and its
 * interrupt index (handle, plus subhandle with SHV) is in [@base, @base +
 * @count). Until it is set the window is empty. Return: 0, or -EOPNOTSUPP on
 * a function without one.
 */
int pci_func_set_handle_window(struct pci_func *f, uint32_t base, uint32_t count) WARN_UNUSED;
bool pci_func_has_handle_window(const struct pci_func *f);

/** pci_func_pending_count() - interrupts the function holds latched (MSI, MSI-X, IMS) */
unsigned pci_func_pending_count(const struct pci_func *f);

/** pci_func_set_dma() - change how the function reads memory (NULL: it cannot) */
void pci_func_set_dma(struct pci_func *f, const struct pci_dma *dma);

/** pci_func_bar_size() - the size of BAR @bar, 0 if it has none (VFIO's region size) */
uint64_t pci_func_bar_size(const struct pci_func *f, unsigned bar);

/**
 * pci_func_ims() - where the function's IMS storage sits in its BARs: the
 * slots (device kind) or the registers (memory kind). This is device-specific
 * knowledge, as a VFIO variant driver for the device would have it.
 * Return: false if the function has no IMS.
 */
bool pci_func_ims(const struct pci_func *f, unsigned *ret_bar, uint64_t *ret_off,
		  uint64_t *ret_len);

/** pci_func_ims_storage() - the kind of IMS storage the function has (IMS_NONE: none) */
enum ims_storage pci_func_ims_storage(const struct pci_func *f);
/** pci_func_ims_entries() - how many IMS entries the function has (0: no IMS) */
unsigned pci_func_ims_entries(const struct pci_func *f);

/**
 * pci_func_stop() - the function's own run state, as its VFIO migration driver sets it
 * (RUNNING or STOP). A stopped function sends nothing and reads no memory: a vector it
 * raises latches in its pending bit. Leaving STOP sends every latched vector that is
 * unmasked, as an unmask does. Config space and interrupt storage answer throughout.
 */
void pci_func_stop(struct pci_func *f, bool stop);
bool pci_func_stopped(const struct pci_func *f);

/**
 * pci_func_save_state() / pci_func_load_state() - the function's interrupt state as a
 * versioned byte stream (docs/migration.md): config space, MSI-X table and PBA, IMS
 * storage and registers, every pending bit.
 *
 * Return: save: 0, or -ENOSPC when @len is below pci_func_state_size(). load: 0; -EBUSY
 * unless the function is stopped; -EINVAL for a stream that is short, long, of another
 * version or of another kind of device, and then nothing has changed.
 */
size_t pci_func_state_size(const struct pci_func *f);
int pci_func_save_state(const struct pci_func *f, void *buf, size_t len) WARN_UNUSED;
int pci_func_load_state(struct pci_func *f, const void *buf, size_t len) WARN_UNUSED;

/** pci_find_capability() - config offset of capability @id, or 0 */
uint8_t pci_find_capability(struct pci_func *f, uint8_t id);

#endif
