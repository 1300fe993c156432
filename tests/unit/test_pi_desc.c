// SPDX-License-Identifier: MIT
/* Posted-interrupt descriptor: layout (VT-d §9.12), posting rules (§5.2.3), atomicity. */
#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "pvir/physmem.h"
#include "pvir/pi_desc.h"

#define MEM  8192
#define DESC 0x1000

static int setup(void **state)
{
	*state = physmem_new(MEM);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	physmem_free(*state);
	return 0;
}

static void layout_golden(void **state)
{
	/* PIR bits 0x20 and 0xff; ON; NV 0xf2 at 279:272; NDST 3 at 319:288 */
	struct pid_image img = {.on = true, .nv = 0xf2, .ndst = 3};
	uint64_t w[PID_WORDS], rsvd[PID_WORDS];
	struct pid_image back;

	(void)state;
	img.pir[0] = UINT64_C(1) << 0x20;
	img.pir[3] = UINT64_C(1) << 63;
	pid_encode(&img, w);
	assert_int_equal(w[0], UINT64_C(1) << 32);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[3], UINT64_C(1) << 63);
	assert_int_equal(w[4], 0x0000000300f20001);
	assert_int_equal(w[5] | w[6] | w[7], 0);
	pid_decode(w, &back);
	assert_true(pid_image_test_pir(&back, 0x20));
	assert_true(pid_image_test_pir(&back, 0xff));
	assert_false(pid_image_test_pir(&back, 0x21));
	assert_int_equal(back.on, 1);
	assert_int_equal(back.sn, 0);
	assert_int_equal(back.nv, 0xf2);
	assert_int_equal(back.ndst, 3);
	pid_reserved_bits(w, rsvd);
	for (int i = 0; i < PID_WORDS; i++)
		assert_int_equal(rsvd[i], 0);
}

static void reserved_bits(void **state)
{
	uint64_t w[PID_WORDS] = {
	    ~UINT64_C(0),     ~UINT64_C(0), ~UINT64_C(0), ~UINT64_C(0), ~UINT64_C(0), 1, 0,
	    UINT64_C(1) << 63};
	uint64_t rsvd[PID_WORDS];

	(void)state;
	pid_reserved_bits(w, rsvd);
	assert_int_equal(rsvd[0] | rsvd[1] | rsvd[2] | rsvd[3], 0); /* PIR is all fields */
	assert_int_equal(rsvd[4], 0x00000000ff00fffc);		    /* 271:258, 287:280 */
	assert_int_equal(rsvd[5], 1);
	assert_int_equal(rsvd[7], UINT64_C(1) << 63);
}

static struct pid_image read_desc(struct physmem *pm)
{
	struct pid_image img;

	assert_int_equal(pid_read(pm, DESC, &img), 0);
	return img;
}

static void post_notifies_once(void **state)
{
	struct physmem *pm = *state;
	struct pid_image init = {.nv = 0xf2, .ndst = 5}, img;
	struct pid_post_result r;

	assert_int_equal(pid_write(pm, DESC, &init), 0);
	assert_int_equal(pid_post(pm, DESC, 0x41, false, &r), 0);
	assert_true(r.notify);
	assert_false(r.coalesced);
	assert_int_equal(r.nv, 0xf2);
	assert_int_equal(r.ndst, 5);
	assert_true(read_desc(pm).on);
	/* ON already set: the PIR bit accumulates, no second notification */
	assert_int_equal(pid_post(pm, DESC, 0x42, false, &r), 0);
	assert_false(r.notify);
	assert_false(r.coalesced);
	/* the same vector again merges in the PIR */
	assert_int_equal(pid_post(pm, DESC, 0x41, false, &r), 0);
	assert_true(r.coalesced);
	assert_false(r.notify);
	img = read_desc(pm);
	assert_true(pid_image_test_pir(&img, 0x41));
	assert_true(pid_image_test_pir(&img, 0x42));
	assert_false(pid_image_test_pir(&img, 0x43));
}

static void suppressed_unless_urgent(void **state)
{
	struct physmem *pm = *state;
	struct pid_image init = {.sn = true, .nv = 0xf2, .ndst = 1};
	struct pid_post_result r;
	bool pending;

	assert_int_equal(pid_write(pm, DESC, &init), 0);
	assert_int_equal(pid_post(pm, DESC, 0x50, false, &r), 0);
	assert_false(r.notify);
	assert_false(read_desc(pm).on); /* SN: recorded in PIR, ON left clear */
	assert_int_equal(pid_pir_pending(pm, DESC, 0x50, &pending), 0);
	assert_true(pending);
	assert_int_equal(pid_post(pm, DESC, 0x51, true, &r), 0);
	assert_true(r.notify); /* URG overrides SN */
	assert_true(read_desc(pm).on);
}

