// SPDX-License-Identifier: MIT
/*
 * VT-d interrupt-remapping unit: registers, interrupt-entry cache, queued
 * invalidation, translation and fault recording. See pvir/ir_unit.h for what
 * is and is not modelled.
 *
 * The IEC is direct-mapped by index (slot = index mod iec_slots). What matters
 * for software is not its geometry but that it is a cache: an IRTE changed in
 * memory keeps being served from a filled slot until an IEC invalidation that
 * covers its index is processed. Only present entries without reserved bits
 * are cached, so a fault is always re-evaluated from memory.
 */
#include "pvir/ir_unit.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/irte.h"
#include "pvir/msi.h"
#include "pvir/physmem.h"

#define IRTA_ADDR_LO	  12
#define IQ_ADDR_LO	  12
#define IQA_DW		  11
#define IQA_QS_HI	  2
#define IQA_QS_LO	  0
#define IQ_INDEX_HI	  18
#define IQ_INDEX_LO	  4
#define IQ_DESCS_PER_PAGE 256
#define QI_TYPE_LO_HI	  3
#define QI_TYPE_HI_HI	  11
#define QI_TYPE_HI_LO	  9
#define QI_IEC_G	  4
#define QI_IEC_IM_HI	  31
#define QI_IEC_IM_LO	  27
#define QI_IEC_IIDX_HI	  47
#define QI_IEC_IIDX_LO	  32
#define QI_IEC_RSVD_LO	  UINT64_C(0xffff000007fff1e0) /* bits 63:48, 26:12, 8:5 */
#define QI_WAIT_IF	  4
#define QI_WAIT_SW	  5
#define QI_WAIT_RSVD_LO	  bits_mask(31, 12)
#define QI_WAIT_STATUS_HI 63
#define QI_WAIT_STATUS_LO 32
#define QI_WAIT_ADDR_RSVD bits_mask(1, 0)
#define FRCD_LEN	  16
#define MAX_NFR		  256
#define MAX_MHMV	  15

struct iec_slot {
	bool valid;
	uint32_t index;
	struct irte entry;
};

struct frcd {
	uint64_t lo;
	uint64_t hi;
};

struct ir_unit {
	struct physmem *mem;
	struct ir_unit_config cfg;
	uint64_t cap;
	uint64_t ecap;
	uint32_t gsts;
	uint64_t irta;	      /* as last written */
	uint64_t irt_base;    /* latched by SIRTP */
	uint32_t irt_entries; /* latched by SIRTP; 0 before */
	bool eime;	      /* latched by SIRTP */
	bool pfo;
	bool iqe;
	uint32_t fectl;
	/* a fault event message is due (FECTL.IP rose with IM clear); set under the lock,
	 * taken without it (ir_unit_take_fault_event) */
	atomic_bool fault_event;
	uint32_t ics;
	unsigned fri;	    /* FSTS.FRI: the record that set PPF */
	unsigned next_frcd; /* where the next fault is recorded */
	struct frcd *frcd;
	unsigned frcd_pending; /* records with F set: PPF, read with every FSTS poll */
	uint64_t iqa;
	uint32_t iq_head;
	uint32_t iq_tail;
	struct iec_slot *iec;
	/* the entries invalidated since ir_unit_take_invalidated() last asked */
	struct ir_inval inval[IR_INVAL_RANGES];
	unsigned ninval;
	bool inval_all;
	struct ir_unit_stats stats;
	atomic_bool busy; /* see unit_lock() */
};

/*
 * The unit serializes its own state — registers, IEC, fault log, stats — as
 * hardware does: requests from several devices and the driver's register
 * accesses may come from different threads (tests/unit/test_stress.c). What
 * it shares with the CPUs is memory, the IRT and the posted descriptors,
 * reached only with the atomics real hardware uses, never under this lock.
 */
static void unit_lock(struct ir_unit *ir)
{
	while (atomic_exchange_explicit(&ir->busy, true, memory_order_acquire))
		sched_yield();
}

static void unit_unlock(struct ir_unit *ir)
{
	atomic_store_explicit(&ir->busy, false, memory_order_release);
}

