// SPDX-License-Identifier: MIT
/*
 * pvir bench: what the simulator costs, measured in this process and reported as ratios
 * (machines are shared and noisy; a ratio of two loops run side by side
 * survives that far better than a time). Each figure is the best of three
 * timed loops, in wall nanoseconds per operation:
 *
 *   bare      one 16-byte load and one `lock or` on plain memory: what any
 *             interrupt costs a CPU at the least;
 *   protocol  the operations the posted-interrupt protocol itself needs, on
 *             plain memory: the IRTE's 16-byte load, the PIR fetch-or, the ON
 *             test-and-set, and the notification's ON clear and PIR harvest
 *             (each word read, and exchanged only if it is not zero, as
 *             KVM's __kvm_apic_update_irr() does);
 *   hot path  one interrupt through the whole model: the device raises an
 *             MSI-X entry whose IRTE posts to a running vCPU, the IR unit
 *             translates and posts, the vCPU syncs its PIR into its vAPIC,
 *             the guest's handler runs (hcall design, stock kernel), at 8
 *             and at 256 pCPUs;
 *   active IRTEs  the same path for an IMS accelerator whose 64 or 65,535
 *             entries each hold an active, posted IRTE (one VM of 330
 *             vCPUs holds up to 65,000, a second the rest; tuned kernel:
 *             no route cap), two ways: one entry
 *             raised over and over (what the model does per interrupt,
 *             whatever the table holds), and every entry raised in turn
 *             (adding what the larger working set costs the caches, as it
 *             would a real host);
 *   setup     per design, sim_run's wall cost per interrupt set up: a VM
 *             activates 2,048 MSI-X vectors (one function each 2,048) and
 *             runs no traffic, so the run is the setup;
 *   engine    sim_run's marginal wall cost per delivered interrupt: the
 *             default scenario, its traffic 200 ms longer, at 100K/s and
 *             2M/s of NIC traffic (the best of three runs each), the
 *             difference in wall time over the difference in deliveries;
 *   scale     (--scale=BIG,BASE) two scenarios' wall cost per delivered
 *             interrupt, each run in a process of its own as `pvir run`
 *             would be: the whole run, and its traffic only (the run less
 *             the same scenario stopped at 1 us, which builds, sets up and
 *             takes down as much), BIG's as a ratio to BASE's; the best of
 *             five, the two scenarios' runs taken in turn.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "pvir/json.h"
#include "options.h"
#include "pvir/guest.h"
#include "pvir/guest_drivers.h"
#include "pvir/host.h"
#include "pvir/pci.h"
#include "pvir/scenario.h"
#include "pvir/sim.h"
#include "pvir/vm.h"
#include "pvir/vmm.h"

#define BENCH_TRIES 3

/* One scenario of --scale: its file, and what its runs cost. */
struct scale_side {
	const char *file;
	struct scenario *sc;
	uint64_t delivered;
	double whole_ns; /* the run, best of SCALE_TRIES */
	double fixed_ns; /* the run stopped at SCALE_FIXED_NS: build, setup, teardown */
};

struct bench_opts {
	bool json;
	uint64_t rounds;	    /* iterations of each timed loop */
	char *scale_arg;	    /* --scale's copy, split at its comma */
	struct scale_side scale[2]; /* BIG, BASE; no files: no --scale */
};

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* ---- the calibration loops ------------------------------------------------------- */

__extension__ typedef unsigned __int128 u128;

static u128 bare_entry[4] __attribute__((aligned(64)));
static uint64_t bare_word[8] __attribute__((aligned(64)));

/* Best of BENCH_TRIES runs of @fn(@n), in ns per iteration. */
static double best_of(uint64_t (*fn)(uint64_t n), uint64_t n)
{
	double best = 0;
	volatile uint64_t sink = 0;

	for (int t = 0; t < BENCH_TRIES; t++) {
		double start = now_ns(), per;

		sink += fn(n);
		per = (now_ns() - start) / (double)n;
		if (t == 0 || per < best)
			best = per;
	}
	(void)sink;
	return best;
}

