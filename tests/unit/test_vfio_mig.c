// SPDX-License-Identifier: MIT
/*
 * VFIO's migration state machine for a pvir function (pvir/vfio_mig.h).
 *
 * The paths are checked against the uapi's own words: each next step of a
 * driver with STOP_COPY and PRE_COPY, written out here by hand from the arcs
 * include/uapi/linux/vfio.h lists for those features; and, for a driver that
 * also had P2P, the combination paths Linux's vfio_mig_get_next_state()
 * comment spells out. Then a function's interrupts across a whole migration,
 * and every way a session can be misused.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pci_helpers.h"
#include "pvir/vfio_mig.h"

enum {
	ERR = VFIO_DEVICE_STATE_ERROR,
	STOP = VFIO_DEVICE_STATE_STOP,
	RUN = VFIO_DEVICE_STATE_RUNNING,
	SCOPY = VFIO_DEVICE_STATE_STOP_COPY,
	RESUME = VFIO_DEVICE_STATE_RESUMING,
	RUN_P2P = VFIO_DEVICE_STATE_RUNNING_P2P,
	PRE = VFIO_DEVICE_STATE_PRE_COPY,
	PRE_P2P = VFIO_DEVICE_STATE_PRE_COPY_P2P,
};

#define OURS (VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_PRE_COPY)

/*
 * next[cur][target] for STOP_COPY | PRE_COPY, no P2P. Arcs: RUNNING <-> STOP,
 * STOP <-> STOP_COPY, STOP <-> RESUMING, RUNNING <-> PRE_COPY, PRE_COPY ->
 * STOP_COPY; a walk passes only through STOP and RUNNING; STOP_COPY -> PRE_COPY
 * is refused (0 here).
 */
static const uint32_t next_ours[8][8] = {
    [STOP] = {[STOP] = STOP, [RUN] = RUN, [SCOPY] = SCOPY, [RESUME] = RESUME, [PRE] = RUN},
    [RUN] = {[STOP] = STOP, [RUN] = RUN, [SCOPY] = STOP, [RESUME] = STOP, [PRE] = PRE},
    [SCOPY] = {[STOP] = STOP, [RUN] = STOP, [SCOPY] = SCOPY, [RESUME] = STOP, [PRE] = 0},
    [RESUME] = {[STOP] = STOP, [RUN] = STOP, [SCOPY] = STOP, [RESUME] = RESUME, [PRE] = STOP},
    [PRE] = {[STOP] = RUN, [RUN] = RUN, [SCOPY] = SCOPY, [RESUME] = RUN, [PRE] = PRE},
};

static void next_states_of_our_driver(void **state)
{
	static const uint32_t ours[] = {STOP, RUN, SCOPY, RESUME, PRE};
	uint32_t next;

	(void)state;
	for (unsigned i = 0; i < 5; i++)
		for (unsigned j = 0; j < 5; j++) {
			uint32_t cur = ours[i], target = ours[j], want = next_ours[cur][target];
			int err = vfio_mig_next_state(OURS, cur, target, &next);

			if (!want) {
				assert_int_equal(err, -EINVAL);
				continue;
			}
			assert_int_equal(err, 0);
			if (next != want)
				fail_msg("%u -> %u: first arc to %u, want %u", cur, target, next,
					 want);
		}
	/* not states of ours */
	assert_int_equal(vfio_mig_next_state(OURS, RUN, RUN_P2P, &next), -EINVAL);
	assert_int_equal(vfio_mig_next_state(OURS, RUN, PRE_P2P, &next), -EINVAL);
	assert_int_equal(vfio_mig_next_state(OURS, RUN, ERR, &next), -EINVAL);
	assert_int_equal(vfio_mig_next_state(OURS, ERR, RUN, &next), -EINVAL);
	assert_int_equal(vfio_mig_next_state(OURS, RUN, 8, &next), -EINVAL);
	/* without PRE_COPY there is none; without STOP_COPY there is no migration */
	assert_int_equal(vfio_mig_next_state(VFIO_MIGRATION_STOP_COPY, RUN, PRE, &next), -EINVAL);
	assert_int_equal(vfio_mig_next_state(VFIO_MIGRATION_STOP_COPY, RUN, SCOPY, &next), 0);
	assert_int_equal(next, STOP);
	assert_int_equal(vfio_mig_next_state(VFIO_MIGRATION_PRE_COPY, RUN, STOP, &next), -EINVAL);
}

