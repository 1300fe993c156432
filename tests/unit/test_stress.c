// SPDX-License-Identifier: MIT
/*
 * The posted path's concurrent parts, each on its own thread, through the
 * real code: device threads send remappable requests that the IR unit
 * translates and posts into a vCPU's descriptor (ir_unit_translate:
 * 128-bit IRTE read, PIR fetch-or, ON/notification update); vCPU threads
 * harvest their descriptors (clear ON, exchange the PIR); a host thread
 * keeps moving every IRTE between the two vCPUs with the driver's 128-bit
 * update and an IEC invalidation through the queue. Nothing is lost:
 *
 *     raised = harvested + coalesced
 *
 * where coalesced counts posts onto a PIR bit already set (an edge merged,
 * as hardware merges it), and nothing is blocked. Run under TSan in make
 * test: 100,000 interrupts; PVIR_LONG=1 (make check-long): 10,000,000.
 */
#include "test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/ir_driver.h"
#include "pvir/ir_unit.h"
#include "pvir/irte.h"
#include "pvir/msi.h"
#include "pvir/physmem.h"
#include "pvir/pi_desc.h"

#define MEM_SIZE (UINT64_C(4) << 20)
#define IRT_BASE 0x100000
#define QI_BASE	 0x10000
#define STATUS	 0x20000
#define PID_BASE 0x30000
#define RID	 0x0300
#define ENTRIES	 8
#define DEVICES	 2
#define VCPUS	 2

struct stress {
	struct physmem *pm;
	struct ir_unit *ir;
	struct ir_driver *d;
	uint32_t idx[ENTRIES];
	uint64_t per_device;
	atomic_uint devices_left;
	atomic_bool stop_harvest;
	atomic_uint_fast64_t raised, coalesced, blocked, harvested, moves;
};

static uint64_t pid_addr(unsigned vcpu)
{
	return PID_BASE + (uint64_t)vcpu * PID_SIZE;
}

static struct irte posted_to(unsigned vcpu, unsigned entry)
{
	struct irte_posted p = {.p = true,
				.vector = (uint8_t)(0x40 + 0x20 * vcpu + entry),
				.pda = pid_addr(vcpu),
				.sid = RID,
				.svt = IRTE_SVT_RID};
	struct irte e;

	irte_posted_encode(&p, &e);
	return e;
}

/* ---- the threads ------------------------------------------------------------------ */

struct device_arg {
	struct stress *s;
	unsigned id;
};

static void *device(void *arg)
{
	struct device_arg *a = arg;
	struct stress *s = a->s;
	uint64_t raised = 0, coalesced = 0, blocked = 0;

	for (uint64_t i = 0; i < s->per_device; i++) {
		unsigned e = (unsigned)((i * 3 + a->id) % ENTRIES);
		struct msi_msg m;
		struct ir_result r;

		msi_remap_encode(&(struct msi_remap){.handle = (uint16_t)s->idx[e]}, &m);
		ir_unit_translate(s->ir, &m, RID, &r);
		raised++;
		if (r.outcome != IR_POSTED)
			blocked++;
		else if (r.post.coalesced)
			coalesced++;
		if (i % 16 == 15)
			sched_yield(); /* let the vCPUs and the host in between */
	}
	atomic_fetch_add(&s->raised, raised);
	atomic_fetch_add(&s->coalesced, coalesced);
	atomic_fetch_add(&s->blocked, blocked);
	atomic_fetch_sub(&s->devices_left, 1);
	return NULL;
}

static uint64_t harvest(struct stress *s, unsigned vcpu)
{
	uint64_t pir[PID_PIR_WORDS];
	uint64_t n = 0;
	bool was_on;

	assert_int_equal(pid_clear_on(s->pm, pid_addr(vcpu), &was_on), 0);
	assert_int_equal(pid_take_pir(s->pm, pid_addr(vcpu), pir), 0);
	for (unsigned w = 0; w < PID_PIR_WORDS; w++)
		n += (uint64_t)__builtin_popcountll(pir[w]);
	return n;
}

struct vcpu_arg {
	struct stress *s;
	unsigned vcpu;
};

static void *vcpu(void *arg)
{
	struct vcpu_arg *a = arg;
	uint64_t harvested = 0;

	while (!atomic_load(&a->s->stop_harvest)) {
		harvested += harvest(a->s, a->vcpu);
		sched_yield();
	}
	atomic_fetch_add(&a->s->harvested, harvested);
	return NULL;
}