static uint64_t bare_loop(uint64_t n)
{
	uint64_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		u128 e;

		__atomic_load(&bare_entry[i & 3], &e, __ATOMIC_ACQUIRE);
		acc += (uint64_t)e;
		__atomic_fetch_or(&bare_word[0], UINT64_C(1) << (i & 63), __ATOMIC_SEQ_CST);
	}
	return acc;
}

/* An IRTE, and a descriptor's PIR (4 words) and control word, on plain memory. */
static u128 proto_irte[4] __attribute__((aligned(64)));
static uint64_t proto_pir[4] __attribute__((aligned(64)));
static uint64_t proto_control;

static uint64_t protocol_loop(uint64_t n)
{
	uint64_t taken = 0;

	for (uint64_t i = 0; i < n; i++) {
		unsigned v = 0x20 + (unsigned)(i % 200);
		uint64_t on = UINT64_C(1) << 0;
		u128 irte;

		/* the IOMMU: the IRTE load, PIR fetch-or, then ON test-and-set */
		__atomic_load(&proto_irte[i & 3], &irte, __ATOMIC_ACQUIRE);
		taken += (uint64_t)irte;
		__atomic_fetch_or(&proto_pir[v / 64], UINT64_C(1) << (v % 64), __ATOMIC_SEQ_CST);
		if (!(__atomic_fetch_or(&proto_control, on, __ATOMIC_SEQ_CST) & on)) {
			/* the notification: ON clear, then the PIR harvested as KVM does it */
			__atomic_fetch_and(&proto_control, ~on, __ATOMIC_SEQ_CST);
			for (unsigned w = 0; w < 4; w++)
				if (__atomic_load_n(&proto_pir[w], __ATOMIC_ACQUIRE))
					taken += (uint64_t)__builtin_popcountll(__atomic_exchange_n(
					    &proto_pir[w], 0, __ATOMIC_SEQ_CST));
		}
	}
	return taken;
}

/* ---- the hot path ----------------------------------------------------------------------- */

struct hot {
	struct host *h;
	struct pci_func *nic;
	struct vm *vm;
	struct guest *g;
	struct nic_driver drv;
};

static int hot_new(struct hot *x, unsigned pcpus)
{
	struct host_config hc = host_default_config();
	struct pci_func_config nic = {.rid = 0x0300,
				      .bars = {[0] = {.size = 0x4000}},
				      .msix_vectors = 1,
				      .msix_pba_offset = 0x2000};
	struct vm_config vc = {.name = "bench",
			       .vcpus = 1,
			       .mem_size = 4u << 20,
			       .irte_quota = 64,
			       .pvir_service = true};
	struct guest_config gc = {.pvir_driver = true};
	int err;

	hc.pcpus = pcpus;
	*x = (struct hot){0};
	err = host_create(&hc, &x->h);
	if (!err)
		err = host_add_device(x->h, &nic, &x->nic);
	if (!err)
		err = vm_create(x->h, &vc, &x->vm);
	if (!err)
		err = vm_assign_device(x->vm, x->nic, 0x0020, NULL);
	if (!err)
		err = guest_boot(x->vm, &gc, &x->g);
	if (!err)
		err = nic_probe(x->g, 0x0020, 1, 1, &x->drv);
	return err;
}

static void hot_free(struct hot *x)
{
	if (x->drv.handled)
		nic_remove(&x->drv);
	guest_free(x->g);
	vm_free(x->vm);
	host_free(x->h);
}

static struct hot *hot_now; /* the loop's world: best_of() takes a plain function */

static uint64_t hot_loop(uint64_t n)
{
	enum pci_irq_result r;
	uint64_t handled = 0;

	for (uint64_t i = 0; i < n; i++) {
		(void)!pci_func_raise_msix(hot_now->nic, 0, &r);
		handled += guest_handle_interrupts(hot_now->g, 0);
	}
	return handled;
}

