// SPDX-License-Identifier: MIT
/* Local APIC acceptance and priority logic; see pvir/lapic.h. */
#include "pvir/lapic.h"

#include <string.h>

#define PRIO_CLASS(v) ((unsigned)(v) >> 4)

static bool test_bit256(const uint64_t map[4], unsigned v)
{
	return (map[v / 64] >> (v % 64)) & 1;
}

static void assign_bit256(uint64_t map[4], unsigned v, bool on)
{
	uint64_t b = UINT64_C(1) << (v % 64);

	map[v / 64] = on ? map[v / 64] | b : map[v / 64] & ~b;
}

/*
 * From the top word down: it runs several times per interrupt, and the words above
 * the vectors in use are zero, so it is a few well-predicted tests.
 */
static int highest_bit256(const uint64_t map[4])
{
	for (int w = 3; w >= 0; w--)
		if (map[w])
			return w * 64 + 63 - __builtin_clzll(map[w]);
	return -1;
}

void lapic_init(struct lapic *apic, uint32_t x2apic_id)
{
	memset(apic, 0, sizeof(*apic));
	apic->id = x2apic_id;
	apic->spurious_vector = LAPIC_SPURIOUS_RESET;
}

bool lapic_matches_physical(const struct lapic *apic, uint32_t dest, bool x2apic)
{
	if (x2apic)
		return dest == apic->id || dest == LAPIC_BROADCAST_X2APIC;
	dest &= LAPIC_BROADCAST_XAPIC;
	return dest == (apic->id & LAPIC_BROADCAST_XAPIC) || dest == LAPIC_BROADCAST_XAPIC;
}

enum lapic_accept lapic_accept_irq(struct lapic *apic, uint8_t vector, bool level)
{
	if (vector < LAPIC_FIRST_LEGAL_VECTOR) {
		apic->esr |= UINT32_C(1) << LAPIC_ESR_RX_ILLEGAL;
		apic->stats.illegal++;
		return LAPIC_ILLEGAL_VECTOR;
	}
	assign_bit256(apic->tmr, vector, level);
	if (test_bit256(apic->irr, vector)) {
		apic->stats.coalesced++;
		return LAPIC_COALESCED;
	}
	assign_bit256(apic->irr, vector, true);
	apic->stats.accepted++;
	return LAPIC_ACCEPTED;
}

uint8_t lapic_ppr(const struct lapic *apic)
{
	int isrv = highest_bit256(apic->isr);

	if (isrv < 0 || PRIO_CLASS(apic->tpr) >= PRIO_CLASS(isrv))
		return apic->tpr;
	return (uint8_t)(isrv & 0xf0);
}

int lapic_pending_vector(const struct lapic *apic)
{
	int v = highest_bit256(apic->irr);

	if (v < 0 || PRIO_CLASS(v) <= PRIO_CLASS(lapic_ppr(apic)))
		return -1;
	return v;
}

int lapic_take(struct lapic *apic)
{
	int v = lapic_pending_vector(apic);

	if (v < 0)
		return -1;
	assign_bit256(apic->irr, (unsigned)v, false);
	assign_bit256(apic->isr, (unsigned)v, true);
	apic->stats.acked++;
	return v;
}

uint8_t lapic_ack(struct lapic *apic)
{
	int v = lapic_take(apic);

	if (v < 0) {
		apic->stats.spurious++;
		return apic->spurious_vector;
	}
	return (uint8_t)v;
}

int lapic_eoi(struct lapic *apic)
{
	int v = highest_bit256(apic->isr);

	if (v < 0)
		return -1;
	assign_bit256(apic->isr, (unsigned)v, false);
	apic->stats.eoi++;
	return v;
}

bool lapic_irr_test(const struct lapic *apic, uint8_t vector)
{
	return test_bit256(apic->irr, vector);
}

bool lapic_isr_test(const struct lapic *apic, uint8_t vector)
{
	return test_bit256(apic->isr, vector);
}

void lapic_set_tpr(struct lapic *apic, uint8_t tpr)
{
	apic->tpr = tpr;
}