const char *ir_fault_name(unsigned reason)
{
	static const char *const names[IR_FAULT_COUNT] = {
	    [IR_FAULT_REQ_RSVD - IR_FAULT_FIRST] = "reserved field in remappable request",
	    [IR_FAULT_INDEX - IR_FAULT_FIRST] = "interrupt index beyond table size",
	    [IR_FAULT_NOT_PRESENT - IR_FAULT_FIRST] = "IRTE not present",
	    [IR_FAULT_TABLE_ACCESS - IR_FAULT_FIRST] = "IR table access error",
	    [IR_FAULT_IRTE_RSVD - IR_FAULT_FIRST] = "reserved field in IRTE",
	    [IR_FAULT_COMPAT - IR_FAULT_FIRST] = "compatibility format blocked",
	    [IR_FAULT_SID - IR_FAULT_FIRST] = "source-id verification failed",
	    [IR_FAULT_PID_ACCESS - IR_FAULT_FIRST] = "posted descriptor access error",
	};

	if (reason < IR_FAULT_FIRST || reason >= IR_FAULT_FIRST + IR_FAULT_COUNT)
		return "unknown";
	return names[reason - IR_FAULT_FIRST];
}

struct qi_desc qi_iec_global(void)
{
	return (struct qi_desc){.lo = QI_TYPE_IEC};
}

struct qi_desc qi_iec_index(uint16_t index, unsigned im)
{
	uint64_t lo = QI_TYPE_IEC;

	lo = bit_set(lo, QI_IEC_G, true);
	lo = bits_set(lo, QI_IEC_IM_HI, QI_IEC_IM_LO, im);
	lo = bits_set(lo, QI_IEC_IIDX_HI, QI_IEC_IIDX_LO, index);
	return (struct qi_desc){.lo = lo};
}

struct qi_desc qi_wait(uint64_t addr, uint32_t status)
{
	uint64_t lo = QI_TYPE_WAIT;

	lo = bit_set(lo, QI_WAIT_SW, true);
	lo = bits_set(lo, QI_WAIT_STATUS_HI, QI_WAIT_STATUS_LO, status);
	return (struct qi_desc){.lo = lo, .hi = addr};
}

struct ir_unit_config ir_unit_default_config(void)
{
	return (struct ir_unit_config){
	    .nfr = 8,
	    .iec_slots = 256,
	    .mhmv = MAX_MHMV,
	    .posting = true,
	    .esirtps = false,
	    .eim = true,
	    .caching_mode = false,
	};
}

static bool config_valid(const struct ir_unit_config *cfg)
{
	bool pow2 = cfg->iec_slots && (cfg->iec_slots & (cfg->iec_slots - 1)) == 0;

	return pow2 && cfg->nfr >= 1 && cfg->nfr <= MAX_NFR && cfg->mhmv <= MAX_MHMV;
}

static void init_caps(struct ir_unit *ir)
{
	const struct ir_unit_config *cfg = &ir->cfg;
	uint64_t cap = 0, ecap = 0;

	cap = bit_set(cap, DMA_CAP_CM, cfg->caching_mode);
	cap = bits_set(cap, DMA_CAP_FRO_HI, DMA_CAP_FRO_LO, DMAR_FRCD_REG / FRCD_LEN);
	cap = bits_set(cap, DMA_CAP_NFR_HI, DMA_CAP_NFR_LO, cfg->nfr - 1);
	cap = bit_set(cap, DMA_CAP_PI, cfg->posting);
	cap = bit_set(cap, DMA_CAP_ESIRTPS, cfg->esirtps);
	ecap = bit_set(ecap, DMA_ECAP_QI, true);
	ecap = bit_set(ecap, DMA_ECAP_IR, true);
	ecap = bit_set(ecap, DMA_ECAP_EIM, cfg->eim);
	ecap = bits_set(ecap, DMA_ECAP_MHMV_HI, DMA_ECAP_MHMV_LO, cfg->mhmv);
	ir->cap = cap;
	ir->ecap = ecap;
}

struct ir_unit *ir_unit_new(struct physmem *hostmem, const struct ir_unit_config *cfg)
{
	struct ir_unit *ir;

	if (!hostmem || !config_valid(cfg))
		return NULL;
	ir = calloc(1, sizeof(*ir));
	if (!ir)
		return NULL;
	ir->frcd = calloc(cfg->nfr, sizeof(*ir->frcd));
	ir->iec = calloc(cfg->iec_slots, sizeof(*ir->iec));
	if (!ir->frcd || !ir->iec) {
		ir_unit_free(ir);
		return NULL;
	}
	ir->mem = hostmem;
	ir->cfg = *cfg;
	init_caps(ir);
	return ir;
}