/* ns per interrupt at @pcpus; each must have reached its handler. */
static int hot_path(unsigned pcpus, uint64_t rounds, double *ret)
{
	struct hot x;
	int err = hot_new(&x, pcpus);

	if (!err) {
		hot_now = &x;
		*ret = best_of(hot_loop, rounds);
		if (x.drv.handled[0] != BENCH_TRIES * rounds)
			err = -EIO; /* an interrupt lost would make the figure a lie */
		hot_now = NULL;
	}
	hot_free(&x);
	return err;
}

/* ---- the hot path at 64 and 65,535 active IRTEs ------------------------------------------------ */

#define WIDE_VCPUS 330	 /* 65,000 vectors at 203 per vCPU */
#define WIDE_MAX   65535 /* the whole IR table but handle 0 */
#define WIDE_VM	   65000 /* a guest has fewer irqs than that (legacy ones are taken): */
			 /* a second VM holds the rest */

/* One VM of @vcpus whose IMS accelerator (requester-id @rid) has @entries, all active. */
struct tenant {
	struct pci_func *accel;
	struct vm *vm;
	struct guest *g;
	struct accel_driver drv;
};

static int tenant_new(struct host *h, struct tenant *t, uint16_t rid, unsigned vcpus,
		      unsigned entries)
{
	struct pci_func_config dev = {
	    .rid = rid,
	    .ims_storage = IMS_DEVICE,
	    .ims_entries = entries,
	    .bars = {[0] = {.size = pow2_at_least((uint64_t)entries * IMS_SLOT_SIZE)}}};
	struct vm_config vc = {.name = "wide",
			       .vcpus = vcpus,
			       .mem_size = 16u << 20,
			       .irte_quota = WIDE_MAX,
			       .pvir_service = true};
	struct guest_config gc = {.pvir_driver = true};
	struct guest_ims_layout layout = {IMS_DEVICE, 0, 0, entries};
	int err = host_add_device(h, &dev, &t->accel);

	if (!err)
		err = vm_create(h, &vc, &t->vm);
	if (!err)
		err = vm_assign_device(t->vm, t->accel, 0x0028, NULL);
	if (!err)
		err = guest_boot(t->vm, &gc, &t->g);
	if (!err)
		err = accel_probe(t->g, 0x0028, &layout, entries, &t->drv);
	return err;
}

static void tenant_free(struct tenant *t)
{
	if (t->drv.handled)
		accel_remove(&t->drv);
	guest_free(t->g);
	vm_free(t->vm);
}

struct wide {
	struct host *h;
	struct tenant a, filler; /* a's entries are raised; the filler's only hold IRTEs */
	unsigned *cpu;		 /* each of a's entries' vCPU */
	unsigned entries;	 /* of a */
	bool all;		 /* raise every entry of a in turn, not entry 0 alone */
	uint64_t next;		 /* the next entry, when all */
};

/* @irtes active, posted IRTEs in all: a holds up to WIDE_VM of them, the filler the rest. */
static int wide_new(struct wide *x, unsigned irtes)
{
	struct host_config hc = host_default_config();
	int err;

	hc.pcpus = 512;
	hc.kernel = HOST_KERNEL_TUNED; /* no cap of 4,096 routes per VM */
	*x = (struct wide){.entries = irtes < WIDE_VM ? irtes : WIDE_VM};
	x->cpu = calloc(x->entries, sizeof(*x->cpu));
	err = x->cpu ? host_create(&hc, &x->h) : -ENOMEM;
	if (!err)
		err = tenant_new(x->h, &x->a, 0x6a00, WIDE_VCPUS, x->entries);
	if (!err && irtes > x->entries)
		err = tenant_new(x->h, &x->filler, 0x6b00, 4, irtes - x->entries);
	for (unsigned e = 0; !err && e < x->entries; e++) {
		int cpu = irq_effective_cpu(x->a.g, (unsigned)accel_entry_irq(&x->a.drv, e));

		if (cpu < 0)
			err = -EIO;
		else
			x->cpu[e] = (unsigned)cpu;
	}
	return err;
}

static void wide_free(struct wide *x)
{
	tenant_free(&x->filler);
	tenant_free(&x->a);
	host_free(x->h);
	free(x->cpu);
}

static struct wide *wide_now;

