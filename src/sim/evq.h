/* SPDX-License-Identifier: MIT */
/*
 * The event queue: a binary min-heap ordered by (time, sequence), and one
 * event held beside it. The sequence number is the order of insertion, so
 * events at the same virtual nanosecond run in the order they were
 * scheduled: runs are reproducible.
 *
 * The event beside the heap is the earliest pushed since the last pop took
 * it: most often a delivery to handle a few hundred nanoseconds from now,
 * which then runs without ever entering the heap. A pop takes the earlier
 * of it and the heap's top, so the order is the heap's alone would give.
 */
#ifndef PVIR_SIM_EVQ_H
#define PVIR_SIM_EVQ_H

#include <stdbool.h>
#include <stdint.h>

struct event {
	uint64_t time;
	uint64_t seq;
	unsigned type;
	unsigned a;
	unsigned b;
};

struct evq {
	struct event *heap;
	unsigned n;
	unsigned cap;
	uint64_t next_seq;
	struct event front; /* valid if has_front */
	bool has_front;
};

/** evq_push() - Return: false when out of memory */
bool evq_push(struct evq *q, uint64_t time, unsigned type, unsigned a, unsigned b);
/** evq_pop() - the earliest event; Return: false when empty */
bool evq_pop(struct evq *q, struct event *ret);
void evq_free(struct evq *q);

/* splitmix64: a small, well-mixed, seedable generator */
static inline uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A uniform double in (0, 1]. */
static inline double rng_unit(uint64_t *state)
{
	return ((double)(rng_next(state) >> 11) + 1.0) / 9007199254740992.0;
}

#endif
