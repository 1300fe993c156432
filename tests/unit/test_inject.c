// SPDX-License-Identifier: MIT
/*
 * Failure injection, SQLite-style (pvir/failpoint.h): for each setup path a
 * guest can take — MSI-X, device IMS and memory IMS activation, an affinity
 * change, a free, the opt-in (SET_TABLE) at boot, and an activation that
 * grows the VMM's route table — under each design,
 * fail the Nth allocation, host IRTE write, host invalidation or host read
 * of guest memory, for N = 1, 2, ... until the operation succeeds.
 *
 * After each injected failure:
 *  - an operation that returned an error left everything as it was: the
 *    host IRTE table (every entry, raw), the VM's quota, the VMM's routes and
 *    irqfds, the guest's vectors and vIRTEs, the device's MSI-X table and
 *    IMS storage;
 *  - an operation that returned 0 absorbed the failure: every interrupt the
 *    guest has is delivered to its handler, or, under the emulating designs
 *    only, the VMM counted a write it could not honour (the guest cannot be
 *    told; docs/abi.md);
 *  - in both cases, once the drivers are removed, the host holds nothing
 *    (no IRTE, no quota, no route), and the sanitizers see no leak.
 *
 * make test runs N = 1..64 and a seeded sample beyond; PVIR_LONG=1 (make
 * check-long) runs every N.
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/failpoint.h"
#include "pvir/guest.h"
#include "pvir/guest_drivers.h"
#include "pvir/host.h"
#include "pvir/ir_driver.h"
#include "pvir/pci.h"
#include "pvir/vm.h"
#include "pvir/vmm.h"
#include "world.h"

/* ---- allocations through the failpoint (linked with --wrap) ------------------ */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);

void *__wrap_malloc(size_t size)
{
	return failpoint_hit(FAILPOINT_ALLOC) ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return failpoint_hit(FAILPOINT_ALLOC) ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	return failpoint_hit(FAILPOINT_ALLOC) ? NULL : __real_realloc(p, size);
}

/* ---- the world ---------------------------------------------------------------- */

static int boot(struct world *w)
{
	return tenant_boot(w, &w->t);
}

static void remove_drivers(struct world *w)
{
	tenant_remove_drivers(&w->t);
}

/* ---- what must not change -------------------------------------------------------- */

struct snapshot {
	uint64_t irtes;	     /* every host IRTE, raw, hashed with its index */
	uint32_t irtes_used; /* the host table's and the VM's quota */
	uint32_t quota_used;
	uint32_t routes, irqfds;  /* the VMM's KVM routes, irqfds bound */
	unsigned vectors, virtes; /* the guest's */
	uint64_t storage;	  /* the NIC's MSI-X table and the DSA's IMS slots, hashed */
};

static uint64_t fnv(uint64_t h, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		h = (h ^ ((v >> (8 * i)) & 0xff)) * UINT64_C(0x100000001b3);
	return h;
}

static uint64_t irte_hash(struct world *w)
{
	struct ir_driver *d = host_ir_driver(w->h);
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (uint32_t i = 0; i < ir_driver_entries(d); i++) {
		struct irte e;

		assert_int_equal(ir_irte_read(d, i, &e), 0);
		if (e.lo || e.hi)
			h = fnv(fnv(fnv(h, i), e.lo), e.hi);
	}
	return h;
}

static uint64_t region_hash(struct pci_func *f, uint64_t off, uint64_t len, uint64_t h)
{
	for (uint64_t o = off; o < off + len; o += 4) {
		uint64_t v = 0;

		assert_int_equal(pci_mmio_read(f, 0, o, 4, &v), 0);
		h = fnv(h, v);
	}
	return h;
}

static struct snapshot snap(struct world *w)
{
	const struct vmm_stats *s = vm_vmm_stats(w->t.vm);
	uint64_t storage = region_hash(w->t.nic, 0, 16 * 16, 0);

	return (struct snapshot){
	    .irtes = irte_hash(w),
	    .irtes_used = ir_driver_in_use(host_ir_driver(w->h)),
	    .quota_used = vm_irte_used(w->t.vm),
	    .routes = s->routes,
	    .irqfds = s->irqfds_held,
	    .vectors = w->t.g ? guest_vectors_in_use(w->t.g) : 0,
	    .virtes = w->t.g ? guest_virtes_in_use(w->t.g) : 0,
	    .storage = region_hash(w->t.dsa, DSA_IMS, DSA_SLOTS * 16, storage),
	};
}

static void assert_unchanged(const struct snapshot *a, const struct snapshot *b)
{
	assert_int_equal(a->irtes_used, b->irtes_used);
	assert_int_equal(a->quota_used, b->quota_used);
	assert_true(a->irtes == b->irtes);
	assert_int_equal(a->routes, b->routes);
	assert_int_equal(a->irqfds, b->irqfds);
	assert_int_equal(a->vectors, b->vectors);
	assert_int_equal(a->virtes, b->virtes);
	assert_true(a->storage == b->storage);
}

