// SPDX-License-Identifier: MIT
/*
 * The host machine: boot (memory, IR unit, IR driver), the path of a device
 * interrupt (IR unit -> APIC bus -> pCPU), the CPU's posted-interrupt
 * processing, KVM-style descriptor maintenance across vCPU scheduling, and
 * host_irq, the one way any design makes a device interrupt reach a vCPU.
 *
 * Host memory layout (bytes):
 *   0x0000_0000  wait-descriptor status word
 *   0x0000_1000  invalidation queue (one page)
 *   0x0010_0000  IR table (up to 1 MiB)
 *   0x0020_0000  posted-interrupt descriptors, 64 bytes each, up to 0x0080_0000
 *   0x0080_0000  AMD-Vi: device table (2 MiB, every requester-id)
 *   0x00a0_0000  AMD-Vi: command buffer, event log, GA log, completion word
 *   0x00a1_0000  AMD-Vi: interrupt tables, one per device (up to 2 MiB)
 *   0x0100_0000  AMD-Vi: vAPIC backing pages, 4 KiB each, to the end
 * Memory is allocated as it is touched: a VT-d host never touches the AMD-Vi part.
 */
#include "pvir/host.h"

#include <assert.h>
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/amdvi_driver.h"
#include "pvir/ir_driver.h"
#include "pvir/ir_unit.h"
#include "pvir/irte.h"
#include "pvir/pci.h"
#include "pvir/physmem.h"
#include "pvir/pi_desc.h"
#include "pvir/vm.h"
#include "pvir/zmem.h"

#define HOST_MEM_SIZE  (UINT64_C(32) << 20)
#define STATUS_ADDR    0x0
#define QI_BASE	       0x1000
#define IRT_BASE       0x100000
#define PID_BASE       0x200000
#define PID_END	       0x800000
#define AMD_DEV_TABLE  0x800000
#define AMD_CMD	       0xa00000
#define AMD_EVT	       0xa01000
#define AMD_GA_LOG     0xa02000
#define AMD_STORE      0xa03000
#define AMD_TABLES     0xa10000
#define AVIC_BASE      0x1000000
#define AVIC_PAGE_SIZE 4096

/* A message reads @running and the APIC ID beside it: one line per pCPU. */
struct pcpu {
	struct vcpu *running;
	struct lapic apic;
	struct vcpu **wakeup; /* blocked vCPUs whose notifications come here */
	unsigned nwakeup;
	unsigned wakeup_cap;
	struct host_irq *vectors[LAPIC_VECTORS]; /* the host interrupt behind each vector */
	unsigned nvectors;			 /* of them in use */
	unsigned vectors_free_from;		 /* no device vector below it is free */
	struct vcpu *rq_head, *rq_tail;		 /* runnable vCPUs waiting here, in turn */
};

/* A physical function's connection to the host: its messages come in here. */
struct host_port {
	struct host *h;
	struct pci_func *func;
	/* a handle window: its IRTEs, a block reserved when the device came */
	uint32_t win_base, win_count;
	bool *win_used;
};

/* Functions of requester-id @rid that @owner (a VM) holds. */
struct rid_claim {
	uint16_t rid;
	const void *owner;
	unsigned functions;
	unsigned unmediated; /* of them, with storage the VMM cannot trap */
	unsigned direct;     /* of them, with storage in the guest's hands */
};

/*
 * A device message reads lines 0 and 1 and counts in line 2 (the stats), so
 * they stay in cache while a fleet's devices, vCPUs and IRTEs come and go.
 */
struct host {
	alignas(64) struct host_config cfg;
	struct physmem *mem;
	struct ir_unit *ir;
	struct ir_driver *ird;
	struct amdvi_unit *amd;
	struct pcpu *pcpus;
	struct vcpu **pid_owner; /* by (descriptor address - PID_BASE) / PID_SIZE */
	unsigned npids;
	enum host_fault fault;
	host_observer_fn observer;
	void *observer_ctx;
	struct host_landing *landing; /* the message being delivered, if observed */
	alignas(64) struct host_stats stats;
	struct amdvi_driver *amdd;
	struct vcpu **avic_owner; /* by backing page: (page - AVIC_BASE) / AVIC_PAGE_SIZE */
	unsigned navic;
	struct host_port ports[HOST_MAX_DEVICES];
	unsigned ndevices;
	struct rid_claim claims[HOST_MAX_DEVICES];
	unsigned nclaims;
	uint64_t pid_next;
	unsigned nqueued; /* vCPUs waiting in every run queue */
	/* pCPUs by host vectors held: bit i of by_load[n] is set if pCPU i holds n */
	uint64_t *by_load; /* (LAPIC_VECTORS + 1) rows of load_words */
	unsigned load_words;
	unsigned min_load; /* no pCPU holds fewer */
};
_Static_assert(offsetof(struct host, stats) == 128 &&
		   offsetof(struct host, stats.wakeups) + 8 <= 192,
	       "a device message reads two lines of struct host and counts in the third");

/*
 * One host interrupt, as Linux holds it for VFIO: an IRTE from allocation
 * on; a host vector on some pCPU from request_irq() to free_irq(), held
 * even while the IRTE is posted (the irq stays activated underneath); and
 * the IRTE's mode, which KVM's IRQ bypass switches (pi_update_irte).
 */
/* A multi-message MSI's IRTEs: one naturally aligned block, freed with its last interrupt. */
struct irte_block {
	uint32_t base, size;
	unsigned live;
	struct host_port *window; /* its slots are of this function's window */
};

/* Pointers first, then the narrower fields: one per assigned interrupt, 88 bytes. */
struct host_irq {
	struct irte_block *block; /* a vector of a multi-message MSI, or NULL */
	struct host_port *window; /* the IRTE is a slot of this function's window */
	host_irq_handler_fn handler;
	void *handler_ctx;
	struct vcpu *vcpu; /* posted: the target; remapped: whose pCPU it follows, or NULL */
	struct host_irq *next_fallback; /* in vcpu->fallback */
	struct host_irq *next_ga;	/* AMD-Vi, posted: in vcpu->ga_irqs */
	struct msi_msg amd_msg;		/* AMD-Vi: the message naming it */
	uint32_t irte;
	unsigned hpcpu;
	uint16_t rid;
	uint8_t hvector;
	uint8_t vector; /* the guest vector at @vcpu */
	bool requested;
	bool has_vector; /* always while requested, except posted on a `tuned` kernel */
	bool posted;
	bool urgent;
	bool amd; /* its entry is in a device's AMD-Vi table */
};
_Static_assert(sizeof(struct host_irq) <= 88, "a host_irq per interrupt: keep it packed");

struct host_config host_default_config(void)
{
	return (struct host_config){.pcpus = 8,
				    .amd_table = 512,
				    .irte_entries = IR_MAX_ENTRIES,
				    .posting = true,
				    .x2apic = true,
				    .iec_slots = 256,
				    .nfr = 8};
}

static void msi_from_device(void *ctx, const struct msi_msg *msg, uint16_t rid);

/* ---- boot ----------------------------------------------------------------- */

static bool config_valid(const struct host_config *c)
{
	unsigned max_pcpus = c->x2apic ? HOST_MAX_PCPUS : 255; /* xAPIC: 0xff is broadcast */

	return c->kernel < HOST_KERNEL_COUNT && c->pcpus >= 1 && c->pcpus <= max_pcpus &&
	       c->irte_entries >= 2 && c->irte_entries <= IR_MAX_ENTRIES &&
	       (c->iommu == HOST_IOMMU_VTD ||
		(c->iommu == HOST_IOMMU_AMDVI && (c->amd_table == 512 || c->amd_table == 2048)));
}

static bool amd(const struct host *h)
{
	return h->cfg.iommu == HOST_IOMMU_AMDVI;
}

/* Linux's AMD-Vi driver with AVIC guest mode where the host posts (amd_iommu_guest_ir). */
static int boot_amdvi(struct host *h)
{
	struct amdvi_unit_config ucfg = amdvi_unit_default_config();
	struct amdvi_driver_config dcfg = {.dev_table = AMD_DEV_TABLE,
					   .devids = 65536,
					   .cmd_base = AMD_CMD,
					   .evt_base = AMD_EVT,
					   .ga_base = AMD_GA_LOG,
					   .store_addr = AMD_STORE,
					   .tables = AMD_TABLES,
					   .max_devices = HOST_MAX_DEVICES,
					   .table_entries = h->cfg.amd_table,
					   .ga = h->cfg.posting,
					   .vapic = h->cfg.posting,
					   .x2apic = h->cfg.x2apic,
					   .failpoints = true};

	ucfg.ga = h->cfg.posting;
	ucfg.gam = h->cfg.posting;
	ucfg.xt = h->cfg.x2apic;
	h->amd = amdvi_unit_new(h->mem, &ucfg);
	if (!h->amd)
		return -EINVAL;
	return amdvi_driver_new(h->mem, h->amd, &dcfg, &h->amdd);
}