static uint64_t wide_loop(uint64_t n)
{
	struct wide *x = wide_now;
	enum pci_irq_result r;
	uint64_t handled = 0;

	for (uint64_t i = 0; i < n; i++) {
		unsigned e = x->all ? (unsigned)(x->next++ % x->entries) : 0;

		(void)!pci_func_raise_ims(x->a.accel, e, &r);
		handled += guest_handle_interrupts(x->a.g, x->cpu[e]);
	}
	return handled;
}

/* ns per interrupt with @entries active IRTEs: one entry raised (@all false), or each in turn. */
static int wide_path(unsigned entries, bool all, uint64_t rounds, double *ret)
{
	struct wide x;
	int err = wide_new(&x, entries);
	uint64_t sum = 0;

	if (!err) {
		x.all = all;
		wide_now = &x;
		*ret = best_of(wide_loop, rounds);
		for (unsigned e = 0; e < x.entries; e++)
			sum += x.a.drv.handled[e];
		if (sum != BENCH_TRIES * rounds)
			err = -EIO; /* an interrupt lost would make the figure a lie */
		wide_now = NULL;
	}
	wide_free(&x);
	return err;
}

/* ---- the engine ---------------------------------------------------------------------------- */

/*
 * The default scenario's traffic is stretched to ENGINE_TRAFFIC_NS so that the difference
 * between the two rates is some 400,000 deliveries, well above the noise of setting up.
 */
#define ENGINE_TRAFFIC_NS (200ull * 1000 * 1000)

/* Wall ns and deliveries of the default scenario, stretched, with NIC traffic at @rate/s. */
static int engine_run(uint64_t rate, double *ret_ns, uint64_t *ret_delivered)
{
	char err[SC_ERR_MAX];
	struct scenario *sc = NULL;
	struct sim_report r;
	const char *text = scenario_default_text();
	double start;
	int rc = scenario_parse(text, strlen(text), "default", &sc, err, sizeof(err));

	if (rc)
		return rc;
	sc->duration = ENGINE_TRAFFIC_NS + sc->duration;
	for (unsigned i = 0; i < sc->nops; i++)
		if (sc->ops[i].kind == OP_TRAFFIC) {
			sc->ops[i].rate = rate;
			sc->ops[i].until += ENGINE_TRAFFIC_NS;
		}
	start = now_ns();
	rc = sim_run(sc, SIM_DESIGN_HCALL, NULL, &r);
	*ret_ns = now_ns() - start;
	if (!rc) {
		*ret_delivered = r.irq.delivered;
		sim_report_done(&r);
	}
	scenario_free(sc);
	return rc;
}

/* The least wall time of BENCH_TRIES runs at @rate, as the loops take their best. */
static int engine_best(uint64_t rate, double *ret_ns, uint64_t *ret_delivered)
{
	int err = 0;

	for (int t = 0; !err && t < BENCH_TRIES; t++) {
		double ns;

		err = engine_run(rate, &ns, ret_delivered);
		if (!err && (t == 0 || ns < *ret_ns))
			*ret_ns = ns;
	}
	return err;
}

static int engine_marginal(double *ret)
{
	double lo_ns = 0, hi_ns = 0;
	uint64_t lo = 0, hi = 0;
	int err = engine_best(100000, &lo_ns, &lo);

	if (!err)
		err = engine_best(2000000, &hi_ns, &hi);
	if (!err && hi <= lo)
		err = -EIO;
	if (!err)
		*ret = (hi_ns - lo_ns) / (double)(hi - lo);
	return err;
}

/* ---- setup ------------------------------------------------------------------------------------ */

#define SETUP_VECTORS 2048

static const char setup_text[] =
    "duration: 1ms\nhost: {pcpus: 16}\nvms:\n"
    "  - name: a\n    vcpus: 16\n    irte_quota: 4096\n    devices:\n"
    "      - {name: n, bdf: \"03:00.0\", guest_bdf: \"00:04.0\", msix: 2048}\n"
    "workload:\n  - {at: 0ms, do: activate, dev: a/n, count: 2048}\n";

