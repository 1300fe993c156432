// SPDX-License-Identifier: MIT
/*
 * A function under its migration driver (pvir/pci.h, pci_func_stop and the state
 * stream): stopped, it sends nothing and reads no memory, and every raise latches;
 * resumed, it sends what is latched and unmasked. Its interrupt state saved on one
 * function loads into another of the same kind, and a stream that is short, long, of
 * another version or another kind of device changes nothing.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pci_helpers.h"
#include "pvir/physmem.h"

#define TABLE_OFF 0x0
#define PBA_OFF	  0x2000
#define IMS_OFF	  0x4000
#define CTX_BASE  0x8000
#define ENTRY(n)  ((uint64_t)(n)*PCI_MSIX_ENTRY_SIZE)

static const struct msi_msg msg_a = {0xfee000b8, 0, 0};
static const struct msi_msg msg_b = {0xfee000d8, 0, 0x7};

/* A NIC: MSI with per-vector masks, 64 MSI-X entries, 32 device IMS slots. */
static const struct pci_func_config nic = {
    .rid = 0x0300,
    .vendor_id = 0x8086,
    .device_id = 0x1592,
    .bars = {[0] = {.size = 0x10000}},
    .msi_vectors = 4,
    .msi_64bit = true,
    .msi_per_vector_mask = true,
    .msix_vectors = 64,
    .msix_pba_offset = PBA_OFF,
    .ims_storage = IMS_DEVICE,
    .ims_entries = 32,
    .ims_offset = IMS_OFF,
};

struct fx {
	struct pci_func *f;
	struct sink_log log;
};

static struct pci_func *make(const struct pci_func_config *c, struct sink_log *log,
			     const struct pci_dma *dma)
{
	struct pci_func *f;

	assert_int_equal(pci_func_create(c, &f), 0);
	attach_log(f, log, dma);
	enable_function(f);
	return f;
}

static void msix_on(struct pci_func *f)
{
	uint8_t cap = pci_find_capability(f, PCI_CAP_ID_MSIX);

	pci_cfg_write(f, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
}

static enum pci_irq_result raise_msix(struct pci_func *f, unsigned n)
{
	enum pci_irq_result r;

	assert_int_equal(pci_func_raise_msix(f, n, &r), 0);
	return r;
}

static enum pci_irq_result raise_ims(struct pci_func *f, unsigned n)
{
	enum pci_irq_result r;

	assert_int_equal(pci_func_raise_ims(f, n, &r), 0);
	return r;
}

static uint8_t *save(const struct pci_func *f, size_t *len)
{
	uint8_t *buf;

	*len = pci_func_state_size(f);
	buf = malloc(*len);
	assert_non_null(buf);
	assert_int_equal(pci_func_save_state(f, buf, *len), 0);
	return buf;
}

/* ---- stopping ------------------------------------------------------------ */

static void stopped_raises_latch_and_resume_sends(void **state)
{
	struct sink_log log = {0};
	struct pci_func *f = make(&nic, &log, NULL);

	(void)state;
	msix_on(f);
	program_slot(f, 0, TABLE_OFF + ENTRY(3), &msg_a, false);
	program_slot(f, 0, TABLE_OFF + ENTRY(4), &msg_b, true); /* masked by the guest */
	program_slot(f, 0, IMS_OFF + ENTRY(9), &msg_b, false);
	pci_func_stop(f, true);
	assert_true(pci_func_stopped(f));
	for (int i = 0; i < 3; i++)
		assert_int_equal(raise_msix(f, 3), PCI_IRQ_PENDING);
	assert_int_equal(raise_msix(f, 4), PCI_IRQ_PENDING);
	assert_int_equal(raise_ims(f, 9), PCI_IRQ_PENDING);
	assert_int_equal(log.n, 0);
	assert_int_equal(pci_func_stats(f)->pending_coalesced, 2);
	/* the guest unmasks while the device is stopped: still nothing leaves */
	mmio_write32(f, 0, TABLE_OFF + ENTRY(4) + 12, 0);
	assert_int_equal(log.n, 0);
	assert_int_equal(pci_func_pending_count(f), 3);
	/* resume: each latched vector once, with the message its entry holds */
	pci_func_stop(f, false);
	assert_int_equal(log.n, 3);
	assert_int_equal(log.msg[0].address_lo, msg_a.address_lo);
	assert_int_equal(log.msg[1].data, msg_b.data);
	assert_int_equal(pci_func_pending_count(f), 0);
	assert_int_equal(raise_msix(f, 3), PCI_IRQ_SENT);
	pci_func_free(f);
}

static void masked_stays_latched_across_resume(void **state)
{
	struct sink_log log = {0};
	struct pci_func *f = make(&nic, &log, NULL);

	(void)state;
	msix_on(f);
	program_slot(f, 0, TABLE_OFF + ENTRY(0), &msg_a, true);
	pci_func_stop(f, true);
	assert_int_equal(raise_msix(f, 0), PCI_IRQ_PENDING);
	pci_func_stop(f, false);
	assert_int_equal(log.n, 0);
	assert_int_equal(pci_func_pending_count(f), 1);
	mmio_write32(f, 0, TABLE_OFF + ENTRY(0) + 12, 0); /* the guest's own unmask */
	assert_int_equal(log.n, 1);
	pci_func_free(f);
}

/* Memory-resident IMS: a stopped device reads no memory; the slot is read when sent. */
struct dma_count {
	struct physmem *mem;
	unsigned reads;
};

static int counted_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct dma_count *d = ctx;

	d->reads++;
	return physmem_read(d->mem, addr, buf, len);
}