/* The whole walk from @cur to @target, as the states it enters; 0 ends it. */
static void walk(uint64_t flags, uint32_t cur, uint32_t target, const uint32_t *want)
{
	unsigned i = 0;

	while (cur != target) {
		assert_int_equal(vfio_mig_next_state(flags, cur, target, &cur), 0);
		assert_int_equal(cur, want[i++]);
	}
	assert_int_equal(want[i], 0);
}

/* Linux's list of the combinations with every feature, for a driver that had them. */
static void combinations_as_linux_lists_them(void **state)
{
	const uint64_t all = OURS | VFIO_MIGRATION_P2P;

	(void)state;
	walk(all, PRE, SCOPY, (const uint32_t[]){PRE_P2P, SCOPY, 0});
	walk(all, PRE, RUN_P2P, (const uint32_t[]){RUN, RUN_P2P, 0});
	walk(all, PRE, STOP, (const uint32_t[]){RUN, RUN_P2P, STOP, 0});
	walk(all, PRE, RESUME, (const uint32_t[]){RUN, RUN_P2P, STOP, RESUME, 0});
	walk(all, PRE_P2P, RUN, (const uint32_t[]){RUN_P2P, RUN, 0});
	walk(all, PRE_P2P, STOP, (const uint32_t[]){RUN_P2P, STOP, 0});
	walk(all, PRE_P2P, RESUME, (const uint32_t[]){RUN_P2P, STOP, RESUME, 0});
	walk(all, RESUME, RUN_P2P, (const uint32_t[]){STOP, RUN_P2P, 0});
	walk(all, RESUME, PRE_P2P, (const uint32_t[]){STOP, RUN_P2P, PRE_P2P, 0});
	walk(all, RESUME, RUN, (const uint32_t[]){STOP, RUN_P2P, RUN, 0});
	walk(all, RESUME, PRE, (const uint32_t[]){STOP, RUN_P2P, RUN, PRE, 0});
	walk(all, RESUME, SCOPY, (const uint32_t[]){STOP, SCOPY, 0});
}

/* ---- a function under the driver ------------------------------------------ */

static const struct pci_func_config nic = {
    .rid = 0x0300,
    .vendor_id = 0x8086,
    .device_id = 0x1592,
    .bars = {[0] = {.size = 0x4000}},
    .msix_vectors = 16,
    .msix_pba_offset = 0x2000,
};

static const struct msi_msg msg_a = {0xfee000b8, 0, 0x21};

struct side {
	struct pci_func *f;
	struct sink_log log;
	struct vfio_mig *m;
};

static void side_new(struct side *s, uint16_t rid)
{
	struct pci_func_config c = nic;

	c.rid = rid;
	*s = (struct side){0};
	assert_int_equal(pci_func_create(&c, &s->f), 0);
	attach_log(s->f, &s->log, NULL);
	enable_function(s->f);
	assert_int_equal(vfio_mig_open(s->f, &s->m), 0);
}

static void side_free(struct side *s)
{
	vfio_mig_close(s->m);
	pci_func_free(s->f);
}

static enum pci_irq_result raise(struct side *s, unsigned n)
{
	enum pci_irq_result r;

	assert_int_equal(pci_func_raise_msix(s->f, n, &r), 0);
	return r;
}