/* The host: every IRTE to the other vCPU, again and again, while devices send. */
static void *host(void *arg)
{
	struct stress *s = arg;
	uint64_t moves = 0;

	while (atomic_load(&s->devices_left)) {
		unsigned e = (unsigned)(moves % ENTRIES);
		struct irte next = posted_to((unsigned)(moves / ENTRIES) % VCPUS, e);

		assert_int_equal(ir_irte_update(s->d, s->idx[e], &next), 0);
		moves++;
		sched_yield(); /* a retarget is rare next to interrupts */
	}
	atomic_store(&s->moves, moves);
	return NULL;
}

/* ---- the case ------------------------------------------------------------------------ */

static void stress_setup(struct stress *s, uint64_t total)
{
	struct ir_unit_config ucfg = ir_unit_default_config();
	struct ir_driver_config dcfg = {.irt_base = IRT_BASE,
					.entries = 256,
					.qi_base = QI_BASE,
					.status_addr = STATUS,
					.x2apic = true};

	ucfg.posting = true;
	s->pm = physmem_new(MEM_SIZE);
	assert_non_null(s->pm);
	s->ir = ir_unit_new(s->pm, &ucfg);
	assert_non_null(s->ir);
	assert_int_equal(ir_driver_new(s->pm, s->ir, &dcfg, &s->d), 0);
	for (unsigned v = 0; v < VCPUS; v++)
		assert_int_equal(pid_write(s->pm, pid_addr(v), &(struct pid_image){.nv = 0xf2}), 0);
	for (unsigned e = 0; e < ENTRIES; e++) {
		struct irte first = posted_to(0, e);

		assert_int_equal(ir_irte_alloc(s->d, 1, &s->idx[e]), 0);
		assert_int_equal(ir_irte_write(s->d, s->idx[e], &first), 0);
	}
	s->per_device = total / DEVICES;
	atomic_init(&s->devices_left, DEVICES);
}

static uint64_t total_interrupts(void)
{
	const char *v = getenv("PVIR_LONG");

	return v && *v && strcmp(v, "0") ? UINT64_C(10000000) : UINT64_C(100000);
}

static void posted_path_under_retargets(void **state)
{
	struct stress *s = calloc(1, sizeof(*s));
	struct device_arg da[DEVICES];
	struct vcpu_arg va[VCPUS];
	pthread_t dt[DEVICES], vt[VCPUS], ht;
	uint64_t tail = 0;

	(void)state;
	assert_non_null(s);
	stress_setup(s, total_interrupts());
	for (unsigned v = 0; v < VCPUS; v++) {
		va[v] = (struct vcpu_arg){s, v};
		assert_int_equal(pthread_create(&vt[v], NULL, vcpu, &va[v]), 0);
	}
	assert_int_equal(pthread_create(&ht, NULL, host, s), 0);
	for (unsigned d = 0; d < DEVICES; d++) {
		da[d] = (struct device_arg){s, d};
		assert_int_equal(pthread_create(&dt[d], NULL, device, &da[d]), 0);
	}
	for (unsigned d = 0; d < DEVICES; d++)
		assert_int_equal(pthread_join(dt[d], NULL), 0);
	assert_int_equal(pthread_join(ht, NULL), 0);
	atomic_store(&s->stop_harvest, true);
	for (unsigned v = 0; v < VCPUS; v++) {
		assert_int_equal(pthread_join(vt[v], NULL), 0);
		tail += harvest(s, v); /* what came after a vCPU's last look */
	}
	assert_int_equal(atomic_load(&s->raised), DEVICES * s->per_device);
	assert_int_equal(atomic_load(&s->blocked), 0);
	assert_int_equal(atomic_load(&s->raised),
			 atomic_load(&s->harvested) + tail + atomic_load(&s->coalesced));
	assert_true(atomic_load(&s->moves) > 0);
	print_message("# stress: %llu raised, %llu harvested, %llu coalesced, %llu IRTE moves\n",
		      (unsigned long long)atomic_load(&s->raised),
		      (unsigned long long)(atomic_load(&s->harvested) + tail),
		      (unsigned long long)atomic_load(&s->coalesced),
		      (unsigned long long)atomic_load(&s->moves));
	ir_driver_free(s->d);
	ir_unit_free(s->ir);
	physmem_free(s->pm);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(posted_path_under_retargets),
	};

	return cmocka_run_group_tests_name("stress", tests, NULL, NULL);
}