static void stopped_memory_ims_does_no_dma(void **state)
{
	const struct pci_func_config c = {.rid = 0x6a10,
					  .bars = {[0] = {.size = 0x2000}},
					  .ims_storage = IMS_MEMORY,
					  .ims_entries = 64,
					  .ims_offset = 0x1000};
	struct dma_count d = {.mem = physmem_new(1 << 20)};
	struct pci_dma dma = {.read = counted_read, .ctx = &d};
	struct sink_log log = {0};
	struct pci_func *f = make(&c, &log, &dma);
	uint32_t slot[4] = {msg_b.address_lo, 0, msg_b.data, 0};

	(void)state;
	assert_int_equal(pci_mmio_write(f, 0, 0x1000 + IMS_REG_CTX_BASE, 8, CTX_BASE), 0);
	mmio_write32(f, 0, 0x1000 + IMS_REG_CTRL, IMS_REG_CTRL_ENABLE);
	assert_int_equal(physmem_write(d.mem, CTX_BASE + 5 * IMS_SLOT_SIZE, slot, 16), 0);
	pci_func_stop(f, true);
	assert_int_equal(raise_ims(f, 5), PCI_IRQ_PENDING);
	assert_int_equal(raise_ims(f, 5), PCI_IRQ_PENDING);
	assert_int_equal(d.reads, 0);
	pci_func_stop(f, false);
	assert_int_equal(d.reads, 1);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.msg[0].data, msg_b.data);
	pci_func_free(f);
	physmem_free(d.mem);
}

/* ---- the state stream ----------------------------------------------------- */

static void state_moves_to_another_function(void **state)
{
	struct sink_log log_a = {0}, log_b = {0};
	struct pci_func *a = make(&nic, &log_a, NULL);
	struct pci_func_config on_b = nic;
	struct pci_func *b;
	uint8_t *buf;
	size_t len;

	(void)state;
	on_b.rid = 0x8100; /* the destination host's requester-id */
	b = make(&on_b, &log_b, NULL);
	msix_on(a);
	program_slot(a, 0, TABLE_OFF + ENTRY(63), &msg_a, false);
	program_slot(a, 0, TABLE_OFF + ENTRY(1), &msg_b, true);
	program_slot(a, 0, IMS_OFF + ENTRY(31), &msg_b, false);
	pci_func_stop(a, true);
	assert_int_equal(raise_msix(a, 63), PCI_IRQ_PENDING);
	assert_int_equal(raise_msix(a, 1), PCI_IRQ_PENDING);
	assert_int_equal(raise_ims(a, 31), PCI_IRQ_PENDING);
	buf = save(a, &len);

	pci_func_stop(b, true);
	assert_int_equal(pci_func_load_state(b, buf, len), 0);
	/* the guest sees the same table, PBA and slots */
	for (uint64_t off = 0; off < ENTRY(64); off += 4)
		assert_int_equal(mmio_read(b, 0, TABLE_OFF + off, 4),
				 mmio_read(a, 0, TABLE_OFF + off, 4));
	assert_int_equal(mmio_read(b, 0, PBA_OFF, 8), mmio_read(a, 0, PBA_OFF, 8));
	assert_int_equal(mmio_read(b, 0, IMS_OFF + ENTRY(31) + 12, 4),
			 IMS_CTRL_PENDING); /* unmasked, latched */
	for (unsigned off = 0; off < 256; off += 4)
		assert_int_equal(pci_cfg_read(b, (uint16_t)off, 4),
				 pci_cfg_read(a, (uint16_t)off, 4));
	/* resumed: what was latched and unmasked leaves from b, under b's requester-id */
	pci_func_stop(b, false);
	assert_int_equal(log_b.n, 2);
	assert_int_equal(log_b.rid[0], 0x8100);
	assert_int_equal(log_b.msg[0].address_lo, msg_a.address_lo);
	assert_int_equal(log_b.msg[1].data, msg_b.data);
	assert_int_equal(pci_func_pending_count(b), 1); /* entry 1: masked by the guest */
	assert_int_equal(log_a.n, 0);
	free(buf);
	pci_func_free(a);
	pci_func_free(b);
}

