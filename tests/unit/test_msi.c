// SPDX-License-Identifier: MIT
/* MSI message formats against vectors built by hand from VT-d §5.1.2 and the SDM. */
#include "test.h"

#include <errno.h>
#include <string.h>

#include "pvir/msi.h"

struct compat_row {
	struct msi_compat c;
	uint32_t addr;
	uint32_t data;
};

/* Golden compatibility-format messages. */
static const struct compat_row compat_rows[] = {
    /* dest 0x12 in 19:12, vector 0x31, fixed, edge, physical */
    {{.dest_id = 0x12, .vector = 0x31}, 0xfee12000, 0x00000031},
    /* dest 0x1234: 0x34 in 19:12, 0x12 in 11:5 (extended destination ID) */
    {{.dest_id = 0x1234, .vector = 0xec}, 0xfee34240, 0x000000ec},
    /* RH (bit 3), DM (bit 2), NMI (100b at 10:8), level assert (14), level trigger (15) */
    {{.dest_id = 0xff,
      .rh = true,
      .dm = true,
      .vector = 2,
      .delivery_mode = MSI_DM_NMI,
      .level = true,
      .trigger = true},
     0xfeeff00c,
     0x0000c402},
    /* the largest destination a compat message can carry */
    {{.dest_id = MSI_COMPAT_DEST_MAX, .vector = 0x20, .delivery_mode = MSI_DM_LOWPRI},
     0xfeefffe0,
     0x00000120},
};

static void assert_compat_equal(const struct msi_compat *a, const struct msi_compat *b)
{
	assert_int_equal(a->dest_id, b->dest_id);
	assert_int_equal(a->rh, b->rh);
	assert_int_equal(a->dm, b->dm);
	assert_int_equal(a->vector, b->vector);
	assert_int_equal(a->delivery_mode, b->delivery_mode);
	assert_int_equal(a->level, b->level);
	assert_int_equal(a->trigger, b->trigger);
}

static void compat_golden(void **state)
{
	const struct compat_row *row = *state;
	struct msi_msg m;
	struct msi_compat back;

	assert_int_equal(msi_compat_encode(&row->c, &m), 0);
	assert_int_equal(m.address_lo, row->addr);
	assert_int_equal(m.address_hi, 0);
	assert_int_equal(m.data, row->data);
	assert_int_equal(msi_format_of(&m), MSI_FORMAT_COMPAT);
	msi_compat_decode(&m, &back);
	assert_compat_equal(&back, &row->c);
	assert_int_equal(msi_reserved_bits(&m).data, 0);
}

static void compat_roundtrip_every_dest(void **state)
{
	(void)state;
	for (uint32_t d = 0; d <= MSI_COMPAT_DEST_MAX; d++) {
		struct msi_compat c = {.dest_id = d,
				       .vector = (uint8_t)d,
				       .rh = d & 1,
				       .dm = d & 2,
				       .delivery_mode = d % 8,
				       .level = d & 8,
				       .trigger = d & 4};
		struct msi_compat back;
		struct msi_msg m;

		assert_int_equal(msi_compat_encode(&c, &m), 0);
		assert_true(msi_is_interrupt_address(&m));
		msi_compat_decode(&m, &back);
		assert_compat_equal(&back, &c);
	}
}

static void compat_encode_range(void **state)
{
	struct msi_msg m = {.address_lo = 1, .address_hi = 2, .data = 3};
	struct msi_compat too_far = {.dest_id = MSI_COMPAT_DEST_MAX + 1};
	struct msi_compat bad_dlm = {.delivery_mode = 8};

	(void)state;
	assert_int_equal(msi_compat_encode(&too_far, &m), -ERANGE);
	assert_int_equal(msi_compat_encode(&bad_dlm, &m), -ERANGE);
	/* untouched on failure */
	assert_int_equal(m.address_lo, 1);
	assert_int_equal(m.address_hi, 2);
	assert_int_equal(m.data, 3);
}

struct remap_row {
	struct msi_remap r;
	uint32_t addr;
	uint32_t data;
	uint32_t index;
};

static const struct remap_row remap_rows[] = {
    /* Linux fill_msi_msg for IRTE 0x1234: handle in 19:5, IF (4) and SHV (3), data 0 */
    {{.handle = 0x1234, .shv = true}, 0xfee24698, 0, 0x1234},
    /* handle[15] travels in address bit 2 */
    {{.handle = 0x8001, .shv = true, .subhandle = 3}, 0xfee0003c, 3, 0x8004},
    /* SHV clear: index is the handle, data ignored (IOAPIC style) */
    {{.handle = 0x7fff, .shv = false}, 0xfeefffe0 | 0x10, 0, 0x7fff},
    /* the highest index a handle and subhandle can name */
    {{.handle = 0xffff, .shv = true, .subhandle = 0xffff}, 0xfeeffffc, 0xffff, 0x1fffe},
};

