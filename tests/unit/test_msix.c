// SPDX-License-Identifier: MIT
/* MSI-X table and PBA semantics (PCI 3.0 §6.8.2). */
#include "test.h"

#include <errno.h>

#include "pci_helpers.h"

#define TABLE_BAR 0
#define PBA_BAR	  2
#define PBA_OFF	  0x800
#define ENTRY(n)  ((uint64_t)(n)*PCI_MSIX_ENTRY_SIZE)

static const struct pci_func_config dev = {
    .rid = 0x0300,
    .bars = {[0] = {.size = 0x8000}, [2] = {.size = 0x1000}},
    .msix_vectors = 128,
    .msix_table_bar = TABLE_BAR,
    .msix_table_offset = 0,
    .msix_pba_bar = PBA_BAR,
    .msix_pba_offset = PBA_OFF,
};

struct fx {
	struct pci_func *f;
	struct sink_log log;
	uint8_t cap;
};

static int setup(void **state)
{
	static struct fx fx;

	fx = (struct fx){0};
	if (pci_func_create(&dev, &fx.f))
		return -1;
	attach_log(fx.f, &fx.log, NULL);
	enable_function(fx.f);
	fx.cap = pci_find_capability(fx.f, PCI_CAP_ID_MSIX);
	*state = &fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	pci_func_free(fx->f);
	return 0;
}

static void msix_enable(struct fx *fx, bool enable, bool mask_all)
{
	uint16_t v = (enable ? PCI_MSIX_FLAGS_ENABLE : 0) | (mask_all ? PCI_MSIX_FLAGS_MASKALL : 0);

	pci_cfg_write(fx->f, fx->cap + PCI_MSIX_FLAGS, 2, v);
}

static const struct msi_msg msg_a = {0xfee000b8, 0, 0};
static const struct msi_msg msg_b = {0xfee000d8, 0, 0};

static uint64_t pba(struct fx *fx, unsigned n)
{
	return mmio_read(fx->f, PBA_BAR, PBA_OFF + 8 * (n / 64), 8);
}

static enum pci_irq_result raise(struct fx *fx, unsigned n)
{
	enum pci_irq_result r;

	assert_int_equal(pci_func_raise_msix(fx->f, n, &r), 0);
	return r;
}

static void reset_state(void **state)
{
	struct fx *fx = *state;

	for (unsigned n = 0; n < dev.msix_vectors; n++)
		assert_int_equal(mmio_read(fx->f, TABLE_BAR, ENTRY(n) + 12, 4),
				 PCI_MSIX_ENTRY_CTRL_MASKBIT);
	assert_int_equal(pba(fx, 0), 0);
	assert_int_equal(pba(fx, 64), 0);
}

static void program_and_fire(void **state)
{
	struct fx *fx = *state;

	program_slot(fx->f, TABLE_BAR, ENTRY(5), &msg_a, false);
	msix_enable(fx, true, false);
	assert_int_equal(raise(fx, 5), PCI_IRQ_SENT);
	assert_int_equal(fx->log.n, 1);
	assert_int_equal(fx->log.msg[0].address_lo, msg_a.address_lo);
	assert_int_equal(fx->log.rid[0], 0x0300);
	/* the table reads back what was written */
	assert_int_equal(mmio_read(fx->f, TABLE_BAR, ENTRY(5), 4), msg_a.address_lo);
	assert_int_equal(mmio_read(fx->f, TABLE_BAR, ENTRY(5) + 8, 8), 0); /* data, ctrl */
}

