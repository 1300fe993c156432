// SPDX-License-Identifier: MIT
/*
 * Physical memory: bounds, alignment, byte order and the atomic operations;
 * zeroed allocation, and the heap's huge pages.
 */
#define _DEFAULT_SOURCE /* sbrk() */
#include "test.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pvir/physmem.h"
#include "pvir/zmem.h"

#define SIZE 4096

static int setup(void **state)
{
	*state = physmem_new(SIZE);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	physmem_free(*state);
	return 0;
}

static void create_rejects_bad_sizes(void **state)
{
	(void)state;
	assert_null(physmem_new(0));
	assert_null(physmem_new(24));
	physmem_free(NULL);
}

static void little_endian_bytes(void **state)
{
	struct physmem *pm = *state;
	const uint8_t bytes[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t back[3];
	uint64_t v;

	assert_int_equal(physmem_write(pm, 16, bytes, sizeof(bytes)), 0);
	assert_int_equal(physmem_load64(pm, 16, &v), 0);
	assert_int_equal(v, 0x0807060504030201);
	/* an unaligned byte range straddling two qwords */
	assert_int_equal(physmem_store64(pm, 24, 0x1122334455667788), 0);
	assert_int_equal(physmem_read(pm, 23, back, sizeof(back)), 0);
	assert_int_equal(back[0], 8);
	assert_int_equal(back[1], 0x88);
	assert_int_equal(back[2], 0x77);
}

/*
 * Every offset and length over three qwords: a write changes exactly its own
 * bytes (partial qwords keep their other bytes) and a read returns them.
 */
static void byte_ranges_touch_only_their_bytes(void **state)
{
	struct physmem *pm = *state;
	uint8_t want[24], in[24], out[24];

	for (unsigned off = 0; off < 24; off++) {
		for (unsigned len = 0; off + len <= 24; len++) {
			for (unsigned i = 0; i < 24; i++)
				want[i] = (uint8_t)(0xa0 + i);
			assert_int_equal(physmem_write(pm, 256, want, 24), 0);
			for (unsigned i = 0; i < len; i++)
				in[i] = want[off + i] = (uint8_t)(i + 1);
			assert_int_equal(physmem_write(pm, 256 + off, in, len), 0);
			assert_int_equal(physmem_read(pm, 256, out, 24), 0);
			assert_memory_equal(out, want, 24);
			memset(out, 0, sizeof(out));
			assert_int_equal(physmem_read(pm, 256 + off, out, len), 0);
			assert_memory_equal(out, in, len);
		}
	}
}

static void bounds_and_alignment(void **state)
{
	struct physmem *pm = *state;
	uint64_t v = 0x55, pair[2] = {0, 0};
	uint8_t b = 0;

	assert_true(physmem_range_ok(pm, SIZE - 8, 8));
	assert_false(physmem_range_ok(pm, SIZE - 7, 8));
	assert_false(physmem_range_ok(pm, UINT64_MAX, 2)); /* no wrap-around */
	assert_int_equal(physmem_load64(pm, SIZE, &v), -EFAULT);
	assert_int_equal(v, 0x55); /* untouched on error */
	assert_int_equal(physmem_load64(pm, 4, &v), -EINVAL);
	assert_int_equal(physmem_fetch_and64(pm, SIZE, 0, &v), -EFAULT);
	assert_int_equal(physmem_store64(pm, SIZE - 4, 1), -EFAULT);
	assert_int_equal(physmem_load128(pm, 8, pair), -EINVAL);
	assert_int_equal(physmem_load128(pm, SIZE, pair), -EFAULT);
	assert_int_equal(physmem_read(pm, SIZE, &b, 1), -EFAULT);
	assert_int_equal(physmem_write(pm, SIZE - 1, "ab", 2), -EFAULT);
}

static void rmw_operations(void **state)
{
	struct physmem *pm = *state;
	uint64_t old, expected, v;

	assert_int_equal(physmem_store64(pm, 0, 0xf0), 0);
	assert_int_equal(physmem_fetch_or64(pm, 0, 0x0f, &old), 0);
	assert_int_equal(old, 0xf0);
	assert_int_equal(physmem_fetch_and64(pm, 0, 0x3c, &old), 0);
	assert_int_equal(old, 0xff);
	assert_int_equal(physmem_xchg64(pm, 0, 7, &old), 0);
	assert_int_equal(old, 0x3c);
	expected = 6;
	assert_int_equal(physmem_cmpxchg64(pm, 0, &expected, 9), -EAGAIN);
	assert_int_equal(expected, 7); /* the value found */
	assert_int_equal(physmem_cmpxchg64(pm, 0, &expected, 9), 0);
	assert_int_equal(physmem_load64(pm, 0, &v), 0);
	assert_int_equal(v, 9);
}

static void harvest_takes_and_clears(void **state)
{
	struct physmem *pm = *state;
	uint64_t got[4] = {1, 1, 1, 1}, untouched[2] = {0xdead, 0xbeef}, v;

	assert_int_equal(physmem_store64(pm, 64 + 8, 0x30), 0);
	assert_int_equal(physmem_store64(pm, 64 + 24, UINT64_C(1) << 63), 0);
	assert_int_equal(physmem_harvest64(pm, 64, 4, got), 0);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 0x30);
	assert_int_equal(got[2], 0);
	assert_int_equal(got[3], UINT64_C(1) << 63);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(physmem_load64(pm, 64 + 8 * i, &v), 0);
		assert_int_equal(v, 0);
	}
	/* errors leave memory and the output alone */
	assert_int_equal(physmem_store64(pm, SIZE - 8, 5), 0);
	assert_int_equal(physmem_harvest64(pm, SIZE - 8, 2, untouched), -EFAULT);
	assert_int_equal(physmem_harvest64(pm, 4, 1, untouched), -EINVAL);
	assert_int_equal(untouched[0], 0xdead);
	assert_int_equal(untouched[1], 0xbeef);
	assert_int_equal(physmem_load64(pm, SIZE - 8, &v), 0);
	assert_int_equal(v, 5);
}

