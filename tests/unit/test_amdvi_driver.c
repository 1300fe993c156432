// SPDX-License-Identifier: MIT
/*
 * The AMD-Vi driver on the AMD-Vi unit: what it enables, a table per device, entries in
 * both formats reaching the APIC bus or the vAPIC page, the GA log drained into a wakeup,
 * each failure leaving things as they were, and every misuse named.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "pvir/amdvi_driver.h"
#include "pvir/failpoint.h"
#include "pvir/msi.h"
#include "pvir/physmem.h"

#define MEM	  (4u << 20)
#define DEV_TABLE 0x100000u /* 256 requester-ids: 8 KiB */
#define CMD	  0x10000u
#define EVT	  0x11000u
#define GA	  0x12000u
#define STORE	  0x13000u
#define TABLES	  0x200000u
#define PAGE	  0x50000u
#define NIC	  0x21
#define DSA	  0x30

struct fx {
	struct physmem *pm;
	struct amdvi_unit *u;
	struct amdvi_driver *d;
};

static struct amdvi_driver_config config(bool ga, uint32_t entries)
{
	return (struct amdvi_driver_config){.dev_table = DEV_TABLE,
					    .devids = 256,
					    .cmd_base = CMD,
					    .evt_base = EVT,
					    .ga_base = GA,
					    .store_addr = STORE,
					    .tables = TABLES,
					    .max_devices = 2,
					    .table_entries = entries,
					    .ga = ga,
					    .vapic = ga,
					    .x2apic = true,
					    .failpoints = true};
}

static struct fx *fx_new(bool ga, uint32_t entries)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct amdvi_unit_config ucfg = amdvi_unit_default_config();
	struct amdvi_driver_config dcfg = config(ga, entries);

	f->pm = physmem_new(MEM);
	f->u = amdvi_unit_new(f->pm, &ucfg);
	assert_int_equal(amdvi_driver_new(f->pm, f->u, &dcfg, &f->d), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	failpoint_disarm();
	amdvi_driver_free(f->d);
	amdvi_unit_free(f->u);
	physmem_free(f->pm);
	free(f);
}

static void raise(struct fx *f, uint16_t rid, uint32_t index, struct amdvi_result *r)
{
	struct msi_msg m;

	amdvi_msi_compose(f->d, index, &m);
	amdvi_unit_translate(f->u, &m, rid, r);
}

static struct amdvi_irte_ga legacy(uint8_t dest, uint8_t vector)
{
	struct amdvi_irte32 e = {.remap_en = true, .dest = dest, .vector = vector};

	return (struct amdvi_irte_ga){.lo = amdvi_irte32_encode(&e)};
}

static void enables_with_every_device_aborted(void **state)
{
	struct fx *f = fx_new(false, 512);
	struct amdvi_result r;
	uint64_t c = amdvi_unit_read(f->u, AMDVI_MMIO_CONTROL, 8);

	(void)state;
	assert_true(bit_get(c, AMDVI_CTRL_IOMMU_EN) && bit_get(c, AMDVI_CTRL_EVT_LOG_EN) &&
		    bit_get(c, AMDVI_CTRL_CMD_BUF_EN) && bit_get(c, AMDVI_CTRL_XT_EN));
	assert_false(bit_get(c, AMDVI_CTRL_GA_EN));
	/* a device nobody attached: IV set, IntCtl abort, as Linux boots */
	raise(f, 0x99, 0, &r);
	assert_int_equal(r.outcome, IR_BLOCKED);
	assert_int_equal(r.why, AMDVI_BLOCK_INTCTL_ABORT);
	assert_int_equal(amdvi_driver_drain_events(f->d), 1);
	assert_int_equal(amdvi_driver_stats(f->d)->events_drained[AMDVI_EVT_IO_PAGE_FAULT], 1);
	assert_int_equal(amdvi_driver_drain_events(f->d), 0);
	fx_free(f);
}