static int boot_iommu(struct host *h)
{
	struct ir_unit_config ucfg = ir_unit_default_config();
	struct ir_driver_config dcfg = {.irt_base = IRT_BASE,
					.entries = h->cfg.irte_entries,
					.qi_base = QI_BASE,
					.status_addr = STATUS_ADDR,
					.x2apic = h->cfg.x2apic,
					.failpoints = true};

	/*
	 * The status word, the invalidation queue and the table share the first
	 * 2 MiB; a full table of 65,536 fills its second half. Advised before
	 * anything is written there, a fleet's table costs one fault, not 256
	 * (on some virtual machines 10 us each); a smaller table leaves no whole
	 * huge page to advise.
	 */
	(void)physmem_prefer_huge_pages(h->mem, 0, IRT_BASE + (uint64_t)dcfg.entries * IRTE_SIZE);
	ucfg.posting = h->cfg.posting;
	ucfg.eim = h->cfg.x2apic;
	if (h->cfg.iec_slots)
		ucfg.iec_slots = h->cfg.iec_slots;
	if (h->cfg.nfr)
		ucfg.nfr = h->cfg.nfr;
	h->ir = ir_unit_new(h->mem, &ucfg);
	if (!h->ir)
		return -EINVAL;
	return ir_driver_new(h->mem, h->ir, &dcfg, &h->ird);
}

