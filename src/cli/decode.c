// SPDX-License-Identifier: MIT
/*
 * `pvir decode`: hardware formats as a kernel developer reading a dump needs
 * them. Every field is printed with its spec name, the format is named, and
 * set reserved bits are flagged. --json prints one object per entry whose
 * keys are the spec's field names in lowercase.
 *
 * Values come as arguments (hex, with or without 0x) or as the dumps people
 * have (dumps.h: debugfs, QEMU's trace, lspci, gdb and crash, labelled
 * qwords), one per argument line or many on stdin ("-"). What looks wrong —
 * reserved bits that vanish with the halves swapped, a descriptor in memory
 * order, a debugfs row whose columns disagree with its entry — is a warning
 * on stderr, and with --strict the exit status is 1.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "decode.h"
#include "dumps.h"
#include "options.h"
#include "pvir/irte.h"
#include "pvir/json.h"
#include "pvir/msi.h"
#include "pvir/pi_desc.h"

void decode_warn(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->err, "pvir decode: warning: ");
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
	c->warnings++;
}

/* Between two entries' text, a blank line. */
void decode_next_entry(struct ctx *c)
{
	if (c->entries++ && !c->o->json)
		fputc('\n', c->out);
}

/* ---- input parsing ------------------------------------------------------ */

/* @argv's words, space-separated, as the one line a user pasted. */
static void join_args(int argc, char **argv, char *line, size_t size)
{
	line[0] = '\0';
	for (int i = 0; i < argc; i++)
		snprintf(line + strlen(line), size - strlen(line), "%s%s", i ? " " : "", argv[i]);
}

