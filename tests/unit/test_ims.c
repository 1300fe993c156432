// SPDX-License-Identifier: MIT
/*
 * IMS storage, both kinds (pvir/pci.h; docs/hardware.md): slots in a BAR, and slots
 * in memory that the device reads by DMA when it fires.
 */
#include "test.h"

#include <errno.h>

#include "pci_helpers.h"
#include "pvir/physmem.h"

#define IMS_BAR	 0
#define IMS_OFF	 0x1000
#define CTX_BASE 0x4000
#define SLOT(n)	 ((uint64_t)(n)*IMS_SLOT_SIZE)

static const struct msi_msg msg_a = {0xfee000b8, 0, 0};
static const struct msi_msg msg_b = {0xfee000d8, 0, 0};

/* ---- device kind -------------------------------------------------------- */

static struct pci_func *device_kind(struct sink_log *log)
{
	const struct pci_func_config c = {
	    .rid = 0x6a08,
	    .bars = {[0] = {.size = 0x10000}},
	    .ims_storage = IMS_DEVICE,
	    .ims_entries = 2048,
	    .ims_bar = IMS_BAR,
	    .ims_offset = 0x1000,
	};
	struct pci_func *f;

	assert_int_equal(pci_func_create(&c, &f), 0);
	attach_log(f, log, NULL);
	enable_function(f);
	return f;
}

static enum pci_irq_result raise(struct pci_func *f, unsigned n)
{
	enum pci_irq_result r;

	assert_int_equal(pci_func_raise_ims(f, n, &r), 0);
	return r;
}

static void device_slots(void **state)
{
	struct sink_log log = {0};
	struct pci_func *f = device_kind(&log);

	(void)state;
	/* reset: every slot masked */
	assert_int_equal(mmio_read(f, IMS_BAR, IMS_OFF + SLOT(2047) + 12, 4), IMS_CTRL_MASK);
	assert_int_equal(raise(f, 2047), PCI_IRQ_PENDING);
	program_slot(f, IMS_BAR, IMS_OFF + SLOT(2047), &msg_a, false);
	/* unmasking sent what was latched, with the message now in the slot */
	assert_int_equal(log.n, 1);
	assert_int_equal(log.msg[0].address_lo, msg_a.address_lo);
	assert_int_equal(log.rid[0], 0x6a08);
	assert_int_equal(raise(f, 2047), PCI_IRQ_SENT);
	assert_int_equal(log.n, 2);
	assert_int_equal(pci_func_raise_ims(f, 2048, &(enum pci_irq_result){0}), -EINVAL);
	pci_func_free(f);
}

static void device_pending_bit(void **state)
{
	struct sink_log log = {0};
	struct pci_func *f = device_kind(&log);

	(void)state;
	program_slot(f, IMS_BAR, IMS_OFF + SLOT(7), &msg_a, true);
	assert_int_equal(raise(f, 7), PCI_IRQ_PENDING);
	assert_int_equal(pci_func_pending_count(f), 1);
	assert_int_equal(mmio_read(f, IMS_BAR, IMS_OFF + SLOT(7) + 12, 4),
			 IMS_CTRL_MASK | IMS_CTRL_PENDING);
	/* software cannot set or clear the pending bit */
	mmio_write32(f, IMS_BAR, IMS_OFF + SLOT(7) + 12, IMS_CTRL_MASK);
	assert_int_equal(mmio_read(f, IMS_BAR, IMS_OFF + SLOT(7) + 12, 4),
			 IMS_CTRL_MASK | IMS_CTRL_PENDING);
	mmio_write32(f, IMS_BAR, IMS_OFF + SLOT(8) + 12, IMS_CTRL_PENDING);
	assert_int_equal(mmio_read(f, IMS_BAR, IMS_OFF + SLOT(8) + 12, 4), 0);
	mmio_write32(f, IMS_BAR, IMS_OFF + SLOT(7) + 12, 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(mmio_read(f, IMS_BAR, IMS_OFF + SLOT(7) + 12, 4), 0);
	pci_func_free(f);
}

static void device_access_rules(void **state)
{
	struct sink_log log = {0};
	struct pci_func *f = device_kind(&log);
	uint64_t v;

	(void)state;
	assert_int_equal(pci_mmio_write(f, IMS_BAR, IMS_OFF + 2, 2, 0), -EINVAL);
	assert_int_equal(pci_mmio_read(f, IMS_BAR, IMS_OFF + 4, 8, &v), -EINVAL);
	assert_int_equal(pci_func_stats(f)->bad_accesses, 2);
	pci_cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	program_slot(f, IMS_BAR, IMS_OFF, &msg_a, false);
	assert_int_equal(raise(f, 0), PCI_IRQ_DISABLED); /* no bus mastering */
	assert_int_equal(log.n, 0);
	pci_func_free(f);
}

/* ---- memory kind -------------------------------------------------------- */

struct mem_fx {
	struct physmem *mem; /* the memory the device's DMA reaches */
	struct pci_func *f;
	struct sink_log log;
};

static int dma_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return physmem_read(ctx, addr, buf, len);
}