static void each_device_has_its_own_table(void **state)
{
	struct fx *f = fx_new(false, 512);
	struct amdvi_irte_ga e = legacy(3, 0x41), got;
	struct amdvi_result r;
	uint32_t a, b;

	(void)state;
	assert_int_equal(amdvi_dev_attach(f->d, NIC), 0);
	assert_int_equal(amdvi_dev_attach(f->d, DSA), 0);
	assert_int_equal(amdvi_irte_alloc(f->d, NIC, 1, &a), 0);
	assert_int_equal(amdvi_irte_alloc(f->d, DSA, 1, &b), 0);
	assert_int_equal(a, b); /* index 0 in two tables */
	assert_int_equal(amdvi_irte_write(f->d, NIC, a, &e), 0);
	e = legacy(4, 0x51);
	assert_int_equal(amdvi_irte_write(f->d, DSA, b, &e), 0);
	assert_int_equal(amdvi_irte_read(f->d, DSA, b, &got), 0);
	assert_int_equal(got.lo, e.lo);
	raise(f, NIC, a, &r);
	assert_int_equal(r.outcome, IR_REMAPPED);
	assert_int_equal(r.irq.vector, 0x41);
	raise(f, DSA, b, &r);
	assert_int_equal(r.irq.vector, 0x51);
	assert_int_equal(r.irq.dest, 4);
	/* a block of four, aligned, next to it */
	assert_int_equal(amdvi_irte_alloc(f->d, NIC, 4, &a), 0);
	assert_int_equal(a, 4);
	/* a restored device takes its indices back: another device's use is no obstacle */
	assert_int_equal(amdvi_irte_alloc_at(f->d, DSA, 4, 4), 0);
	assert_int_equal(amdvi_irte_alloc_at(f->d, NIC, 4, 1), -EBUSY);
	assert_int_equal(amdvi_irte_alloc_at(f->d, NIC, 511, 1), 0);
	assert_int_equal(amdvi_irte_alloc_at(f->d, NIC, 512, 1), -EINVAL);
	assert_int_equal(amdvi_irte_alloc_at(f->d, 0x0500, 0, 1), -ENOENT);
	assert_int_equal(amdvi_driver_stats(f->d)->irt_invalidations, 2);
	fx_free(f);
}

static uint32_t woken_tag;
static unsigned woken;

static void wake(void *ctx, uint32_t tag, uint16_t devid)
{
	(void)ctx;
	assert_int_equal(devid, NIC);
	woken_tag = tag;
	woken++;
}

static void guest_mode_posts_and_logs(void **state)
{
	struct fx *f = fx_new(true, 512);
	struct amdvi_ga_vapic v = {.remap_en = true,
				   .ga_log_intr = true,
				   .is_run = true,
				   .dest = 0x12345,
				   .ga_tag = 0x77,
				   .ga_root_ptr = PAGE >> 12,
				   .vector = 0x61};
	struct amdvi_irte_ga e;
	struct amdvi_result r;
	uint32_t i;

	(void)state;
	assert_true(bit_get(amdvi_unit_read(f->u, AMDVI_MMIO_CONTROL, 8), AMDVI_CTRL_GA_EN));
	assert_int_equal(amdvi_dev_attach(f->d, NIC), 0);
	assert_int_equal(amdvi_irte_alloc(f->d, NIC, 1, &i), 0);
	amdvi_ga_vapic_encode(&v, &e);
	assert_int_equal(amdvi_irte_write(f->d, NIC, i, &e), 0);
	raise(f, NIC, i, &r);
	assert_int_equal(r.outcome, IR_POSTED);
	assert_true(r.doorbell);
	assert_int_equal(r.irq.dest, 0x12345);
	/* vcpu_put while blocking: IsRun clear, GALogIntr set, no invalidation */
	v.is_run = false;
	amdvi_ga_vapic_encode(&v, &e);
	assert_int_equal(amdvi_irte_set_run(f->d, NIC, i, &e), 0);
	assert_int_equal(amdvi_driver_stats(f->d)->irt_invalidations, 1);
	raise(f, NIC, i, &r);
	assert_true(r.ga_logged);
	assert_true(r.coalesced); /* 0x61 still pending in the IRR */
	woken = 0;
	assert_int_equal(amdvi_driver_drain_ga_log(f->d, wake, NULL), 1);
	assert_int_equal(woken, 1);
	assert_int_equal(woken_tag, 0x77);
	/* an unchanged entry is counted, not flushed; a remapped one cannot take set_run */
	assert_int_equal(amdvi_irte_update(f->d, NIC, i, &e), 0);
	assert_int_equal(amdvi_unit_stats(f->u)->irt_invalidations, 1);
	amdvi_ga_remap_encode(&(struct amdvi_ga_remap){.remap_en = true, .vector = 0x30}, &e);
	assert_int_equal(amdvi_irte_set_run(f->d, NIC, i, &e), -EINVAL);
	fx_free(f);
}