const char *decode_skip_0x(const char *s)
{
	return (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? s + 2 : s;
}

/*
 * Parses @nwords qwords, high first, either ':'-separated or as one long hex
 * number; @ret gets them low first. Returns false if malformed.
 */
bool decode_parse_qwords(const char *arg, unsigned nwords, uint64_t *ret)
{
	const char *s = arg;
	unsigned parts = 1;

	for (const char *p = arg; *p; p++)
		parts += *p == ':';
	memset(ret, 0, nwords * sizeof(*ret));
	if (parts == nwords && nwords > 1) {
		for (unsigned i = 0; i < nwords; i++) {
			const char *part = decode_skip_0x(s);
			const char *end = strchr(part, ':');
			size_t len = end ? (size_t)(end - part) : strlen(part);

			if (!dump_hex_digits(part, len, &ret[nwords - 1 - i]))
				return false;
			s = part + len + 1;
		}
		return true;
	}
	if (parts != 1)
		return false;
	s = decode_skip_0x(s);
	size_t len = strlen(s);
	if (len == 0 || len > (size_t)nwords * HEX_DIGITS_PER_QWORD)
		return false;
	for (unsigned i = 0; len > 0; i++) {
		size_t take = len < HEX_DIGITS_PER_QWORD ? len : HEX_DIGITS_PER_QWORD;

		if (!dump_hex_digits(s + len - take, take, &ret[i]))
			return false;
		len -= take;
	}
	return true;
}

/* ---- shared output helpers ---------------------------------------------- */

void decode_field(FILE *out, const char *name, uint64_t v, const char *meaning)
{
	fprintf(out, "  %-8s 0x%-10" PRIx64 " %s\n", name, v, meaning);
}

/* Lists set bits of @mask (qwords low first) as bit numbers of the whole value. */
void decode_json_bits(struct json *j, const char *key, const uint64_t *mask, unsigned nwords)
{
	json_array_begin(j, key);
	for (unsigned w = 0; w < nwords; w++)
		for (unsigned b = 0; b < 64; b++)
			if (bit_get(mask[w], b))
				json_uint(j, NULL, (uint64_t)w * 64 + b);
	json_array_end(j);
}

void decode_text_bits(FILE *out, const uint64_t *mask, unsigned nwords)
{
	bool any = false;

	fprintf(out, "  reserved bits set:");
	for (unsigned w = 0; w < nwords; w++)
		for (unsigned b = 0; b < 64; b++)
			if (bit_get(mask[w], b)) {
				fprintf(out, " %u", w * 64 + b);
				any = true;
			}
	fprintf(out, any ? "  <-- reserved, must be zero\n" : " none\n");
}

/* ---- IRTE --------------------------------------------------------------- */

static const char *svt_meaning(unsigned svt)
{
	static const char *const m[] = {"no source validation", "verify SID under SQ mask",
					"verify requester bus in [SID[15:8], SID[7:0]]",
					"reserved encoding"};
	return m[svt & 3];
}

static const char *sq_meaning(unsigned sq)
{
	static const char *const m[] = {"compare all 16 bits", "ignore bit 2", "ignore bits 2:1",
					"ignore bits 2:0"};
	return m[sq & 3];
}

static void sid_text(FILE *out, uint16_t sid, unsigned sq, unsigned svt)
{
	char bdf[64];

	snprintf(bdf, sizeof(bdf), "source id %02x:%02x.%u", sid >> 8, (sid >> 3) & 0x1f, sid & 7);
	decode_field(out, "SID", sid, bdf);
	decode_field(out, "SQ", sq, sq_meaning(sq));
	decode_field(out, "SVT", svt, svt_meaning(svt));
}

static void irte_remapped_text(FILE *out, const struct irte *e, const struct decode_opts *o)
{
	struct irte_remapped r;
	char dst[64];

	irte_remapped_decode(e, &r);
	fprintf(out, "IRTE 0x%016" PRIx64 ":0x%016" PRIx64 "  format: remapped (IM=%d)\n", e->hi,
		e->lo, irte_is_posted(e));
	decode_field(out, "P", r.p, r.p ? "present" : "not present: interrupts fault 0x22");
	decode_field(out, "FPD", r.fpd, r.fpd ? "fault recording disabled" : "faults recorded");
	decode_field(out, "DM", r.dm, r.dm ? "logical destination" : "physical destination");
	decode_field(out, "RH", r.rh,
		     r.rh ? "redirection hint: lowest priority allowed" : "no hint");
	decode_field(out, "TM", r.tm, r.tm ? "level" : "edge");
	decode_field(out, "DLM", r.dlm, msi_delivery_mode_name(r.dlm));
	decode_field(out, "AVAIL", r.avail, "software available");
	decode_field(out, "IM", irte_is_posted(e),
		     irte_is_posted(e) ? "set, but posting unsupported: reserved"
				       : "remapped format");
	decode_field(out, "V", r.vector, "vector");
	if (o->xapic && r.dm)
		snprintf(dst, sizeof(dst), "xAPIC logical destination: mask 0x%x (DST[15:8])",
			 irte_xapic_dest(r.dst));
	else if (o->xapic)
		snprintf(dst, sizeof(dst), "xAPIC destination: APIC ID 0x%x (DST[15:8])",
			 irte_xapic_dest(r.dst));
	else if (r.dm)
		snprintf(dst, sizeof(dst), "x2APIC logical destination: cluster 0x%x, CPUs 0x%x",
			 r.dst >> 16, r.dst & 0xffff);
	else
		snprintf(dst, sizeof(dst), "x2APIC destination: APIC ID 0x%x", r.dst);
	decode_field(out, "DST", r.dst, dst);
	sid_text(out, r.sid, r.sq, r.svt);
}

static void irte_posted_text(FILE *out, const struct irte *e)
{
	struct irte_posted p;
	char pda[64];

	irte_posted_decode(e, &p);
	fprintf(out, "IRTE 0x%016" PRIx64 ":0x%016" PRIx64 "  format: posted (IM=1)\n", e->hi,
		e->lo);
	decode_field(out, "P", p.p, p.p ? "present" : "not present: interrupts fault 0x22");
	decode_field(out, "FPD", p.fpd, p.fpd ? "fault recording disabled" : "faults recorded");
	decode_field(out, "AVAIL", p.avail, "software available");
	decode_field(out, "URG", p.urg, p.urg ? "urgent: notify even when SN=1" : "not urgent");
	decode_field(out, "IM", 1, "posted format");
	decode_field(out, "VV", p.vector, "vector posted into the PIR");
	snprintf(pda, sizeof(pda), "descriptor at 0x%" PRIx64, p.pda);
	decode_field(out, "PDA", p.pda, pda);
	sid_text(out, p.sid, p.sq, p.svt);
}

/* @as_posted: whether the unit would read @e as posted (IM=1 and CAP.PI). */
static void irte_json(FILE *out, const struct irte *e, const struct irte *rsvd, bool as_posted,
		      const struct dump *from)
{
	uint64_t mask[2] = {rsvd->lo, rsvd->hi};
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	if (from) {
		json_string(&j, "source", from->source);
		if (from->columns)
			json_uint(&j, "entry", from->index);
	}
	if (as_posted) {
		struct irte_posted p;

		irte_posted_decode(e, &p);
		json_string(&j, "format", "posted");
		json_uint(&j, "p", p.p);
		json_uint(&j, "fpd", p.fpd);
		json_uint(&j, "avail", p.avail);
		json_uint(&j, "urg", p.urg);
		json_uint(&j, "im", 1);
		json_uint(&j, "vector", p.vector);
		json_uint(&j, "pda", p.pda);
		json_uint(&j, "sid", p.sid);
		json_uint(&j, "sq", p.sq);
		json_uint(&j, "svt", p.svt);
	} else {
		struct irte_remapped r;

		irte_remapped_decode(e, &r);
		json_string(&j, "format", "remapped");
		json_uint(&j, "p", r.p);
		json_uint(&j, "fpd", r.fpd);
		json_uint(&j, "dm", r.dm);
		json_uint(&j, "rh", r.rh);
		json_uint(&j, "tm", r.tm);
		json_uint(&j, "dlm", r.dlm);
		json_uint(&j, "avail", r.avail);
		json_uint(&j, "im", irte_is_posted(e));
		json_uint(&j, "vector", r.vector);
		json_uint(&j, "dst", r.dst);
		json_uint(&j, "sid", r.sid);
		json_uint(&j, "sq", r.sq);
		json_uint(&j, "svt", r.svt);
	}
	decode_json_bits(&j, "reserved_bits_set", mask, 2);
	json_object_end(&j);
	json_finish(&j);
}

/* Reserved bits that all vanish with the two halves swapped: pasted in the wrong order. */
static void check_halves(struct ctx *c, const struct irte *e, const struct irte *rsvd)
{
	struct irte sw = {.lo = e->hi, .hi = e->lo}, srsvd;

	if (!rsvd->lo && !rsvd->hi)
		return;
	srsvd = irte_reserved_bits(&sw, !c->o->xapic, !c->o->no_posting);
	if (!srsvd.lo && !srsvd.hi && (sw.lo & 1))
		decode_warn(c,
			    "reserved bits are set, and none would be with the halves swapped: the "
			    "high qword goes first (try 0x%016" PRIx64 ":0x%016" PRIx64 ")",
			    sw.hi, sw.lo);
}

/* A debugfs row prints SID, DstID or PDA, and vector beside the entry: they must agree. */
static void check_columns(struct ctx *c, const struct irte *e, const struct dump *d)
{
	bool posted = irte_is_posted(e);
	struct irte_remapped r;
	struct irte_posted p;

	if (!d || !d->columns)
		return;
	irte_remapped_decode(e, &r);
	irte_posted_decode(e, &p);
	if (posted != d->posted || (posted ? p.sid : r.sid) != d->sid ||
	    (posted ? p.vector : r.vector) != d->vector ||
	    (posted ? p.pda != d->pda : r.dst != d->dst))
		decode_warn(
		    c,
		    "entry %u: the row's SrcID/DstID/Vct columns disagree with its IRTE: halves "
		    "swapped, or columns from another row?",
		    d->index);
}

static void show_irte(struct ctx *c, struct irte e, const struct dump *from)
{
	const struct decode_opts *o = c->o;
	struct irte rsvd = irte_reserved_bits(&e, !o->xapic, !o->no_posting);
	bool posted = irte_is_posted(&e) && !o->no_posting;

	decode_next_entry(c);
	if (o->json) {
		irte_json(c->out, &e, &rsvd, posted, from);
	} else {
		if (from && from->columns)
			fprintf(c->out, "%s, entry %u\n", from->source, from->index);
		else if (from)
			fprintf(c->out, "%s\n", from->source);
		if (posted)
			irte_posted_text(c->out, &e);
		else
			irte_remapped_text(c->out, &e, o);
		decode_text_bits(c->out, (uint64_t[]){rsvd.lo, rsvd.hi}, 2);
	}
	check_halves(c, &e, &rsvd);
	check_columns(c, &e, from);
}

/* HEX128 as one word (hi:lo, 32 digits) or two (HI LO), or a dump line. */
static int decode_irte(struct ctx *c, int argc, char **argv)
{
	uint64_t q[2];
	struct dump d;
	char line[512];

	join_args(argc - 1, argv + 1, line, sizeof(line));
	if (argc == 2 && decode_parse_qwords(argv[1], 2, q)) {
		show_irte(c, (struct irte){.lo = q[0], .hi = q[1]}, NULL);
		return CLI_EXIT_OK;
	}
	if (argc == 3 && dump_hex(argv[1], 16, &q[1]) && dump_hex(argv[2], 16, &q[0])) {
		show_irte(c, (struct irte){.lo = q[0], .hi = q[1]}, NULL);
		return CLI_EXIT_OK;
	}
	if (argc > 1 && dump_parse_line(line, &d) == DUMP_IRTE) {
		show_irte(c, (struct irte){.lo = d.lo, .hi = d.hi}, &d);
		return CLI_EXIT_OK;
	}
	if (argc > 1 && d.kind == DUMP_QWORDS && d.nq == 2) {
		show_irte(c, (struct irte){.lo = d.q[0], .hi = d.q[1]}, &d);
		return CLI_EXIT_OK;
	}
	fprintf(c->err,
		"pvir decode irte: %s%s%s is not an IRTE (want 0x<hi>:0x<lo>, up to 32 hex digits, "
		"HI LO, lo=X hi=Y, or a dump line: pvir decode --help)\n",
		argc > 1 ? "'" : "nothing", argc > 1 ? line : "", argc > 1 ? "'" : "");
	return CLI_EXIT_USAGE;
}

/* ---- MSI ---------------------------------------------------------------- */

static void msi_text(FILE *out, const struct msi_msg *m, const struct msi_msg *rsvd)
{
	fprintf(out, "MSI address 0x%08" PRIx32 "%08" PRIx32 " data 0x%08" PRIx32 "  format: %s\n",
		m->address_hi, m->address_lo, m->data,
		msi_format_of(m) == MSI_FORMAT_REMAPPABLE ? "remappable" : "compatibility");
	if (!msi_is_interrupt_address(m))
		fprintf(out,
			"  address bits 31:20 are 0x%03" PRIx32
			", not 0xfee: not an interrupt request\n",
			m->address_lo >> 20);
	if (msi_format_of(m) == MSI_FORMAT_REMAPPABLE) {
		struct msi_remap r;

		msi_remap_decode(m, &r);
		decode_field(out, "handle", r.handle,
			     "handle[14:0] from address 19:5, handle[15] from 2");
		decode_field(out, "SHV", r.shv,
			     r.shv ? "subhandle valid: index = handle + subhandle"
				   : "no subhandle: index = handle");
		decode_field(out, "subhndl", r.subhandle, "data[15:0]");
		decode_field(out, "index", msi_remap_index(&r), "IRTE index");
	} else {
		struct msi_compat c;
		char dest[96];

		msi_compat_decode(m, &c);
		snprintf(dest, sizeof(dest), "%s%s", c.dm ? "logical destination: mask" : "APIC ID",
			 c.dest_id > 0xff ? " (uses extended destination ID bits 11:5)" : "");
		decode_field(out, "dest_id", c.dest_id, dest);
		decode_field(out, "RH", c.rh, c.rh ? "redirection hint" : "no hint");
		decode_field(out, "DM", c.dm, c.dm ? "logical" : "physical");
		decode_field(out, "vector", c.vector,
			     c.vector < 16 ? "illegal vector (0..15)" : "vector");
		decode_field(out, "dlvmode", c.delivery_mode,
			     msi_delivery_mode_name(c.delivery_mode));
		decode_field(out, "level", c.level, c.level ? "assert" : "deassert");
		decode_field(out, "trigger", c.trigger, c.trigger ? "level" : "edge");
	}
	if (rsvd->address_hi || rsvd->data)
		fprintf(out,
			"  reserved bits set: address_hi 0x%08" PRIx32 " data 0x%08" PRIx32
			"  <-- must be zero\n",
			rsvd->address_hi, rsvd->data);
	else
		fprintf(out, "  reserved bits set: none\n");
}

static void msi_json(FILE *out, const struct msi_msg *m, const struct msi_msg *rsvd)
{
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	if (msi_format_of(m) == MSI_FORMAT_REMAPPABLE) {
		struct msi_remap r;

		msi_remap_decode(m, &r);
		json_string(&j, "format", "remappable");
		json_uint(&j, "handle", r.handle);
		json_uint(&j, "shv", r.shv);
		json_uint(&j, "subhandle", r.subhandle);
		json_uint(&j, "index", msi_remap_index(&r));
	} else {
		struct msi_compat c;

		msi_compat_decode(m, &c);
		json_string(&j, "format", "compat");
		json_uint(&j, "dest_id", c.dest_id);
		json_uint(&j, "rh", c.rh);
		json_uint(&j, "dm", c.dm);
		json_uint(&j, "vector", c.vector);
		json_uint(&j, "delivery_mode", c.delivery_mode);
		json_uint(&j, "level", c.level);
		json_uint(&j, "trigger", c.trigger);
	}
	json_uint(&j, "interrupt_address", msi_is_interrupt_address(m));
	json_uint(&j, "reserved_address_hi", rsvd->address_hi);
	json_uint(&j, "reserved_data", rsvd->data);
	json_object_end(&j);
	json_finish(&j);
}

static void show_msi(struct ctx *c, const struct msi_msg *m, const struct dump *from)
{
	struct msi_msg rsvd = msi_reserved_bits(m);

	decode_next_entry(c);
	if (c->o->json) {
		msi_json(c->out, m, &rsvd);
		return;
	}
	if (from)
		fprintf(c->out, "%s\n", from->source);
	msi_text(c->out, m, &rsvd);
}

/* ADDR DATA, hex as dumps print them (0x optional), or an lspci line. */
static int decode_msi(struct ctx *c, int argc, char **argv)
{
	uint64_t addr, data;
	struct dump d;
	char line[512];

	join_args(argc - 1, argv + 1, line, sizeof(line));
	if (argc != 3 && dump_parse_line(line, &d) == DUMP_MSI) {
		show_msi(c, &d.msg, &d);
		return CLI_EXIT_OK;
	}
	if (argc != 3) {
		fprintf(c->err, "pvir decode msi: expected two arguments, ADDR DATA, or an lspci "
				"'Address: ... Data: ...' line\n");
		return CLI_EXIT_USAGE;
	}
	if (!dump_hex(argv[1], 16, &addr)) {
		fprintf(c->err, "pvir decode msi: ADDR '%s' is not a 64-bit hex number\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	if (!dump_hex(argv[2], 8, &data)) {
		fprintf(c->err, "pvir decode msi: DATA '%s' is not a 32-bit hex number\n", argv[2]);
		return CLI_EXIT_USAGE;
	}
	show_msi(c,
		 &(struct msi_msg){.address_lo = (uint32_t)addr,
				   .address_hi = (uint32_t)(addr >> 32),
				   .data = (uint32_t)data},
		 NULL);
	return CLI_EXIT_OK;
}

/* ---- posted-interrupt descriptor ---------------------------------------- */

static void pid_text(FILE *out, const struct pid_image *p, const uint64_t *rsvd)
{
	fprintf(out, "posted-interrupt descriptor\n  PIR      ");
	bool any = false;

	for (unsigned v = 0; v < 256; v++)
		if (pid_image_test_pir(p, (uint8_t)v)) {
			fprintf(out, "%s0x%02x", any ? " " : "", v);
			any = true;
		}
	fprintf(out, any ? "  (pending vectors)\n" : "none pending\n");
	decode_field(out, "ON", p->on,
		     p->on ? "outstanding notification" : "no notification outstanding");
	decode_field(out, "SN", p->sn,
		     p->sn ? "notifications suppressed" : "notifications enabled");
	decode_field(out, "NV", p->nv, "notification vector");
	decode_field(out, "NDST", p->ndst,
		     "notification destination (x2APIC ID; xAPIC: bits 15:8)");
	decode_text_bits(out, rsvd, PID_WORDS);
}

static void pid_json(FILE *out, const struct pid_image *p, const uint64_t *rsvd)
{
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_array_begin(&j, "pir");
	for (unsigned v = 0; v < 256; v++)
		if (pid_image_test_pir(p, (uint8_t)v))
			json_uint(&j, NULL, v);
	json_array_end(&j);
	json_uint(&j, "on", p->on);
	json_uint(&j, "sn", p->sn);
	json_uint(&j, "nv", p->nv);
	json_uint(&j, "ndst", p->ndst);
	decode_json_bits(&j, "reserved_bits_set", rsvd, PID_WORDS);
	json_object_end(&j);
	json_finish(&j);
}

static bool any_set(const uint64_t *w, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (w[i])
			return true;
	return false;
}

/* @words low first. Reserved bits that vanish read the other way: memory order. */
static void show_pid(struct ctx *c, const uint64_t words[PID_WORDS])
{
	uint64_t rsvd[PID_WORDS], rev[PID_WORDS], rrsvd[PID_WORDS];
	struct pid_image p;

	pid_decode(words, &p);
	pid_reserved_bits(words, rsvd);
	decode_next_entry(c);
	if (c->o->json)
		pid_json(c->out, &p, rsvd);
	else
		pid_text(c->out, &p, rsvd);
	for (unsigned i = 0; i < PID_WORDS; i++)
		rev[i] = words[PID_WORDS - 1 - i];
	pid_reserved_bits(rev, rrsvd);
	if (any_set(rsvd, PID_WORDS) && !any_set(rrsvd, PID_WORDS))
		decode_warn(c, "reserved bits are set, and none would be in the other order: %s",
			    c->o->memory_order
				? "the qwords look high first; drop --memory-order"
				: "memory order (low qword first, as gdb's x/8gx prints)? "
				  "add --memory-order");
}

static int decode_pid(struct ctx *c, int argc, char **argv)
{
	uint64_t words[PID_WORDS], w[PID_WORDS];

	if (argc != 2) {
		fprintf(c->err, "pvir decode pid: expected one argument, HEX512\n");
		return CLI_EXIT_USAGE;
	}
	if (!decode_parse_qwords(argv[1], PID_WORDS, words)) {
		fprintf(c->err,
			"pvir decode pid: '%s' is not a 512-bit hex value "
			"(want 8 qwords high first, ':'-separated, or up to 128 hex digits)\n",
			argv[1]);
		return CLI_EXIT_USAGE;
	}
	for (unsigned i = 0; i < PID_WORDS; i++) /* as typed: low first in memory order */
		w[i] = c->o->memory_order ? words[PID_WORDS - 1 - i] : words[i];
	show_pid(c, w);
	return CLI_EXIT_OK;
}

/* ---- dumps on stdin ------------------------------------------------------- */

enum want {
	WANT_ANY, /* a memory dump's qwords go two by two as IRTEs */
	WANT_IRTE,
	WANT_PID,	/* a memory dump's qwords go eight by eight */
	WANT_AMD_IRTE,	/* AMD-Vi's debugfs irqtbl and devtbl */
	WANT_AMD_EVENT, /* one event a line */
};

/* A memory dump's qwords, gathered until an entry is whole. */
static void gather(struct ctx *c, const struct dump *d, enum want want)
{
	unsigned need = want == WANT_PID ? PID_WORDS : 2;

	for (unsigned i = 0; i < d->nq; i++) {
		c->q[c->qwords++] = d->q[i];
		if (c->qwords < need)
			continue;
		if (want == WANT_PID)
			show_pid(c, c->q);
		else
			show_irte(c, (struct irte){.lo = c->q[0], .hi = c->q[1]}, d);
		c->qwords = 0;
	}
}

/* One line of a dump; Return: false if it is no format pvir knows. */
static bool decode_line(struct ctx *c, const char *line, unsigned n, enum want want)
{
	struct dump d;

	if (want == WANT_AMD_IRTE || want == WANT_AMD_EVENT) {
		if (want == WANT_AMD_IRTE ? decode_amd_line(c, line, n)
					  : decode_amd_event_line(c, line))
			return true;
		fprintf(c->err, "pvir decode: line %u: not a dump pvir knows: %s\n", n, line);
		return false;
	}

	switch (dump_parse_line(line, &d)) {
	case DUMP_SKIP:
		return true;
	case DUMP_IRTE:
		if (want != WANT_PID) {
			show_irte(c, (struct irte){.lo = d.lo, .hi = d.hi}, &d);
			return true;
		}
		break;
	case DUMP_MSI:
		if (want == WANT_ANY) {
			show_msi(c, &d.msg, &d);
			return true;
		}
		break;
	case DUMP_QWORDS:
		gather(c, &d, want);
		return true;
	case DUMP_MSIX_WHERE:
		decode_warn(
		    c,
		    "line %u: lspci prints only where the MSI-X table is (BAR, offset), not its "
		    "entries; read the entries from the BAR and decode each as msi ADDR DATA",
		    n);
		return true;
	case DUMP_NONE:
		break;
	}
	fprintf(c->err, "pvir decode: line %u: not a dump pvir knows: %s\n", n, line);
	return false;
}

/* Every line of @c->in; Return: an exit status. */
static int decode_stream(struct ctx *c, enum want want)
{
	char line[1024];
	unsigned n = 0, bad = 0;

	while (fgets(line, sizeof(line), c->in)) {
		line[strcspn(line, "\r\n")] = '\0';
		bad += !decode_line(c, line, ++n, want);
	}
	if (c->qwords)
		decode_warn(c, "%u qword(s) left over at the end: not a whole entry", c->qwords);
	if (!c->entries && !bad)
		fprintf(c->err, "pvir decode: nothing to decode on stdin\n");
	return bad || !c->entries ? CLI_EXIT_USAGE : CLI_EXIT_OK;
}

/* ---- dispatch ----------------------------------------------------------- */

struct decoder {
	const char *name;
	int (*run)(struct ctx *c, int argc, char **argv);
	enum want stdin_want;
};

static const struct decoder decoders[] = {
    {"irte", decode_irte, WANT_IRTE},
    {"msi", decode_msi, WANT_ANY},
    {"pid", decode_pid, WANT_PID},
    {"amd-irte", decode_amd_irte, WANT_AMD_IRTE},
    {"amd-event", decode_amd_event, WANT_AMD_EVENT},
};

enum decode_option {
	OPT_JSON = 256,
	OPT_XAPIC,
	OPT_NO_POSTING,
	OPT_STRICT,
	OPT_MEMORY_ORDER,
};

static const struct option decode_longopts[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"xapic", no_argument, NULL, OPT_XAPIC},
    {"no-posting", no_argument, NULL, OPT_NO_POSTING},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"memory-order", no_argument, NULL, OPT_MEMORY_ORDER},
    {0},
};