static int mem_setup(void **state)
{
	static struct mem_fx fx;
	const struct pci_func_config c = {
	    .rid = 0x6a10,
	    .bars = {[0] = {.size = 0x2000}},
	    .ims_storage = IMS_MEMORY,
	    .ims_entries = 4096,
	    .ims_bar = IMS_BAR,
	    .ims_offset = IMS_OFF,
	};
	struct pci_dma dma = {.read = dma_read};

	fx = (struct mem_fx){.mem = physmem_new(1 << 20)};
	if (!fx.mem || pci_func_create(&c, &fx.f))
		return -1;
	dma.ctx = fx.mem;
	attach_log(fx.f, &fx.log, &dma);
	enable_function(fx.f);
	assert_int_equal(pci_mmio_write(fx.f, IMS_BAR, IMS_OFF + IMS_REG_CTX_BASE, 8, CTX_BASE), 0);
	mmio_write32(fx.f, IMS_BAR, IMS_OFF + IMS_REG_CTRL, IMS_REG_CTRL_ENABLE);
	*state = &fx;
	return 0;
}

static int mem_teardown(void **state)
{
	struct mem_fx *fx = *state;

	pci_func_free(fx->f);
	physmem_free(fx->mem);
	return 0;
}

/* The driver writes a slot in memory: little-endian address, data, control. */
/*
 * A handle window (docs/design.md §5): the function sends only remappable
 * messages whose interrupt index is in the window the host set; nothing
 * before it is set. A subhandle counts (handle + subhandle with SHV), and a
 * compatibility-format message never passes. A latched interrupt whose
 * message is outside is dropped when it would go.
 */
static void handle_window_filters_messages(void **state)
{
	const struct pci_func_config c = {.rid = 0x6a08,
					  .bars = {[0] = {.size = 0x10000}},
					  .ims_storage = IMS_DEVICE,
					  .ims_entries = 8,
					  .ims_offset = IMS_OFF,
					  .handle_window = true};
	struct msi_msg in, edge, past, sub_past, compat = {0xfee01000, 0, 0x41};
	struct sink_log log = {0};
	struct pci_func *f, *plain = device_kind(&log);

	(void)state;
	msi_remap_encode(&(struct msi_remap){.handle = 101}, &in);
	msi_remap_encode(&(struct msi_remap){.handle = 103, .shv = true}, &edge);
	msi_remap_encode(&(struct msi_remap){.handle = 104}, &past);
	msi_remap_encode(&(struct msi_remap){.handle = 100, .shv = true, .subhandle = 4},
			 &sub_past);
	assert_int_equal(pci_func_set_handle_window(plain, 0, 1), -EOPNOTSUPP);
	pci_func_free(plain);
	assert_int_equal(pci_func_create(&c, &f), 0);
	attach_log(f, &log, NULL);
	enable_function(f);
	program_slot(f, IMS_BAR, IMS_OFF + SLOT(0), &in, false);
	assert_int_equal(raise(f, 0), PCI_IRQ_WINDOW); /* no window yet: nothing passes */
	assert_int_equal(pci_func_set_handle_window(f, 100, 4), 0);
	assert_int_equal(raise(f, 0), PCI_IRQ_SENT);
	program_slot(f, IMS_BAR, IMS_OFF + SLOT(1), &edge, false);
	assert_int_equal(raise(f, 1), PCI_IRQ_SENT);
	program_slot(f, IMS_BAR, IMS_OFF + SLOT(2), &past, false);
	assert_int_equal(raise(f, 2), PCI_IRQ_WINDOW);
	program_slot(f, IMS_BAR, IMS_OFF + SLOT(3), &sub_past, false);
	assert_int_equal(raise(f, 3), PCI_IRQ_WINDOW);
	program_slot(f, IMS_BAR, IMS_OFF + SLOT(4), &compat, false);
	assert_int_equal(raise(f, 4), PCI_IRQ_WINDOW);
	program_slot(f, IMS_BAR, IMS_OFF + SLOT(5), &past, true); /* masked: latches */
	assert_int_equal(raise(f, 5), PCI_IRQ_PENDING);
	program_slot(f, IMS_BAR, IMS_OFF + SLOT(5), &past, false); /* unmask: dropped */
	assert_int_equal(pci_func_pending_count(f), 0);
	assert_int_equal(log.n, 2);
	assert_int_equal(pci_func_stats(f)->window_refused, 5);
	pci_func_free(f);
}

static void mem_slot(struct mem_fx *fx, unsigned n, const struct msi_msg *m, bool masked)
{
	uint32_t v[4] = {m->address_lo, m->address_hi, m->data, masked ? IMS_CTRL_MASK : 0};

	assert_int_equal(physmem_write(fx->mem, CTX_BASE + SLOT(n), v, sizeof(v)), 0);
}