void ir_unit_free(struct ir_unit *ir)
{
	if (!ir)
		return;
	free(ir->frcd);
	free(ir->iec);
	free(ir);
}

const struct ir_unit_stats *ir_unit_stats(const struct ir_unit *ir)
{
	return &ir->stats;
}

uint32_t ir_unit_table_entries(const struct ir_unit *ir)
{
	return ir->irt_entries;
}

bool ir_unit_eime(const struct ir_unit *ir)
{
	return ir->eime;
}

bool ir_unit_posting(const struct ir_unit *ir)
{
	return ir->cfg.posting;
}

/* ---- interrupt-entry cache ---------------------------------------------- */

static struct iec_slot *iec_slot_for(struct ir_unit *ir, uint32_t index)
{
	return &ir->iec[index & (ir->cfg.iec_slots - 1)];
}

static void note_invalidated(struct ir_unit *ir, uint32_t first, uint32_t count)
{
	if (ir->ninval == IR_INVAL_RANGES)
		ir->inval_all = true;
	else
		ir->inval[ir->ninval++] = (struct ir_inval){first, count};
}

int ir_unit_take_invalidated(struct ir_unit *ir, struct ir_inval *ret)
{
	int n;

	unit_lock(ir);
	n = ir->inval_all ? -1 : (int)ir->ninval;
	for (int i = 0; i < n; i++)
		ret[i] = ir->inval[i];
	ir->ninval = 0;
	ir->inval_all = false;
	unit_unlock(ir);
	return n;
}

static void iec_invalidate_all(struct ir_unit *ir)
{
	ir->inval_all = true;
	for (unsigned i = 0; i < ir->cfg.iec_slots; i++)
		ir->iec[i].valid = false;
}

static void iec_invalidate_range(struct ir_unit *ir, uint32_t first, uint32_t count)
{
	note_invalidated(ir, first, count);
	if (count >= ir->cfg.iec_slots) {
		for (unsigned i = 0; i < ir->cfg.iec_slots; i++) {
			struct iec_slot *s = &ir->iec[i];

			if (s->index >= first && s->index - first < count)
				s->valid = false;
		}
		return;
	}
	for (uint32_t idx = first; idx < first + count; idx++) {
		struct iec_slot *s = iec_slot_for(ir, idx);

		if (s->index == idx)
			s->valid = false;
	}
}

/* ---- fault recording ---------------------------------------------------- */

static bool any_fault_pending(const struct ir_unit *ir)
{
	return ir->frcd_pending != 0;
}

/*
 * The fault event (VT-d §7.3.1): a fault recorded while FECTL.IP is clear
 * sets IP and, unless IM masks it, sends the event message; software
 * drains the log in its handler (Linux's dmar_fault()). IP clears once no
 * fault is pending and PFO is clear. Unmasking with IP set sends it then.
 */
static void fault_event_due_if(struct ir_unit *ir, bool due)
{
	if (due)
		atomic_store_explicit(&ir->fault_event, true, memory_order_release);
}

static void raise_fault_event(struct ir_unit *ir)
{
	if (bit_get(ir->fectl, DMA_FECTL_IP))
		return;
	ir->fectl = (uint32_t)bit_set(ir->fectl, DMA_FECTL_IP, true);
	fault_event_due_if(ir, !bit_get(ir->fectl, DMA_FECTL_IM));
}

static void settle_fault_event(struct ir_unit *ir)
{
	if (!any_fault_pending(ir) && !ir->pfo)
		ir->fectl = (uint32_t)bit_set(ir->fectl, DMA_FECTL_IP, false);
}

/* Asked after every message: the usual answer, none, costs no locked operation. */
bool ir_unit_take_fault_event(struct ir_unit *ir)
{
	if (!atomic_load_explicit(&ir->fault_event, memory_order_acquire))
		return false;
	return atomic_exchange_explicit(&ir->fault_event, false, memory_order_acq_rel);
}

/*
 * Primary fault logging (VT-d §7.3.1, QEMU vtd_report_frcd_fault): records
 * go to the fault recording registers in turn, wrapping. If the next one still
 * holds an unserviced fault (F set), or overflow is already flagged, the new
 * fault is not recorded and PFO is set; nothing is recorded again until
 * software clears PFO. FSTS.FRI names the record that set PPF, i.e. the first
 * pending one, which is where software starts reading. Returns whether the
 * fault was recorded.
 */