/* Loading @bad into @f fails with @err and leaves its state byte for byte. */
static void refused(struct pci_func *f, const void *bad, size_t len, int err)
{
	size_t before_len, after_len;
	uint8_t *before = save(f, &before_len), *after;

	assert_int_equal(pci_func_load_state(f, bad, len), err);
	after = save(f, &after_len);
	assert_int_equal(before_len, after_len);
	assert_memory_equal(before, after, before_len);
	free(before);
	free(after);
}

static void bad_streams_change_nothing(void **state)
{
	struct sink_log log = {0};
	struct pci_func *a = make(&nic, &log, NULL), *b = make(&nic, &log, NULL), *other;
	struct pci_func_config smaller = nic;
	uint8_t *buf, *copy;
	size_t len, other_len;

	(void)state;
	msix_on(a);
	program_slot(a, 0, TABLE_OFF + ENTRY(5), &msg_a, false);
	buf = save(a, &len);
	copy = malloc(len + 1);
	assert_non_null(copy);
	assert_int_equal(pci_func_save_state(a, buf, len - 1), -ENOSPC);

	refused(b, buf, len, -EBUSY); /* running: RESUMING starts from STOP */
	pci_func_stop(b, true);
	refused(b, buf, len - 1, -EINVAL);
	memcpy(copy, buf, len);
	copy[len] = 0;
	refused(b, copy, len + 1, -EINVAL);
	refused(b, NULL, len, -EINVAL);
	copy[0] ^= 1; /* magic */
	refused(b, copy, len, -EINVAL);
	memcpy(copy, buf, len);
	copy[4] = 2; /* version */
	refused(b, copy, len, -EINVAL);
	memcpy(copy, buf, len);
	copy[8] ^= 0xff; /* another device id */
	refused(b, copy, len, -EINVAL);
	/* a stream from a device with fewer vectors, even cut to length */
	smaller.msix_vectors = 32;
	other = make(&smaller, &log, NULL);
	free(buf);
	buf = save(other, &other_len);
	refused(b, buf, other_len, -EINVAL);
	free(buf);
	free(copy);
	pci_func_free(other);
	pci_func_free(a);
	pci_func_free(b);
}

/*
 * A stream is only bytes, and the VMM that writes it may be hostile: it sets what
 * software or the device could set and nothing more. The read-only parts of config
 * space keep the device's values, reserved control bits stay clear, and pending bits
 * beyond the last vector are dropped.
 */
static void stream_sets_only_writable_state(void **state)
{
	struct sink_log log = {0};
	struct pci_func *f = make(&nic, &log, NULL);
	uint8_t *buf;
	size_t len, cfg = 28, msix, pba, ims;
	uint32_t vendor = pci_cfg_read(f, 0, 4);
	uint8_t cap_ptr = (uint8_t)pci_cfg_read(f, PCI_CAPABILITY_LIST, 1);

	(void)state;
	buf = save(f, &len);
	msix = cfg + PCI_CFG_SIZE;
	pba = msix + 64 * PCI_MSIX_ENTRY_SIZE;
	ims = pba + 8;
	memset(buf + cfg, 0xff, PCI_CFG_SIZE);		    /* every config byte */
	memset(buf + msix, 0xff, 64 * PCI_MSIX_ENTRY_SIZE); /* every MSI-X word */
	memset(buf + pba, 0xff, 8);
	memset(buf + ims, 0xff, 32 * IMS_SLOT_SIZE);
	pci_func_stop(f, true);
	assert_int_equal(pci_func_load_state(f, buf, len), 0);
	assert_int_equal(pci_cfg_read(f, 0, 4), vendor);
	assert_int_equal(pci_cfg_read(f, PCI_CAPABILITY_LIST, 1), cap_ptr);
	assert_int_equal(pci_find_capability(f, PCI_CAP_ID_MSIX) != 0, true);
	assert_int_equal(mmio_read(f, 0, TABLE_OFF + ENTRY(7) + 12, 4),
			 PCI_MSIX_ENTRY_CTRL_MASKBIT);
	assert_int_equal(mmio_read(f, 0, IMS_OFF + ENTRY(7) + 12, 4),
			 IMS_CTRL_MASK | IMS_CTRL_PENDING);
	/* 64 MSI-X pending, 32 IMS pending, 4 MSI pending: none beyond */
	assert_int_equal(pci_func_pending_count(f), 64 + 32 + 4);
	free(buf);
	pci_func_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(stopped_raises_latch_and_resume_sends),
	    TEST(masked_stays_latched_across_resume),
	    TEST(stopped_memory_ims_does_no_dma),
	    TEST(state_moves_to_another_function),
	    TEST(bad_streams_change_nothing),
	    TEST(stream_sets_only_writable_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
