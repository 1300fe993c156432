// SPDX-License-Identifier: MIT
#include "evq.h"

#include <stdlib.h>

static bool before(const struct event *a, const struct event *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static bool heap_push(struct evq *q, struct event e)
{
	unsigned i;

	if (q->n == q->cap) {
		unsigned cap = q->cap ? 2 * q->cap : 64;
		struct event *h = realloc(q->heap, cap * sizeof(*h));

		if (!h)
			return false;
		q->heap = h;
		q->cap = cap;
	}
	/* sift up: parents move down into the hole until @e fits */
	for (i = q->n++; i && before(&e, &q->heap[(i - 1) / 2]); i = (i - 1) / 2)
		q->heap[i] = q->heap[(i - 1) / 2];
	q->heap[i] = e;
	return true;
}

bool evq_push(struct evq *q, uint64_t time, unsigned type, unsigned a, unsigned b)
{
	struct event e = {time, q->next_seq++, type, a, b};

	if (!q->has_front) {
		q->front = e;
		q->has_front = true;
		return true;
	}
	if (!before(&e, &q->front))
		return heap_push(q, e);
	if (!heap_push(q, q->front))
		return false;
	q->front = e;
	return true;
}

static void heap_pop(struct evq *q, struct event *ret)
{
	struct event last;
	unsigned i = 0;

	*ret = q->heap[0];
	last = q->heap[--q->n];
	/* sift down: the earlier child moves up into the hole until the last event fits */
	for (;;) {
		unsigned c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && before(&q->heap[c + 1], &q->heap[c]))
			c++;
		if (!before(&q->heap[c], &last))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	q->heap[i] = last;
}

bool evq_pop(struct evq *q, struct event *ret)
{
	if (q->has_front && (!q->n || before(&q->front, &q->heap[0]))) {
		*ret = q->front;
		q->has_front = false;
		return true;
	}
	if (!q->n)
		return false;
	heap_pop(q, ret);
	return true;
}

void evq_free(struct evq *q)
{
	free(q->heap);
	*q = (struct evq){0};
}