static bool record_fault(struct ir_unit *ir, uint8_t reason, uint16_t rid, uint32_t index, bool fpd)
{
	struct frcd *r = &ir->frcd[ir->next_frcd];
	bool ppf = any_fault_pending(ir);
	uint64_t hi = 0;

	if (fpd) {
		ir->stats.faults_fpd_suppressed++;
		return false;
	}
	if (ir->pfo || bit_get(r->hi, DMA_FRCD_F)) {
		ir->pfo = true;
		ir->stats.faults_overflow_lost++;
		return false;
	}
	hi = bit_set(hi, DMA_FRCD_F, true);
	hi = bits_set(hi, DMA_FRCD_FR_HI, DMA_FRCD_FR_LO, reason);
	hi = bits_set(hi, DMA_FRCD_SID_HI, DMA_FRCD_SID_LO, rid);
	r->lo = bits_set(0, DMA_FRCD_IDX_HI, DMA_FRCD_IDX_LO, index & 0xffff);
	r->hi = hi;
	ir->frcd_pending++;
	if (!ppf)
		ir->fri = ir->next_frcd;
	ir->next_frcd = (ir->next_frcd + 1) % ir->cfg.nfr;
	raise_fault_event(ir);
	ir->stats.faults_recorded++;
	return true;
}

/* ---- translation -------------------------------------------------------- */

static void block(struct ir_unit *ir, struct ir_result *ret, uint8_t reason, uint16_t rid,
		  uint32_t index, bool fpd)
{
	ret->outcome = IR_BLOCKED;
	ret->index = index;
	ret->fault = reason;
	ret->fault_recorded = record_fault(ir, reason, rid, index, fpd);
	ir->stats.faults[reason - IR_FAULT_FIRST]++;
}

void apic_irq_from_compat(const struct msi_msg *msg, struct apic_irq *ret)
{
	struct msi_compat c;

	msi_compat_decode(msg, &c);
	*ret = (struct apic_irq){
	    .dest = c.dest_id,
	    .dm = c.dm,
	    .rh = c.rh,
	    .dlm = c.delivery_mode,
	    .tm = c.trigger,
	    .vector = c.vector,
	};
}

static void passthrough(const struct msi_msg *msg, struct ir_result *ret)
{
	ret->outcome = IR_PASSTHROUGH;
	ret->send_irq = true;
	apic_irq_from_compat(msg, &ret->irq);
}

static uint32_t dest_of(const struct ir_unit *ir, uint32_t field)
{
	return ir->eime ? field : irte_xapic_dest(field);
}

static void deliver_remapped(struct ir_unit *ir, const struct irte *e, struct ir_result *ret)
{
	struct irte_remapped r;

	irte_remapped_decode(e, &r);
	ret->outcome = IR_REMAPPED;
	ret->send_irq = true;
	ret->irq = (struct apic_irq){
	    .dest = dest_of(ir, r.dst),
	    .dm = r.dm,
	    .rh = r.rh,
	    .dlm = r.dlm,
	    .tm = r.tm,
	    .vector = r.vector,
	};
}

/* Returns false when the descriptor could not be accessed (fault 0x27). */
static bool deliver_posted(struct ir_unit *ir, const struct irte *e, struct ir_result *ret)
{
	struct irte_posted p;

	irte_posted_decode(e, &p);
	if (pid_post(ir->mem, p.pda, p.vector, p.urg, &ret->post))
		return false;
	ret->outcome = IR_POSTED;
	ret->pda = p.pda;
	ret->posted_vector = p.vector;
	ret->urgent = p.urg;
	if (ret->post.notify) {
		/* The notification event: physical, fixed, edge (VT-d §5.2.3). */
		ret->send_irq = true;
		ret->irq = (struct apic_irq){.dest = dest_of(ir, ret->post.ndst),
					     .dlm = MSI_DM_FIXED,
					     .vector = ret->post.nv};
		ir->stats.notifications++;
	}
	return true;
}

/* Reads the IRTE for @index through the IEC. Returns 0 or -EFAULT (fault 0x23). */
static int fetch_irte(struct ir_unit *ir, uint32_t index, struct irte *ret, bool *ret_hit)
{
	struct iec_slot *s = iec_slot_for(ir, index);
	uint64_t v[2];
	int err;

	if (s->valid && s->index == index) {
		ir->stats.iec_hits++;
		*ret = s->entry;
		*ret_hit = true;
		return 0;
	}
	ir->stats.iec_misses++;
	*ret_hit = false;
	err = physmem_load128(ir->mem, ir->irt_base + (uint64_t)index * IRTE_SIZE, v);
	if (err)
		return -EFAULT;
	physmem_prefetch(ir->mem, ir->irt_base + (uint64_t)index * IRTE_SIZE + CACHE_LINE);
	*ret = (struct irte){.lo = v[0], .hi = v[1]};
	return 0;
}