static const struct cli_command decode_command = {
    .name = "decode",
    .synopsis = "pvir decode [OPTIONS] irte HEX128 | msi ADDR DATA | pid HEX512\n"
		"       pvir decode [OPTIONS] amd-irte HEX32|HEX128 | amd-event HEX128\n"
		"       pvir decode [OPTIONS] [irte | msi | pid | amd-irte | amd-event] -\n"
		"       pvir decode [OPTIONS] 'DUMP LINE'",
    .help = "Decodes hardware formats the way someone reading a dump needs them: every\n"
	    "field with its spec name, the format named, reserved bits flagged.\n"
	    "\n"
	    "Values (hex, with or without 0x):\n"
	    "  irte HEX128    a VT-d IRTE: 0x<hi>:0x<lo> (high qword first), up to 32 hex\n"
	    "                 digits, HI LO, lo=X hi=Y, or any IRTE line below\n"
	    "  msi ADDR DATA  an MSI address and data, or an lspci line\n"
	    "  pid HEX512     a posted-interrupt descriptor: eight qwords high first,\n"
	    "                 ':'-separated, or up to 128 hex digits\n"
	    "  amd-irte HEX32|HEX128\n"
	    "                 an AMD-Vi IRTE: up to 8 hex digits the legacy entry, else the\n"
	    "                 128-bit GA entry (HI:LO, HI LO), in the view GuestMode selects\n"
	    "  amd-event HEX128\n"
	    "                 an AMD-Vi event log entry (HI:LO), or Linux's\n"
	    "                 'event[0]=0x... event[3]=0x...'\n"
	    "\n"
	    "Dumps, one per argument or any number on stdin (-), headers skipped:\n"
	    "  debugfs  both tables of /sys/kernel/debug/iommu/intel/ir_translation_struct\n"
	    "           (Entry SrcID DstID|PDA_high PDA_low Vct IRTE_high IRTE_low)\n"
	    "  QEMU     the vtd_ir_irte_get trace event, as QEMU prints it: its \"low\" is\n"
	    "           the high qword\n"
	    "  lspci    -vv's MSI \"Address: ... Data: ...\" (for MSI-X, lspci shows only\n"
	    "           where the table is)\n"
	    "  gdb      x/Ngx, and crash's rd -64: qwords in memory order (low first); on\n"
	    "           stdin two make an IRTE, eight a descriptor (pid -)\n"
	    "  labelled lo=X hi=Y, hi=Y lo=X, low X high Y\n"
	    "  AMD-Vi   on stdin to amd-irte -: /sys/kernel/debug/iommu/amd/irqtbl\n"
	    "           (IRT[%04d] then one or two words, high first) and devtbl (one\n"
	    "           device table entry, QWORD[3] first; its interrupt fields)\n"
	    "\n"
	    "  --json          one JSON object per entry, keys the spec's field names\n"
	    "  --xapic         check an IRTE as IRTA.EIME=0 would (an 8-bit ID in DST 15:8)\n"
	    "  --no-posting    check an IRTE as a unit without CAP.PI would (IM reserved)\n"
	    "  --memory-order  a pid argument's qwords are low first, as in memory\n"
	    "  --strict        exit 1 when something looks wrong (a warning was given)\n"
	    "  -h, --help      this text\n"
	    "\n"
	    "Warnings (stderr) say what is probably wrong: reserved bits that vanish with\n"
	    "the halves swapped or the qwords reversed, debugfs columns that disagree\n"
	    "with their entry. Exit status: 0 decoded, 1 decoded with warnings under\n"
	    "--strict, 2 bad usage or input.\n",
    .longopts = decode_longopts,
};