static void program(struct side *s)
{
	uint8_t cap = pci_find_capability(s->f, PCI_CAP_ID_MSIX);

	pci_cfg_write(s->f, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
	program_slot(s->f, 0, 5 * PCI_MSIX_ENTRY_SIZE, &msg_a, false);
}

/*
 * Source RUNNING -> PRE_COPY -> RUNNING (a precopy round with nothing to send), then
 * STOP -> STOP_COPY -> STOP; destination STOP -> RESUMING -> STOP -> RUNNING. Raised
 * while the source is stopped: latched, carried in the stream, sent once by the
 * destination when it runs, under its own requester-id.
 */
static void a_function_migrates(void **state)
{
	struct side src, dst;
	struct vfio_precopy_info info = {.argsz = sizeof(info)};
	uint8_t chunk[100];
	ssize_t n;

	(void)state;
	side_new(&src, 0x0300);
	side_new(&dst, 0x8100);
	program(&src);
	assert_int_equal(vfio_mig_flags(), OURS);
	assert_int_equal(vfio_mig_set_state(src.m, PRE), 0);
	assert_int_equal(vfio_mig_precopy_info(src.m, &info), 0);
	assert_int_equal(info.initial_bytes + info.dirty_bytes, 0);
	assert_int_equal(vfio_mig_read(src.m, chunk, sizeof(chunk)), 0);
	assert_int_equal(raise(&src, 5), PCI_IRQ_SENT); /* PRE_COPY still runs */
	assert_int_equal(vfio_mig_set_state(src.m, RUN), 0);
	assert_int_equal(vfio_mig_read(src.m, chunk, 1), -EINVAL); /* that session closed */
	assert_int_equal(vfio_mig_set_state(src.m, STOP), 0);
	assert_true(pci_func_stopped(src.f));
	assert_int_equal(raise(&src, 5), PCI_IRQ_PENDING);
	assert_int_equal(raise(&src, 5), PCI_IRQ_PENDING); /* coalesces */
	assert_int_equal(vfio_mig_set_state(src.m, SCOPY), 0);
	assert_int_equal(vfio_mig_precopy_info(src.m, &info), -EINVAL);

	assert_int_equal(vfio_mig_set_state(dst.m, RESUME), 0); /* RUNNING -> STOP -> RESUMING */
	assert_true(pci_func_stopped(dst.f));
	while ((n = vfio_mig_read(src.m, chunk, sizeof(chunk))) > 0)
		assert_int_equal(vfio_mig_write(dst.m, chunk, (size_t)n), n);
	assert_int_equal(n, 0);
	assert_int_equal(vfio_mig_set_state(src.m, STOP), 0);
	assert_int_equal(vfio_mig_read(src.m, chunk, 1), -EINVAL);
	assert_int_equal(vfio_mig_set_state(dst.m, RUN), 0); /* RESUMING -> STOP -> RUNNING */
	assert_int_equal(vfio_mig_state(dst.m), RUN);
	assert_int_equal(dst.log.n, 1);
	assert_int_equal(dst.log.rid[0], 0x8100);
	assert_int_equal(dst.log.msg[0].data, msg_a.data);
	assert_int_equal(src.log.n, 1); /* only the one sent before the stop */
	assert_int_equal(raise(&dst, 5), PCI_IRQ_SENT);
	side_free(&src);
	side_free(&dst);
}

/* From PRE_COPY the device stops as it enters STOP_COPY, and the stream is its state then. */
static void precopy_to_stop_copy_stops_the_device(void **state)
{
	struct side s;
	uint8_t *a;
	size_t len = 0;
	ssize_t n;

	(void)state;
	side_new(&s, 0x0300);
	program(&s);
	assert_int_equal(vfio_mig_set_state(s.m, PRE), 0);
	assert_false(pci_func_stopped(s.f));
	assert_int_equal(vfio_mig_set_state(s.m, SCOPY), 0);
	assert_true(pci_func_stopped(s.f));
	a = malloc(pci_func_state_size(s.f));
	assert_non_null(a);
	while ((n = vfio_mig_read(s.m, a + len, 64)) > 0)
		len += (size_t)n;
	assert_int_equal(len, pci_func_state_size(s.f));
	free(a);
	side_free(&s);
}

/*
 * The stream is the function's state as STOP_COPY begins. A raise after that stays in
 * the source function — it goes out if the source runs again — and is not in the
 * stream, so whoever drives a migration sends the device's raises to the destination
 * from that moment (docs/migration.md).
 */
static void stop_copy_snapshot_is_taken_stopped(void **state)
{
	struct side s;
	uint8_t *a, *b;
	size_t len = 0;
	ssize_t n;

	(void)state;
	side_new(&s, 0x0300);
	program(&s);
	assert_int_equal(vfio_mig_set_state(s.m, SCOPY), 0); /* RUNNING -> STOP -> STOP_COPY */
	assert_int_equal(raise(&s, 5), PCI_IRQ_PENDING);
	a = malloc(4096 * 2);
	b = malloc(4096 * 2);
	assert_non_null(a);
	assert_non_null(b);
	while ((n = vfio_mig_read(s.m, a + len, 64)) > 0)
		len += (size_t)n;
	assert_int_equal(len, pci_func_state_size(s.f));
	assert_int_equal(pci_func_save_state(s.f, b, len), 0);
	assert_memory_not_equal(a, b, len); /* the PBA bit came after the snapshot */
	/* and back to RUNNING: the latched vector goes out */
	assert_int_equal(vfio_mig_set_state(s.m, RUN), 0);
	assert_int_equal(s.log.n, 1);
	free(a);
	free(b);
	side_free(&s);
}

/* A stream the function refuses: RESUMING -> STOP fails, nothing changes, reset recovers. */
static void bad_stream_stays_resuming(void **state)
{
	struct side s;
	uint8_t junk[64] = {0};
	size_t len;

	(void)state;
	side_new(&s, 0x0300);
	program(&s);
	len = pci_func_state_size(s.f);
	assert_int_equal(vfio_mig_write(s.m, junk, sizeof(junk)), -EINVAL); /* RUNNING */
	assert_int_equal(vfio_mig_read(s.m, junk, sizeof(junk)), -EINVAL);
	assert_int_equal(vfio_mig_set_state(s.m, RESUME), 0);
	assert_int_equal(vfio_mig_write(s.m, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	assert_int_equal(vfio_mig_set_state(s.m, RUN), -EINVAL); /* short, and not PVDS */
	assert_int_equal(vfio_mig_state(s.m), RESUME);
	assert_int_equal(pci_cfg_read(s.f, pci_find_capability(s.f, PCI_CAP_ID_MSIX) + 2, 2) &
			     PCI_MSIX_FLAGS_ENABLE,
			 PCI_MSIX_FLAGS_ENABLE);
	/* no more than one stream's worth is taken */
	{
		uint8_t *big = calloc(1, len);

		assert_non_null(big);
		assert_int_equal(vfio_mig_write(s.m, big, len), -ENOSPC);
		free(big);
	}
	assert_int_equal(vfio_mig_set_state(s.m, PRE), -EINVAL); /* RESUMING -> ... STOP fails */
	assert_int_equal(vfio_mig_state(s.m), RESUME);
	vfio_mig_reset(s.m);
	assert_int_equal(vfio_mig_state(s.m), RUN);
	assert_false(pci_func_stopped(s.f));
	assert_int_equal(raise(&s, 5), PCI_IRQ_SENT);
	side_free(&s);
}

static void refused_requests_do_nothing(void **state)
{
	struct side s;

	(void)state;
	side_new(&s, 0x0300);
	assert_int_equal(vfio_mig_set_state(s.m, SCOPY), 0);
	assert_int_equal(vfio_mig_set_state(s.m, PRE), -EINVAL); /* the uapi reserves it */
	assert_int_equal(vfio_mig_state(s.m), SCOPY);
	assert_int_equal(vfio_mig_set_state(s.m, ERR), -EINVAL);
	assert_int_equal(vfio_mig_set_state(s.m, RUN_P2P), -EINVAL);
	assert_int_equal(vfio_mig_set_state(s.m, 77), -EINVAL);
	assert_int_equal(vfio_mig_state(s.m), SCOPY);
	assert_true(pci_func_stopped(s.f));
	side_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(next_states_of_our_driver),
	    TEST(combinations_as_linux_lists_them),
	    TEST(a_function_migrates),
	    TEST(precopy_to_stop_copy_stops_the_device),
	    TEST(stop_copy_snapshot_is_taken_stopped),
	    TEST(bad_stream_stays_resuming),
	    TEST(refused_requests_do_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
