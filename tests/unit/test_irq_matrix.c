// SPDX-License-Identifier: MIT
/* The vector matrix against Linux's rules (kernel/irq/matrix.c), tie-breaks included. */
#include "test.h"

#include <errno.h>
#include <limits.h>

#include "pvir/irq_matrix.h"

#define START 0x20
#define END   0xec

static struct irq_matrix *online(unsigned ncpus)
{
	struct irq_matrix *m = irq_matrix_new(ncpus, START, END);

	assert_non_null(m);
	irq_matrix_assign_system(m, 0x80, false); /* IA32 syscall, as Linux */
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
	assert_int_equal(irq_matrix_available(m, false, 0), 4 * 203);
	irq_matrix_offline(m, 3);
	assert_int_equal(irq_matrix_available(m, false, 0), 3 * 203);
	assert_true(irq_matrix_check(m));
	irq_matrix_destroy(m);
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
	assert_int_equal(irq_matrix_total_allocated(m), 5);
	assert_true(irq_matrix_check(m));
	irq_matrix_destroy(m);
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
	irq_matrix_destroy(m);
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
	irq_matrix_free(m, 1, 0x50, false);
	assert_int_equal(irq_matrix_cpu_available(m, 1), 1);
	assert_int_equal(irq_matrix_alloc(m, &c1, false, &cpu), 0x50);
	/* an offline CPU is never chosen */
	irq_matrix_offline(m, 1);
	irq_matrix_free(m, 1, 0x50, false);
	assert_int_equal(irq_matrix_alloc(m, &c1, false, &cpu), -ENOSPC);
	assert_true(irq_matrix_check(m));
	irq_matrix_destroy(m);
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
	irq_matrix_destroy(m);
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
	assert_int_equal(irq_matrix_total_allocated(m), 0);
	bit = irq_matrix_alloc_managed(m, &all, &cpu);
	assert_int_equal(bit, 0x20);
	assert_int_equal(cpu, 2); /* all have 0 managed allocated: the last one */
	assert_int_equal(irq_matrix_cpu_available(m, 2), 202); /* unchanged */
	assert_int_equal(irq_matrix_alloc_managed(m, &c2, &cpu), -ENOSPC);
	/* a non-managed allocation skips the managed bit */
	assert_int_equal(irq_matrix_alloc(m, &c0, false, &cpu), 0x21);
	irq_matrix_free(m, 2, 0x20, true);
	assert_int_equal(irq_matrix_cpu_available(m, 2), 202); /* still reserved */
	irq_matrix_remove_managed(m, &all);
	assert_int_equal(irq_matrix_cpu_available(m, 2), 203);
	assert_int_equal(irq_matrix_cpu_available(m, 0), 202); /* the non-managed one */
	assert_true(irq_matrix_check(m));
	irq_matrix_destroy(m);
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
	irq_matrix_destroy(m);
}

static void bad_arguments(void **state)
{
	(void)state;
	assert_null(irq_matrix_new(0, START, END));
	assert_null(irq_matrix_new(2, END, START));
	assert_null(irq_matrix_new(2, START, 300));
	irq_matrix_destroy(NULL);
}

/* ---- Linux's corner cases, as a table ---------------------------------------------- */

/*
 * Each case is a run of calls on 4 CPUs (vectors 0x20..0xeb, 0x80 the system vector:
 * 203 a CPU), each checked against what Linux's kernel/irq/matrix.c gives, derived by
 * reading it (torvalds/linux, stored at 1adb4d7ad3a5). Expected values say why.
 */
enum step_kind {
	S_END,
	S_ONLINE,
	S_OFFLINE,
	S_ALLOC,	   /* on the mask: the vector, and the CPU it chose */
	S_FILL,		   /* allocate on one CPU until -ENOSPC: how many it got */
	S_ALLOC_MANAGED,   /* on the mask: the vector, and the CPU it chose */
	S_RESERVE_MANAGED, /* on the mask: 0 or -ENOSPC */
	S_REMOVE_MANAGED,
	S_FREE,
	S_ASSIGN,
	S_SYSTEM_REPLACE, /* assign_system(bit, replace) on the one CPU online */
	S_RESERVE,
	/* checks */
	S_AVAILABLE, /* the CPU's available count */
	S_GLOBAL,    /* irq_matrix_available(m, false) */
	S_CPUDOWN,   /* irq_matrix_available(m, true) as run on the CPU */
	S_ALLOCATED, /* irq_matrix_allocated() as run on the CPU */
	S_TOTAL,     /* total allocated */
	S_MANAGED,   /* managed vectors reserved on the CPU */
	S_WARNINGS,
};

