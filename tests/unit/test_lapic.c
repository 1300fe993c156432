// SPDX-License-Identifier: MIT
/* Local APIC acceptance, priority and EOI (Intel SDM vol. 3 ch. 11). */
#include "test.h"

#include "pvir/lapic.h"

static void accept_ack_eoi_by_priority(void **state)
{
	struct lapic a;

	(void)state;
	lapic_init(&a, 0);
	assert_int_equal(lapic_accept_irq(&a, 0x31, false), LAPIC_ACCEPTED);
	assert_int_equal(lapic_accept_irq(&a, 0x41, false), LAPIC_ACCEPTED);
	assert_int_equal(lapic_pending_vector(&a), 0x41); /* higher vector first */
	assert_int_equal(lapic_ack(&a), 0x41);
	assert_true(lapic_isr_test(&a, 0x41));
	assert_false(lapic_irr_test(&a, 0x41));
	/* 0x31 is in a lower class than the one in service: held back */
	assert_int_equal(lapic_pending_vector(&a), -1);
	assert_int_equal(lapic_ack(&a), LAPIC_SPURIOUS_RESET);
	assert_int_equal(a.stats.spurious, 1);
	assert_int_equal(lapic_eoi(&a), 0x41);
	assert_int_equal(lapic_pending_vector(&a), 0x31);
	assert_int_equal(lapic_ack(&a), 0x31);
	assert_int_equal(lapic_eoi(&a), 0x31);
	assert_int_equal(lapic_eoi(&a), -1); /* nothing in service */
	assert_int_equal(a.stats.eoi, 2);
}

static void higher_class_preempts(void **state)
{
	struct lapic a;

	(void)state;
	lapic_init(&a, 0);
	lapic_accept_irq(&a, 0x41, false);
	assert_int_equal(lapic_ack(&a), 0x41);
	lapic_accept_irq(&a, 0x45, false); /* same class: waits */
	assert_int_equal(lapic_pending_vector(&a), -1);
	lapic_accept_irq(&a, 0x51, false); /* higher class: nests */
	assert_int_equal(lapic_pending_vector(&a), 0x51);
	assert_int_equal(lapic_ack(&a), 0x51);
	assert_int_equal(lapic_eoi(&a), 0x51); /* EOI retires the highest in service */
	assert_int_equal(lapic_eoi(&a), 0x41);
	assert_int_equal(lapic_pending_vector(&a), 0x45);
}

static void edge_coalesces_in_irr(void **state)
{
	struct lapic a;

	(void)state;
	lapic_init(&a, 0);
	assert_int_equal(lapic_accept_irq(&a, 0x60, false), LAPIC_ACCEPTED);
	assert_int_equal(lapic_accept_irq(&a, 0x60, false), LAPIC_COALESCED);
	assert_int_equal(a.stats.coalesced, 1);
	assert_int_equal(lapic_ack(&a), 0x60);
	/* once in service, the same vector can be pending again */
	assert_int_equal(lapic_accept_irq(&a, 0x60, false), LAPIC_ACCEPTED);
}

static void illegal_vectors(void **state)
{
	struct lapic a;

	(void)state;
	lapic_init(&a, 0);
	assert_int_equal(lapic_accept_irq(&a, 15, false), LAPIC_ILLEGAL_VECTOR);
	assert_false(lapic_irr_test(&a, 15));
	assert_true(a.esr & (1u << LAPIC_ESR_RX_ILLEGAL));
	assert_int_equal(lapic_accept_irq(&a, 16, false), LAPIC_ACCEPTED);
}

static void task_priority(void **state)
{
	struct lapic a;

	(void)state;
	lapic_init(&a, 0);
	lapic_set_tpr(&a, 0x50);
	lapic_accept_irq(&a, 0x5f, false);
	assert_int_equal(lapic_pending_vector(&a), -1); /* class 5 not above TPR class 5 */
	lapic_accept_irq(&a, 0x60, false);
	assert_int_equal(lapic_pending_vector(&a), 0x60);
	/* PPR: TPR when its class is at least the in-service class, else ISRV & 0xf0 */
	assert_int_equal(lapic_ack(&a), 0x60);
	assert_int_equal(lapic_ppr(&a), 0x60);
	lapic_set_tpr(&a, 0x65);
	assert_int_equal(lapic_ppr(&a), 0x65);
	lapic_set_tpr(&a, 0x35);
	assert_int_equal(lapic_ppr(&a), 0x60);
}

static void physical_destinations(void **state)
{
	struct lapic x2, x1;

	(void)state;
	lapic_init(&x2, 0x12345);
	lapic_init(&x1, 7);
	assert_true(lapic_matches_physical(&x2, 0x12345, true));
	assert_true(lapic_matches_physical(&x2, LAPIC_BROADCAST_X2APIC, true));
	assert_false(lapic_matches_physical(&x2, 0x45, true));
	assert_true(lapic_matches_physical(&x1, 7, false));
	assert_true(lapic_matches_physical(&x1, 0xff, false));
	assert_false(lapic_matches_physical(&x1, 8, false));
}

/* Every word of the 256-bit IRR in turn, highest first; take never counts spurious. */
static void take_walks_every_word(void **state)
{
	static const uint8_t vectors[] = {0xff, 0xc0, 0xbf, 0x80, 0x7f, 0x40, 0x3f, 0x20};
	struct lapic a;

	(void)state;
	lapic_init(&a, 0);
	for (unsigned i = 0; i < sizeof(vectors); i++)
		assert_int_equal(lapic_accept_irq(&a, vectors[i], false), LAPIC_ACCEPTED);
	for (unsigned i = 0; i < sizeof(vectors); i++) {
		assert_int_equal(lapic_take(&a), vectors[i]);
		assert_int_equal(lapic_eoi(&a), vectors[i]);
	}
	assert_int_equal(lapic_take(&a), -1);
	assert_int_equal(a.stats.spurious, 0);
	assert_int_equal(a.stats.acked, sizeof(vectors));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(accept_ack_eoi_by_priority),
	    TEST(take_walks_every_word),
	    TEST(higher_class_preempts),
	    TEST(edge_coalesces_in_irr),
	    TEST(illegal_vectors),
	    TEST(task_priority),
	    TEST(physical_destinations),
	};

	return cmocka_run_group_tests_name("lapic", tests, NULL, NULL);
}