static int parse(int argc, char **argv, struct decode_opts *o, FILE *out, FILE *err)
{
	int opt;

	cli_options_begin();
	while ((opt = cli_option(&decode_command, argc, argv, out, err)) != CLI_OPT_END) {
		if (opt == CLI_OPT_HELP || opt == CLI_OPT_ERROR)
			return opt;
		o->json |= opt == OPT_JSON;
		o->xapic |= opt == OPT_XAPIC;
		o->no_posting |= opt == OPT_NO_POSTING;
		o->strict |= opt == OPT_STRICT;
		o->memory_order |= opt == OPT_MEMORY_ORDER;
	}
	return 0;
}

static int run(struct ctx *c, int argc, char **argv)
{
	char line[512];
	struct dump d;

	if (argc < 1) {
		fprintf(c->err, "pvir decode: what to decode? irte, msi, pid, amd-irte, amd-event, "
				"- or a dump line\n");
		cli_usage(&decode_command, c->err);
		return CLI_EXIT_USAGE;
	}
	if (argc == 1 && !strcmp(argv[0], "-"))
		return decode_stream(c, WANT_ANY);
	for (size_t k = 0; k < ARRAY_SIZE(decoders); k++) {
		if (strcmp(argv[0], decoders[k].name))
			continue;
		if (argc == 2 && !strcmp(argv[1], "-"))
			return decode_stream(c, decoders[k].stdin_want);
		return decoders[k].run(c, argc, argv);
	}
	join_args(argc, argv, line, sizeof(line));
	if (dump_parse_line(line, &d) != DUMP_NONE && d.kind != DUMP_SKIP)
		return decode_line(c, line, 1, WANT_ANY) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	fprintf(c->err,
		"pvir decode: unknown format '%s' (irte, msi, pid, amd-irte, amd-event, -, or a "
		"dump line)\n",
		argv[0]);
	cli_usage(&decode_command, c->err);
	return CLI_EXIT_USAGE;
}

int cli_decode_stream(int argc, char **argv, FILE *in, FILE *out, FILE *err)
{
	struct decode_opts o = {0};
	struct ctx c = {.o = &o, .in = in, .out = out, .err = err};
	int rc = parse(argc, argv, &o, out, err);

	if (rc)
		return rc == CLI_OPT_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	rc = run(&c, argc - optind, argv + optind);
	if (rc == CLI_EXIT_OK && o.strict && c.warnings)
		rc = CLI_EXIT_VIOLATION;
	return rc;
}

int cli_decode(int argc, char **argv, FILE *out, FILE *err)
{
	return cli_decode_stream(argc, argv, stdin, out, err);
}
