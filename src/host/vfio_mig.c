// SPDX-License-Identifier: MIT
/*
 * The migration driver of a pvir function (pvir/vfio_mig.h): the uapi's state
 * machine over the function's stop and its state stream (src/hw/pci_state.c).
 *
 * Paths. The uapi lists the arcs a driver implements for each optional feature
 * and asks a combination request to take the shortest path through them
 * (include/uapi/linux/vfio.h, and the arc list in vfio_mig_get_next_state()).
 * Passing through a state has effects — entering the saving group opens a
 * session, RESUMING loads a stream — so a walk passes only through STOP and
 * RUNNING (and RUNNING_P2P), and through the saving states only when it starts
 * and ends among them (PRE_COPY -> PRE_COPY_P2P -> STOP_COPY). The combinations
 * Linux lists, such as PRE_COPY -> RUNNING -> STOP, all obey that, and with it
 * every shortest path is unique. STOP_COPY -> PRE_COPY is refused: the uapi
 * reserves it.
 */
#include "pvir/vfio_mig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/pci.h"

enum {
	STOP = VFIO_DEVICE_STATE_STOP,
	RUNNING = VFIO_DEVICE_STATE_RUNNING,
	STOP_COPY = VFIO_DEVICE_STATE_STOP_COPY,
	RESUMING = VFIO_DEVICE_STATE_RESUMING,
	RUNNING_P2P = VFIO_DEVICE_STATE_RUNNING_P2P,
	PRE_COPY = VFIO_DEVICE_STATE_PRE_COPY,
	PRE_COPY_P2P = VFIO_DEVICE_STATE_PRE_COPY_P2P,
};

struct arc {
	uint32_t from, to;
	uint64_t needs;	 /* every one of these flags */
	uint64_t unless; /* none of these */
};

/* The uapi's arcs, by the features that require them. */
static const struct arc arcs[] = {
    {RESUMING, STOP, 0, 0},
    {STOP, RESUMING, 0, 0},
    {STOP, STOP_COPY, 0, 0},
    {STOP_COPY, STOP, 0, 0},
    {RUNNING, STOP, 0, VFIO_MIGRATION_P2P},
    {STOP, RUNNING, 0, VFIO_MIGRATION_P2P},
    {RUNNING, RUNNING_P2P, VFIO_MIGRATION_P2P, 0},
    {RUNNING_P2P, RUNNING, VFIO_MIGRATION_P2P, 0},
    {RUNNING_P2P, STOP, VFIO_MIGRATION_P2P, 0},
    {STOP, RUNNING_P2P, VFIO_MIGRATION_P2P, 0},
    {RUNNING, PRE_COPY, VFIO_MIGRATION_PRE_COPY, 0},
    {PRE_COPY, RUNNING, VFIO_MIGRATION_PRE_COPY, 0},
    {PRE_COPY, STOP_COPY, VFIO_MIGRATION_PRE_COPY, VFIO_MIGRATION_P2P},
    {PRE_COPY, PRE_COPY_P2P, VFIO_MIGRATION_PRE_COPY | VFIO_MIGRATION_P2P, 0},
    {PRE_COPY_P2P, PRE_COPY, VFIO_MIGRATION_PRE_COPY | VFIO_MIGRATION_P2P, 0},
    {PRE_COPY_P2P, RUNNING_P2P, VFIO_MIGRATION_PRE_COPY | VFIO_MIGRATION_P2P, 0},
    {PRE_COPY_P2P, STOP_COPY, VFIO_MIGRATION_PRE_COPY | VFIO_MIGRATION_P2P, 0},
    {RUNNING_P2P, PRE_COPY_P2P, VFIO_MIGRATION_PRE_COPY | VFIO_MIGRATION_P2P, 0},
};

static bool arc_present(const struct arc *a, uint64_t flags)
{
	return (flags & a->needs) == a->needs && !(flags & a->unless);
}

static bool saving(uint32_t s)
{
	return s == PRE_COPY || s == PRE_COPY_P2P || s == STOP_COPY;
}

/*
 * States a walk may pass through on its way: STOP and RUNNING and its P2P form; and the
 * saving states for a walk that starts and ends among them, since moving within that
 * group keeps its one session ("does not terminate or otherwise affect the associated
 * fd"), where entering it from outside would open one.
 */
static bool passable(uint32_t s, uint32_t cur, uint32_t target)
{
	if (s == STOP || s == RUNNING || s == RUNNING_P2P)
		return true;
	return saving(s) && saving(cur) && saving(target);
}

static bool supported(uint64_t flags, uint32_t s)
{
	switch (s) {
	case STOP:
	case RUNNING:
	case STOP_COPY:
	case RESUMING:
		return true;
	case RUNNING_P2P:
		return flags & VFIO_MIGRATION_P2P;
	case PRE_COPY:
		return flags & VFIO_MIGRATION_PRE_COPY;
	case PRE_COPY_P2P:
		return (flags & VFIO_MIGRATION_PRE_COPY) && (flags & VFIO_MIGRATION_P2P);
	default:
		return false; /* ERROR is never a target, and nothing else exists */
	}
}