static void cmpxchg128(void **state)
{
	struct physmem *pm = *state;
	uint64_t expected[2] = {1, 2};
	const uint64_t desired[2] = {0xaaaa, 0xbbbb};
	uint64_t got[2];

	assert_int_equal(physmem_cmpxchg128(pm, 32, expected, desired), -EAGAIN);
	assert_int_equal(expected[0], 0);
	assert_int_equal(expected[1], 0);
	assert_int_equal(physmem_cmpxchg128(pm, 32, expected, desired), 0);
	assert_int_equal(physmem_load128(pm, 32, got), 0);
	assert_int_equal(got[0], 0xaaaa);
	assert_int_equal(got[1], 0xbbbb);
	/* the low qword is at the lower address */
	assert_int_equal(physmem_load64(pm, 40, &got[0]), 0);
	assert_int_equal(got[0], 0xbbbb);
}

/* A copy carries every qword, overwrites what differs and clears what the source has zero. */
static void copy_makes_an_exact_image(void **state)
{
	struct physmem *src = *state, *dst = physmem_new(SIZE), *small = physmem_new(SIZE / 2);
	uint64_t v;

	assert_non_null(dst);
	assert_non_null(small);
	assert_int_equal(physmem_store64(src, 0, 0x1111), 0);
	assert_int_equal(physmem_store64(src, SIZE - 8, 0x2222), 0);
	assert_int_equal(physmem_store64(dst, 8, 0x3333), 0); /* zero in the source */
	assert_int_equal(physmem_store64(dst, SIZE - 8, 0x4444), 0);
	assert_int_equal(physmem_copy(dst, src), 0);
	for (uint64_t pa = 0; pa < SIZE; pa += 8) {
		uint64_t want;

		assert_int_equal(physmem_load64(src, pa, &want), 0);
		assert_int_equal(physmem_load64(dst, pa, &v), 0);
		assert_int_equal(v, want);
	}
	assert_int_equal(physmem_load64(dst, SIZE - 8, &v), 0);
	assert_int_equal(v, 0x2222);
	assert_int_equal(physmem_copy(small, src), -EINVAL);
	assert_int_equal(physmem_load64(small, 0, &v), 0);
	assert_int_equal(v, 0); /* untouched */
	physmem_free(small);
	physmem_free(dst);
}

/*
 * calloc_aligned(), which the cache-line-laid structs come from: aligned,
 * zeroed even where the allocator hands back a block just scribbled on,
 * and refused when the size overflows, before or after rounding.
 */
