// SPDX-License-Identifier: MIT
/* Aligned blocks over a table, including one whose size is not a power of two. */
#include "test.h"

#include <errno.h>

#include "pvir/blockalloc.h"

static void blocks_are_aligned_and_lowest_first(void **state)
{
	struct blockalloc a;
	uint32_t at = 99;

	(void)state;
	assert_int_equal(blockalloc_init(&a, 512), 0);
	blockalloc_reserve(&a, 0);
	assert_int_equal(blockalloc_alloc(&a, 1, &at), 0);
	assert_int_equal(at, 1);
	assert_int_equal(blockalloc_alloc(&a, 4, &at), 0);
	assert_int_equal(at, 4); /* aligned: 2 and 3 stay free */
	assert_int_equal(blockalloc_alloc(&a, 2, &at), 0);
	assert_int_equal(at, 2);
	assert_int_equal(blockalloc_alloc(&a, 128, &at), 0);
	assert_int_equal(at, 128);
	assert_int_equal(a.in_use, 1 + 4 + 2 + 128);
	assert_true(blockalloc_is_block(&a, 4, 4));
	assert_false(blockalloc_is_block(&a, 5, 4));
	assert_false(blockalloc_is_block(&a, 4, 2));
	assert_int_equal(blockalloc_free(&a, 4, 2), -EINVAL);
	assert_int_equal(blockalloc_free(&a, 0, 1), -EINVAL); /* reserved, not a block */
	assert_int_equal(blockalloc_free(&a, 4, 4), 0);
	assert_false(blockalloc_used(&a, 5));
	assert_true(blockalloc_used(&a, 0));
	assert_int_equal(blockalloc_alloc(&a, 3, &at), -EINVAL);
	assert_int_equal(blockalloc_alloc(&a, 1024, &at), -EINVAL);
	blockalloc_destroy(&a);
}

static void a_table_of_100_entries(void **state)
{
	struct blockalloc a;
	uint32_t at;

	(void)state;
	assert_int_equal(blockalloc_init(&a, 100), 0);
	assert_int_equal(blockalloc_alloc(&a, 64, &at), 0);
	assert_int_equal(at, 0);
	assert_int_equal(blockalloc_alloc(&a, 64, &at), -ENOSPC); /* 36 left */
	assert_int_equal(blockalloc_alloc(&a, 32, &at), 0);
	assert_int_equal(at, 64);
	assert_int_equal(blockalloc_alloc(&a, 4, &at), 0);
	assert_int_equal(at, 96);
	assert_int_equal(blockalloc_alloc(&a, 1, &at), -ENOSPC);
	assert_false(blockalloc_used(&a, 100));
	blockalloc_destroy(&a);
	assert_int_equal(blockalloc_init(&a, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(blocks_are_aligned_and_lowest_first),
	    TEST(a_table_of_100_entries),
	};

	return cmocka_run_group_tests_name("blockalloc", tests, NULL, NULL);
}
