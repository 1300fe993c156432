// SPDX-License-Identifier: MIT
/* The vector matrix against Linux's rules (kernel/irq/matrix.c), tie-breaks included. */
#include "test.h"

#include <errno.h>

#include "pvir/irq_matrix.h"

#define START 0x20
#define END   0xec

static struct irq_matrix *online(unsigned ncpus)
{
	struct irq_matrix *m = irq_matrix_new(ncpus, START, END);

	assert_non_null(m);
	irq_matrix_assign_system(m, 0x80); /* IA32 syscall, as Linux */
	for (unsigned c = 0; c < ncpus; c++)
		irq_matrix_online(m, c);
	return m;
}

static void counts_after_online(void **state)
{
	struct irq_matrix *m = online(4);

	(void)state;
	/* 0x20..0xeb is 204 vectors, less the system vector 0x80 */
	assert_int_equal(irq_matrix_cpu_available(m, 0), 203);
	assert_int_equal(irq_matrix_available(m), 4 * 203);
	irq_matrix_offline(m, 3);
	assert_int_equal(irq_matrix_available(m), 3 * 203);
	assert_true(irq_matrix_check(m));
	irq_matrix_free(m);
}

static void best_cpu_most_available_lowest_on_tie(void **state)
{
	struct irq_matrix *m = online(4);
	struct cpumask all = cpumask_first_n(4);
	unsigned cpu;
	int bit;

	(void)state;
	bit = irq_matrix_alloc(m, &all, false, &cpu);
	assert_int_equal(bit, 0x20); /* first free vector */
	assert_int_equal(cpu, 0);    /* all equal: the lowest */
	bit = irq_matrix_alloc(m, &all, false, &cpu);
	assert_int_equal(cpu, 1); /* cpu 0 now has one fewer */
	assert_int_equal(bit, 0x20);
	for (int i = 0; i < 2; i++)
		assert_true(irq_matrix_alloc(m, &all, false, &cpu) >= 0);
	assert_int_equal(cpu, 3); /* spread: 0,1,2,3 */
	assert_int_equal(irq_matrix_alloc(m, &all, false, &cpu), 0x21);
	assert_int_equal(cpu, 0);
	assert_int_equal(irq_matrix_allocated(m), 5);
	assert_true(irq_matrix_check(m));
	irq_matrix_free(m);
}

static void system_vector_skipped(void **state)
{
	struct irq_matrix *m = online(1);
	struct cpumask c0 = cpumask_of(0);
	unsigned cpu;

	(void)state;
	for (unsigned v = 0x20; v < 0x80; v++)
		assert_int_equal(irq_matrix_alloc(m, &c0, false, &cpu), (int)v);
	assert_int_equal(irq_matrix_alloc(m, &c0, false, &cpu), 0x81);
	irq_matrix_free(m);
}

static void exhaustion_and_release(void **state)
{
	struct irq_matrix *m = online(2);
	struct cpumask c1 = cpumask_of(1), none = {{0}};
	unsigned cpu;

	(void)state;
	for (unsigned i = 0; i < 203; i++)
		assert_true(irq_matrix_alloc(m, &c1, false, &cpu) >= 0);
	assert_int_equal(irq_matrix_alloc(m, &c1, false, &cpu), -ENOSPC);
	assert_int_equal(irq_matrix_alloc(m, &none, false, &cpu), -EINVAL);
	irq_matrix_release(m, 1, 0x50, false);
	assert_int_equal(irq_matrix_cpu_available(m, 1), 1);
	assert_int_equal(irq_matrix_alloc(m, &c1, false, &cpu), 0x50);
	/* an offline CPU is never chosen */
	irq_matrix_offline(m, 1);
	irq_matrix_release(m, 1, 0x50, false);
	assert_int_equal(irq_matrix_alloc(m, &c1, false, &cpu), -ENOSPC);
	assert_true(irq_matrix_check(m));
	irq_matrix_free(m);
}

static void reservations(void **state)
{
	struct irq_matrix *m = online(2);
	struct cpumask all = cpumask_first_n(2);
	unsigned cpu;

	(void)state;
	irq_matrix_reserve(m);
	assert_int_equal(irq_matrix_reserved(m), 1);
	assert_true(irq_matrix_alloc(m, &all, true, &cpu) >= 0); /* made good */
	assert_int_equal(irq_matrix_reserved(m), 0);
	irq_matrix_reserve(m);
	irq_matrix_remove_reserved(m);
	assert_int_equal(irq_matrix_reserved(m), 0);
	irq_matrix_free(m);
}

static void managed(void **state)
{
	struct irq_matrix *m = online(3);
	struct cpumask all = cpumask_first_n(3), c0 = cpumask_of(0), c2 = cpumask_of(2);
	unsigned cpu;
	int bit;

	(void)state;
	assert_int_equal(irq_matrix_reserve_managed(m, &all), 0);
	/* reserved on every CPU: available drops, allocated does not */
	assert_int_equal(irq_matrix_cpu_available(m, 0), 202);
	assert_int_equal(irq_matrix_allocated(m), 0);
	bit = irq_matrix_alloc_managed(m, &all, &cpu);
	assert_int_equal(bit, 0x20);
	assert_int_equal(cpu, 2); /* all have 0 managed allocated: the last one */
	assert_int_equal(irq_matrix_cpu_available(m, 2), 202); /* unchanged */
	assert_int_equal(irq_matrix_alloc_managed(m, &c2, &cpu), -ENOSPC);
	/* a non-managed allocation skips the managed bit */
	assert_int_equal(irq_matrix_alloc(m, &c0, false, &cpu), 0x21);
	irq_matrix_release(m, 2, 0x20, true);
	assert_int_equal(irq_matrix_cpu_available(m, 2), 202); /* still reserved */
	irq_matrix_remove_managed(m, &all);
	assert_int_equal(irq_matrix_cpu_available(m, 2), 203);
	assert_int_equal(irq_matrix_cpu_available(m, 0), 202); /* the non-managed one */
	assert_true(irq_matrix_check(m));
	irq_matrix_free(m);
}

static void managed_reservation_rolls_back(void **state)
{
	struct irq_matrix *m = online(2);
	struct cpumask c1 = cpumask_of(1), all = cpumask_first_n(2);
	unsigned cpu;

	(void)state;
	for (unsigned i = 0; i < 203; i++)
		assert_true(irq_matrix_alloc(m, &c1, false, &cpu) >= 0);
	assert_int_equal(irq_matrix_reserve_managed(m, &all), -ENOSPC);
	/* CPU 0's reservation was undone */
	assert_int_equal(irq_matrix_cpu_available(m, 0), 203);
	assert_true(irq_matrix_check(m));
	irq_matrix_free(m);
}

static void bad_arguments(void **state)
{
	(void)state;
	assert_null(irq_matrix_new(0, START, END));
	assert_null(irq_matrix_new(2, END, START));
	assert_null(irq_matrix_new(2, START, 300));
	irq_matrix_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(counts_after_online),
	    TEST(best_cpu_most_available_lowest_on_tie),
	    TEST(system_vector_skipped),
	    TEST(exhaustion_and_release),
	    TEST(reservations),
	    TEST(managed),
	    TEST(managed_reservation_rolls_back),
	    TEST(bad_arguments),
	};

	return cmocka_run_group_tests_name("irq_matrix", tests, NULL, NULL);
}