static void iec_fill(struct ir_unit *ir, uint32_t index, const struct irte *e)
{
	*iec_slot_for(ir, index) = (struct iec_slot){.valid = true, .index = index, .entry = *e};
}

static uint32_t irte_sid_fields(const struct irte *e, uint16_t *sid, unsigned *sq)
{
	struct irte_remapped r;

	/* SID, SQ and SVT sit at the same bits in both formats. */
	irte_remapped_decode(e, &r);
	*sid = r.sid;
	*sq = r.sq;
	return r.svt;
}

/*
 * Finds and validates the IRTE a remappable request names, in the order of
 * VT-d §5.1.4 / QEMU's vtd_interrupt_remap_msi: decode (0x20), bounds (0x21),
 * fetch (0x23), present (0x22), reserved (0x24), source (0x26). A request's
 * reserved data bits are a decode error, so they are checked before the table
 * is touched (QEMU checks them last; only which of two faults wins when both
 * apply differs). Returns 0 or the fault reason; sets @ret_fpd from the entry
 * once it has been read.
 */
static uint8_t lookup_irte(struct ir_unit *ir, const struct msi_msg *msg, uint16_t rid,
			   struct ir_result *ret, struct irte *e, bool *ret_fpd)
{
	struct msi_remap req;
	struct irte rsvd;
	unsigned sq, svt;
	uint16_t sid;
	bool hit;

	msi_remap_decode(msg, &req);
	ret->index = req.handle;
	if (msi_reserved_bits(msg).data)
		return IR_FAULT_REQ_RSVD;
	ret->index = msi_remap_index(&req);
	if (ret->index >= ir->irt_entries)
		return IR_FAULT_INDEX;
	if (fetch_irte(ir, ret->index, e, &hit))
		return IR_FAULT_TABLE_ACCESS;
	/* FPD is honoured whether or not P is set [spec? VT-d §9.10 "FPD"]. */
	*ret_fpd = irte_fpd(e);
	if (!irte_is_present(e))
		return IR_FAULT_NOT_PRESENT;
	rsvd = irte_reserved_bits(e, ir->eime, ir->cfg.posting);
	if (rsvd.lo || rsvd.hi)
		return IR_FAULT_IRTE_RSVD;
	if (!hit)
		iec_fill(ir, ret->index, e);
	svt = irte_sid_fields(e, &sid, &sq);
	if (!irte_sid_matches(sid, sq, svt, rid))
		return IR_FAULT_SID;
	return 0;
}

static void translate_remappable(struct ir_unit *ir, const struct msi_msg *msg, uint16_t rid,
				 struct ir_result *ret)
{
	struct irte e;
	bool fpd = false;
	uint8_t fault = lookup_irte(ir, msg, rid, ret, &e, &fpd);

	if (!fault && !irte_is_posted(&e))
		deliver_remapped(ir, &e, ret);
	else if (!fault && !deliver_posted(ir, &e, ret))
		fault = IR_FAULT_PID_ACCESS;
	if (fault)
		block(ir, ret, fault, rid, ret->index, fpd);
}

static void translate_locked(struct ir_unit *ir, const struct msi_msg *msg, uint16_t rid,
			     struct ir_result *ret)
{
	bool cfis = bit_get(ir->gsts, DMA_GSTS_CFIS);

	memset(ret, 0, sizeof(*ret));
	ir->stats.requests++;
	if (!bit_get(ir->gsts, DMA_GSTS_IRES))
		passthrough(msg, ret);
	else if (!msi_is_interrupt_address(msg) || msg->address_hi)
		block(ir, ret, IR_FAULT_REQ_RSVD, rid, 0, false);
	else if (msi_format_of(msg) == MSI_FORMAT_REMAPPABLE)
		translate_remappable(ir, msg, rid, ret);
	else if (cfis && !ir->eime) /* VT-d §5.1.2.1: x2APIC mode blocks them too */
		passthrough(msg, ret);
	else
		block(ir, ret, IR_FAULT_COMPAT, rid, 0, false);
	ir->stats.outcomes[ret->outcome]++;
}

