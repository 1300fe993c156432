/* SPDX-License-Identifier: MIT */
/*
 * Local APIC: the part that accepts fixed interrupts and decides which one
 * the CPU takes next (Intel SDM vol. 3, ch. 11 "Advanced Programmable
 * Interrupt Controller": IRR/ISR, priority classes, EOI, spurious vector).
 *
 *   accept(v):  IRR[v] = 1 (an edge already pending in IRR merges: coalesced)
 *   ack():      v = highest IRR whose class v[7:4] > PPR[7:4];
 *               IRR[v] = 0, ISR[v] = 1; none deliverable -> spurious vector
 *   eoi():      clear the highest ISR bit
 *   PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV & 0xf0 (ISRV: highest ISR)
 *
 * Vectors 0..15 are illegal: not accepted, ESR "received illegal vector".
 * IDs are x2APIC (32-bit); xAPIC destinations are the low 8 bits.
 * Not modelled: LVT, timer, IPIs, logical destinations, level EOI broadcast.
 */
#ifndef PVIR_LAPIC_H
#define PVIR_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_VECTORS		 256
#define LAPIC_FIRST_LEGAL_VECTOR 16
#define LAPIC_SPURIOUS_RESET	 0xff
#define LAPIC_ESR_RX_ILLEGAL	 6 /* ESR bit: received illegal vector */
#define LAPIC_BROADCAST_X2APIC	 UINT32_C(0xffffffff)
#define LAPIC_BROADCAST_XAPIC	 UINT32_C(0xff)

enum lapic_accept {
	LAPIC_ACCEPTED,
	LAPIC_COALESCED,      /* already pending in IRR: merged, as hardware does */
	LAPIC_ILLEGAL_VECTOR, /* 0..15: dropped, ESR updated */
};

struct lapic_stats {
	uint64_t accepted;
	uint64_t coalesced;
	uint64_t illegal;
	uint64_t acked;
	uint64_t spurious;
	uint64_t eoi;
};

struct lapic {
	uint32_t id;
	uint64_t irr[4];
	uint64_t isr[4];
	uint64_t tmr[4];
	uint8_t tpr;
	uint8_t spurious_vector;
	uint32_t esr;
	struct lapic_stats stats;
};

void lapic_init(struct lapic *apic, uint32_t x2apic_id);

/** lapic_matches_physical() - whether a physical-mode @dest names this APIC */
bool lapic_matches_physical(const struct lapic *apic, uint32_t dest, bool x2apic);

enum lapic_accept lapic_accept_irq(struct lapic *apic, uint8_t vector, bool level);

/** lapic_ppr() - the processor priority (SDM "Processor Priority Register") */
uint8_t lapic_ppr(const struct lapic *apic);

/** lapic_pending_vector() - the vector ack would deliver, or -1 */
int lapic_pending_vector(const struct lapic *apic);

/**
 * lapic_ack() - the CPU takes an interrupt (INTA)
 * Return: the vector, now in service; or the spurious vector when nothing is
 * deliverable (then nothing is in service and no EOI is due).
 */
uint8_t lapic_ack(struct lapic *apic);

/**
 * lapic_take() - lapic_ack() for a caller that only takes what is there
 * Return: the vector now in service, or -1 (and no spurious count) when nothing is
 * deliverable: a vCPU's event injection, which never runs an INTA cycle for nothing.
 */
int lapic_take(struct lapic *apic);

/** lapic_eoi() - end of interrupt; Return: the vector retired, or -1 if none */
int lapic_eoi(struct lapic *apic);

bool lapic_irr_test(const struct lapic *apic, uint8_t vector);
bool lapic_isr_test(const struct lapic *apic, uint8_t vector);
void lapic_set_tpr(struct lapic *apic, uint8_t tpr);

#endif
