// SPDX-License-Identifier: MIT
#include "evq.h"

#include <stdlib.h>

static bool before(const struct event *a, const struct event *b)
{
	return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void swap(struct event *a, struct event *b)
{
	struct event t = *a;

	*a = *b;
	*b = t;
}

bool evq_push(struct evq *q, uint64_t time, unsigned type, unsigned a, unsigned b)
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
	i = q->n++;
	q->heap[i] = (struct event){time, q->next_seq++, type, a, b};
	while (i && before(&q->heap[i], &q->heap[(i - 1) / 2])) {
		swap(&q->heap[i], &q->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	return true;
}

bool evq_pop(struct evq *q, struct event *ret)
{
	unsigned i = 0;

	if (!q->n)
		return false;
	*ret = q->heap[0];
	q->heap[0] = q->heap[--q->n];
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;

		if (l < q->n && before(&q->heap[l], &q->heap[m]))
			m = l;
		if (r < q->n && before(&q->heap[r], &q->heap[m]))
			m = r;
		if (m == i)
			break;
		swap(&q->heap[i], &q->heap[m]);
		i = m;
	}
	return true;
}

void evq_free(struct evq *q)
{
	free(q->heap);
	*q = (struct evq){0};
}
