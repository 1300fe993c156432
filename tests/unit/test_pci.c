// SPDX-License-Identifier: MIT
/* PCI function: configuration space, BAR sizing, capability list, MSI (PCI 3.0 §6.8.1). */
#include "test.h"

#include <errno.h>

#include "pci_helpers.h"

static const struct pci_func_config nic = {
    .rid = 0x0300,
    .vendor_id = 0x8086,
    .device_id = 0x1572,
    .class_code = 0x020000,
    .bars = {[0] = {.size = 0x20000, .is64 = true}, [2] = {.size = 0x4000}},
    .msi_vectors = 4,
    .msi_64bit = true,
    .msi_per_vector_mask = true,
    .msix_vectors = 64,
    .msix_table_bar = 2,
    .msix_table_offset = 0,
    .msix_pba_bar = 2,
    .msix_pba_offset = 0x2000,
};

static int setup(void **state)
{
	struct pci_func *f;

	if (pci_func_create(&nic, &f))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	pci_func_free(*state);
	return 0;
}

/* ---- configurations no device could have -------------------------------- */

struct bad_row {
	void (*spoil)(struct pci_func_config *c);
};

static void bar_too_small(struct pci_func_config *c)
{
	c->bars[2].size = 8;
}
static void bar_not_pow2(struct pci_func_config *c)
{
	c->bars[2].size = 0x3000;
}
static void bar64_last(struct pci_func_config *c)
{
	c->bars[5] = (struct pci_bar_config){16, true};
}
static void bar64_upper_used(struct pci_func_config *c)
{
	c->bars[1].size = 16;
}
static void msi_not_pow2(struct pci_func_config *c)
{
	c->msi_vectors = 3;
}
static void msi_too_many(struct pci_func_config *c)
{
	c->msi_vectors = 64;
}
static void msix_too_many(struct pci_func_config *c)
{
	c->msix_vectors = 2049;
}
static void table_outside_bar(struct pci_func_config *c)
{
	c->msix_table_offset = 0x3c08;
}
static void table_unaligned(struct pci_func_config *c)
{
	c->msix_table_offset = 4;
}
static void table_pba_overlap(struct pci_func_config *c)
{
	c->msix_pba_offset = 0x3f8;
}
static void table_bar_absent(struct pci_func_config *c)
{
	c->msix_table_bar = 4;
}
static void ims_over_table(struct pci_func_config *c)
{
	c->ims_storage = IMS_DEVICE;
	c->ims_entries = 4;
	c->ims_bar = 2;
	c->ims_offset = 0x100;
}
static void ims_empty(struct pci_func_config *c)
{
	c->ims_storage = IMS_MEMORY;
	c->ims_bar = 0;
	c->ims_offset = 0x1000;
}
static void class_too_wide(struct pci_func_config *c)
{
	c->class_code = 0x1000000;
}

static const struct bad_row bad_rows[] = {
    {bar_too_small},   {bar_not_pow2},	    {bar64_last},	{bar64_upper_used},
    {msi_not_pow2},    {msi_too_many},	    {msix_too_many},	{table_outside_bar},
    {table_unaligned}, {table_pba_overlap}, {table_bar_absent}, {ims_over_table},
    {ims_empty},       {class_too_wide},
};

static void rejects_bad_config(void **state)
{
	const struct bad_row *row = *state;
	struct pci_func_config c = nic;
	struct pci_func *f = (struct pci_func *)0x1;

	row->spoil(&c);
	assert_int_equal(pci_func_create(&c, &f), -EINVAL);
	assert_ptr_equal(f, (struct pci_func *)0x1); /* untouched */
}

/* ---- header and capabilities -------------------------------------------- */