void ir_unit_translate(struct ir_unit *ir, const struct msi_msg *msg, uint16_t rid,
		       struct ir_result *ret)
{
	unit_lock(ir);
	translate_locked(ir, msg, rid, ret);
	unit_unlock(ir);
}

/* ---- queued invalidation ------------------------------------------------ */

static uint32_t iq_entries(const struct ir_unit *ir)
{
	return IQ_DESCS_PER_PAGE << bits_get(ir->iqa, IQA_QS_HI, IQA_QS_LO);
}

static int process_iec(struct ir_unit *ir, const struct qi_desc *d)
{
	unsigned im = (unsigned)bits_get(d->lo, QI_IEC_IM_HI, QI_IEC_IM_LO);
	uint32_t count = UINT32_C(1) << im;
	uint32_t first = (uint32_t)bits_get(d->lo, QI_IEC_IIDX_HI, QI_IEC_IIDX_LO);

	if ((d->lo & QI_IEC_RSVD_LO) || d->hi)
		return -EINVAL;
	ir->stats.iec_invalidations++;
	if (!bit_get(d->lo, QI_IEC_G)) {
		iec_invalidate_all(ir);
		return 0;
	}
	/* Masks above ECAP.MHMV are undefined; we refuse them like a bad descriptor. */
	if (im > ir->cfg.mhmv)
		return -EINVAL;
	/* IIDX must be 2^IM aligned; the low bits are ignored, as an index mask would. */
	iec_invalidate_range(ir, first & ~(count - 1), count);
	return 0;
}

static int process_wait(struct ir_unit *ir, const struct qi_desc *d)
{
	uint32_t status = (uint32_t)bits_get(d->lo, QI_WAIT_STATUS_HI, QI_WAIT_STATUS_LO);

	if ((d->lo & QI_WAIT_RSVD_LO) || (d->hi & QI_WAIT_ADDR_RSVD))
		return -EINVAL;
	if (bit_get(d->lo, QI_WAIT_SW) && physmem_write(ir->mem, d->hi, &status, sizeof(status)))
		return -EFAULT;
	if (bit_get(d->lo, QI_WAIT_IF))
		ir->ics = (uint32_t)bit_set(ir->ics, DMA_ICS_IWC, true);
	return 0;
}