/* ---- the operations ------------------------------------------------------------- */

static bool long_run(void)
{
	const char *v = getenv("PVIR_LONG");

	return v && *v && strcmp(v, "0");
}

/* Vectors or entries per operation: 4, and 16 under PVIR_LONG. */
static unsigned queues(void)
{
	return long_run() ? 16 : 4;
}

static int probe_nic(struct world *w)
{
	return nic_probe(w->t.g, NIC_BDF, queues(), queues(), &w->t.nic_drv);
}

static int probe_dsa(struct world *w)
{
	return accel_probe(w->t.g, DSA_BDF, &dsa_layout, queues(), &w->t.dsa_drv);
}

static int probe_memdsa(struct world *w)
{
	return accel_probe(w->t.g, MEMDSA_BDF, &memdsa_layout, queues(), &w->t.mem_drv);
}

static int move_queue(struct world *w)
{
	struct cpumask m = cpumask_of(1); /* queue 0 is spread onto CPU 0 */

	return irq_set_affinity(w->t.g, (unsigned)nic_queue_irq(&w->t.nic_drv, 0), &m);
}

static int remove_all(struct world *w)
{
	remove_drivers(w);
	return 0;
}

struct op {
	const char *name;
	int (*setup)(struct world *w); /* before the injection; NULL: a booted guest */
	int (*run)(struct world *w);
	bool pv_only; /* memory IMS needs the pvir service */
};

static int setup_nic(struct world *w)
{
	return probe_nic(w);
}

static int setup_all(struct world *w)
{
	int err = probe_nic(w);

	if (!err)
		err = probe_dsa(w);
	if (!err && w->d == HCALL)
		err = probe_memdsa(w);
	return err;
}

/*
 * 40 routes after the IOAPIC's 24: the VMM's route table is full at its first
 * room (64 handles), so that the NIC's first vector grows it.
 */
static int setup_routes_full(struct world *w)
{
	return accel_probe(w->t.g, DSA_BDF, &dsa_layout, 64 - VM_IOAPIC_ROUTES, &w->t.dsa_drv);
}

static const struct op ops[] = {
    {"boot", NULL, boot, false},
    {"msix", NULL, probe_nic, false},
    {"ims-device", NULL, probe_dsa, false},
    {"ims-memory", NULL, probe_memdsa, true},
    {"affinity", setup_nic, move_queue, false},
    {"free", setup_all, remove_all, false},
    {"routes-grow", setup_routes_full, probe_nic, false},
};

/* ---- the checks ------------------------------------------------------------------ */

static uint64_t all_handled(const struct world *w)
{
	return handled_sum(w->t.nic_drv.handled, w->t.nic_drv.queues) +
	       handled_sum(w->t.dsa_drv.handled, w->t.dsa_drv.entries) +
	       handled_sum(w->t.mem_drv.handled, w->t.mem_drv.entries);
}

static unsigned raise_all(struct world *w)
{
	enum pci_irq_result r;
	unsigned sent = 0;

	for (unsigned q = 0; w->t.nic_drv.handled && q < w->t.nic_drv.queues; q++)
		sent += !pci_func_raise_msix(w->t.nic, q, &r);
	for (unsigned e = 0; w->t.dsa_drv.handled && e < w->t.dsa_drv.entries; e++)
		sent += !pci_func_raise_ims(w->t.dsa, e, &r);
	for (unsigned e = 0; w->t.mem_drv.handled && e < w->t.mem_drv.entries; e++)
		sent += !pci_func_raise_ims(w->t.memdsa, e, &r);
	return sent;
}

/*
 * A failure the operation absorbed (it returned 0): every interrupt the guest
 * set up reaches its handler, unless an emulating VMM counted a write it
 * could not honour, which the guest never learns of.
 */
static void assert_absorbed(struct world *w, uint64_t emul_errors_before)
{
	uint64_t before = all_handled(w);
	unsigned sent = raise_all(w);

	tenant_run_all(&w->t);
	if (all_handled(w) - before == sent)
		return;
	assert_int_not_equal(w->d, HCALL);
	assert_true(vm_vmm_stats(w->t.vm)->emul_errors > emul_errors_before);
}

/* After the drivers go the host holds nothing for the VM. */
static void assert_nothing_held(struct world *w)
{
	remove_drivers(w);
	assert_int_equal(vm_irte_used(w->t.vm), 0);
	assert_int_equal(vm_vmm_stats(w->t.vm)->irqfds_held, 0);
	if (w->t.g) {
		assert_int_equal(guest_virtes_in_use(w->t.g), 0);
		assert_true(guest_check(w->t.g));
	}
}