static void remap_golden(void **state)
{
	const struct remap_row *row = *state;
	struct msi_remap back;
	struct msi_msg m;

	msi_remap_encode(&row->r, &m);
	assert_int_equal(m.address_lo, row->addr);
	assert_int_equal(m.address_hi, 0);
	assert_int_equal(m.data, row->data);
	assert_int_equal(msi_format_of(&m), MSI_FORMAT_REMAPPABLE);
	msi_remap_decode(&m, &back);
	assert_int_equal(back.handle, row->r.handle);
	assert_int_equal(back.shv, row->r.shv);
	assert_int_equal(msi_remap_index(&back), row->index);
}

static void remap_roundtrip_every_handle(void **state)
{
	(void)state;
	for (uint32_t h = 0; h <= 0xffff; h++) {
		struct msi_remap r = {.handle = (uint16_t)h, .shv = true, .subhandle = h % 7};
		struct msi_remap back;
		struct msi_msg m;

		msi_remap_encode(&r, &m);
		msi_remap_decode(&m, &back);
		assert_int_equal(back.handle, h);
		assert_int_equal(back.subhandle, h % 7);
		assert_int_equal(m.address_lo >> 20, MSI_ADDR_HEAD);
	}
}

struct rsvd_row {
	struct msi_msg m;
	uint32_t rsvd_hi;
	uint32_t rsvd_data;
};

static const struct rsvd_row rsvd_rows[] = {
    /* compat: data 13:11 and 31:16 are reserved, address_hi too */
    {{0xfee00000, 0, 0x00000831}, 0, 0x00000800},
    {{0xfee00000, 0, 0x00012031}, 0, 0x00012000},
    {{0xfee00000, 1, 0x31}, 1, 0},
    /* remappable with SHV: data 31:16 reserved */
    {{0xfee00018, 0, 0x00010000}, 0, 0x00010000},
    /* remappable without SHV: data not decoded, nothing reserved */
    {{0xfee00010, 0, 0xffff0000}, 0, 0},
};

static void reserved_bits(void **state)
{
	const struct rsvd_row *row = *state;
	struct msi_msg r = msi_reserved_bits(&row->m);

	assert_int_equal(r.address_hi, row->rsvd_hi);
	assert_int_equal(r.data, row->rsvd_data);
	assert_int_equal(r.address_lo, 0);
}

static void interrupt_address_range(void **state)
{
	(void)state;
	assert_true(msi_is_interrupt_address(&(struct msi_msg){.address_lo = 0xfeefffff}));
	assert_false(msi_is_interrupt_address(&(struct msi_msg){.address_lo = 0xfed00000}));
	assert_false(msi_is_interrupt_address(&(struct msi_msg){.address_lo = 0x0ee00000}));
}

static void delivery_modes(void **state)
{
	(void)state;
	assert_string_equal(msi_delivery_mode_name(MSI_DM_FIXED), "fixed");
	assert_string_equal(msi_delivery_mode_name(MSI_DM_EXTINT), "ExtINT");
	assert_true(msi_delivery_mode_is_reserved(3));
	assert_true(msi_delivery_mode_is_reserved(6));
	assert_false(msi_delivery_mode_is_reserved(MSI_DM_NMI));
	assert_string_equal(msi_delivery_mode_name(6), "reserved");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST_ROW("msi/compat/golden-dest-0x12", compat_golden, &compat_rows[0]),
	    TEST_ROW("msi/compat/golden-ext-dest-0x1234", compat_golden, &compat_rows[1]),
	    TEST_ROW("msi/compat/golden-nmi-level-logical", compat_golden, &compat_rows[2]),
	    TEST_ROW("msi/compat/golden-max-dest", compat_golden, &compat_rows[3]),
	    TEST(compat_roundtrip_every_dest),
	    TEST(compat_encode_range),
	    TEST_ROW("msi/remap/golden-linux-index-0x1234", remap_golden, &remap_rows[0]),
	    TEST_ROW("msi/remap/golden-handle15-subhandle", remap_golden, &remap_rows[1]),
	    TEST_ROW("msi/remap/golden-no-shv", remap_golden, &remap_rows[2]),
	    TEST_ROW("msi/remap/golden-max-index", remap_golden, &remap_rows[3]),
	    TEST(remap_roundtrip_every_handle),
	    TEST_ROW("msi/rsvd/compat-data-13-11", reserved_bits, &rsvd_rows[0]),
	    TEST_ROW("msi/rsvd/compat-data-upper", reserved_bits, &rsvd_rows[1]),
	    TEST_ROW("msi/rsvd/compat-address-hi", reserved_bits, &rsvd_rows[2]),
	    TEST_ROW("msi/rsvd/remap-shv-data-upper", reserved_bits, &rsvd_rows[3]),
	    TEST_ROW("msi/rsvd/remap-no-shv-data-free", reserved_bits, &rsvd_rows[4]),
	    TEST(interrupt_address_range),
	    TEST(delivery_modes),
	};

	return cmocka_run_group_tests_name("msi", tests, NULL, NULL);
}