int host_create(const struct host_config *cfg, struct host **ret)
{
	struct host *h;
	int err;

	if (!config_valid(cfg))
		return -EINVAL;
	h = calloc_aligned(alignof(struct host), 1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->cfg = *cfg;
	h->mem = physmem_new(HOST_MEM_SIZE);
	h->pcpus = calloc(cfg->pcpus, sizeof(*h->pcpus));
	h->load_words = (cfg->pcpus + 63) / 64;
	h->by_load = calloc((size_t)(LAPIC_VECTORS + 1) * h->load_words, sizeof(*h->by_load));
	if (!h->mem || !h->pcpus || !h->by_load) {
		host_free(h);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < cfg->pcpus; i++) {
		lapic_init(&h->pcpus[i].apic, i);
		bitmap_assign(h->by_load, i, true); /* no vectors held yet */
	}
	h->pid_next = PID_BASE;
	err = amd(h) ? boot_amdvi(h) : boot_iommu(h);
	if (err) {
		host_free(h);
		return err;
	}
	*ret = h;
	return 0;
}

void host_free(struct host *h)
{
	if (!h)
		return;
	for (unsigned i = 0; i < h->ndevices; i++) {
		pci_func_free(h->ports[i].func);
		free(h->ports[i].win_used);
	}
	/* host_irqs belong to the VMs that made them, freed with those */
	for (unsigned i = 0; h->pcpus && i < h->cfg.pcpus; i++)
		free(h->pcpus[i].wakeup);
	ir_driver_free(h->ird);
	ir_unit_free(h->ir);
	amdvi_driver_free(h->amdd);
	amdvi_unit_free(h->amd);
	free(h->avic_owner);
	physmem_free(h->mem);
	free(h->pcpus);
	free(h->by_load);
	free(h->pid_owner);
	free(h);
}

void host_power_off(struct host *h)
{
	if (h->ird)
		ir_driver_power_off(h->ird);
	if (h->amdd)
		amdvi_driver_power_off(h->amdd);
}

unsigned host_pcpus(const struct host *h)
{
	return h->cfg.pcpus;
}

enum host_kernel host_kernel(const struct host *h)
{
	return h->cfg.kernel;
}

bool host_msix_noresize(const struct host *h)
{
	return h->cfg.msix_noresize;
}

static const char *const kernel_names[HOST_KERNEL_COUNT] = {
    [HOST_KERNEL_STOCK] = "stock",
    [HOST_KERNEL_LEGACY] = "legacy",
    [HOST_KERNEL_TUNED] = "tuned",
};

const char *host_kernel_name(enum host_kernel k)
{
	return k < HOST_KERNEL_COUNT ? kernel_names[k] : "?";
}

bool host_kernel_parse(const char *name, enum host_kernel *ret)
{
	for (unsigned k = 0; k < HOST_KERNEL_COUNT; k++)
		if (!strcmp(name, kernel_names[k])) {
			*ret = (enum host_kernel)k;
			return true;
		}
	return false;
}

struct lapic *host_pcpu_apic(struct host *h, unsigned pcpu)
{
	return pcpu < h->cfg.pcpus ? &h->pcpus[pcpu].apic : NULL;
}

struct vcpu *host_pcpu_running(const struct host *h, unsigned pcpu)
{
	return pcpu < h->cfg.pcpus ? h->pcpus[pcpu].running : NULL;
}

struct physmem *host_memory(struct host *h)
{
	return h->mem;
}

struct ir_unit *host_ir_unit(struct host *h)
{
	return h->ir;
}

struct ir_driver *host_ir_driver(struct host *h)
{
	return h->ird;
}

struct amdvi_unit *host_amdvi_unit(struct host *h)
{
	return h->amd;
}

struct amdvi_driver *host_amdvi_driver(struct host *h)
{
	return h->amdd;
}

enum host_iommu host_iommu(const struct host *h)
{
	return h->cfg.iommu;
}

bool host_remapping_secure(const struct host *h)
{
	if (amd(h)) /* enabled, and every DTE set to abort or remap (amdvi_driver_new) */
		return bit_get(amdvi_unit_read(h->amd, AMDVI_MMIO_CONTROL, 8), AMDVI_CTRL_IOMMU_EN);
	return ir_driver_remapping_secure(h->ird);
}

bool host_posting(const struct host *h)
{
	return amd(h) ? amdvi_driver_vapic(h->amdd) : ir_driver_posting(h->ird);
}

void host_ir_work(const struct host *h, struct host_ir_work *ret)
{
	if (amd(h)) {
		const struct amdvi_driver_stats *a = amdvi_driver_stats(h->amdd);

		*ret = (struct host_ir_work){.irte_writes = a->irte_writes,
					     .invalidations = a->irt_invalidations,
					     .in_use = amdvi_driver_in_use(h->amdd)};
		return;
	}
	*ret = (struct host_ir_work){.irte_writes = ir_driver_stats(h->ird)->irte_writes,
				     .invalidations = ir_driver_stats(h->ird)->iec_invalidations,
				     .in_use = ir_driver_in_use(h->ird)};
}

void host_drain_faults(struct host *h)
{
	if (amd(h))
		(void)amdvi_driver_drain_events(h->amdd);
	else
		(void)ir_driver_drain_faults(h->ird);
}

const struct host_stats *host_stats(const struct host *h)
{
	return &h->stats;
}

void host_inject_fault(struct host *h, enum host_fault f)
{
	h->fault = f;
}

void host_set_observer(struct host *h, host_observer_fn fn, void *ctx)
{
	h->observer = fn;
	h->observer_ctx = ctx;
}

static struct vcpu **pid_owner_slot(struct host *h, uint64_t pda)
{
	uint64_t i = (pda - PID_BASE) / PID_SIZE;

	return pda >= PID_BASE && i < h->npids ? &h->pid_owner[i] : NULL;
}

/*
 * A function with a handle window gets a block of IRTEs for all its
 * vectors now, and the window is set to it: every host interrupt of the
 * function is a slot of the block (host_irq_alloc_for()), and nothing else
 * can leave the device.
 */
static int window_open(struct host *h, struct host_port *port, const struct pci_func_config *cfg)
{
	uint32_t count =
	    cfg->msix_vectors > cfg->ims_entries ? cfg->msix_vectors : cfg->ims_entries;
	int err;

	if (cfg->msi_vectors > count)
		count = cfg->msi_vectors;

	if (!count)
		return 0;
	port->win_used = calloc(count, sizeof(*port->win_used));
	if (!port->win_used)
		return -ENOMEM;
	err = ir_irte_alloc(h->ird, (uint32_t)pow2_at_least(count), &port->win_base);
	if (!err)
		err = pci_func_set_handle_window(port->func, port->win_base, count);
	if (err) {
		free(port->win_used);
		port->win_used = NULL;
		return err;
	}
	port->win_count = count;
	return 0;
}

int host_add_device(struct host *h, const struct pci_func_config *cfg, struct pci_func **ret)
{
	struct host_port *port = &h->ports[h->ndevices];
	struct msi_sink sink = {.deliver = msi_from_device, .ctx = port};
	struct pci_func *f;
	int err;

	if (h->ndevices == HOST_MAX_DEVICES)
		return -ENOSPC;
	err = pci_func_create(cfg, &f);
	if (err)
		return err;
	*port = (struct host_port){.h = h, .func = f};
	/* On AMD-Vi a device's messages index only its own table: no window is needed. */
	err = cfg->handle_window && !amd(h) ? window_open(h, port, cfg) : 0;
	if (err) {
		pci_func_free(f);
		return err;
	}
	pci_func_attach(f, &sink, NULL);
	h->ndevices++;
	*ret = f;
	return 0;
}

static struct host_port *port_of(struct host *h, const struct pci_func *f)
{
	for (unsigned i = 0; i < h->ndevices; i++)
		if (h->ports[i].func == f)
			return &h->ports[i];
	return NULL;
}

uint32_t host_window_idle(const struct host *h)
{
	uint32_t idle = 0;

	for (unsigned i = 0; i < h->ndevices; i++) {
		const struct host_port *p = &h->ports[i];

		for (uint32_t s = 0; p->win_used && s < (uint32_t)pow2_at_least(p->win_count); s++)
			idle += s >= p->win_count || !p->win_used[s];
	}
	return idle;
}

bool host_func_windowed(struct host *h, const struct pci_func *f)
{
	struct host_port *p = port_of(h, f);

	return p && p->win_used;
}

/* ---- who owns a requester-id ---------------------------------------------- */

static struct rid_claim *claim_of(struct host *h, uint16_t rid, const void *owner)
{
	for (unsigned i = 0; i < h->nclaims; i++)
		if (h->claims[i].rid == rid && h->claims[i].owner == owner)
			return &h->claims[i];
	return NULL;
}

int host_rid_claim(struct host *h, uint16_t rid, const void *owner, bool unmediated)
{
	struct rid_claim *c = claim_of(h, rid, owner);

	for (unsigned i = 0; i < h->nclaims; i++) {
		const struct rid_claim *o = &h->claims[i];

		if (o->rid != rid || o->owner == owner)
			continue;
		if (unmediated || o->unmediated)
			return -EPERM; /* a shared requester-id needs mediated storage on all sides */
		if (o->direct)
			return -EBUSY; /* another guest programs storage of this requester-id */
	}
	if (!c && h->nclaims == HOST_MAX_DEVICES)
		return -ENOSPC;
	if (!c) {
		c = &h->claims[h->nclaims++];
		*c = (struct rid_claim){.rid = rid, .owner = owner};
	}
	c->functions++;
	c->unmediated += unmediated;
	return 0;
}

void host_rid_direct(struct host *h, uint16_t rid, const void *owner, bool on)
{
	struct rid_claim *c = claim_of(h, rid, owner);

	if (c && on)
		c->direct++;
	else if (c && c->direct)
		c->direct--;
}

void host_rid_release(struct host *h, uint16_t rid, const void *owner, bool unmediated)
{
	struct rid_claim *c = claim_of(h, rid, owner);

	if (!c)
		return;
	c->unmediated -= unmediated && c->unmediated;
	if (!--c->functions)
		*c = h->claims[--h->nclaims];
}

bool host_rid_exclusive(const struct host *h, uint16_t rid, const void *owner)
{
	for (unsigned i = 0; i < h->nclaims; i++)
		if (h->claims[i].rid == rid && h->claims[i].owner != owner)
			return false;
	return true;
}

uint64_t host_alloc_pid(struct host *h)
{
	uint64_t pa = h->pid_next;

	if (pa + PID_SIZE > PID_END)
		return 0;
	h->pid_next += PID_SIZE;
	return pa;
}

/* The destination field format of the unit: x2APIC ID, or xAPIC ID in 15:8. */
static uint32_t dest_field(const struct host *h, unsigned pcpu)
{
	return h->cfg.x2apic ? pcpu : pcpu << 8;
}

/* ---- posted-interrupt processing ------------------------------------------ */

/*
 * What the CPU does on VM entry with a pending notification, and on a
 * notification while in guest mode: clear ON, take the PIR, and set the bits
 * in the virtual APIC's IRR (SDM "Posted-Interrupt Processing").
 */
static void sync_pir(struct host *h, struct vcpu *v)
{
	uint64_t pir[PID_PIR_WORDS];
	bool was_on;

	if (pid_clear_on(h->mem, v->pid_pa, &was_on) || pid_take_pir(h->mem, v->pid_pa, pir))
		return; /* descriptors are allocated inside host memory */
	/* the set bits only, lowest vector first */
	for (unsigned w = 0; w < PID_PIR_WORDS; w++)
		for (uint64_t bits = pir[w]; bits; bits &= bits - 1) {
			unsigned vec = w * 64 + (unsigned)__builtin_ctzll(bits);

			if (h->fault == HOST_FAULT_DROP_NEXT_PIR) {
				h->fault =
				    HOST_FAULT_NONE; /* the deliberate bug: taken, never set */
				continue;
			}
			lapic_accept_irq(&v->vapic, (uint8_t)vec, false);
		}
}

/* ---- AVIC: the vAPIC backing page and the guest-mode IRTEs of a vCPU --------------- */

/*
 * A vCPU's backing page, and its GA tag: the page's number, so that a GA log entry
 * names the vCPU to wake (KVM's tag packs the VM and vCPU IDs; any unique name works).
 */
static int avic_init(struct host *h, struct vcpu *v)
{
	uint64_t page = AVIC_BASE + (uint64_t)h->navic * AVIC_PAGE_SIZE;
	struct vcpu **owners;

	if (!physmem_range_ok(h->mem, page, AVIC_PAGE_SIZE))
		return -ENOMEM;
	owners = realloc(h->avic_owner, (h->navic + 1) * sizeof(*owners));
	if (!owners)
		return -ENOMEM;
	h->avic_owner = owners;
	h->avic_owner[h->navic] = v;
	v->avic_page = page;
	v->ga_tag = h->navic++;
	return 0;
}

static struct vcpu *avic_owner(const struct host *h, uint32_t tag)
{
	return tag < h->navic ? h->avic_owner[tag] : NULL;
}

/* The IRR register holding vector 32 * @r .. 32 * @r + 31 of @v's backing page. */
static uint64_t avic_irr(const struct vcpu *v, unsigned r)
{
	return amdvi_vapic_irr_qword(v->avic_page, (uint8_t)(32 * r));
}

/*
 * What the CPU does with the backing page's IRR at VMRUN, and on a doorbell while the
 * vCPU runs: the vectors the IOMMU set become the vAPIC's (our model keeps the vAPIC as
 * struct lapic, so they are taken from the page into it, as a PIR is).
 */
static void avic_sync(struct host *h, struct vcpu *v)
{
	for (unsigned r = 0; r < 8; r++) {
		uint64_t q;

		if (physmem_harvest64(h->mem, avic_irr(v, r), 1, &q))
			return; /* backing pages lie in host memory (avic_init) */
		for (uint32_t bits = (uint32_t)q; bits; bits &= bits - 1)
			lapic_accept_irq(&v->vapic,
					 (uint8_t)(32 * r + (unsigned)__builtin_ctz(bits)), false);
	}
}

static unsigned avic_irr_count(struct host *h, const struct vcpu *v)
{
	unsigned n = 0;

	for (unsigned r = 0; r < 8; r++) {
		uint64_t q = 0;

		if (!physmem_load64(h->mem, avic_irr(v, r), &q))
			n += (unsigned)__builtin_popcount((uint32_t)q);
	}
	return n;
}

static struct amdvi_irte_ga vapic_entry(const struct host_irq *hi, const struct vcpu *v,
					uint8_t vector, bool running, bool ga_log)
{
	struct amdvi_ga_vapic g = {.remap_en = true,
				   .ga_log_intr = !running && ga_log,
				   .is_run = running,
				   .dest = v->pcpu,
				   .ga_tag = v->ga_tag,
				   .ga_root_ptr = v->avic_page >> 12,
				   .vector = vector};
	struct amdvi_irte_ga e;

	(void)hi;
	amdvi_ga_vapic_encode(&g, &e);
	return e;
}

/*
 * KVM's avic_update_iommu_vcpu_affinity() at vcpu_load and vcpu_put: every guest-mode IRTE
 * of @v learns whether and where it runs, and (not running) whether a post should be
 * logged for a wakeup: only while it blocks (amd_iommu_update_ga()). No invalidation.
 */
static void avic_update(struct host *h, struct vcpu *v, bool running, bool ga_log)
{
	for (struct host_irq *hi = v->ga_irqs; hi; hi = hi->next_ga) {
		struct amdvi_irte_ga e = vapic_entry(hi, v, hi->vector, running, ga_log);

		/* allocated guest-mode entries: the store cannot fail */
		(void)!amdvi_irte_set_run(h->amdd, hi->rid, hi->irte, &e);
	}
}

/* Return: false if the list cannot grow: then the vCPU does not block. */
static bool wakeup_list_add(struct pcpu *p, struct vcpu *v, unsigned pcpu)
{
	if (p->nwakeup == p->wakeup_cap) {
		unsigned cap = p->wakeup_cap ? 2 * p->wakeup_cap : 8;
		struct vcpu **n = realloc(p->wakeup, cap * sizeof(*n));

		if (!n)
			return false;
		p->wakeup = n;
		p->wakeup_cap = cap;
	}
	p->wakeup[p->nwakeup++] = v;
	v->on_wakeup_list = true;
	v->wakeup_pcpu = pcpu;
	return true;
}

/*
 * Descriptor updates cannot fail: every descriptor lies in host memory
 * (host_alloc_pid checks it). A failure is a broken invariant of ours.
 */
static void pid_update_ok(int err)
{
	assert(!err);
	(void)err;
}

static void wakeup_list_del(struct host *h, struct vcpu *v)
{
	struct pcpu *p = &h->pcpus[v->wakeup_pcpu];

	if (!v->on_wakeup_list)
		return;
	for (unsigned i = 0; i < p->nwakeup; i++)
		if (p->wakeup[i] == v) {
			p->wakeup[i] = p->wakeup[--p->nwakeup];
			break;
		}
	v->on_wakeup_list = false;
}

/* ---- vCPU scheduling ------------------------------------------------------ */

int host_vcpu_init(struct host *h, struct vcpu *v)
{
	struct pid_image pid = {
	    .sn = true, .nv = HOST_POSTED_INTR_VECTOR, .ndst = dest_field(h, v->pcpu)};

	struct vcpu **owners;

	lapic_init(&v->vapic, v->apic_id);
	v->state = VCPU_PREEMPTED;
	if (amd(h))
		return avic_init(h, v);
	v->pid_pa = host_alloc_pid(h);
	if (!v->pid_pa || pid_write(h->mem, v->pid_pa, &pid))
		return -ENOMEM; /* host memory has no room for another descriptor */
	owners = realloc(h->pid_owner, (h->npids + 1) * sizeof(*owners));
	if (!owners)
		return -ENOMEM;
	h->pid_owner = owners;
	h->pid_owner[h->npids++] = v;
	return 0;
}

void host_vcpu_exit(struct host *h, struct vcpu *v)
{
	struct vcpu **slot = amd(h) ? NULL : pid_owner_slot(h, v->pid_pa);

	host_vcpu_offline(h, v);
	if (slot)
		*slot = NULL;
	if (amd(h) && avic_owner(h, v->ga_tag) == v)
		h->avic_owner[v->ga_tag] = NULL;
}

void host_vcpu_harvest(struct host *h, struct vcpu *v)
{
	if (amd(h))
		avic_sync(h, v);
	else
		sync_pir(h, v);
}

unsigned host_vcpu_pir_count(struct host *h, struct vcpu *v)
{
	struct pid_image pid;
	unsigned n = 0;

	if (amd(h))
		return avic_irr_count(h, v);
	if (pid_read(h->mem, v->pid_pa, &pid))
		return 0;
	for (unsigned w = 0; w < PID_PIR_WORDS; w++)
		n += (unsigned)__builtin_popcountll(pid.pir[w]);
	return n;
}

/* ---- run queues: one FIFO per pCPU, round-robin by slices ---------------- */

static void rq_push(struct host *h, struct vcpu *v)
{
	struct pcpu *p = &h->pcpus[v->pcpu];

	v->rq_next = NULL;
	if (p->rq_tail)
		p->rq_tail->rq_next = v;
	else
		p->rq_head = v;
	p->rq_tail = v;
	v->queued = true;
	h->nqueued++;
}

static struct vcpu *rq_pop(struct host *h, struct pcpu *p)
{
	struct vcpu *v = p->rq_head;

	if (!v)
		return NULL;
	p->rq_head = v->rq_next;
	if (!p->rq_head)
		p->rq_tail = NULL;
	v->queued = false;
	h->nqueued--;
	return v;
}

/* Out of its queue wherever it stands. Queues are as long as the overcommit: a walk is fine. */
static void rq_del(struct host *h, struct vcpu *v)
{
	struct pcpu *p = &h->pcpus[v->pcpu];
	struct vcpu *prev = NULL;

	if (!v->queued)
		return;
	for (struct vcpu *q = p->rq_head; q != v; q = q->rq_next)
		prev = q;
	if (prev)
		prev->rq_next = v->rq_next;
	else
		p->rq_head = v->rq_next;
	if (p->rq_tail == v)
		p->rq_tail = prev;
	v->queued = false;
	h->nqueued--;
}

/*
 * vcpu_load (vmx_vcpu_pi_load): leave the wakeup list, point NV/NDST at this
 * pCPU, clear SN, and — after the full barrier the atomics give — take in
 * anything posted while SN was set or the vCPU was blocked.
 */
/* Notifications for @v go to its pCPU's posted-interrupt vector, suppressed (@sn) or not. */
static void notify_at_pcpu(struct host *h, struct vcpu *v, bool sn)
{
	if (amd(h)) { /* AVIC: running (doorbells here) or not, and then nobody is told */
		avic_update(h, v, !sn, false);
		return;
	}
	wakeup_list_del(h, v);
	pid_update_ok(pid_set_notification(h->mem, v->pid_pa, HOST_POSTED_INTR_VECTOR,
					   dest_field(h, v->pcpu)));
	pid_update_ok(pid_set_sn(h->mem, v->pid_pa, sn, NULL));
}

/* The vCPU enters guest mode: what was posted meanwhile becomes its vAPIC's. */
static void vm_entry(struct host *h, struct vcpu *v)
{
	if (amd(h))
		avic_sync(h, v);
	else
		sync_pir(h, v);
}

static void switch_in(struct host *h, struct vcpu *v)
{
	struct pcpu *p = &h->pcpus[v->pcpu];

	notify_at_pcpu(h, v, false);
	v->state = VCPU_RUNNING;
	v->entries++;
	p->running = v;
	vm_entry(h, v);
}

/* vcpu_put while preempted (vmx_vcpu_pi_put): suppress notifications, let posts accumulate. */
static void switch_out(struct host *h, struct vcpu *v)
{
	if (amd(h))
		avic_update(h, v, false, false); /* avic_vcpu_put: IsRun clear, no GA log */
	else
		pid_update_ok(pid_set_sn(h->mem, v->pid_pa, true, NULL));
	h->pcpus[v->pcpu].running = NULL;
	v->state = VCPU_PREEMPTED;
}

/* @pcpu is free: the vCPU that has waited longest for it runs. */
static void run_next(struct host *h, unsigned pcpu)
{
	struct vcpu *v = rq_pop(h, &h->pcpus[pcpu]);

	if (v)
		switch_in(h, v);
}

/*
 * A woken (or resumed) vCPU waits its turn behind the one running there:
 * off the wakeup list, notifications suppressed as for any preempted vCPU.
 * Whatever was posted meanwhile is taken in when it runs (switch_in).
 */
static void wait_for_slice(struct host *h, struct vcpu *v)
{
	notify_at_pcpu(h, v, true);
	v->state = VCPU_PREEMPTED;
	rq_push(h, v);
}

void host_vcpu_run(struct host *h, struct vcpu *v)
{
	if (v->state == VCPU_RUNNING || v->state == VCPU_OFFLINE || v->queued)
		return;
	if (h->pcpus[v->pcpu].running)
		wait_for_slice(h, v);
	else
		switch_in(h, v);
}

void host_vcpu_preempt(struct host *h, struct vcpu *v)
{
	if (v->queued) {
		rq_del(h, v); /* held off: it waits for nothing until it is run again */
		return;
	}
	if (v->state != VCPU_RUNNING)
		return;
	switch_out(h, v);
	run_next(h, v->pcpu);
}

struct vcpu *host_sched_tick(struct host *h, unsigned pcpu)
{
	struct pcpu *p = &h->pcpus[pcpu];
	struct vcpu *v = p->running;

	if (!p->rq_head || !v)
		return NULL; /* nobody waits: the running vCPU keeps the pCPU */
	switch_out(h, v);
	rq_push(h, v);
	run_next(h, pcpu);
	h->stats.switches++;
	return p->running;
}

unsigned host_sched_waiting(const struct host *h)
{
	return h->nqueued;
}

bool host_sched_check(const struct host *h)
{
	unsigned queued = 0;

	for (unsigned i = 0; i < h->cfg.pcpus; i++) {
		const struct pcpu *p = &h->pcpus[i];
		const struct vcpu *last = NULL;

		if (p->running && (p->running->state != VCPU_RUNNING || p->running->pcpu != i))
			return false;
		if (p->rq_head && !p->running)
			return false; /* someone waits for a pCPU nobody uses */
		for (const struct vcpu *v = p->rq_head; v; v = v->rq_next) {
			if (!v->queued || v->pcpu != i || v->state != VCPU_PREEMPTED ||
			    ++queued > h->nqueued)
				return false; /* the last test also ends a cycle */
			last = v;
		}
		if (last != p->rq_tail)
			return false;
	}
	return queued == h->nqueued;
}

static void deliver_to_pcpu(struct host *h, unsigned pcpu, uint8_t vector);

/*
 * vcpu_put while blocking (pi_enable_wakeup_handler): on this pCPU's wakeup
 * list, NV = wakeup vector. A post that raced in before NV changed left ON
 * set: send ourselves the wakeup vector so it is not slept through. The
 * pCPU then runs whoever waits for it.
 */
/*
 * AVIC (avic_vcpu_blocking, then avic_vcpu_put): IsRun clear and GALogIntr set, so a post
 * lands in the GA log and the host wakes the vCPU. Whatever the IRR got before that is
 * seen by the check after it, as kvm_vcpu_has_events() would.
 */
static bool avic_block(struct host *h, struct vcpu *v)
{
	if (lapic_pending_vector(&v->vapic) >= 0 || avic_irr_count(h, v))
		return false;
	vm_count_exit(v->vm, VM_EXIT_HLT);
	h->pcpus[v->pcpu].running = NULL;
	v->state = VCPU_BLOCKED;
	avic_update(h, v, false, true);
	if (avic_irr_count(h, v)) { /* posted before GALogIntr was set: woken at once */
		h->stats.wakeups++;
		vm_count_exit(v->vm, VM_EXIT_WAKEUP);
		host_vcpu_run(h, v);
	}
	if (!h->pcpus[v->pcpu].running)
		run_next(h, v->pcpu);
	return true;
}

bool host_vcpu_block(struct host *h, struct vcpu *v)
{
	struct pid_image pid;

	if (v->state != VCPU_RUNNING)
		return false;
	if (amd(h))
		return avic_block(h, v);
	if (lapic_pending_vector(&v->vapic) >= 0)
		return false; /* kvm_vcpu_has_events: it would not halt */
	if (!wakeup_list_add(&h->pcpus[v->pcpu], v, v->pcpu))
		return false; /* no room to park it: it stays running, as if it had work */
	vm_count_exit(v->vm, VM_EXIT_HLT);
	h->pcpus[v->pcpu].running = NULL;
	v->state = VCPU_BLOCKED;
	pid_update_ok(pid_set_notification(h->mem, v->pid_pa, HOST_POSTED_INTR_WAKEUP_VECTOR,
					   dest_field(h, v->pcpu)));
	pid_update_ok(pid_read(h->mem, v->pid_pa, &pid));
	if (pid.on)
		deliver_to_pcpu(h, v->pcpu, HOST_POSTED_INTR_WAKEUP_VECTOR);
	if (!h->pcpus[v->pcpu].running)
		run_next(h, v->pcpu);
	return true;
}

static void fallback_push(struct vcpu *v, struct host_irq *hi)
{
	hi->next_fallback = v->fallback;
	v->fallback = hi;
}

static int move_vector(struct host *h, struct host_irq *hi, unsigned pcpu);

/*
 * Remapped interrupts follow their vCPU to its new pCPU, so that moving vCPUs
 * apart also moves their interrupts apart (docs/design.md §7: Hyper-V's retarget
 * did not, and left them all on one pCPU). On failure (no
 * vector free there) an interrupt keeps its old pCPU: still delivered.
 */
static void retarget_fallback(struct host *h, struct vcpu *v)
{
	for (struct host_irq *hi = v->fallback; hi; hi = hi->next_fallback)
		if (hi->hpcpu != v->pcpu)
			(void)move_vector(h, hi, v->pcpu);
}

int host_vcpu_migrate(struct host *h, struct vcpu *v, unsigned pcpu)
{
	bool runnable = v->state == VCPU_RUNNING || v->queued;

	if (pcpu >= h->cfg.pcpus)
		return -EINVAL;
	host_vcpu_preempt(h, v); /* off the old pCPU or its queue; the old pCPU runs its next */
	v->pcpu = pcpu;
	retarget_fallback(h, v);
	if (runnable)
		host_vcpu_run(h, v); /* runs there, or waits its turn */
	return 0;
}

int host_vcpu_online(struct host *h, struct vcpu *v)
{
	if (v->state != VCPU_OFFLINE)
		return -EINVAL;
	v->state = VCPU_PREEMPTED; /* runnable again; SN stays set until it runs */
	host_vcpu_run(h, v);
	return 0;
}

void host_vcpu_offline(struct host *h, struct vcpu *v)
{
	host_vcpu_preempt(h, v);
	wakeup_list_del(h, v);
	if (amd(h))
		avic_update(h, v, false, false);
	else
		pid_update_ok(pid_set_sn(h->mem, v->pid_pa, true, NULL));
	v->state = VCPU_OFFLINE;
}

/* ---- the interrupt path ----------------------------------------------------- */

/* The host's wakeup handler: wake every vCPU parked here with ON set. */
static void wakeup_handler(struct host *h, struct pcpu *p)
{
	for (unsigned i = 0; i < p->nwakeup;) {
		struct vcpu *v = p->wakeup[i];
		struct pid_image pid;

		if (pid_read(h->mem, v->pid_pa, &pid) || !pid.on) {
			i++;
			continue;
		}
		h->stats.wakeups++;
		vm_count_exit(v->vm, VM_EXIT_WAKEUP);
		host_vcpu_run(h, v); /* removes it from this list */
	}
}

void host_vcpu_inject(struct host *h, struct vcpu *v, uint8_t vector)
{
	h->stats.injected++;
	if (h->landing) {
		h->landing->vcpu = v;
		h->landing->vector = vector;
	}
	lapic_accept_irq(&v->vapic, vector, false);
	if (v->state == VCPU_BLOCKED) {
		wakeup_list_del(h, v);
		vm_count_exit(v->vm, VM_EXIT_WAKEUP);
		host_vcpu_run(h, v);
	}
}

void host_irq_held(struct host *h)
{
	if (h->landing)
		h->landing->held = true;
}

/* A host interrupt through a remapped IRTE: its handler, or straight to its target. */
static void host_irq_handle(struct host *h, struct host_irq *hi)
{
	if (hi->handler)
		hi->handler(hi->handler_ctx, hi);
	else if (hi->vcpu)
		host_vcpu_inject(h, hi->vcpu, hi->vector);
	else
		h->stats.unhandled++;
}

static void host_handler(struct host *h, struct pcpu *p, uint8_t vector)
{
	if (vector == HOST_POSTED_INTR_VECTOR)
		return; /* the vCPU is not in guest mode: its PIR is taken at entry */
	if (vector == HOST_POSTED_INTR_WAKEUP_VECTOR)
		wakeup_handler(h, p);
	else if (p->vectors[vector])
		host_irq_handle(h, p->vectors[vector]);
	else
		h->stats.unhandled++;
}

static void deliver_to_pcpu(struct host *h, unsigned pcpu, uint8_t vector)
{
	struct pcpu *p = &h->pcpus[pcpu];
	struct vcpu *v = p->running;

	if (v && vector == HOST_POSTED_INTR_VECTOR) {
		/* In guest mode the CPU processes the notification itself: no exit. */
		h->stats.pi_in_guest++;
		sync_pir(h, v);
		return;
	}
	if (v)
		vm_count_exit(v->vm, VM_EXIT_EXT_INTR);
	/* Handled at once, so the physical IRR never holds it for long. */
	lapic_accept_irq(&p->apic, vector, false);
	host_handler(h, p, lapic_ack(&p->apic));
	lapic_eoi(&p->apic);
	if (v && p->running == v)
		vm_entry(h, v); /* VM entry again */
}

/*
 * A physical destination names one pCPU, or all of them (broadcast). pCPU i
 * has APIC ID i (host_create), so only that local APIC is asked, not every
 * one; lapic_matches_physical() still decides.
 */
static void apic_bus(struct host *h, const struct apic_irq *irq)
{
	uint32_t dest = h->cfg.x2apic ? irq->dest : irq->dest & LAPIC_BROADCAST_XAPIC;
	bool all = dest == (h->cfg.x2apic ? LAPIC_BROADCAST_X2APIC : LAPIC_BROADCAST_XAPIC);

	if (irq->dm) { /* logical destinations are not modelled */
		h->stats.unhandled++;
		return;
	}
	for (unsigned i = all ? 0 : dest; i < h->cfg.pcpus && (all || i == dest); i++)
		if (lapic_matches_physical(&h->pcpus[i].apic, irq->dest, h->cfg.x2apic))
			deliver_to_pcpu(h, i, irq->vector);
}

static void count_outcome(struct host *h, enum ir_outcome o)
{
	switch (o) {
	case IR_REMAPPED:
		h->stats.remapped++;
		break;
	case IR_POSTED:
		h->stats.posted++;
		break;
	case IR_PASSTHROUGH:
		h->stats.passthrough++;
		break;
	case IR_BLOCKED:
		h->stats.blocked++;
		break;
	}
}

/* KVM's avic_ga_log_notifier(): a post found its vCPU not running; wake it if it sleeps. */
static void ga_wake(void *ctx, uint32_t ga_tag, uint16_t devid)
{
	struct host *h = ctx;
	struct vcpu *v = avic_owner(h, ga_tag);

	(void)devid;
	if (!v || v->state != VCPU_BLOCKED)
		return;
	h->stats.wakeups++;
	vm_count_exit(v->vm, VM_EXIT_WAKEUP);
	host_vcpu_run(h, v);
}

/*
 * The doorbell: the core in the entry's destination, if it runs that vCPU in guest mode,
 * takes the IRR in with no exit. Any other core ignores it; the vector waits in the page
 * for the vCPU's next VMRUN.
 */
static void doorbell(struct host *h, unsigned pcpu, struct vcpu *v)
{
	h->stats.notifications++;
	if (v && pcpu < h->cfg.pcpus && h->pcpus[pcpu].running == v) {
		h->stats.pi_in_guest++;
		avic_sync(h, v);
	}
}

/* An interrupt write through the AMD-Vi unit. */
static void amdvi_message(struct host *h, const struct msi_msg *msg, uint16_t rid,
			  struct host_landing *l)
{
	struct amdvi_result r;
	bool event_irq, ga_irq;

	amdvi_unit_translate(h->amd, msg, rid, &r);
	count_outcome(h, r.outcome);
	l->outcome = r.outcome;
	l->amd_block = (uint8_t)r.why;
	l->amd_event = r.event;
	if (r.outcome == IR_POSTED) {
		struct vcpu *v =
		    avic_owner(h, (uint32_t)((r.backing_page - AVIC_BASE) / AVIC_PAGE_SIZE));

		l->vcpu = r.backing_page >= AVIC_BASE ? v : NULL;
		l->vector = r.guest_vector;
		l->merged = r.coalesced;
		if (r.doorbell)
			doorbell(h, r.irq.dest, l->vcpu);
	}
	/* the unit's interrupts: the host drains the event log and the GA log */
	amdvi_unit_take_interrupts(h->amd, &event_irq, &ga_irq);
	if (event_irq)
		(void)amdvi_driver_drain_events(h->amdd);
	if (ga_irq)
		(void)amdvi_driver_drain_ga_log(h->amdd, ga_wake, h);
	if (r.outcome == IR_REMAPPED || r.outcome == IR_PASSTHROUGH)
		apic_bus(h, &r.irq);
}

static void msi_from_device(void *ctx, const struct msi_msg *msg, uint16_t rid)
{
	const struct host_port *port = ctx;
	struct host *h = port->h;
	struct host_landing l = {.rid = rid, .func = port->func};
	struct ir_result r;

	h->stats.messages++;
	h->landing = h->observer ? &l : NULL;
	if (amd(h)) {
		amdvi_message(h, msg, rid, &l);
		h->landing = NULL;
		if (h->observer)
			h->observer(h->observer_ctx, &l);
		return;
	}
	ir_unit_translate(h->ir, msg, rid, &r);
	count_outcome(h, r.outcome);
	h->stats.notifications += r.outcome == IR_POSTED && r.post.notify;
	if (r.outcome == IR_POSTED) {
		struct vcpu **owner = pid_owner_slot(h, r.pda);

		l.vcpu = owner ? *owner : NULL;
		l.vector = r.posted_vector;
		l.merged = r.post.coalesced;
	}
	l.outcome = r.outcome;
	l.fault = r.fault;
	/* the fault event interrupt: the host's handler drains the log (dmar_fault) */
	if (ir_unit_take_fault_event(h->ir))
		(void)ir_driver_drain_faults(h->ird);
	if (r.send_irq)
		apic_bus(h, &r.irq);
	h->landing = NULL;
	if (h->observer)
		h->observer(h->observer_ctx, &l);
}

/* ---- host_irq --------------------------------------------------------------- */

/* A free slot of @port's window for @hi; -ENOSPC when all are taken. */
static int window_take(struct host_port *port, struct host_irq *hi)
{
	for (uint32_t i = 0; i < port->win_count; i++)
		if (!port->win_used[i]) {
			port->win_used[i] = true;
			hi->irte = port->win_base + i;
			hi->window = port;
			return 0;
		}
	return -ENOSPC;
}

int host_irq_alloc_for(struct host *h, const struct pci_func *f, struct host_irq **ret)
{
	struct host_port *port = port_of(h, f);
	struct host_irq *hi;
	int err;

	if (!port || !port->win_used)
		return host_irq_alloc(h, pci_func_rid(f), ret);
	hi = calloc(1, sizeof(*hi));
	if (!hi)
		return -ENOMEM;
	err = window_take(port, hi);
	if (err) {
		free(hi);
		return err;
	}
	hi->rid = pci_func_rid(f);
	*ret = hi;
	return 0;
}

/* The IRTE: the lowest free one, or exactly @at (HOST_IRQ_ANY: no preference). */
static int irte_take(struct host *h, uint16_t rid, uint32_t at, uint32_t *ret)
{
	int err;

	if (amd(h)) {
		/* its device's own table, made at the first interrupt (alloc_irq_table()) */
		err = amdvi_dev_attach(h->amdd, rid);
		if (err && err != -EEXIST)
			return err;
		if (at == HOST_IRQ_ANY)
			return amdvi_irte_alloc(h->amdd, rid, 1, ret);
		*ret = at;
		return amdvi_irte_alloc_at(h->amdd, rid, at, 1);
	}
	if (at == HOST_IRQ_ANY)
		return ir_irte_alloc(h->ird, 1, ret);
	*ret = at;
	return ir_irte_alloc_at(h->ird, at, 1);
}

int host_irq_alloc(struct host *h, uint16_t rid, struct host_irq **ret)
{
	return host_irq_alloc_at(h, rid, HOST_IRQ_ANY, ret);
}

int host_irq_alloc_at(struct host *h, uint16_t rid, uint32_t index, struct host_irq **ret)
{
	struct host_irq *hi = calloc(1, sizeof(*hi));
	int err;

	if (!hi)
		return -ENOMEM;
	err = irte_take(h, rid, index, &hi->irte);
	if (err) {
		free(hi);
		return err;
	}
	hi->rid = rid;
	hi->amd = amd(h);
	if (hi->amd)
		amdvi_msi_compose(h->amdd, hi->irte, &hi->amd_msg);
	*ret = hi;
	return 0;
}

/* @size aligned free slots of @port's window, taken; -ENOSPC when there are none. */
static int window_take_block(struct host_port *port, uint32_t size, uint32_t *ret)
{
	for (uint32_t i = 0; i + size <= port->win_count; i += size) {
		uint32_t j = 0;

		while (j < size && !port->win_used[i + j])
			j++;
		if (j < size)
			continue;
		for (j = 0; j < size; j++)
			port->win_used[i + j] = true;
		*ret = port->win_base + i;
		return 0;
	}
	return -ENOSPC;
}

/* The block's IRTEs: from the function's window, its AMD-Vi table, or the VT-d table. */
static int block_take(struct host *h, struct host_port *port, uint16_t rid, uint32_t size,
		      uint32_t *ret)
{
	int err;

	if (port && port->win_used)
		return window_take_block(port, size, ret);
	if (!amd(h))
		return ir_irte_alloc(h->ird, size, ret); /* -EINVAL past ECAP.MHMV */
	err = amdvi_dev_attach(h->amdd, rid);
	if (err && err != -EEXIST)
		return err;
	return amdvi_irte_alloc(h->amdd, rid, size, ret);
}

static void block_give_back(struct host *h, uint16_t rid, const struct irte_block *b)
{
	if (b->window)
		for (uint32_t i = 0; i < b->size; i++)
			b->window->win_used[b->base - b->window->win_base + i] = false;
	else if (amd(h))
		(void)!amdvi_irte_free(h->amdd, rid, b->base, b->size);
	else
		(void)!ir_irte_free(h->ird, b->base, b->size);
}

int host_irq_alloc_block_for(struct host *h, const struct pci_func *f, unsigned count,
			     struct host_irq **ret)
{
	struct host_port *port = port_of(h, f);
	uint16_t rid = pci_func_rid(f);
	struct irte_block *b;
	unsigned made = 0;
	int err;

	if (!count || count > PCI_MSI_MAX_VECTORS)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->size = (uint32_t)pow2_at_least(count);
	b->window = port && port->win_used ? port : NULL;
	err = block_take(h, port, rid, b->size, &b->base);
	if (err) {
		free(b);
		return err;
	}
	for (; made < count; made++) {
		struct host_irq *hi = calloc(1, sizeof(*hi));

		if (!hi)
			break;
		*hi = (struct host_irq){
		    .irte = b->base + made, .rid = rid, .block = b, .amd = amd(h)};
		if (hi->amd)
			amdvi_msi_compose(h->amdd, hi->irte, &hi->amd_msg);
		ret[made] = hi;
		b->live++;
	}
	if (made == count)
		return 0;
	while (made--)
		host_irq_free(h, ret[made]); /* the last one gives the block back */
	return -ENOMEM;
}

static bool device_vector(unsigned v)
{
	return v >= HOST_FIRST_DEVICE_VECTOR && v <= HOST_LAST_DEVICE_VECTOR &&
	       v != HOST_IA32_SYSCALL_VECTOR;
}

static uint64_t *load_row(struct host *h, unsigned load)
{
	return h->by_load + (size_t)load * h->load_words;
}

/* @pcpu holds one host vector more (@up) or one fewer: its count, its load row, the total. */
static void load_step(struct host *h, unsigned pcpu, bool up)
{
	struct pcpu *p = &h->pcpus[pcpu];
	unsigned to = up ? p->nvectors + 1 : p->nvectors - 1;

	bitmap_assign(load_row(h, p->nvectors), pcpu, false);
	bitmap_assign(load_row(h, to), pcpu, true);
	if (to < h->min_load)
		h->min_load = to;
	p->nvectors = to;
	if (up)
		h->stats.vectors_held++;
	else
		h->stats.vectors_held--;
}

/* The lowest free device vector of @pcpu, taken for @hi; -ENOSPC if none. */
static int vector_take(struct host *h, unsigned pcpu, struct host_irq *hi, uint8_t *ret)
{
	struct pcpu *p = &h->pcpus[pcpu];
	unsigned from = p->vectors_free_from > HOST_FIRST_DEVICE_VECTOR ? p->vectors_free_from
									: HOST_FIRST_DEVICE_VECTOR;

	for (unsigned v = from; v <= HOST_LAST_DEVICE_VECTOR; v++)
		if (device_vector(v) && !p->vectors[v]) {
			p->vectors[v] = hi;
			p->vectors_free_from = v + 1;
			load_step(h, pcpu, true);
			*ret = (uint8_t)v;
			return 0;
		}
	p->vectors_free_from = HOST_LAST_DEVICE_VECTOR + 1;
	return -ENOSPC;
}

static void vector_put(struct host *h, unsigned pcpu, uint8_t v)
{
	struct pcpu *p = &h->pcpus[pcpu];

	p->vectors[v] = NULL;
	if (v < p->vectors_free_from)
		p->vectors_free_from = v;
	load_step(h, pcpu, false);
}

/*
 * Linux's matrix: the pCPU with the fewest vectors allocated, the lowest on
 * a tie. Found through the load rows rather than a walk of every pCPU: the
 * answer is the same, and a fleet host has hundreds.
 */
static unsigned least_loaded_pcpu(struct host *h)
{
	for (unsigned load = h->min_load; load <= LAPIC_VECTORS; load++) {
		const uint64_t *row = load_row(h, load);

		for (unsigned w = 0; w < h->load_words; w++)
			if (row[w]) {
				h->min_load = load;
				return w * 64 + (unsigned)__builtin_ctzll(row[w]);
			}
	}
	return 0; /* not reached: every pCPU is in one row */
}

/*
 * An IRTE write, as modify_irte(). If the invalidation fails (-EIO) the old
 * entry is put back, so the host_irq's record (vector, pCPU, posted, vCPU),
 * which the callers leave as it was on an error, stays what the unit
 * translates with.
 */
static int irte_write(struct host *h, const struct host_irq *hi, const struct irte *e)
{
	return ir_irte_update(h->ird, hi->irte, e);
}

/* The AMD-Vi entry that remaps to @hvector on @pcpu, in the format the table has. */
static struct amdvi_irte_ga amd_remapped_entry(const struct host *h, unsigned pcpu, uint8_t hvector)
{
	struct amdvi_irte_ga e = {0};

	if (amdvi_driver_ga(h->amdd)) {
		struct amdvi_ga_remap r = {.remap_en = true, .dest = pcpu, .vector = hvector};

		amdvi_ga_remap_encode(&r, &e);
	} else {
		struct amdvi_irte32 r = {
		    .remap_en = true, .dest = (uint8_t)pcpu, .vector = hvector};

		e.lo = amdvi_irte32_encode(&r);
	}
	return e;
}

/* Source validation for every entry: this device's requester-id, all 16 bits. */
static struct irte posted_entry(const struct host_irq *hi, struct vcpu *v, uint8_t vector,
				bool urgent)
{
	struct irte_posted p = {.p = true,
				.urg = urgent,
				.vector = vector,
				.pda = v->pid_pa,
				.sid = hi->rid,
				.sq = IRTE_SQ_ALL,
				.svt = IRTE_SVT_RID};
	struct irte e;

	irte_posted_encode(&p, &e);
	return e;
}

static struct irte remapped_entry(const struct host *h, const struct host_irq *hi, unsigned pcpu,
				  uint8_t hvector)
{
	struct irte_remapped r = {.p = true,
				  .dlm = MSI_DM_FIXED,
				  .vector = hvector,
				  .dst = dest_field(h, pcpu),
				  .sid = hi->rid,
				  .sq = IRTE_SQ_ALL,
				  .svt = IRTE_SVT_RID};
	struct irte e;

	irte_remapped_encode(&r, &e);
	return e;
}

static int write_remapped(struct host *h, const struct host_irq *hi, unsigned pcpu, uint8_t hvector)
{
	struct irte e;
	struct amdvi_irte_ga a;

	if (hi->amd) {
		a = amd_remapped_entry(h, pcpu, hvector);
		return amdvi_irte_update(h->amdd, hi->rid, hi->irte, &a);
	}
	e = remapped_entry(h, hi, pcpu, hvector);
	return irte_write(h, hi, &e);
}

/* Posted to @vector of @v: VT-d's posted format, or AMD-Vi's guest mode as KVM activates it. */
static int write_posted(struct host *h, const struct host_irq *hi, struct vcpu *v, uint8_t vector,
			bool urgent)
{
	struct irte e;
	struct amdvi_irte_ga a;

	if (hi->amd) { /* amd_iommu_activate_guest_mode(): modify_irte_ga(), flushed */
		a = vapic_entry(hi, v, vector, v->state == VCPU_RUNNING, v->state == VCPU_BLOCKED);
		return amdvi_irte_update(h->amdd, hi->rid, hi->irte, &a);
	}
	e = posted_entry(hi, v, vector, urgent);
	return irte_write(h, hi, &e);
}

/*
 * Deactivation clears the entry. If the invalidation does not complete (-EIO) the entry
 * is cleared in memory all the same, and the unit may serve a cached copy until it
 * evicts it; Linux's deactivate ignores modify_irte()'s result too.
 */
static void write_clear(struct host *h, const struct host_irq *hi)
{
	const struct irte clear = {0};
	const struct amdvi_irte_ga zero = {0};

	if (hi->amd)
		(void)!amdvi_irte_write(h->amdd, hi->rid, hi->irte, &zero);
	else
		(void)!ir_irte_write(h->ird, hi->irte, &clear);
}

/* AMD-Vi: the posted interrupts of each vCPU, which its loads and puts update. */
static void ga_unlink(struct host_irq *hi)
{
	struct host_irq **pp;

	if (!hi->amd || !hi->posted || !hi->vcpu)
		return;
	for (pp = &hi->vcpu->ga_irqs; *pp; pp = &(*pp)->next_ga)
		if (*pp == hi) {
			*pp = hi->next_ga;
			break;
		}
	hi->next_ga = NULL;
}

static void ga_link(struct host_irq *hi, struct vcpu *v)
{
	hi->next_ga = v->ga_irqs;
	v->ga_irqs = hi;
}

static void unlink_fallback(struct host_irq *hi)
{
	struct host_irq **pp;

	if (hi->posted || !hi->vcpu)
		return;
	for (pp = &hi->vcpu->fallback; *pp; pp = &(*pp)->next_fallback)
		if (*pp == hi) {
			*pp = hi->next_fallback;
			break;
		}
	hi->next_fallback = NULL;
}

/*
 * Moves the host vector to @pcpu (irq_set_affinity on the host irq). A
 * remapped IRTE is rewritten; a posted one is left alone: only its cached
 * remapped form changes (Linux irq_remapping.c, intel_ir_reconfigure_irte). On failure
 * nothing changed.
 */
static int move_vector(struct host *h, struct host_irq *hi, unsigned pcpu)
{
	uint8_t hvector;
	int err;

	if (!hi->has_vector || hi->hpcpu == pcpu)
		return 0;
	err = vector_take(h, pcpu, hi, &hvector);
	if (err)
		return err;
	if (!hi->posted) {
		err = write_remapped(h, hi, pcpu, hvector);
		if (err) {
			vector_put(h, pcpu, hvector);
			return err;
		}
	}
	vector_put(h, hi->hpcpu, hi->hvector);
	hi->hpcpu = pcpu;
	hi->hvector = hvector;
	return 0;
}

int host_irq_request(struct host *h, struct host_irq *hi, host_irq_handler_fn handler, void *ctx)
{
	unsigned pcpu = least_loaded_pcpu(h);
	uint8_t hvector;
	int err;

	if (hi->requested)
		return -EBUSY;
	err = vector_take(h, pcpu, hi, &hvector);
	if (err) {
		h->stats.vector_refusals++;
		return err; /* every pCPU's vectors are in use */
	}
	err = write_remapped(h, hi, pcpu, hvector);
	if (err) {
		vector_put(h, pcpu, hvector);
		return err;
	}
	hi->requested = true;
	hi->has_vector = true;
	hi->hpcpu = pcpu;
	hi->hvector = hvector;
	hi->handler = handler;
	hi->handler_ctx = ctx;
	hi->posted = false;
	hi->vcpu = NULL;
	return 0;
}

void host_irq_shutdown(struct host *h, struct host_irq *hi)
{
	if (!hi || !hi->requested)
		return;
	unlink_fallback(hi);
	ga_unlink(hi);
	if (hi->posted)
		h->stats.format_changes++;
	write_clear(h, hi); /* the host does not stop for a failed invalidation */
	if (hi->has_vector)
		vector_put(h, hi->hpcpu, hi->hvector);
	hi->has_vector = false;
	hi->requested = false;
	hi->posted = false;
	hi->vcpu = NULL;
	hi->handler = NULL;
}

static int target_posted(struct host *h, struct host_irq *hi, struct vcpu *v, uint8_t vector,
			 bool urgent)
{
	int err = write_posted(h, hi, v, vector, urgent);

	if (err)
		return err;
	if (hi->amd && (!hi->posted || hi->vcpu != v)) {
		ga_unlink(hi);
		ga_link(hi, v);
	}
	unlink_fallback(hi);
	if (!hi->posted)
		h->stats.format_changes++;
	hi->posted = true;
	if (h->cfg.kernel == HOST_KERNEL_TUNED && hi->has_vector) {
		vector_put(h, hi->hpcpu, hi->hvector); /* T2: a posted IRTE needs none */
		hi->has_vector = false;
	}
	return 0;
}

/* Back to remapped: on `tuned`, a vector first (on @pcpu if it has room). */
static int unpost(struct host *h, struct host_irq *hi, unsigned pcpu)
{
	uint8_t hvector = hi->hvector;
	unsigned at = hi->hpcpu;
	int err;

	if (!hi->has_vector) {
		at = pcpu;
		err = vector_take(h, at, hi, &hvector);
		if (err) {
			at = least_loaded_pcpu(h);
			err = vector_take(h, at, hi, &hvector);
		}
		if (err) {
			h->stats.vector_refusals++;
			return err; /* it stays posted: still delivered */
		}
	}
	err = write_remapped(h, hi, at, hvector);
	if (err) {
		if (!hi->has_vector)
			vector_put(h, at, hvector);
		return err;
	}
	ga_unlink(hi);
	h->stats.format_changes++;
	hi->posted = false;
	hi->has_vector = true;
	hi->hpcpu = at;
	hi->hvector = hvector;
	return 0;
}

/* Remapped, following @v: the host vector moves to @v's pCPU where one is free. */
static int target_remapped(struct host *h, struct host_irq *hi, struct vcpu *v)
{
	int err;

	if (hi->posted) {
		err = unpost(h, hi, v->pcpu);
		if (err)
			return err;
	}
	if (hi->vcpu != v) {
		unlink_fallback(hi);
		hi->vcpu = v;
		fallback_push(v, hi);
	}
	(void)move_vector(h, hi, v->pcpu); /* else it stays where it is: still delivered */
	return 0;
}

int host_irq_target(struct host *h, struct host_irq *hi, struct vcpu *v, uint8_t vector,
		    bool urgent)
{
	int err;

	if (!hi->requested) {
		err = host_irq_request(h, hi, NULL, NULL);
		if (err)
			return err;
	}
	if (h->fault == HOST_FAULT_MISROUTE_NEXT && vector < 0xec) {
		h->fault = HOST_FAULT_NONE; /* the deliberate bug: the next vector up */
		vector = (uint8_t)(vector + 1);
	}
	err = host_posting(h) ? target_posted(h, hi, v, vector, urgent) : target_remapped(h, hi, v);
	if (err)
		return err;
	hi->vcpu = v;
	hi->vector = vector;
	hi->urgent = urgent;
	return 0;
}

int host_irq_untarget(struct host *h, struct host_irq *hi)
{
	int err;

	if (!hi->requested)
		return 0;
	if (hi->posted) {
		err = unpost(h, hi, least_loaded_pcpu(h));
		if (err)
			return err;
	}
	unlink_fallback(hi);
	hi->vcpu = NULL;
	return 0;
}

void host_irq_free(struct host *h, struct host_irq *hi)
{
	if (!hi)
		return;
	host_irq_shutdown(h, hi);
	/* zeroed and released even when the invalidation fails (-EIO), as above */
	if (hi->block) {
		if (!--hi->block->live) {
			block_give_back(h, hi->rid, hi->block);
			free(hi->block);
		}
	} else if (hi->window)
		hi->window->win_used[hi->irte - hi->window->win_base] = false; /* cleared above */
	else if (hi->amd)
		(void)!amdvi_irte_free(h->amdd, hi->rid, hi->irte, 1);
	else
		(void)!ir_irte_free(h->ird, hi->irte, 1);
	free(hi);
}

/*
 * VT-d: the handle, SHV and a subhandle of 0; a vector of a multi-message MSI names its
 * block's first IRTE and its place in it, as Linux's fill_msi_msg() does, so that the
 * first vector's message, which the device holds, reaches IRTE first + n for vector n.
 */
struct msi_msg host_irq_msg(const struct host_irq *hi)
{
	uint32_t base = hi->block ? hi->block->base : hi->irte;
	struct msi_remap r = {
	    .handle = (uint16_t)base, .shv = true, .subhandle = (uint16_t)(hi->irte - base)};
	struct msi_msg m;

	if (hi->amd)
		return hi->amd_msg;
	msi_remap_encode(&r, &m);
	return m;
}

uint32_t host_irq_index(const struct host_irq *hi)
{
	return hi->irte;
}

bool host_irq_posted(const struct host_irq *hi)
{
	return hi->requested && hi->posted;
}

bool host_irq_requested(const struct host_irq *hi)
{
	return hi->requested;
}

unsigned host_irq_pcpu(const struct host_irq *hi)
{
	return hi->hpcpu;
}

struct vcpu *host_irq_vcpu(const struct host_irq *hi)
{
	return hi->vcpu;
}

uint8_t host_irq_vector(const struct host_irq *hi)
{
	return hi->vector;
}
