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

/* A restored table asks for the blocks it had: given where free, refused where not. */
static void blocks_at_an_index(void **state)
{
	struct blockalloc a;
	uint32_t at;

	(void)state;
	assert_int_equal(blockalloc_init(&a, 100), 0);
	blockalloc_reserve(&a, 0);
	assert_int_equal(blockalloc_alloc_at(&a, 70, 1), 0);
	assert_true(blockalloc_is_block(&a, 70, 1));
	assert_int_equal(blockalloc_alloc_at(&a, 64, 8), -EBUSY); /* 70 is in it */
	assert_int_equal(blockalloc_alloc_at(&a, 0, 1), -EBUSY);  /* reserved */
	assert_int_equal(blockalloc_alloc_at(&a, 70, 1), -EBUSY);
	assert_int_equal(blockalloc_alloc_at(&a, 72, 8), 0);
	assert_int_equal(a.in_use, 9);
	assert_int_equal(blockalloc_alloc_at(&a, 6, 4), -EINVAL);  /* not aligned */
	assert_int_equal(blockalloc_alloc_at(&a, 96, 8), -EINVAL); /* past the end */
	assert_int_equal(blockalloc_alloc_at(&a, 99, 1), 0);
	assert_int_equal(blockalloc_alloc_at(&a, 100, 1), -EINVAL);
	assert_int_equal(blockalloc_alloc_at(&a, 8, 3), -EINVAL);
	assert_int_equal(blockalloc_alloc_at(&a, 0, 128), -EINVAL);
	assert_int_equal(a.in_use, 10);
	/* the ordinary allocator goes around them */
	assert_int_equal(blockalloc_alloc(&a, 64, &at), -ENOSPC);
	assert_int_equal(blockalloc_alloc(&a, 32, &at), 0);
	assert_int_equal(at, 32);
	assert_int_equal(blockalloc_free(&a, 72, 8), 0);
	assert_int_equal(blockalloc_alloc_at(&a, 72, 8), 0);
	blockalloc_destroy(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(blocks_are_aligned_and_lowest_first),
	    TEST(a_table_of_100_entries),
	    TEST(blocks_at_an_index),
	};

	return cmocka_run_group_tests_name("blockalloc", tests, NULL, NULL);
}