static void header(void **state)
{
	struct pci_func *f = *state;

	assert_int_equal(pci_cfg_read(f, PCI_VENDOR_ID, 2), 0x8086);
	assert_int_equal(pci_cfg_read(f, PCI_DEVICE_ID, 2), 0x1572);
	assert_int_equal(pci_cfg_read(f, PCI_CLASS_REVISION, 4), 0x02000000);
	assert_int_equal(pci_cfg_read(f, PCI_HEADER_TYPE, 1), 0);
	assert_true(pci_cfg_read(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(pci_cfg_read(f, 0, 4), 0x15728086);
	/* read-only fields stay put */
	pci_cfg_write(f, PCI_VENDOR_ID, 2, 0x1234);
	assert_int_equal(pci_cfg_read(f, PCI_VENDOR_ID, 2), 0x8086);
	/* command: only I/O, memory, bus master and INTx-disable are writable */
	pci_cfg_write(f, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(pci_cfg_read(f, PCI_COMMAND, 2), 0x0407);
	assert_int_equal(pci_func_rid(f), 0x0300);
}

static void config_access_rules(void **state)
{
	struct pci_func *f = *state;

	assert_int_equal(pci_cfg_read(f, 1, 2), 0xffffffff);	/* misaligned */
	assert_int_equal(pci_cfg_read(f, 4094, 4), 0xffffffff); /* beyond 4 KiB */
	assert_int_equal(pci_cfg_read(f, 0, 3), 0xffffffff);	/* odd size */
	assert_int_equal(pci_cfg_read(f, 0x100, 4), 0);		/* no extended caps */
	pci_cfg_write(f, PCI_COMMAND + 1, 2, 0xffff);		/* ignored */
	assert_int_equal(pci_cfg_read(f, PCI_COMMAND, 2), 0);
}

static void bar_sizing(void **state)
{
	struct pci_func *f = *state;

	/* 64-bit 128 KiB BAR0: low dword keeps its type bits, the rest sizes */
	assert_int_equal(pci_cfg_read(f, PCI_BASE_ADDRESS_0, 4), PCI_BAR_MEM_TYPE_64);
	pci_cfg_write(f, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	pci_cfg_write(f, PCI_BASE_ADDRESS_0 + 4, 4, 0xffffffff);
	assert_int_equal(pci_cfg_read(f, PCI_BASE_ADDRESS_0, 4), 0xfffe0000 | PCI_BAR_MEM_TYPE_64);
	assert_int_equal(pci_cfg_read(f, PCI_BASE_ADDRESS_0 + 4, 4), 0xffffffff);
	/* 32-bit 16 KiB BAR2 */
	pci_cfg_write(f, PCI_BASE_ADDRESS_0 + 8, 4, 0xffffffff);
	assert_int_equal(pci_cfg_read(f, PCI_BASE_ADDRESS_0 + 8, 4), 0xffffc000);
	/* an absent BAR reads 0 whatever is written */
	pci_cfg_write(f, PCI_BASE_ADDRESS_0 + 12, 4, 0xffffffff);
	assert_int_equal(pci_cfg_read(f, PCI_BASE_ADDRESS_0 + 12, 4), 0);
	/* programming an address */
	pci_cfg_write(f, PCI_BASE_ADDRESS_0 + 8, 4, 0xfebf4000);
	assert_int_equal(pci_cfg_read(f, PCI_BASE_ADDRESS_0 + 8, 4), 0xfebf4000);
}

static void capability_list(void **state)
{
	struct pci_func *f = *state;
	uint8_t msi = pci_find_capability(f, PCI_CAP_ID_MSI);
	uint8_t msix = pci_find_capability(f, PCI_CAP_ID_MSIX);

	assert_true(msi >= 0x40);
	assert_true(msix >= 0x40);
	assert_int_not_equal(msi, msix);
	assert_int_equal(pci_find_capability(f, 0x10), 0); /* no PCIe cap */
	/* MSI: 4 vectors capable (QMASK = 2), 64-bit, per-vector masking */
	assert_int_equal(pci_cfg_read(f, msi + PCI_MSI_FLAGS, 2), 2 << 1 | 0x80 | 0x100);
	/* MSI-X: table size 63, table BIR 2 offset 0, PBA BIR 2 offset 0x2000 */
	assert_int_equal(pci_cfg_read(f, msix + PCI_MSIX_FLAGS, 2), 63);
	assert_int_equal(pci_cfg_read(f, msix + PCI_MSIX_TABLE, 4), 2);
	assert_int_equal(pci_cfg_read(f, msix + PCI_MSIX_PBA, 4), 0x2002);
	/* table size is read-only; enable and function mask are not */
	pci_cfg_write(f, msix + PCI_MSIX_FLAGS, 2, 0xffff);
	assert_int_equal(pci_cfg_read(f, msix + PCI_MSIX_FLAGS, 2), 0xc000 | 63);
}

/* ---- MSI ---------------------------------------------------------------- */

/* Programs MSI as Linux does: address, data, then enable with log2(@nvec) in QSIZE. */
static uint8_t msi_setup(struct pci_func *f, uint32_t addr, uint16_t data, unsigned log2n)
{
	uint8_t cap = pci_find_capability(f, PCI_CAP_ID_MSI);

	pci_cfg_write(f, cap + PCI_MSI_ADDRESS_LO, 4, addr);
	pci_cfg_write(f, cap + PCI_MSI_ADDRESS_HI, 4, 0);
	pci_cfg_write(f, cap + PCI_MSI_DATA_64, 2, data);
	pci_cfg_write(f, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | log2n << 4);
	return cap;
}

static void msi_multi_message(void **state)
{
	struct pci_func *f = *state;
	struct sink_log log = {0};
	enum pci_irq_result res;

	attach_log(f, &log, NULL);
	enable_function(f);
	msi_setup(f, 0xfee00118, 0x4000, 2); /* 4 vectors enabled */
	assert_int_equal(pci_func_raise_msi(f, 2, &res), 0);
	assert_int_equal(res, PCI_IRQ_SENT);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.msg[0].address_lo, 0xfee00118);
	assert_int_equal(log.msg[0].data, 0x4002); /* vector number in the low data bits */
	assert_int_equal(log.rid[0], 0x0300);
	assert_int_equal(pci_func_raise_msi(f, 4, &res), -EINVAL);
}

/*
 * Multiple Message Enable beyond the capability (here 128, and 110b/111b are reserved)
 * enables what the function has, no more: a hostile guest's write used to have the
 * pending flush walk 128 vectors of a 32-bit register.
 */
static void msi_enable_beyond_capable(void **state)
{
	struct pci_func *f = *state;
	struct sink_log log = {0};
	enum pci_irq_result res;
	uint8_t cap;

	attach_log(f, &log, NULL);
	enable_function(f);
	cap = msi_setup(f, 0xfee00018, 0x4000, 7);
	pci_cfg_write(f, cap + PCI_MSI_MASK_64, 4, 0xf);
	assert_int_equal(pci_func_raise_msi(f, 3, &res), 0);
	assert_int_equal(res, PCI_IRQ_PENDING);
	assert_int_equal(pci_func_raise_msi(f, 4, &res), -EINVAL);
	pci_cfg_write(f, cap + PCI_MSI_MASK_64, 4, 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.msg[0].data, 0x4003);
}

static void msi_address_low_bits_read_only(void **state)
{
	struct pci_func *f = *state;
	uint8_t cap = pci_find_capability(f, PCI_CAP_ID_MSI);

	pci_cfg_write(f, cap + PCI_MSI_ADDRESS_LO, 4, 0xfee0001b);
	assert_int_equal(pci_cfg_read(f, cap + PCI_MSI_ADDRESS_LO, 4), 0xfee00018);
}

static void msi_mask_and_pending(void **state)
{
	struct pci_func *f = *state;
	struct sink_log log = {0};
	enum pci_irq_result res;
	uint8_t cap;

	attach_log(f, &log, NULL);
	enable_function(f);
	cap = msi_setup(f, 0xfee00018, 0, 2);
	pci_cfg_write(f, cap + PCI_MSI_MASK_64, 4, 0x2);
	assert_int_equal(pci_func_raise_msi(f, 1, &res), 0);
	assert_int_equal(res, PCI_IRQ_PENDING);
	assert_int_equal(log.n, 0);
	assert_int_equal(pci_cfg_read(f, cap + PCI_MSI_PENDING_64, 4), 0x2);
	/* pending bits are read-only */
	pci_cfg_write(f, cap + PCI_MSI_PENDING_64, 4, 0);
	assert_int_equal(pci_cfg_read(f, cap + PCI_MSI_PENDING_64, 4), 0x2);
	/* mask bits beyond the vector count are not writable */
	pci_cfg_write(f, cap + PCI_MSI_MASK_64, 4, 0xfffffff2);
	assert_int_equal(pci_cfg_read(f, cap + PCI_MSI_MASK_64, 4), 0x2);
	pci_cfg_write(f, cap + PCI_MSI_MASK_64, 4, 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.msg[0].data, 1);
	assert_int_equal(pci_cfg_read(f, cap + PCI_MSI_PENDING_64, 4), 0);
	assert_int_equal(pci_func_stats(f)->sent_from_pending, 1);
}

static void msi_disabled_cases(void **state)
{
	struct pci_func *f = *state;
	struct sink_log log = {0};
	enum pci_irq_result res;
	uint8_t cap;

	attach_log(f, &log, NULL);
	enable_function(f);
	assert_int_equal(pci_func_raise_msi(f, 0, &res), 0);
	assert_int_equal(res, PCI_IRQ_DISABLED); /* MSI not enabled */
	cap = msi_setup(f, 0xfee00018, 0, 1);	 /* 2 of 4 vectors enabled */
	assert_int_equal(pci_func_raise_msi(f, 3, &res), 0);
	assert_int_equal(res, PCI_IRQ_DISABLED);
	pci_cfg_write(f, PCI_COMMAND, 2, PCI_COMMAND_MEMORY); /* bus master off */
	assert_int_equal(pci_func_raise_msi(f, 0, &res), 0);
	assert_int_equal(res, PCI_IRQ_DISABLED);
	assert_int_equal(log.n, 0);
	assert_int_equal(pci_func_stats(f)->disabled, 3);
	(void)cap;
}

static void msi_32bit_layout(void **state)
{
	struct pci_func_config c = {.rid = 0x0800, .msi_vectors = 1};
	struct sink_log log = {0};
	enum pci_irq_result res;
	struct pci_func *f;
	uint8_t cap;

	(void)state;
	assert_int_equal(pci_func_create(&c, &f), 0);
	attach_log(f, &log, NULL);
	enable_function(f);
	cap = pci_find_capability(f, PCI_CAP_ID_MSI);
	assert_int_equal(pci_cfg_read(f, cap + PCI_MSI_FLAGS, 2), 0); /* 1 vector, 32-bit */
	pci_cfg_write(f, cap + PCI_MSI_ADDRESS_LO, 4, 0xfee01000);
	pci_cfg_write(f, cap + PCI_MSI_DATA_32, 2, 0x0031);
	pci_cfg_write(f, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
	assert_int_equal(pci_func_raise_msi(f, 0, &res), 0);
	assert_int_equal(res, PCI_IRQ_SENT);
	assert_int_equal(log.msg[0].data, 0x31);
	assert_int_equal(log.msg[0].address_hi, 0);
	pci_func_free(f);
}

static void mmio_bounds(void **state)
{
	struct pci_func *f = *state;
	uint64_t v = 0;

	enable_function(f);
	assert_int_equal(pci_mmio_read(f, 2, 0x4000, 4, &v), -ERANGE);
	assert_int_equal(pci_mmio_read(f, 2, 0x3ffe, 4, &v), -ERANGE);
	assert_int_equal(pci_mmio_read(f, 1, 0, 4, &v), -ERANGE); /* upper half of BAR0 */
	assert_int_equal(pci_mmio_write(f, 5, 0, 4, 0), -ERANGE);
	/* ordinary device registers: not modelled, read 0 */
	assert_int_equal(pci_mmio_read(f, 0, 0x100, 4, &v), 0);
	assert_int_equal(v, 0);
}

#define ROW(name, row) TEST_ROW("pci/bad-config/" name, rejects_bad_config, &bad_rows[row])
#define FX(fn)	       cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    ROW("bar-too-small", 0),
	    ROW("bar-not-pow2", 1),
	    ROW("bar64-in-last-slot", 2),
	    ROW("bar64-upper-half-used", 3),
	    ROW("msi-not-pow2", 4),
	    ROW("msi-too-many", 5),
	    ROW("msix-too-many", 6),
	    ROW("msix-table-outside-bar", 7),
	    ROW("msix-table-unaligned", 8),
	    ROW("msix-table-pba-overlap", 9),
	    ROW("msix-table-bar-absent", 10),
	    ROW("ims-over-msix-table", 11),
	    ROW("ims-no-entries", 12),
	    ROW("class-code-too-wide", 13),
	    FX(header),
	    FX(config_access_rules),
	    FX(bar_sizing),
	    FX(capability_list),
	    FX(msi_multi_message),
	    FX(msi_enable_beyond_capable),
	    FX(msi_address_low_bits_read_only),
	    FX(msi_mask_and_pending),
	    FX(msi_disabled_cases),
	    TEST(msi_32bit_layout),
	    FX(mmio_bounds),
	};

	return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