struct step {
	enum step_kind kind;
	unsigned cpu; /* a CPU, or a mask of CPUs (C0 | C1 ...) for the mask steps */
	unsigned bit;
	bool managed;
	int ret;
	int want_cpu; /* -1: not checked */
};

#define C0 1u
#define C1 2u
#define C2 4u
#define C3 8u

#define ONLINE(c)                              \
	{                                      \
		S_ONLINE, (c), 0, false, 0, -1 \
	}
#define OFFLINE(c)                              \
	{                                       \
		S_OFFLINE, (c), 0, false, 0, -1 \
	}
#define ALLOC(mask, r, c)                           \
	{                                           \
		S_ALLOC, (mask), 0, false, (r), (c) \
	}
#define FILL(c, r)                             \
	{                                      \
		S_FILL, (c), 0, false, (r), -1 \
	}
#define ALLOC_MANAGED(mask, r, c)                           \
	{                                                   \
		S_ALLOC_MANAGED, (mask), 0, false, (r), (c) \
	}
#define RESERVE_MANAGED(mask, r)                             \
	{                                                    \
		S_RESERVE_MANAGED, (mask), 0, false, (r), -1 \
	}
#define REMOVE_MANAGED(mask)                              \
	{                                                 \
		S_REMOVE_MANAGED, (mask), 0, false, 0, -1 \
	}
#define FREE(c, b, managed)                        \
	{                                          \
		S_FREE, (c), (b), (managed), 0, -1 \
	}
#define ASSIGN(c, b)                             \
	{                                        \
		S_ASSIGN, (c), (b), false, 0, -1 \
	}
#define SYSTEM_REPLACE(b)                              \
	{                                              \
		S_SYSTEM_REPLACE, 0, (b), false, 0, -1 \
	}
#define RESERVE()                             \
	{                                     \
		S_RESERVE, 0, 0, false, 0, -1 \
	}
#define CHECK(kind, c, r)                      \
	{                                      \
		(kind), (c), 0, false, (r), -1 \
	}

#define MAX_STEPS 16

struct matrix_case {
	const char *name;
	unsigned online; /* mask of the CPUs online after boot */
	struct step steps[MAX_STEPS];
};