static int process_desc(struct ir_unit *ir, const struct qi_desc *d)
{
	unsigned type = (unsigned)(bits_get(d->lo, QI_TYPE_LO_HI, 0) |
				   bits_get(d->lo, QI_TYPE_HI_HI, QI_TYPE_HI_LO) << 4);

	ir->stats.qi_descriptors++;
	switch (type) {
	case QI_TYPE_IEC:
		return process_iec(ir, d);
	case QI_TYPE_WAIT:
		return process_wait(ir, d);
	case 1: /* context-cache, IOTLB, device-TLB: DMA remapping is not modelled */
	case 2:
	case 3:
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Fetches and processes descriptors from IQH up to IQT. An invalid descriptor
 * sets FSTS.IQE and stops with IQH pointing at it (VT-d §6.5.2.10); processing
 * resumes once software clears IQE.
 */
static void process_queue(struct ir_unit *ir)
{
	uint64_t base = ir->iqa & bits_mask(63, IQ_ADDR_LO);
	uint32_t n = iq_entries(ir);

	if (!bit_get(ir->gsts, DMA_GSTS_QIES) || ir->iqe)
		return;
	if (bit_get(ir->iqa, IQA_DW)) { /* 256-bit descriptors are not modelled */
		ir->iqe = true;
		return;
	}
	/*
	 * IQA rewritten under a running queue (undefined, VT-d §10.4.24) can
	 * leave IQH or IQT past the queue's new end, where IQH would chase a
	 * tail it never meets. Hardware reports a queue error, not a hang: so
	 * do we, and no pass takes more than one lap.
	 */
	if (ir->iq_head >= n || ir->iq_tail >= n) {
		ir->iqe = true;
		return;
	}
	for (uint32_t lap = 0; ir->iq_head != ir->iq_tail && lap < n; lap++) {
		uint64_t v[2];
		struct qi_desc d;

		if (physmem_load128(ir->mem, base + (uint64_t)ir->iq_head * sizeof(d), v)) {
			ir->iqe = true;
			return;
		}
		d = (struct qi_desc){.lo = v[0], .hi = v[1]};
		if (process_desc(ir, &d)) {
			ir->iqe = true;
			return;
		}
		ir->iq_head = (ir->iq_head + 1) % n;
	}
}

/* ---- registers ---------------------------------------------------------- */

static void latch_irta(struct ir_unit *ir)
{
	unsigned s = (unsigned)bits_get(ir->irta, DMA_IRTA_S_HI, DMA_IRTA_S_LO);

	ir->irt_base = ir->irta & bits_mask(63, IRTA_ADDR_LO);
	ir->irt_entries = UINT32_C(2) << s;
	ir->eime = ir->cfg.eim && bit_get(ir->irta, DMA_IRTA_EIME);
	ir->gsts = (uint32_t)bit_set(ir->gsts, DMA_GSTS_IRTPS, true);
	ir->inval_all = true; /* another table: every entry may mean something else */
	if (ir->cfg.esirtps)
		iec_invalidate_all(ir);
}

static void write_gcmd(struct ir_unit *ir, uint32_t val)
{
	bool qie = bit_get(val, DMA_GCMD_QIE);

	if (qie && !bit_get(ir->gsts, DMA_GSTS_QIES))
		ir->iq_head = 0; /* enabling QI resets the head (VT-d §10.4.22) */
	ir->gsts = (uint32_t)bit_set(ir->gsts, DMA_GSTS_QIES, qie);
	if (bit_get(val, DMA_GCMD_SIRTP))
		latch_irta(ir);
	ir->gsts = (uint32_t)bit_set(ir->gsts, DMA_GSTS_IRES, bit_get(val, DMA_GCMD_IRE));
	ir->gsts = (uint32_t)bit_set(ir->gsts, DMA_GSTS_CFIS, bit_get(val, DMA_GCMD_CFI));
	process_queue(ir);
}

static uint32_t read_fsts(const struct ir_unit *ir)
{
	uint64_t v = 0;

	v = bit_set(v, DMA_FSTS_PFO, ir->pfo);
	v = bit_set(v, DMA_FSTS_PPF, any_fault_pending(ir));
	v = bit_set(v, DMA_FSTS_IQE, ir->iqe);
	return (uint32_t)bits_set(v, DMA_FSTS_FRI_HI, DMA_FSTS_FRI_LO, ir->fri);
}

static void write_fsts(struct ir_unit *ir, uint32_t val)
{
	if (bit_get(val, DMA_FSTS_PFO))
		ir->pfo = false;
	settle_fault_event(ir);
	if (bit_get(val, DMA_FSTS_IQE)) {
		ir->iqe = false;
		process_queue(ir);
	}
}

static bool is_frcd(const struct ir_unit *ir, uint32_t offset)
{
	return offset >= DMAR_FRCD_REG && offset < DMAR_FRCD_REG + ir->cfg.nfr * FRCD_LEN;
}

static uint64_t read_reg64(struct ir_unit *ir, uint32_t offset)
{
	if (is_frcd(ir, offset)) {
		const struct frcd *r = &ir->frcd[(offset - DMAR_FRCD_REG) / FRCD_LEN];

		return offset % FRCD_LEN ? r->hi : r->lo;
	}
	switch (offset) {
	case DMAR_VER_REG:
		return 0x10; /* version 1.0 */
	case DMAR_CAP_REG:
		return ir->cap;
	case DMAR_ECAP_REG:
		return ir->ecap;
	case DMAR_GSTS_REG & ~7u:
		return (uint64_t)ir->gsts << 32; /* GCMD (write-only) reads 0 */
	case DMAR_FSTS_REG & ~7u:
		return (uint64_t)read_fsts(ir) << 32;
	case DMAR_FECTL_REG:
		return ir->fectl;
	case DMAR_IQH_REG:
		return (uint64_t)ir->iq_head << IQ_INDEX_LO;
	case DMAR_IQT_REG:
		return (uint64_t)ir->iq_tail << IQ_INDEX_LO;
	case DMAR_IQA_REG:
		return ir->iqa;
	case DMAR_ICS_REG & ~7u:
		return (uint64_t)ir->ics << 32;
	case DMAR_IRTA_REG:
		return ir->irta;
	default:
		return 0;
	}
}

uint64_t ir_unit_read(struct ir_unit *ir, uint32_t offset, unsigned size)
{
	uint64_t v;

	if (!dword_or_qword_aligned(offset, size))
		return ~UINT64_C(0);
	unit_lock(ir);
	v = read_reg64(ir, offset & ~7u);
	unit_unlock(ir);
	if (size == 4)
		return (uint32_t)(v >> (8 * (offset & 4)));
	return v;
}

static void write_frcd(struct ir_unit *ir, uint32_t offset, uint64_t hi_qword)
{
	struct frcd *r = &ir->frcd[(offset - DMAR_FRCD_REG) / FRCD_LEN];

	if (offset % FRCD_LEN && bit_get(hi_qword, DMA_FRCD_F) && bit_get(r->hi, DMA_FRCD_F)) {
		r->hi = bit_set(r->hi, DMA_FRCD_F, false); /* RW1C; the rest is RO */
		ir->frcd_pending--;
	}
	settle_fault_event(ir);
}

static void write_reg64(struct ir_unit *ir, uint32_t offset, uint64_t val, uint64_t lanes)
{
	if (is_frcd(ir, offset)) {
		write_frcd(ir, offset, val & lanes);
		return;
	}
	switch (offset) {
	case DMAR_GCMD_REG:
		if (lanes & UINT32_MAX)
			write_gcmd(ir, (uint32_t)val);
		break;
	case DMAR_FSTS_REG & ~7u:
		if (lanes >> 32)
			write_fsts(ir, (uint32_t)(val >> 32));
		break;
	case DMAR_FECTL_REG:
		/* IM (bit 31) is software's; IP (bit 30) only hardware sets. */
		ir->fectl = (uint32_t)((ir->fectl & (UINT64_C(1) << DMA_FECTL_IP)) |
				       (val & lanes & (UINT64_C(1) << DMA_FECTL_IM)));
		/* unmasked with a fault pending: the held event goes now */
		fault_event_due_if(ir, bit_get(ir->fectl, DMA_FECTL_IP) &&
					   !bit_get(ir->fectl, DMA_FECTL_IM));
		break;
	case DMAR_IQT_REG:
		ir->iq_tail =
		    (uint32_t)bits_get(val & lanes, IQ_INDEX_HI, IQ_INDEX_LO) % iq_entries(ir);
		process_queue(ir);
		break;
	case DMAR_IQA_REG:
		ir->iqa = (ir->iqa & ~lanes) | (val & lanes);
		break;
	case DMAR_ICS_REG & ~7u:
		if (bit_get(val >> 32, DMA_ICS_IWC))
			ir->ics = 0;
		break;
	case DMAR_IRTA_REG:
		ir->irta = (ir->irta & ~lanes) | (val & lanes);
		break;
	default:
		break; /* read-only, or a register this unit does not have */
	}
}

void ir_unit_write(struct ir_unit *ir, uint32_t offset, unsigned size, uint64_t val)
{
	unsigned shift = 8 * (offset & 4);

	if (!dword_or_qword_aligned(offset, size))
		return;
	unit_lock(ir);
	if (size == 8)
		write_reg64(ir, offset, val, ~UINT64_C(0));
	else
		write_reg64(ir, offset & ~7u, (val & UINT32_MAX) << shift,
			    (uint64_t)UINT32_MAX << shift);
	unit_unlock(ir);
}

/* ---- a migration's destination ------------------------------------------------------ */

int ir_unit_restore(struct ir_unit *ir, const struct ir_unit *from)
{
	if (ir->cfg.nfr != from->cfg.nfr || ir->cfg.iec_slots != from->cfg.iec_slots ||
	    ir->cap != from->cap || ir->ecap != from->ecap)
		return -EINVAL; /* another model of unit */
	unit_lock(ir);
	ir->gsts = from->gsts;
	ir->irta = from->irta;
	ir->irt_base = from->irt_base;
	ir->irt_entries = from->irt_entries;
	ir->eime = from->eime;
	ir->pfo = from->pfo;
	ir->iqe = from->iqe;
	ir->fectl = from->fectl;
	atomic_store(&ir->fault_event, atomic_load(&from->fault_event));
	ir->ics = from->ics;
	ir->fri = from->fri;
	ir->next_frcd = from->next_frcd;
	memcpy(ir->frcd, from->frcd, ir->cfg.nfr * sizeof(*ir->frcd));
	ir->frcd_pending = from->frcd_pending;
	ir->iqa = from->iqa;
	ir->iq_head = from->iq_head;
	ir->iq_tail = from->iq_tail;
	/* the interrupt entry cache starts empty: a cache, refilled from the table */
	memset(ir->iec, 0, ir->cfg.iec_slots * sizeof(*ir->iec));
	ir->ninval = 0;
	ir->inval_all = true;
	unit_unlock(ir);
	return 0;
}
