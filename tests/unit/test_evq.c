// SPDX-License-Identifier: MIT
/*
 * The event queue pops in (time, insertion) order whatever the mix of
 * pushes and pops, whether an event waits beside the heap or in it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "evq.h"

#define OPS	 20000
#define MAX_LIVE 512

/* A plain list, searched whole: the order the queue must reproduce. */
struct model {
	struct event ev[MAX_LIVE];
	unsigned n;
	uint64_t seq;
};

static void model_push(struct model *m, uint64_t time, unsigned a)
{
	m->ev[m->n++] = (struct event){.time = time, .seq = m->seq++, .a = a};
}

static struct event model_pop(struct model *m)
{
	unsigned best = 0;
	struct event e;

	for (unsigned i = 1; i < m->n; i++)
		if (m->ev[i].time < m->ev[best].time ||
		    (m->ev[i].time == m->ev[best].time && m->ev[i].seq < m->ev[best].seq))
			best = i;
	e = m->ev[best];
	m->ev[best] = m->ev[--m->n];
	return e;
}

/* Runs of pushes and pops, times close together so that ties are common. */
static void pops_in_time_then_insertion_order(void **state)
{
	struct evq q = {0};
	struct model m = {0};
	uint64_t rng = 7, now = 0;
	unsigned into_empty = 0, displaced = 0; /* pushes that took the slot beside the heap */

	(void)state;
	for (unsigned op = 0; op < OPS; op++) {
		uint64_t r = rng_next(&rng);
		bool push = m.n == 0 || (m.n < MAX_LIVE && r % 3 != 0);

		if (push) {
			uint64_t t = now + (r >> 8) % 16; /* never before the last pop */
			bool had_front = q.has_front;

			assert_true(evq_push(&q, t, 0, op, 0));
			model_push(&m, t, op);
			into_empty += q.front.a == op && !had_front;
			displaced += q.front.a == op && had_front;
		} else {
			struct event want = model_pop(&m), got;

			assert_true(evq_pop(&q, &got));
			assert_int_equal(got.time, want.time);
			assert_int_equal(got.a, want.a);
			now = got.time;
		}
	}
	while (m.n) {
		struct event want = model_pop(&m), got;

		assert_true(evq_pop(&q, &got));
		assert_int_equal(got.a, want.a);
	}
	assert_false(evq_pop(&q, &(struct event){0}));
	/* both ways into the slot were taken, often */
	assert_true(into_empty > OPS / 100 && displaced > OPS / 100);
	evq_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pops_in_time_then_insertion_order),
	};

	return cmocka_run_group_tests_name("evq", tests, NULL, NULL);
}