static const struct matrix_case matrix_cases[] = {
    {"tie: most available wins, the lowest-numbered first; offline CPUs never",
     C0 | C1 | C2 | C3,
     {OFFLINE(0), ALLOC(C0 | C1 | C2, 0x20, 1),	     /* 0 offline; 1 and 2 tie */
      ALLOC(C1 | C2, 0x20, 2),			     /* 1 has one fewer now */
      FREE(1, 0x20, false), ALLOC(C1 | C2, 0x20, 1), /* 1 has more again */
      ALLOC(C1 | C3, 0x20, 3),			     /* 3: 203 beats 1's 202 */
      CHECK(S_GLOBAL, 0, 3 * 203 - 3), CHECK(S_WARNINGS, 0, 0)}},
    {"-ENOSPC while the best CPU still shows a vector: a managed reservation made "
     "offline is not taken from a CPU initialised before",
     C0 | C1,
     {OFFLINE(1), RESERVE_MANAGED(C1, 0), CHECK(S_AVAILABLE, 1, 203), /* offline: kept */
      ONLINE(1), CHECK(S_AVAILABLE, 1, 203), /* initialised already: not recomputed */
      FILL(1, 202),			     /* the reserved bit is not free */
      CHECK(S_AVAILABLE, 1, 1), ALLOC(C1, -ENOSPC, -1), CHECK(S_MANAGED, 1, 1)}},
    {"managed reservations roll back after a partial success",
     C0 | C1 | C2 | C3,
     {FILL(2, 203), RESERVE_MANAGED(C0 | C1 | C2 | C3, -ENOSPC),
      CHECK(S_MANAGED, 0, 0),			      /* 0 and 1 reserved, then removed */
      CHECK(S_MANAGED, 1, 0), CHECK(S_MANAGED, 3, 0), /* 3: never reached */
      CHECK(S_AVAILABLE, 0, 203), CHECK(S_AVAILABLE, 1, 203), CHECK(S_WARNINGS, 0, 0)}},
    {"a free on an offline CPU is allowed: available grows, the totals wait",
     C0 | C1,
     {ALLOC(C1, 0x20, 1), OFFLINE(1), CHECK(S_GLOBAL, 0, 203), FREE(1, 0x20, false),
      CHECK(S_WARNINGS, 0, 0), CHECK(S_AVAILABLE, 1, 203), CHECK(S_ALLOCATED, 1, 0),
      CHECK(S_TOTAL, 0, 1), /* total_allocated falls only for an online CPU */
      CHECK(S_GLOBAL, 0, 203), ONLINE(1), CHECK(S_GLOBAL, 0, 2 * 203)}},
    {"managed: the fewest managed allocated wins, the highest-numbered on a tie",
     C0 | C1 | C2 | C3,
     {RESERVE_MANAGED(C0 | C1 | C2, 0), RESERVE_MANAGED(C1, 0), /* 1 has two */
      ALLOC_MANAGED(C0 | C1 | C2, 0x20, 2), ALLOC_MANAGED(C0 | C1 | C2, 0x20, 1),
      /* 1 and 2 tie at one each: 2 is chosen, and its one is taken, so -ENOSPC
	 although 1 still holds a reserved vector (the count decides, not the bits) */
      ALLOC_MANAGED(C1 | C2, -ENOSPC, -1), ALLOC_MANAGED(C1, 0x21, 1), CHECK(S_MANAGED, 1, 2),
      CHECK(S_WARNINGS, 0, 0)}},
    {"managed: a freed managed vector goes back to the reservation, not to available",
     C0 | C1,
     {RESERVE_MANAGED(C1, 0), ALLOC_MANAGED(C1, 0x20, 1), ALLOC_MANAGED(C1, -ENOSPC, -1),
      FREE(1, 0x20, true), CHECK(S_AVAILABLE, 1, 202), ALLOC_MANAGED(C1, 0x20, 1),
      CHECK(S_ALLOCATED, 1, 1), CHECK(S_TOTAL, 0, 1), CHECK(S_MANAGED, 1, 1)}},
    {"calls outside the contract warn and change nothing",
     C0 | C1,
     {FREE(0, 0x30, false),		/* not allocated */
      FREE(0, 0x10, false),		/* below the range */
      REMOVE_MANAGED(C0),		/* none reserved */
      ASSIGN(0, 0x30),			/* fine: a vector set up before */
      ASSIGN(0, 0x30), ASSIGN(0, 0xf0), /* twice; beyond the range */
      CHECK(S_WARNINGS, 0, 5), CHECK(S_ALLOCATED, 0, 1), CHECK(S_AVAILABLE, 0, 202),
      CHECK(S_GLOBAL, 0, 2 * 203 - 1)}},
    {"a reservation beyond what is available warns (pr_warn) and is taken",
     C0,
     {FILL(0, 203), RESERVE(), CHECK(S_WARNINGS, 0, 1)}},
    {"cpudown: what the others have, against what the CPU holds",
     C0 | C1 | C2,
     {ALLOC(C0, 0x20, 0), ALLOC(C0, 0x21, 0), CHECK(S_CPUDOWN, 0, 2 * 203),
      CHECK(S_ALLOCATED, 0, 2), FILL(1, 203), FILL(2, 203), CHECK(S_CPUDOWN, 0, 0)}},
    {"assign_system with replace takes the boot CPU's vector over",
     C0,
     {ASSIGN(0, 0x30), CHECK(S_TOTAL, 0, 1), SYSTEM_REPLACE(0x30), CHECK(S_TOTAL, 0, 0),
      CHECK(S_ALLOCATED, 0, 0), ONLINE(1),
      CHECK(S_AVAILABLE, 1, 202), /* a second system vector in the range */
      FILL(1, 202), CHECK(S_WARNINGS, 0, 0)}},
};