static void software_side(void **state)
{
	struct physmem *pm = *state;
	struct pid_image init = {.nv = 0xf2, .ndst = 1};
	struct pid_post_result r;
	uint64_t pir[PID_PIR_WORDS], old;
	bool was_on, pending;

	assert_int_equal(pid_write(pm, DESC, &init), 0);
	assert_int_equal(pid_post(pm, DESC, 0x80, false, &r), 0);
	/* migration: NV/NDST change, ON kept */
	assert_int_equal(pid_set_notification(pm, DESC, 0xf1, 0x0700), 0);
	assert_true(read_desc(pm).on);
	assert_int_equal(read_desc(pm).nv, 0xf1);
	assert_int_equal(read_desc(pm).ndst, 0x0700);
	assert_int_equal(pid_set_sn(pm, DESC, true, &old), 0);
	assert_true(bit_get(old, PID_ON));
	assert_true(read_desc(pm).sn);
	assert_int_equal(pid_clear_on(pm, DESC, &was_on), 0);
	assert_true(was_on);
	assert_int_equal(pid_take_pir(pm, DESC, pir), 0);
	assert_int_equal(pir[2], UINT64_C(1) << 0);
	assert_int_equal(pir[0] | pir[1] | pir[3], 0);
	assert_int_equal(pid_pir_pending(pm, DESC, -1, &pending), 0);
	assert_false(pending);
	assert_int_equal(pid_set_on(pm, DESC, &was_on), 0);
	assert_false(was_on);
}

static void bad_addresses(void **state)
{
	struct physmem *pm = *state;
	struct pid_post_result r;
	bool b;

	assert_int_equal(pid_post(pm, DESC + 8, 0x41, false, &r), -EINVAL);
	assert_int_equal(pid_post(pm, MEM, 0x41, false, &r), -EFAULT);
	assert_int_equal(pid_post(pm, MEM - 32, 0x41, false, &r), -EFAULT);
	assert_int_equal(pid_set_on(pm, MEM, &b), -EFAULT);
}

/*
 * Two IOMMU threads post disjoint vectors, 200 rounds of each vector once, while
 * this thread, as the vCPU, clears ON and harvests the PIR. A producer starts
 * its next round only when its previous one was harvested, so no post can
 * coalesce: every vector must be harvested exactly 200 times, none lost, none
 * duplicated. Producers do not call cmocka (it is not thread-safe); they count
 * their own errors.
 */
#define ROUNDS	    200
#define DRAIN_SPINS 1000000UL

struct producer {
	struct physmem *pm;
	unsigned first;
	unsigned count;
	unsigned errors;
	atomic_bool done;
};

static bool round_drained(struct producer *p)
{
	for (unsigned v = p->first; v < p->first + p->count; v++) {
		bool pending;

		if (pid_pir_pending(p->pm, DESC, (int)v, &pending) || pending)
			return false;
	}
	return true;
}

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct pid_post_result res;

	for (unsigned round = 0; round < ROUNDS; round++) {
		for (unsigned v = p->first; v < p->first + p->count; v++)
			if (pid_post(p->pm, DESC, (uint8_t)v, false, &res) || res.coalesced)
				p->errors++;
		/* Bounded: a PIR that never drains is a failure, not a hang. */
		for (unsigned long spins = 0; !round_drained(p); spins++) {
			if (spins > DRAIN_SPINS) {
				p->errors++;
				goto out;
			}
			sched_yield();
		}
	}
out:
	atomic_store(&p->done, true);
	return NULL;
}

static void harvest(struct physmem *pm, unsigned seen[256])
{
	uint64_t pir[PID_PIR_WORDS];
	bool was_on;

	assert_int_equal(pid_clear_on(pm, DESC, &was_on), 0);
	assert_int_equal(pid_take_pir(pm, DESC, pir), 0);
	for (unsigned v = 0; v < 256; v++)
		if (bit_get(pir[v / 64], v % 64))
			seen[v]++;
}

static void concurrent_post_and_harvest(void **state)
{
	struct physmem *pm = *state;
	struct producer a = {.pm = pm, .first = 0x20, .count = 64};
	struct producer b = {.pm = pm, .first = 0x80, .count = 64};
	struct pid_image init = {.nv = 0xf2};
	unsigned seen[256] = {0};
	pthread_t ta, tb;

	assert_int_equal(pid_write(pm, DESC, &init), 0);
	assert_int_equal(pthread_create(&ta, NULL, produce, &a), 0);
	assert_int_equal(pthread_create(&tb, NULL, produce, &b), 0);
	while (!atomic_load(&a.done) || !atomic_load(&b.done))
		harvest(pm, seen);
	assert_int_equal(pthread_join(ta, NULL), 0);
	assert_int_equal(pthread_join(tb, NULL), 0);
	harvest(pm, seen);
	assert_int_equal(a.errors + b.errors, 0);
	for (unsigned v = 0; v < 256; v++) {
		bool posted = (v >= a.first && v < a.first + a.count) ||
			      (v >= b.first && v < b.first + b.count);

		assert_int_equal(seen[v], posted ? ROUNDS : 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(layout_golden),
	    TEST(reserved_bits),
	    cmocka_unit_test_setup_teardown(post_notifies_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(suppressed_unless_urgent, setup, teardown),
	    cmocka_unit_test_setup_teardown(software_side, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_addresses, setup, teardown),
	    cmocka_unit_test_setup_teardown(concurrent_post_and_harvest, setup, teardown),
	};

	return cmocka_run_group_tests_name("pi_desc", tests, NULL, NULL);
}