/* Wall ns per interrupt set up under @d, best of BENCH_TRIES. */
static int setup_cost(enum sim_design d, double *ret)
{
	char err[SC_ERR_MAX];
	struct scenario *sc = NULL;
	int rc = scenario_parse(setup_text, strlen(setup_text), "bench", &sc, err, sizeof(err));

	for (int t = 0; !rc && t < BENCH_TRIES; t++) {
		struct sim_report r;
		double start = now_ns(), per;

		rc = sim_run(sc, d, NULL, &r);
		per = (now_ns() - start) / SETUP_VECTORS;
		if (!rc && (r.nops != 1 || r.ops[0].err))
			rc = -EIO; /* the activation must have succeeded */
		if (!rc)
			sim_report_done(&r);
		if (!rc && (t == 0 || per < *ret))
			*ret = per;
	}
	scenario_free(sc);
	return rc;
}

/* ---- scale ---------------------------------------------------------------------------------- */

#define SCALE_FIXED_NS 1000 /* 1 us: the workload starts, almost no traffic runs */
#define SCALE_TRIES    5    /* of each side, in turn */

/*
 * @sc's sim_run, stopped at @duration, in a child process: it faults its memory
 * in as a fresh `pvir run` does, where a second run in this process would find
 * the first one's freed heap. The child asks for the heap's huge pages itself,
 * as `pvir run` does, after the parent's heap: a huge page the parent had
 * touched would be copied to the child 4 KiB at a time. Return: 0 with the
 * wall time of the child's whole life and its deliveries, -EIO if the run was
 * not sound, or a fork/pipe error.
 */
static int child_run(struct scenario *sc, uint64_t duration, double *ret_ns,
		     uint64_t *ret_delivered)
{
	uint64_t delivered = 0;
	int fd[2], status = 0;
	double start;
	ssize_t got;
	pid_t pid;

	if (pipe(fd))
		return -errno;
	start = now_ns();
	pid = fork();
	if (pid == 0) {
		struct sim_report r;
		bool sound;

		close(fd[0]);
		cli_heap_for(sc);
		sc->duration = duration; /* the child's copy */
		sound = !sim_run(sc, SIM_DESIGN_HCALL, NULL, &r) && !r.nviolations;
		/* an unsound run sends nothing: it is not taken for one that delivered nothing */
		if (!sound)
			_exit(1);
		delivered = r.irq.delivered;
		_exit(write(fd[1], &delivered, sizeof(delivered)) == sizeof(delivered) ? 0 : 1);
	}
	close(fd[1]);
	if (pid < 0) {
		close(fd[0]);
		return -EAGAIN;
	}
	got = read(fd[0], &delivered, sizeof(delivered));
	close(fd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) ||
	    got != sizeof(delivered))
		return -EIO;
	*ret_ns = now_ns() - start;
	*ret_delivered = delivered;
	return 0;
}

/* One try of @x: its run whole and stopped at SCALE_FIXED_NS, the best of each kept. */
static int scale_try(struct scale_side *x, bool first)
{
	uint64_t ignored;
	double ns = 0, fixed = 0;
	int err = child_run(x->sc, x->sc->duration, &ns, &x->delivered);

	if (!err)
		err = child_run(x->sc, SCALE_FIXED_NS, &fixed, &ignored);
	if (err)
		return err;
	if (first || ns < x->whole_ns)
		x->whole_ns = ns;
	if (first || fixed < x->fixed_ns)
		x->fixed_ns = fixed;
	return 0;
}

static double per_delivered(const struct scale_side *x, bool traffic_only)
{
	double ns = traffic_only ? x->whole_ns - x->fixed_ns : x->whole_ns;

	return ns > 0 ? ns / (double)x->delivered : 0;
}

/* ---- the report ------------------------------------------------------------------------------ */

struct figures {
	double bare, protocol, hot8, hot256, engine;
	double one64, one64k, all64, all64k; /* active IRTEs: one entry raised, or all in turn */
	double setup[SIM_DESIGN_COUNT];
};