static struct cpumask mask_of_bits(unsigned bits)
{
	struct cpumask m = {{0}};

	for (unsigned c = 0; c < 4; c++)
		if (bits & (1u << c))
			cpumask_set(&m, c);
	return m;
}

/* Runs @st; returns what it gives, for the check (INT_MIN: a step with no value). */
static int run_step(struct irq_matrix *m, const struct step *st, unsigned *ret_cpu)
{
	struct cpumask mask = mask_of_bits(st->cpu);
	int n = 0;

	switch (st->kind) {
	case S_END:
		return INT_MIN;
	case S_ONLINE:
		irq_matrix_online(m, st->cpu);
		return INT_MIN;
	case S_OFFLINE:
		irq_matrix_offline(m, st->cpu);
		return INT_MIN;
	case S_ALLOC:
		return irq_matrix_alloc(m, &mask, false, ret_cpu);
	case S_FILL:
		mask = cpumask_of(st->cpu);
		while (irq_matrix_alloc(m, &mask, false, ret_cpu) >= 0)
			n++;
		return n;
	case S_ALLOC_MANAGED:
		return irq_matrix_alloc_managed(m, &mask, ret_cpu);
	case S_RESERVE_MANAGED:
		return irq_matrix_reserve_managed(m, &mask);
	case S_REMOVE_MANAGED:
		irq_matrix_remove_managed(m, &mask);
		return INT_MIN;
	case S_FREE:
		irq_matrix_free(m, st->cpu, st->bit, st->managed);
		return INT_MIN;
	case S_ASSIGN:
		irq_matrix_assign(m, st->cpu, st->bit);
		return INT_MIN;
	case S_SYSTEM_REPLACE:
		irq_matrix_assign_system(m, st->bit, true);
		return INT_MIN;
	case S_RESERVE:
		irq_matrix_reserve(m);
		return INT_MIN;
	case S_AVAILABLE:
		return (int)irq_matrix_cpu_available(m, st->cpu);
	case S_GLOBAL:
		return (int)irq_matrix_available(m, false, 0);
	case S_CPUDOWN:
		return (int)irq_matrix_available(m, true, st->cpu);
	case S_ALLOCATED:
		return (int)irq_matrix_allocated(m, st->cpu);
	case S_TOTAL:
		return (int)irq_matrix_total_allocated(m);
	case S_MANAGED:
		return (int)irq_matrix_cpu_managed(m, st->cpu);
	case S_WARNINGS:
		return (int)irq_matrix_warnings(m);
	}
	return INT_MIN;
}

static void linux_corner_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(matrix_cases) / sizeof(matrix_cases[0]); i++) {
		const struct matrix_case *mc = &matrix_cases[i];
		struct irq_matrix *m = irq_matrix_new(4, START, END);

		assert_non_null(m);
		irq_matrix_assign_system(m, 0x80, false);
		for (unsigned c = 0; c < 4; c++)
			if (mc->online & (1u << c))
				irq_matrix_online(m, c);
		for (unsigned k = 0; k < MAX_STEPS && mc->steps[k].kind != S_END; k++) {
			const struct step *st = &mc->steps[k];
			unsigned cpu = UINT32_MAX;
			int got = run_step(m, st, &cpu);
			bool has_value = got != INT_MIN;

			if (has_value && got != st->ret)
				fail_msg("%s: step %u: got %d, want %d", mc->name, k, got, st->ret);
			if (st->kind == S_ALLOC || st->kind == S_ALLOC_MANAGED)
				if (st->ret >= 0 && (int)cpu != st->want_cpu)
					fail_msg("%s: step %u: CPU %u, want %d", mc->name, k, cpu,
						 st->want_cpu);
		}
		assert_true(irq_matrix_check(m));
		irq_matrix_destroy(m);
	}
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
	    TEST(linux_corner_cases),
	};

	return cmocka_run_group_tests_name("irq_matrix", tests, NULL, NULL);
}