/* Breadth first from @cur; @first[s] is the arc out of @cur that reached s. */
int vfio_mig_next_state(uint64_t flags, uint32_t cur, uint32_t target, uint32_t *next)
{
	uint32_t queue[VFIO_MIG_STATES], first[VFIO_MIG_STATES];
	bool seen[VFIO_MIG_STATES] = {false};
	unsigned head = 0, tail = 0;

	if (!(flags & VFIO_MIGRATION_STOP_COPY) || !supported(flags, cur) ||
	    !supported(flags, target) || (cur == STOP_COPY && target == PRE_COPY))
		return -EINVAL;
	seen[cur] = true;
	first[cur] = cur;
	queue[tail++] = cur;
	while (head < tail) {
		uint32_t s = queue[head++];

		if (s == target) {
			*next = first[s];
			return 0;
		}
		if (s != cur && !passable(s, cur, target))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(arcs); i++) {
			uint32_t to = arcs[i].to;

			if (arcs[i].from != s || !arc_present(&arcs[i], flags) || seen[to])
				continue;
			seen[to] = true;
			first[to] = s == cur ? to : first[s];
			queue[tail++] = to;
		}
	}
	return -EINVAL;
}

/* ---- the driver ------------------------------------------------------------ */

struct vfio_mig {
	struct pci_func *f;
	uint32_t state;
	uint8_t *data; /* the session's stream: taken (saving) or being written (resuming) */
	size_t len, pos;
	bool saving, resuming;
};

uint64_t vfio_mig_flags(void)
{
	return VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY;
}

int vfio_mig_open(struct pci_func *f, struct vfio_mig **ret)
{
	struct vfio_mig *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->f = f;
	m->state = RUNNING;
	*ret = m;
	return 0;
}

static void session_close(struct vfio_mig *m)
{
	free(m->data);
	m->data = NULL;
	m->len = m->pos = 0;
	m->saving = m->resuming = false;
}

void vfio_mig_close(struct vfio_mig *m)
{
	if (!m)
		return;
	session_close(m);
	free(m);
}

uint32_t vfio_mig_state(const struct vfio_mig *m)
{
	return m->state;
}

/* The stream as the function holds it now: STOP_COPY's data. */
static int take_stream(struct vfio_mig *m)
{
	size_t len = pci_func_state_size(m->f);
	uint8_t *data = malloc(len);

	if (!data)
		return -ENOMEM;
	if (pci_func_save_state(m->f, data, len)) {
		free(data);
		return -EIO;
	}
	free(m->data);
	m->data = data;
	m->len = len;
	m->pos = 0;
	m->saving = true;
	return 0;
}

static int open_resuming(struct vfio_mig *m)
{
	size_t len = pci_func_state_size(m->f);
	uint8_t *data = malloc(len);

	if (!data)
		return -ENOMEM;
	session_close(m);
	m->data = data;
	m->len = len;
	m->resuming = true;
	return 0;
}

static int load_stream(struct vfio_mig *m)
{
	int err = pci_func_load_state(m->f, m->data, m->pos);

	if (!err)
		session_close(m);
	return err;
}

/* Into STOP_COPY: a running device stops first, so the stream is its state at the stop. */
static int stop_and_take(struct vfio_mig *m)
{
	bool running = !pci_func_stopped(m->f);
	int err;

	if (running)
		pci_func_stop(m->f, true);
	err = take_stream(m);
	if (err && running)
		pci_func_stop(m->f, false);
	return err;
}

/* One arc, with its effect; on failure the state is unchanged. */
static int step(struct vfio_mig *m, uint32_t to)
{
	int err = 0;

	if (m->state == RUNNING && to == STOP)
		pci_func_stop(m->f, true);
	else if (m->state == STOP && to == RUNNING)
		pci_func_stop(m->f, false);
	else if (m->state == RUNNING && to == PRE_COPY)
		m->saving = true; /* the session opens; nothing is worth sending yet */
	else if (m->state == PRE_COPY && to == RUNNING)
		session_close(m);
	else if (to == STOP_COPY) /* from STOP, or from PRE_COPY */
		err = stop_and_take(m);
	else if (m->state == STOP_COPY && to == STOP)
		session_close(m);
	else if (m->state == STOP && to == RESUMING)
		err = open_resuming(m);
	else if (m->state == RESUMING && to == STOP)
		err = load_stream(m);
	if (!err)
		m->state = to;
	return err;
}

int vfio_mig_set_state(struct vfio_mig *m, uint32_t target)
{
	uint32_t next;
	int err;

	/* check the whole request before the first arc */
	err = vfio_mig_next_state(vfio_mig_flags(), m->state, target, &next);
	while (!err && m->state != target) {
		err = vfio_mig_next_state(vfio_mig_flags(), m->state, target, &next);
		if (!err)
			err = step(m, next);
	}
	return err;
}

ssize_t vfio_mig_read(struct vfio_mig *m, void *buf, size_t len)
{
	size_t n;

	if (!m->saving)
		return -EINVAL;
	n = m->len - m->pos < len ? m->len - m->pos : len;
	if (n)
		memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

ssize_t vfio_mig_write(struct vfio_mig *m, const void *buf, size_t len)
{
	if (!m->resuming)
		return -EINVAL;
	if (len > m->len - m->pos)
		return -ENOSPC;
	if (len)
		memcpy(m->data + m->pos, buf, len);
	m->pos += len;
	return (ssize_t)len;
}

int vfio_mig_precopy_info(const struct vfio_mig *m, struct vfio_precopy_info *info)
{
	if (m->state != PRE_COPY)
		return -EINVAL;
	info->flags = 0;
	info->initial_bytes = 0;
	info->dirty_bytes = 0;
	return 0;
}

void vfio_mig_reset(struct vfio_mig *m)
{
	session_close(m);
	pci_func_stop(m->f, false);
	m->state = RUNNING;
}