static void calloc_aligned_zeroes_aligns_refuses_overflow(void **state)
{
	unsigned char *dirty = malloc(192), *p;

	(void)state;
	assert_non_null(dirty);
	memset(dirty, 0xa5, 192);
	free(dirty);
	p = calloc_aligned(64, 3, 40);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 64, 0);
	for (size_t i = 0; i < 3 * 40; i++)
		assert_int_equal(p[i], 0);
	free(p);
	p = calloc_aligned(64, 0, 8);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 64, 0);
	free(p);
	assert_null(calloc_aligned(64, SIZE_MAX / 8, 16));
	assert_null(calloc_aligned(64, 1, SIZE_MAX - 10));
}

/* Whether the mapping that holds @addr has @flag among its VmFlags. */
static bool mapping_has_flag(uintptr_t addr, const char *flag)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool inside = false, found = false;

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f)) {
		uintptr_t lo, hi;

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2)
			inside = addr >= lo && addr < hi;
		else if (inside && strncmp(line, "VmFlags:", 8) == 0)
			found = strstr(line, flag) != NULL;
	}
	fclose(f);
	return found;
}

static bool sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
	return true;
#endif
#endif
	return false;
}

/*
 * heap_prefer_huge_pages(): the heap has grown by the reserve, which is
 * advised for huge pages ("hg") and kept free for malloc() to grow into,
 * even in a process whose heap already had a large free top; the next block
 * malloc() carves from it lies in the advised part. A sanitizer's
 * allocator has no heap to advise, and a kernel without transparent huge
 * pages has no advice to take: both say so.
 */
static void heap_huge_pages_cover_the_reserve(void **state)
{
	const size_t reserve = (size_t)64 << 20;
	bool thp = access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0;
	void *spare = malloc(8 << 20), *fresh;
	uintptr_t top;

	(void)state;
	free(spare); /* a free top larger than the mmap threshold, as a busy heap has */
	assert_false(heap_prefer_huge_pages((size_t)INT_MAX + 1));
	if (!heap_prefer_huge_pages(reserve)) {
		assert_true(sanitized() || !thp);
		return;
	}
	top = (uintptr_t)sbrk(0);
	assert_true(mapping_has_flag(top - reserve / 2, " hg"));
	assert_true(mapping_has_flag(top - reserve + ((uintptr_t)4 << 20), " hg"));
	assert_true(mallinfo2().keepcost >= reserve - ((size_t)4 << 20)); /* not trimmed away */
	/* the heap's small-page head below the reserve is not handed out first */
	fresh = malloc(64 << 10);
	assert_non_null(fresh);
	assert_true(mapping_has_flag((uintptr_t)fresh, " hg"));
	free(fresh);
}

/*
 * zmem_alloc() maps 2 MiB and more at a 2 MiB boundary, and
 * zmem_prefer_huge_pages() advises exactly the whole huge pages of a range:
 * none for a range that holds no whole one, and nothing outside the range.
 */
static void zmem_advises_whole_huge_pages(void **state)
{
	const size_t huge = (size_t)2 << 20;
	bool thp = access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0;
	char *p = zmem_alloc(3 * huge + 4096);

	(void)state;
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % huge, 0);
	assert_false(zmem_prefer_huge_pages(p, 4096, huge)); /* straddles, holds none whole */
	assert_int_equal(zmem_prefer_huge_pages(p, huge / 2, 2 * huge), thp);
	if (thp) {
		assert_false(mapping_has_flag((uintptr_t)p, " hg"));
		assert_true(mapping_has_flag((uintptr_t)p + huge, " hg"));
		assert_true(mapping_has_flag((uintptr_t)p + 2 * huge - 1, " hg"));
		assert_false(mapping_has_flag((uintptr_t)p + 2 * huge, " hg"));
	}
	p[3 * huge + 4095] = 1; /* the whole size is mapped */
	zmem_free(p, 3 * huge + 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(create_rejects_bad_sizes),
	    cmocka_unit_test_setup_teardown(little_endian_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(byte_ranges_touch_only_their_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(bounds_and_alignment, setup, teardown),
	    cmocka_unit_test_setup_teardown(rmw_operations, setup, teardown),
	    cmocka_unit_test_setup_teardown(harvest_takes_and_clears, setup, teardown),
	    cmocka_unit_test_setup_teardown(cmpxchg128, setup, teardown),
	    cmocka_unit_test_setup_teardown(copy_makes_an_exact_image, setup, teardown),
	    TEST(calloc_aligned_zeroes_aligns_refuses_overflow),
	    TEST(heap_huge_pages_cover_the_reserve),
	    TEST(zmem_advises_whole_huge_pages),
	};

	return cmocka_run_group_tests_name("physmem", tests, NULL, NULL);
}