static void tables_of_2048_set_dm(void **state)
{
	struct fx *f = fx_new(true, 2048);
	struct amdvi_ga_remap g = {.remap_en = true, .dest = 1, .vector = 0x99};
	struct amdvi_irte_ga e;
	struct amdvi_result r;
	struct msi_msg m;
	uint32_t i = 0;

	(void)state;
	amdvi_msi_compose(f->d, 0x5ff, &m);
	assert_int_equal(m.address_lo, 0xfee00004);
	assert_int_equal(m.data, 0x5ff);
	assert_int_equal(amdvi_dev_attach(f->d, NIC), 0);
	for (unsigned n = 0; n < 0x600; n++)
		assert_int_equal(amdvi_irte_alloc(f->d, NIC, 1, &i), 0);
	assert_int_equal(i, 0x5ff);
	amdvi_ga_remap_encode(&g, &e);
	assert_int_equal(amdvi_irte_write(f->d, NIC, i, &e), 0);
	raise(f, NIC, i, &r);
	assert_int_equal(r.outcome, IR_REMAPPED);
	assert_int_equal(r.irq.vector, 0x99);
	fx_free(f);
}

static void a_failed_invalidation_leaves_the_entry(void **state)
{
	struct fx *f = fx_new(false, 512);
	struct amdvi_irte_ga e = legacy(3, 0x41), n = legacy(5, 0x42), got;
	struct amdvi_result r;
	uint32_t i;

	(void)state;
	assert_int_equal(amdvi_dev_attach(f->d, NIC), 0);
	assert_int_equal(amdvi_irte_alloc(f->d, NIC, 1, &i), 0);
	assert_int_equal(amdvi_irte_write(f->d, NIC, i, &e), 0);
	failpoint_arm(FAILPOINT_INVALIDATION, 1);
	assert_int_equal(amdvi_irte_write(f->d, NIC, i, &n), -EIO);
	assert_int_equal(amdvi_irte_read(f->d, NIC, i, &got), 0);
	assert_int_equal(got.lo, e.lo);
	failpoint_arm(FAILPOINT_IRTE_WRITE, 1);
	assert_int_equal(amdvi_irte_write(f->d, NIC, i, &n), -EIO);
	assert_int_equal(amdvi_irte_read(f->d, NIC, i, &got), 0);
	assert_int_equal(got.lo, e.lo);
	raise(f, NIC, i, &r);
	assert_int_equal(r.irq.vector, 0x41);
	/* an attach whose invalidation fails changes nothing either */
	failpoint_arm(FAILPOINT_INVALIDATION, 1);
	assert_int_equal(amdvi_dev_attach(f->d, DSA), -EIO);
	assert_false(amdvi_dev_attached(f->d, DSA));
	raise(f, DSA, 0, &r);
	assert_int_equal(r.why, AMDVI_BLOCK_INTCTL_ABORT);
	assert_int_equal(amdvi_dev_attach(f->d, DSA), 0); /* its table slot is still free */
	fx_free(f);
}

static void free_and_detach(void **state)
{
	struct fx *f = fx_new(false, 512);
	struct amdvi_irte_ga e = legacy(3, 0x41);
	struct amdvi_result r;
	uint32_t i;

	(void)state;
	assert_int_equal(amdvi_dev_attach(f->d, NIC), 0);
	assert_int_equal(amdvi_irte_alloc(f->d, NIC, 2, &i), 0);
	assert_int_equal(amdvi_irte_write(f->d, NIC, i + 1, &e), 0);
	assert_int_equal(amdvi_dev_detach(f->d, NIC), -EBUSY);
	assert_int_equal(amdvi_irte_free(f->d, NIC, i + 1, 1), -EINVAL); /* not a block start */
	assert_int_equal(amdvi_irte_free(f->d, NIC, i, 2), 0);
	raise(f, NIC, i + 1, &r);
	assert_int_equal(r.why, AMDVI_BLOCK_REMAP_EN); /* cleared and invalidated */
	assert_int_equal(amdvi_dev_detach(f->d, NIC), 0);
	assert_false(amdvi_dev_attached(f->d, NIC));
	raise(f, NIC, i + 1, &r);
	assert_int_equal(r.why, AMDVI_BLOCK_INTCTL_ABORT);
	assert_int_equal(amdvi_dev_detach(f->d, NIC), -ENOENT);
	fx_free(f);
}