static void print_text(FILE *out, const struct figures *f, uint64_t rounds)
{
	fprintf(out, "pvir bench: wall ns per operation, best of %d loops of %llu, one process\n",
		BENCH_TRIES, (unsigned long long)rounds);
	fprintf(out, "(read the ratios: they are measured side by side)\n\n");
	fprintf(out, "%-40s %10s %12s %10s\n", "", "ns", "x protocol", "x bare");
	fprintf(out, "%-40s %10.1f %12s %10.2f\n", "bare: 16-byte load + lock or", f->bare, "",
		1.0);
	fprintf(out, "%-40s %10.1f %12.2f %10.2f\n", "protocol: post + harvest, plain memory",
		f->protocol, 1.0, f->protocol / f->bare);
	fprintf(out, "%-40s %10.1f %12.2f %10.2f\n", "hot path, 8 pCPUs", f->hot8,
		f->hot8 / f->protocol, f->hot8 / f->bare);
	fprintf(out, "%-40s %10.1f %12.2f %10.2f\n", "hot path, 256 pCPUs", f->hot256,
		f->hot256 / f->protocol, f->hot256 / f->bare);
	fprintf(out, "%-40s %10.1f %12.2f %10.2f\n", "engine, per delivered interrupt", f->engine,
		f->engine / f->protocol, f->engine / f->bare);
	fprintf(out, "\n256 pCPUs / 8 pCPUs: %.2fx\n", f->hot256 / f->hot8);
	fprintf(out, "\nactive IRTEs (IMS, %d vCPUs)                64     65,535   ratio\n",
		WIDE_VCPUS);
	fprintf(out, "  one entry raised, ns             %10.1f %10.1f %7.2fx\n", f->one64,
		f->one64k, f->one64k / f->one64);
	fprintf(out, "  every entry in turn, ns          %10.1f %10.1f %7.2fx\n", f->all64,
		f->all64k, f->all64k / f->all64);
	fprintf(out, "\nsetup, wall ns per interrupt (%d MSI-X vectors), ratio to hcall\n",
		SETUP_VECTORS);
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		fprintf(out, "  %-10s %10.0f %8.2fx\n", sim_design_name((enum sim_design)d),
			f->setup[d], f->setup[d] / f->setup[SIM_DESIGN_HCALL]);
}

static void print_scale_text(FILE *out, const struct scale_side *s)
{
	double ratio[2];

	for (int k = 0; k < 2; k++)
		ratio[k] = per_delivered(&s[1], k) > 0
			       ? per_delivered(&s[0], k) / per_delivered(&s[1], k)
			       : 0;
	fprintf(out, "\nscale: wall ns per delivered interrupt, each run a process of its own\n");
	fprintf(out, "(traffic only: the run less the same scenario stopped at 1 us)\n");
	fprintf(out, "  %-32s %10s %10s %13s\n", "", "delivered", "whole run", "traffic only");
	for (int i = 1; i >= 0; i--)
		fprintf(out, "  %-32s %10llu %10.1f %13.1f\n", s[i].file,
			(unsigned long long)s[i].delivered, per_delivered(&s[i], false),
			per_delivered(&s[i], true));
	fprintf(out, "  %-32s %10s %9.2fx %12.2fx\n", "ratio", "", ratio[0], ratio[1]);
}

static void json_ns(struct json *j, const char *key, double ns)
{
	/* picoseconds: whole numbers, as every figure the reports print */
	json_uint(j, key, (uint64_t)(ns * 1000.0 + 0.5));
}

static void json_scale_side(struct json *j, const char *key, const struct scale_side *x)
{
	json_object_begin(j, key);
	json_string(j, "file", x->file);
	json_uint(j, "delivered", x->delivered);
	json_ns(j, "whole_ps_per_delivered", per_delivered(x, false));
	json_ns(j, "traffic_ps_per_delivered", per_delivered(x, true));
	json_object_end(j);
}