static void memory_registers(void **state)
{
	struct mem_fx *fx = *state;

	assert_int_equal(mmio_read(fx->f, IMS_BAR, IMS_OFF + IMS_REG_CTX_BASE, 8), CTX_BASE);
	assert_int_equal(mmio_read(fx->f, IMS_BAR, IMS_OFF + IMS_REG_CTRL, 4), IMS_REG_CTRL_ENABLE);
	mmio_write32(fx->f, IMS_BAR, IMS_OFF + IMS_REG_CTX_BASE + 4, 0x1);
	assert_int_equal(mmio_read(fx->f, IMS_BAR, IMS_OFF + IMS_REG_CTX_BASE, 8),
			 UINT64_C(0x100000000) | CTX_BASE);
}

static void memory_reads_slot_each_time(void **state)
{
	struct mem_fx *fx = *state;

	mem_slot(fx, 4095, &msg_a, false);
	assert_int_equal(raise(fx->f, 4095), PCI_IRQ_SENT);
	assert_int_equal(fx->log.msg[0].address_lo, msg_a.address_lo);
	assert_int_equal(fx->log.rid[0], 0x6a10);
	/* the guest rewrites memory directly: no MMIO, no trap, and the device sees it */
	mem_slot(fx, 4095, &msg_b, false);
	assert_int_equal(raise(fx->f, 4095), PCI_IRQ_SENT);
	assert_int_equal(fx->log.msg[1].address_lo, msg_b.address_lo);
}

static void memory_mask_and_doorbell(void **state)
{
	struct mem_fx *fx = *state;

	mem_slot(fx, 9, &msg_a, true);
	assert_int_equal(raise(fx->f, 9), PCI_IRQ_PENDING);
	assert_int_equal(pci_func_pending_count(fx->f), 1);
	/* a doorbell while still masked sends nothing */
	mmio_write32(fx->f, IMS_BAR, IMS_OFF + IMS_REG_DOORBELL, 9);
	assert_int_equal(fx->log.n, 0);
	/* unmasking in memory is invisible to the device until the doorbell */
	mem_slot(fx, 9, &msg_b, false);
	assert_int_equal(fx->log.n, 0);
	mmio_write32(fx->f, IMS_BAR, IMS_OFF + IMS_REG_DOORBELL, 9);
	assert_int_equal(fx->log.n, 1);
	assert_int_equal(fx->log.msg[0].address_lo, msg_b.address_lo);
	/* nothing latched any more: a second doorbell is a no-op */
	mmio_write32(fx->f, IMS_BAR, IMS_OFF + IMS_REG_DOORBELL, 9);
	mmio_write32(fx->f, IMS_BAR, IMS_OFF + IMS_REG_DOORBELL, 99999); /* out of range */
	assert_int_equal(fx->log.n, 1);
	assert_int_equal(pci_func_stats(fx->f)->sent_from_pending, 1);
}

static void memory_dma_error_and_disabled(void **state)
{
	struct mem_fx *fx = *state;

	/* a context area beyond the memory the device can reach */
	assert_int_equal(pci_mmio_write(fx->f, IMS_BAR, IMS_OFF, 8, UINT64_C(1) << 40), 0);
	assert_int_equal(raise(fx->f, 1), PCI_IRQ_DMA_ERROR);
	assert_int_equal(pci_func_stats(fx->f)->dma_errors, 1);
	assert_int_equal(pci_mmio_write(fx->f, IMS_BAR, IMS_OFF, 8, CTX_BASE), 0);
	mmio_write32(fx->f, IMS_BAR, IMS_OFF + IMS_REG_CTRL, 0);
	mem_slot(fx, 1, &msg_a, false);
	assert_int_equal(raise(fx->f, 1), PCI_IRQ_DISABLED);
	assert_int_equal(fx->log.n, 0);
}

static void memory_without_dma(void **state)
{
	struct mem_fx *fx = *state;

	pci_func_attach(fx->f, &(struct msi_sink){.deliver = sink_record, .ctx = &fx->log}, NULL);
	assert_int_equal(raise(fx->f, 0), PCI_IRQ_DMA_ERROR);
}

#define MEM_FX(fn) cmocka_unit_test_setup_teardown(fn, mem_setup, mem_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(device_slots),
	    TEST(device_pending_bit),
	    TEST(device_access_rules),
	    TEST(handle_window_filters_messages),
	    MEM_FX(memory_registers),
	    MEM_FX(memory_reads_slot_each_time),
	    MEM_FX(memory_mask_and_doorbell),
	    MEM_FX(memory_dma_error_and_disabled),
	    MEM_FX(memory_without_dma),
	};

	return cmocka_run_group_tests_name("ims", tests, NULL, NULL);
}