/* ---- one case: an operation, a design, a kind of failure ---------------------------- */

struct inject_case {
	const struct op *op;
	enum design d;
	enum failpoint fp;
};

/* The Nth call fails. Return: whether the Nth call came (false: the operation is done). */
static bool inject_once(const struct inject_case *c, uint64_t nth)
{
	struct world *w = world_new(c->d, (struct world_opts){0});
	struct snapshot before, after;
	uint64_t emul_errors;
	bool fired;
	int err;

	if (c->op->run != boot)
		assert_int_equal(boot(w), 0);
	if (c->op->setup)
		assert_int_equal(c->op->setup(w), 0);
	before = snap(w);
	emul_errors = vm_vmm_stats(w->t.vm)->emul_errors;
	failpoint_arm(c->fp, nth);
	err = c->op->run(w);
	fired = failpoint_fired(c->fp);
	failpoint_disarm();
	if (!fired)
		assert_int_equal(err, 0);
	assert_true(vm_routes_consistent(w->t.vm)); /* KVM's routes and irqfds, the VMM's */
	if (err) {
		after = snap(w);
		assert_unchanged(&before, &after);
	} else if (w->t.g) {
		if (c->op->run == boot) /* what the guest booted into works */
			assert_int_equal(probe_nic(w), 0);
		assert_absorbed(w, emul_errors);
	}
	assert_nothing_held(w);
	world_free(w);
	return fired;
}

/* N = 1..64, every one; past 64, every N under PVIR_LONG, else a seeded sample of 8. */
static void inject(void **state)
{
	const struct inject_case *c = *state;
	uint64_t seed = 0x9e3779b97f4a7c15u ^ ((uint64_t)c->d << 8 | c->fp);
	uint64_t n = 1, injected = 0;

	while (inject_once(c, n)) {
		injected++;
		if (n < 64 || long_run()) {
			n++;
			continue;
		}
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		n += 1 + (seed >> 58); /* a step of 1..64 */
		if (n > 64 * 16)
			break;
	}
	print_message("# %s/%s/%s: %llu failures injected, done at N = %llu\n", c->op->name,
		      design_names[c->d], failpoint_name(c->fp), (unsigned long long)injected,
		      (unsigned long long)n);
}

/*
 * The host cannot read the table at all while the NIC's vectors go: both
 * tries of the teardown fail, and the four vIRTEs stay stale, held by the
 * host and kept out of the guest's pool. The next free reaps them first.
 */
static void stale_virtes_are_reaped(void **state)
{
	struct world *w = world_new(HCALL, (struct world_opts){0});

	(void)state;
	assert_int_equal(boot(w), 0);
	/* 4 of the NIC's 16 vectors, whatever the size: the stale ones keep theirs */
	assert_int_equal(nic_probe(w->t.g, NIC_BDF, 4, 4, &w->t.nic_drv), 0);
	failpoint_arm_sticky(FAILPOINT_GUEST_READ, 1);
	nic_remove(&w->t.nic_drv);
	w->t.nic_drv = (struct nic_driver){0};
	assert_true(failpoint_calls(FAILPOINT_GUEST_READ) >= 2);
	failpoint_disarm();
	assert_int_equal(vm_irte_used(w->t.vm), 4);
	assert_int_equal(guest_virtes_in_use(w->t.g), 4);
	assert_true(guest_check(w->t.g));
	/* new indices and vectors: the stale ones are not reused */
	assert_int_equal(nic_probe(w->t.g, NIC_BDF, 4, 4, &w->t.nic_drv), 0);
	assert_int_equal(vm_irte_used(w->t.vm), 8);
	assert_nothing_held(w); /* the free reaps them */
	world_free(w);
}

#define CASES (sizeof(ops) / sizeof(ops[0]) * 3 * FAILPOINT_COUNT)

int main(void)
{
	static struct inject_case cases[CASES];
	static char names[CASES][64];
	struct CMUnitTest tests[CASES + 1];
	size_t n = 0;

	for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++)
		for (unsigned d = TRAP; d <= HCALL; d++)
			for (unsigned fp = 0; fp < FAILPOINT_COUNT; fp++) {
				if (ops[o].pv_only && d != HCALL)
					continue;
				cases[n] = (struct inject_case){&ops[o], (enum design)d,
								(enum failpoint)fp};
				snprintf(names[n], sizeof(names[n]), "inject/%s/%s/%s", ops[o].name,
					 design_names[d], failpoint_name((enum failpoint)fp));
				tests[n] = (struct CMUnitTest)TEST_ROW(names[n], inject, &cases[n]);
				n++;
			}
	tests[n++] = (struct CMUnitTest)TEST(stale_virtes_are_reaped);
	return _cmocka_run_group_tests("inject", tests, n, NULL, NULL);
}