static void print_json(FILE *out, const struct figures *f, const struct bench_opts *o)
{
	struct json j;
	uint64_t rounds = o->rounds;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_uint(&j, "rounds", rounds);
	json_uint(&j, "tries", BENCH_TRIES);
	json_object_begin(&j, "ps_per_op");
	json_ns(&j, "bare", f->bare);
	json_ns(&j, "protocol", f->protocol);
	json_ns(&j, "hot_path_8_pcpus", f->hot8);
	json_ns(&j, "hot_path_256_pcpus", f->hot256);
	json_ns(&j, "engine_per_delivered", f->engine);
	json_ns(&j, "one_of_64_irtes", f->one64);
	json_ns(&j, "one_of_65535_irtes", f->one64k);
	json_ns(&j, "each_of_64_irtes", f->all64);
	json_ns(&j, "each_of_65535_irtes", f->all64k);
	json_object_end(&j);
	json_object_begin(&j, "setup_ps_per_interrupt");
	for (unsigned d = 0; d < SIM_DESIGN_COUNT; d++)
		json_ns(&j, sim_design_name((enum sim_design)d), f->setup[d]);
	json_object_end(&j);
	if (o->scale[0].sc) {
		json_object_begin(&j, "scale");
		json_scale_side(&j, "big", &o->scale[0]);
		json_scale_side(&j, "base", &o->scale[1]);
		json_object_end(&j);
	}
	json_object_end(&j);
	json_finish(&j);
}

enum bench_option {
	OPT_JSON = 256,
	OPT_ROUNDS,
	OPT_SCALE,
};

static const struct option bench_longopts[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"rounds", required_argument, NULL, OPT_ROUNDS},
    {"scale", required_argument, NULL, OPT_SCALE},
    {0},
};

static const struct cli_command bench_command = {
    .name = "bench",
    .synopsis = "pvir bench [--json] [--rounds=N] [--scale=BIG.yaml,BASE.yaml]",
    .help = "Times the simulator's hot paths and its engine beside calibration loops\n"
	    "run in the same process, and prints each as a ratio: machines are shared\n"
	    "and noisy, and a ratio of two loops run side by side survives that.\n"
	    "\n"
	    "  --json        the figures as one JSON object\n"
	    "  --rounds=N    iterations of each timed loop (1..1000000000, default 1000000)\n"
	    "  --scale=BIG.yaml,BASE.yaml\n"
	    "                also time both scenarios (under hcall, each run a process\n"
	    "                of its own) per delivered interrupt, the whole run and its\n"
	    "                traffic only, BIG's as a ratio to BASE's\n"
	    "  -h, --help    this text\n",
    .longopts = bench_longopts,
};

static int parse_rounds(const char *arg, struct bench_opts *o, FILE *err)
{
	char *end;

	errno = 0;
	o->rounds = strtoull(arg, &end, 10);
	if (!*arg || *arg == '-' || *end || errno || !o->rounds ||
	    o->rounds > UINT64_C(1000000000)) {
		fprintf(err,
			"pvir bench: --rounds '%s' is not a whole number from 1 to 1000000000\n",
			arg);
		return -EINVAL;
	}
	return 0;
}

/* BIG.yaml,BASE.yaml: both scenarios, loaded; Return: 0 or -EINVAL (said why). */
static int parse_scale(const char *arg, struct bench_opts *o, FILE *err)
{
	char *comma;

	o->scale_arg = strdup(arg);
	if (!o->scale_arg) {
		fprintf(err, "pvir bench: out of memory\n");
		return -EINVAL;
	}
	comma = strchr(o->scale_arg, ',');
	if (!comma || comma == o->scale_arg || !comma[1] || strchr(comma + 1, ',')) {
		fprintf(err,
			"pvir bench: --scale '%s' is not two scenario files, BIG.yaml,BASE.yaml\n",
			arg);
		return -EINVAL;
	}
	*comma = '\0';
	o->scale[0].file = o->scale_arg;
	o->scale[1].file = comma + 1;
	for (int i = 0; i < 2; i++)
		if (cli_load_scenario(bench_command.name, o->scale[i].file, &o->scale[i].sc, err))
			return -EINVAL;
	return 0;
}

static void bench_opts_free(struct bench_opts *o)
{
	for (int i = 0; i < 2; i++)
		scenario_free(o->scale[i].sc);
	free(o->scale_arg);
}