static void masked_vector_latches_and_sends_on_unmask(void **state)
{
	struct fx *fx = *state;

	program_slot(fx->f, TABLE_BAR, ENTRY(70), &msg_a, true);
	msix_enable(fx, true, false);
	assert_int_equal(raise(fx, 70), PCI_IRQ_PENDING);
	assert_int_equal(raise(fx, 70), PCI_IRQ_PENDING); /* one pending bit, not a count */
	assert_int_equal(fx->log.n, 0);
	assert_int_equal(pba(fx, 70), UINT64_C(1) << (70 - 64));
	assert_int_equal(pci_func_pending_count(fx->f), 1);
	assert_int_equal(pci_func_stats(fx->f)->pending_coalesced, 1); /* the second merged */
	/* software retargets the masked entry, then unmasks: the new message goes out */
	mmio_write32(fx->f, TABLE_BAR, ENTRY(70), msg_b.address_lo);
	mmio_write32(fx->f, TABLE_BAR, ENTRY(70) + 12, 0);
	assert_int_equal(fx->log.n, 1);
	assert_int_equal(fx->log.msg[0].address_lo, msg_b.address_lo);
	assert_int_equal(pba(fx, 70), 0);
	assert_int_equal(pci_func_stats(fx->f)->sent_from_pending, 1);
}

static void function_mask(void **state)
{
	struct fx *fx = *state;

	program_slot(fx->f, TABLE_BAR, ENTRY(1), &msg_a, false);
	program_slot(fx->f, TABLE_BAR, ENTRY(2), &msg_b, false);
	msix_enable(fx, true, true);
	assert_int_equal(raise(fx, 1), PCI_IRQ_PENDING);
	assert_int_equal(raise(fx, 2), PCI_IRQ_PENDING);
	assert_int_equal(pba(fx, 0), 0x6);
	/* an entry unmasked while the function is masked stays latched */
	mmio_write32(fx->f, TABLE_BAR, ENTRY(1) + 12, 0);
	assert_int_equal(fx->log.n, 0);
	msix_enable(fx, true, false);
	assert_int_equal(fx->log.n, 2);
	assert_int_equal(fx->log.msg[0].address_lo, msg_a.address_lo);
	assert_int_equal(fx->log.msg[1].address_lo, msg_b.address_lo);
	assert_int_equal(pba(fx, 0), 0);
}

static void disabled_sends_nothing(void **state)
{
	struct fx *fx = *state;

	program_slot(fx->f, TABLE_BAR, ENTRY(3), &msg_a, false);
	assert_int_equal(raise(fx, 3), PCI_IRQ_DISABLED);
	assert_int_equal(pba(fx, 0), 0); /* not latched either */
	msix_enable(fx, true, false);
	pci_cfg_write(fx->f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY); /* no bus mastering */
	assert_int_equal(raise(fx, 3), PCI_IRQ_DISABLED);
	assert_int_equal(fx->log.n, 0);
	assert_int_equal(pci_func_raise_msix(fx->f, 128, &(enum pci_irq_result){0}), -EINVAL);
}

static void qword_accesses(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(pci_mmio_write(fx->f, TABLE_BAR, ENTRY(9), 8, 0x00000001fee000b8), 0);
	assert_int_equal(pci_mmio_write(fx->f, TABLE_BAR, ENTRY(9) + 8, 8, 0x0000000000004041), 0);
	assert_int_equal(mmio_read(fx->f, TABLE_BAR, ENTRY(9) + 4, 4), 1);
	assert_int_equal(mmio_read(fx->f, TABLE_BAR, ENTRY(9) + 8, 4), 0x4041);
	assert_int_equal(mmio_read(fx->f, TABLE_BAR, ENTRY(9) + 12, 4), 0); /* unmasked */
}

struct bad_access {
	uint64_t off;
	unsigned size;
};

static const struct bad_access bad_accesses[] = {
    {ENTRY(4), 1},
    {ENTRY(4), 2},
    {ENTRY(4) + 2, 4},
    {ENTRY(4) + 4, 8},
};