/* After amdvi_driver_power_off(), as on VT-d: given back, not stored or invalidated. */
static void power_off_releases_without_storing(void **state)
{
	struct fx *f = fx_new(false, 512);
	struct amdvi_irte_ga e = legacy(3, 0x41), back;
	const struct amdvi_unit_stats *ust = amdvi_unit_stats(f->u);
	struct amdvi_result r;
	uint64_t commands;
	uint32_t i;

	(void)state;
	assert_int_equal(amdvi_dev_attach(f->d, NIC), 0);
	assert_int_equal(amdvi_irte_alloc(f->d, NIC, 2, &i), 0);
	assert_int_equal(amdvi_irte_write(f->d, NIC, i, &e), 0);
	amdvi_driver_power_off(f->d);
	commands = ust->commands;
	assert_int_equal(amdvi_irte_update(f->d, NIC, i, &(struct amdvi_irte_ga){0}), 0);
	assert_int_equal(amdvi_irte_write(f->d, NIC, i + 1, &e), 0);
	assert_int_equal(amdvi_irte_free(f->d, NIC, i, 2), 0);
	assert_int_equal(amdvi_driver_in_use(f->d), 0);
	assert_int_equal(amdvi_irte_read(f->d, NIC, i, &back), 0);
	assert_int_equal(back.lo, e.lo); /* not stored, not cleared */
	assert_int_equal(amdvi_irte_read(f->d, NIC, i + 1, &back), 0);
	assert_int_equal(back.lo | back.hi, 0);
	raise(f, NIC, i, &r);
	assert_int_equal(r.why, AMDVI_BLOCK_NONE);
	assert_int_equal(ust->commands, commands);
	assert_int_equal(amdvi_irte_free(f->d, NIC, i, 2), -EINVAL); /* already given back */
	fx_free(f);
}

static void misuse_is_named(void **state)
{
	struct fx *f = fx_new(false, 512);
	struct amdvi_irte_ga e = legacy(3, 0x41);
	struct amdvi_driver_config bad = config(false, 1024);
	struct amdvi_driver *d = NULL;
	uint32_t i;

	(void)state;
	assert_int_equal(amdvi_dev_attach(f->d, 256), -EINVAL);
	assert_int_equal(amdvi_dev_attach(f->d, NIC), 0);
	assert_int_equal(amdvi_dev_attach(f->d, NIC), -EEXIST);
	assert_int_equal(amdvi_dev_attach(f->d, DSA), 0);
	assert_int_equal(amdvi_dev_attach(f->d, 0x40), -ENOSPC); /* two tables at most */
	assert_int_equal(amdvi_irte_alloc(f->d, 0x40, 1, &i), -ENOENT);
	assert_int_equal(amdvi_irte_alloc(f->d, NIC, 3, &i), -EINVAL);
	assert_int_equal(amdvi_irte_write(f->d, NIC, 7, &e), -EINVAL);
	assert_int_equal(amdvi_irte_read(f->d, NIC, 512, &e), -EINVAL);
	assert_int_equal(amdvi_driver_new(f->pm, f->u, &bad, &d), -EINVAL);
	bad = config(false, 512);
	bad.devids = 100;
	assert_int_equal(amdvi_driver_new(f->pm, f->u, &bad, &d), -EINVAL);
	bad = config(false, 512);
	bad.tables = MEM - 4096; /* two 2 KiB tables fit there, three do not */
	bad.max_devices = 3;
	assert_int_equal(amdvi_driver_new(f->pm, f->u, &bad, &d), -EINVAL);
	assert_null(d);
	fx_free(f);
}

static void a_unit_without_ga_or_2k_is_refused(void **state)
{
	struct physmem *pm = physmem_new(MEM);
	struct amdvi_unit_config ucfg = amdvi_unit_default_config();
	struct amdvi_driver_config dcfg = config(true, 512);
	struct amdvi_driver *d = NULL;
	struct amdvi_unit *u;

	(void)state;
	ucfg.ga = false;
	ucfg.intr_2k = false;
	u = amdvi_unit_new(pm, &ucfg);
	assert_int_equal(amdvi_driver_new(pm, u, &dcfg, &d), -EINVAL);
	dcfg = config(false, 2048);
	assert_int_equal(amdvi_driver_new(pm, u, &dcfg, &d), -EINVAL);
	dcfg = config(false, 512);
	assert_int_equal(amdvi_driver_new(pm, u, &dcfg, &d), 0);
	amdvi_driver_free(d);
	amdvi_unit_free(u);
	physmem_free(pm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(enables_with_every_device_aborted),
	    TEST(each_device_has_its_own_table),
	    TEST(guest_mode_posts_and_logs),
	    TEST(tables_of_2048_set_dm),
	    TEST(a_failed_invalidation_leaves_the_entry),
	    TEST(free_and_detach),
	    TEST(power_off_releases_without_storing),
	    TEST(misuse_is_named),
	    TEST(a_unit_without_ga_or_2k_is_refused),
	};

	return cmocka_run_group_tests_name("amdvi_driver", tests, NULL, NULL);
}