/* Return: 0 to run, CLI_OPT_HELP (help printed), or -EINVAL (said why). */
static int parse(int argc, char **argv, struct bench_opts *o, FILE *out, FILE *err)
{
	bool rounds_given = false, scale_given = false;
	int opt;

	cli_options_begin();
	while ((opt = cli_option(&bench_command, argc, argv, out, err)) != CLI_OPT_END) {
		if (opt == CLI_OPT_HELP)
			return CLI_OPT_HELP;
		if (opt == CLI_OPT_ERROR)
			return -EINVAL;
		if (opt == OPT_JSON)
			o->json = true;
		else if (opt == OPT_SCALE
			     ? !cli_once(&bench_command, "--scale", &scale_given, err) ||
				   parse_scale(optarg, o, err)
			     : !cli_once(&bench_command, "--rounds", &rounds_given, err) ||
				   parse_rounds(optarg, o, err))
			return -EINVAL;
	}
	if (optind < argc) {
		fprintf(err, "pvir bench: takes no operands, not '%s'\n", argv[optind]);
		cli_usage(&bench_command, err);
		return -EINVAL;
	}
	return 0;
}

/*
 * The scenarios of --scale, each timed as its own processes, best of SCALE_TRIES.
 * Their tries alternate (BIG, BASE, BIG, ...): on a shared machine the neighbours
 * come and go, and both sides then meet the same ones. Return: a CLI exit status.
 */
static int bench_scale(struct bench_opts *o, FILE *err)
{
	for (int t = 0; t < SCALE_TRIES && o->scale[0].sc; t++)
		for (int i = 0; i < 2; i++) {
			struct scale_side *x = &o->scale[i];
			int rc = scale_try(x, t == 0);

			if (rc) {
				fprintf(
				    err,
				    "pvir bench: %s did not run soundly (%s): pvir run says why\n",
				    x->file, strerror(-rc));
				return CLI_EXIT_VIOLATION;
			}
			if (!x->delivered) {
				fprintf(
				    err,
				    "pvir bench: %s delivers no interrupts: nothing to divide by\n",
				    x->file);
				return CLI_EXIT_USAGE;
			}
		}
	return CLI_EXIT_OK;
}

/* Every figure into @f, --scale's first (it fails soonest); Return: a CLI exit status. */
static int bench_all(struct figures *f, struct bench_opts *o, FILE *err)
{
	int rc = bench_scale(o, err);

	if (rc)
		return rc;
	f->bare = best_of(bare_loop, o->rounds);
	f->protocol = best_of(protocol_loop, o->rounds);
	rc = hot_path(8, o->rounds, &f->hot8);
	if (!rc)
		rc = hot_path(256, o->rounds, &f->hot256);
	if (!rc)
		rc = wide_path(64, false, o->rounds, &f->one64);
	if (!rc)
		rc = wide_path(WIDE_MAX, false, o->rounds, &f->one64k);
	if (!rc)
		rc = wide_path(64, true, o->rounds, &f->all64);
	if (!rc)
		rc = wide_path(WIDE_MAX, true, o->rounds, &f->all64k);
	if (!rc)
		rc = engine_marginal(&f->engine);
	for (unsigned d = 0; !rc && d < SIM_DESIGN_COUNT; d++)
		rc = setup_cost((enum sim_design)d, &f->setup[d]);
	if (rc) {
		fprintf(err, "pvir bench: the model failed under measurement: %s\n", strerror(-rc));
		return CLI_EXIT_VIOLATION;
	}
	return CLI_EXIT_OK;
}

int cli_bench(int argc, char **argv, FILE *out, FILE *err)
{
	struct bench_opts o = {.rounds = 1000000};
	struct figures f = {0};
	int rc = parse(argc, argv, &o, out, err);

	if (rc) {
		bench_opts_free(&o);
		return rc == CLI_OPT_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	rc = bench_all(&f, &o, err);
	if (!rc) {
		if (o.json)
			print_json(out, &f, &o);
		else
			print_text(out, &f, o.rounds);
		if (!o.json && o.scale[0].sc)
			print_scale_text(out, o.scale);
	}
	bench_opts_free(&o);
	return rc;
}