static void wrong_size_or_alignment(void **state)
{
	struct fx *fx = *state;

	program_slot(fx->f, TABLE_BAR, ENTRY(4), &msg_a, true);
	for (unsigned i = 0; i < ARRAY_SIZE(bad_accesses); i++) {
		const struct bad_access *b = &bad_accesses[i];
		uint64_t v = 0;

		assert_int_equal(pci_mmio_write(fx->f, TABLE_BAR, b->off, b->size, 0), -EINVAL);
		assert_int_equal(pci_mmio_read(fx->f, TABLE_BAR, b->off, b->size, &v), -EINVAL);
		assert_true(v == UINT64_MAX || v == bits_mask(8 * b->size - 1, 0));
	}
	/* nothing changed */
	assert_int_equal(mmio_read(fx->f, TABLE_BAR, ENTRY(4), 4), msg_a.address_lo);
	assert_int_equal(mmio_read(fx->f, TABLE_BAR, ENTRY(4) + 12, 4), 1);
	assert_int_equal(pci_func_stats(fx->f)->bad_accesses, 2 * ARRAY_SIZE(bad_accesses));
}

static void control_reserved_and_pba_read_only(void **state)
{
	struct fx *fx = *state;

	mmio_write32(fx->f, TABLE_BAR, ENTRY(6) + 12, 0xfffffffe);
	assert_int_equal(mmio_read(fx->f, TABLE_BAR, ENTRY(6) + 12, 4), 0);
	program_slot(fx->f, TABLE_BAR, ENTRY(7), &msg_a, true);
	msix_enable(fx, true, false);
	assert_int_equal(raise(fx, 7), PCI_IRQ_PENDING);
	assert_int_equal(pci_mmio_write(fx->f, PBA_BAR, PBA_OFF, 8, 0), 0);
	assert_int_equal(pba(fx, 7), 1u << 7);
	assert_int_equal(mmio_read(fx->f, PBA_BAR, PBA_OFF, 4), 1u << 7);
}

static void memory_space_off(void **state)
{
	struct fx *fx = *state;
	uint64_t v;

	program_slot(fx->f, TABLE_BAR, ENTRY(8), &msg_a, false);
	pci_cfg_write(fx->f, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	assert_int_equal(pci_mmio_write(fx->f, TABLE_BAR, ENTRY(8), 4, 0x12345678), 0);
	assert_int_equal(pci_mmio_read(fx->f, TABLE_BAR, ENTRY(8), 4, &v), 0);
	assert_int_equal(v, 0xffffffff); /* unsupported request */
	enable_function(fx->f);
	assert_int_equal(mmio_read(fx->f, TABLE_BAR, ENTRY(8), 4), msg_a.address_lo);
}

static void largest_table(void **state)
{
	struct pci_func_config c = dev;
	struct sink_log log = {0};
	enum pci_irq_result r;
	struct pci_func *f;

	(void)state;
	c.bars[0].size = 0x10000;
	c.msix_vectors = PCI_MSIX_MAX_VECTORS;
	assert_int_equal(pci_func_create(&c, &f), 0);
	attach_log(f, &log, NULL);
	enable_function(f);
	program_slot(f, TABLE_BAR, ENTRY(2047), &msg_b, false);
	pci_cfg_write(f, pci_find_capability(f, PCI_CAP_ID_MSIX) + PCI_MSIX_FLAGS, 2,
		      PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(pci_func_raise_msix(f, 2047, &r), 0);
	assert_int_equal(r, PCI_IRQ_SENT);
	assert_int_equal(log.msg[0].address_lo, msg_b.address_lo);
	pci_func_free(f);
}

#define FX(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    FX(reset_state),
	    FX(program_and_fire),
	    FX(masked_vector_latches_and_sends_on_unmask),
	    FX(function_mask),
	    FX(disabled_sends_nothing),
	    FX(qword_accesses),
	    FX(wrong_size_or_alignment),
	    FX(control_reserved_and_pba_read_only),
	    FX(memory_space_off),
	    TEST(largest_table),
	};

	return cmocka_run_group_tests_name("msix", tests, NULL, NULL);
}
