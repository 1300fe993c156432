// SPDX-License-Identifier: MIT
/*
 * `pvir decode`: hardware formats as a kernel developer reading a dump needs
 * them. Every field is printed with its spec name, the format is named, and
 * set reserved bits are flagged. --json prints one object whose keys are the
 * spec's field names in lowercase.
 *
 *   pvir decode [--json] [--xapic] [--no-posting] irte HEX128
 *   pvir decode [--json] msi ADDR DATA
 *   pvir decode [--json] pid HEX512
 *
 * HEX128 is 0x<hi>:0x<lo> (two qwords, high first) or up to 32 hex digits;
 * HEX512 is eight qwords high first separated by ':' or up to 128 digits.
 * --xapic checks an IRTE as IRTA.EIME=0 would (DST holds an 8-bit ID in
 * 15:8); --no-posting as a unit without CAP.PI (IM reserved).
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/json.h"
#include "options.h"
#include "pvir/irte.h"
#include "pvir/msi.h"
#include "pvir/pi_desc.h"

#define HEX_DIGITS_PER_QWORD 16
#define MAX_QWORDS	     PID_WORDS

struct decode_opts {
	bool json;
	bool xapic;
	bool no_posting;
};

/* ---- input parsing ------------------------------------------------------ */

static bool parse_hex_digits(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > HEX_DIGITS_PER_QWORD)
		return false;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (!isxdigit(c))
			return false;
		v = v << 4 | (uint64_t)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	*ret = v;
	return true;
}

static const char *skip_0x(const char *s)
{
	return (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? s + 2 : s;
}

/*
 * Parses @nwords qwords, high first, either ':'-separated or as one long hex
 * number; @ret gets them low first. Returns false if malformed.
 */
static bool parse_qwords(const char *arg, unsigned nwords, uint64_t *ret)
{
	const char *s = arg;
	unsigned parts = 1;

	for (const char *p = arg; *p; p++)
		parts += *p == ':';
	memset(ret, 0, nwords * sizeof(*ret));
	if (parts == nwords && nwords > 1) {
		for (unsigned i = 0; i < nwords; i++) {
			const char *part = skip_0x(s);
			const char *end = strchr(part, ':');
			size_t len = end ? (size_t)(end - part) : strlen(part);

			if (!parse_hex_digits(part, len, &ret[nwords - 1 - i]))
				return false;
			s = part + len + 1;
		}
		return true;
	}
	if (parts != 1)
		return false;
	s = skip_0x(s);
	size_t len = strlen(s);
	if (len == 0 || len > (size_t)nwords * HEX_DIGITS_PER_QWORD)
		return false;
	for (unsigned i = 0; len > 0; i++) {
		size_t take = len < HEX_DIGITS_PER_QWORD ? len : HEX_DIGITS_PER_QWORD;

		if (!parse_hex_digits(s + len - take, take, &ret[i]))
			return false;
		len -= take;
	}
	return true;
}

static bool parse_number(const char *s, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return false;
	*ret = v;
	return true;
}

/* ---- shared output helpers ---------------------------------------------- */

static void field(FILE *out, const char *name, uint64_t v, const char *meaning)
{
	fprintf(out, "  %-8s 0x%-10" PRIx64 " %s\n", name, v, meaning);
}

/* Lists set bits of @mask (qwords low first) as bit numbers of the whole value. */
static void json_bits(struct json *j, const char *key, const uint64_t *mask, unsigned nwords)
{
	json_array_begin(j, key);
	for (unsigned w = 0; w < nwords; w++)
		for (unsigned b = 0; b < 64; b++)
			if (bit_get(mask[w], b))
				json_uint(j, NULL, (uint64_t)w * 64 + b);
	json_array_end(j);
}

static void text_bits(FILE *out, const uint64_t *mask, unsigned nwords)
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
	field(out, "SID", sid, bdf);
	field(out, "SQ", sq, sq_meaning(sq));
	field(out, "SVT", svt, svt_meaning(svt));
}

static void irte_remapped_text(FILE *out, const struct irte *e, const struct decode_opts *o)
{
	struct irte_remapped r;
	char dst[64];

	irte_remapped_decode(e, &r);
	fprintf(out, "IRTE 0x%016" PRIx64 ":0x%016" PRIx64 "  format: remapped (IM=%d)\n", e->hi,
		e->lo, irte_is_posted(e));
	field(out, "P", r.p, r.p ? "present" : "not present: interrupts fault 0x22");
	field(out, "FPD", r.fpd, r.fpd ? "fault recording disabled" : "faults recorded");
	field(out, "DM", r.dm, r.dm ? "logical destination" : "physical destination");
	field(out, "RH", r.rh, r.rh ? "redirection hint: lowest priority allowed" : "no hint");
	field(out, "TM", r.tm, r.tm ? "level" : "edge");
	field(out, "DLM", r.dlm, msi_delivery_mode_name(r.dlm));
	field(out, "AVAIL", r.avail, "software available");
	field(out, "IM", irte_is_posted(e),
	      irte_is_posted(e) ? "set, but posting unsupported: reserved" : "remapped format");
	field(out, "V", r.vector, "vector");
	if (o->xapic)
		snprintf(dst, sizeof(dst), "xAPIC destination: APIC ID 0x%x (DST[15:8])",
			 irte_xapic_dest(r.dst));
	else
		snprintf(dst, sizeof(dst), "x2APIC destination: APIC ID 0x%x", r.dst);
	field(out, "DST", r.dst, dst);
	sid_text(out, r.sid, r.sq, r.svt);
}

static void irte_posted_text(FILE *out, const struct irte *e)
{
	struct irte_posted p;
	char pda[64];

	irte_posted_decode(e, &p);
	fprintf(out, "IRTE 0x%016" PRIx64 ":0x%016" PRIx64 "  format: posted (IM=1)\n", e->hi,
		e->lo);
	field(out, "P", p.p, p.p ? "present" : "not present: interrupts fault 0x22");
	field(out, "FPD", p.fpd, p.fpd ? "fault recording disabled" : "faults recorded");
	field(out, "AVAIL", p.avail, "software available");
	field(out, "URG", p.urg, p.urg ? "urgent: notify even when SN=1" : "not urgent");
	field(out, "IM", 1, "posted format");
	field(out, "VV", p.vector, "vector posted into the PIR");
	snprintf(pda, sizeof(pda), "descriptor at 0x%" PRIx64, p.pda);
	field(out, "PDA", p.pda, pda);
	sid_text(out, p.sid, p.sq, p.svt);
}

/* @as_posted: whether the unit would read @e as posted (IM=1 and CAP.PI). */
static void irte_json(FILE *out, const struct irte *e, const struct irte *rsvd, bool as_posted)
{
	uint64_t mask[2] = {rsvd->lo, rsvd->hi};
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
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
	json_bits(&j, "reserved_bits_set", mask, 2);
	json_object_end(&j);
	json_finish(&j);
}

static int decode_irte(int argc, char **argv, const struct decode_opts *o, FILE *out, FILE *err)
{
	uint64_t q[2];
	struct irte e, rsvd;

	if (argc != 2) {
		fprintf(err, "pvir decode irte: expected one argument, HEX128\n");
		return CLI_EXIT_USAGE;
	}
	if (!parse_qwords(argv[1], 2, q)) {
		fprintf(err,
			"pvir decode irte: '%s' is not a 128-bit hex value "
			"(want 0x<hi>:0x<lo> or up to 32 hex digits)\n",
			argv[1]);
		return CLI_EXIT_USAGE;
	}
	e = (struct irte){.lo = q[0], .hi = q[1]};
	rsvd = irte_reserved_bits(&e, !o->xapic, !o->no_posting);
	if (o->json) {
		irte_json(out, &e, &rsvd, irte_is_posted(&e) && !o->no_posting);
		return CLI_EXIT_OK;
	}
	if (irte_is_posted(&e) && !o->no_posting)
		irte_posted_text(out, &e);
	else
		irte_remapped_text(out, &e, o);
	text_bits(out, (uint64_t[]){rsvd.lo, rsvd.hi}, 2);
	return CLI_EXIT_OK;
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
		field(out, "handle", r.handle, "handle[14:0] from address 19:5, handle[15] from 2");
		field(out, "SHV", r.shv,
		      r.shv ? "subhandle valid: index = handle + subhandle"
			    : "no subhandle: index = handle");
		field(out, "subhndl", r.subhandle, "data[15:0]");
		field(out, "index", msi_remap_index(&r), "IRTE index");
	} else {
		struct msi_compat c;
		char dest[64];

		msi_compat_decode(m, &c);
		snprintf(dest, sizeof(dest), "APIC ID%s",
			 c.dest_id > 0xff ? " (uses extended destination ID bits 11:5)" : "");
		field(out, "dest_id", c.dest_id, dest);
		field(out, "RH", c.rh, c.rh ? "redirection hint" : "no hint");
		field(out, "DM", c.dm, c.dm ? "logical" : "physical");
		field(out, "vector", c.vector, c.vector < 16 ? "illegal vector (0..15)" : "vector");
		field(out, "dlvmode", c.delivery_mode, msi_delivery_mode_name(c.delivery_mode));
		field(out, "level", c.level, c.level ? "assert" : "deassert");
		field(out, "trigger", c.trigger, c.trigger ? "level" : "edge");
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

static int decode_msi(int argc, char **argv, const struct decode_opts *o, FILE *out, FILE *err)
{
	uint64_t addr, data;
	struct msi_msg m, rsvd;

	if (argc != 3) {
		fprintf(err, "pvir decode msi: expected two arguments, ADDR DATA\n");
		return CLI_EXIT_USAGE;
	}
	if (!parse_number(argv[1], UINT64_MAX, &addr)) {
		fprintf(err, "pvir decode msi: ADDR '%s' is not a 64-bit number\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	if (!parse_number(argv[2], UINT32_MAX, &data)) {
		fprintf(err, "pvir decode msi: DATA '%s' is not a 32-bit number\n", argv[2]);
		return CLI_EXIT_USAGE;
	}
	m = (struct msi_msg){.address_lo = (uint32_t)addr,
			     .address_hi = (uint32_t)(addr >> 32),
			     .data = (uint32_t)data};
	rsvd = msi_reserved_bits(&m);
	if (o->json)
		msi_json(out, &m, &rsvd);
	else
		msi_text(out, &m, &rsvd);
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
	field(out, "ON", p->on, p->on ? "outstanding notification" : "no notification outstanding");
	field(out, "SN", p->sn, p->sn ? "notifications suppressed" : "notifications enabled");
	field(out, "NV", p->nv, "notification vector");
	field(out, "NDST", p->ndst, "notification destination (x2APIC ID; xAPIC: bits 15:8)");
	text_bits(out, rsvd, PID_WORDS);
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
	json_bits(&j, "reserved_bits_set", rsvd, PID_WORDS);
	json_object_end(&j);
	json_finish(&j);
}

static int decode_pid(int argc, char **argv, const struct decode_opts *o, FILE *out, FILE *err)
{
	uint64_t words[PID_WORDS], rsvd[PID_WORDS];
	struct pid_image p;

	if (argc != 2) {
		fprintf(err, "pvir decode pid: expected one argument, HEX512\n");
		return CLI_EXIT_USAGE;
	}
	if (!parse_qwords(argv[1], PID_WORDS, words)) {
		fprintf(err,
			"pvir decode pid: '%s' is not a 512-bit hex value "
			"(want 8 qwords high first, ':'-separated, or up to 128 hex digits)\n",
			argv[1]);
		return CLI_EXIT_USAGE;
	}
	pid_decode(words, &p);
	pid_reserved_bits(words, rsvd);
	if (o->json)
		pid_json(out, &p, rsvd);
	else
		pid_text(out, &p, rsvd);
	return CLI_EXIT_OK;
}

/* ---- dispatch ----------------------------------------------------------- */

struct decoder {
	const char *name;
	int (*run)(int argc, char **argv, const struct decode_opts *o, FILE *out, FILE *err);
};

static const struct decoder decoders[] = {
    {"irte", decode_irte},
    {"msi", decode_msi},
    {"pid", decode_pid},
};

enum decode_option {
	OPT_JSON = 256,
	OPT_XAPIC,
	OPT_NO_POSTING,
};

static const struct option decode_longopts[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"xapic", no_argument, NULL, OPT_XAPIC},
    {"no-posting", no_argument, NULL, OPT_NO_POSTING},
    {0},
};

static const struct cli_command decode_command = {
    .name = "decode",
    .synopsis = "pvir decode [OPTIONS] irte HEX128\n"
		"       pvir decode [OPTIONS] msi ADDR DATA\n"
		"       pvir decode [OPTIONS] pid HEX512",
    .help = "Decodes hardware formats the way someone reading a dump needs them: every\n"
	    "field with its spec name, the format named, reserved bits flagged.\n"
	    "\n"
	    "  irte HEX128   a VT-d IRTE: 0x<hi>:0x<lo> (high qword first) or up to 32\n"
	    "                hex digits\n"
	    "  msi ADDR DATA an MSI address and data\n"
	    "  pid HEX512    a posted-interrupt descriptor: eight qwords, high first,\n"
	    "                separated by ':', or up to 128 hex digits\n"
	    "\n"
	    "  --json        one JSON object, keys the spec's field names in lowercase\n"
	    "  --xapic       check an IRTE as IRTA.EIME=0 would (an 8-bit ID in DST 15:8)\n"
	    "  --no-posting  check an IRTE as a unit without CAP.PI would (IM reserved)\n"
	    "  -h, --help    this text\n",
    .longopts = decode_longopts,
};

int cli_decode(int argc, char **argv, FILE *out, FILE *err)
{
	struct decode_opts o = {0};
	int opt;

	cli_options_begin();
	while ((opt = cli_option(&decode_command, argc, argv, out, err)) != CLI_OPT_END) {
		if (opt == CLI_OPT_HELP)
			return CLI_EXIT_OK;
		if (opt == CLI_OPT_ERROR)
			return CLI_EXIT_USAGE;
		o.json |= opt == OPT_JSON;
		o.xapic |= opt == OPT_XAPIC;
		o.no_posting |= opt == OPT_NO_POSTING;
	}
	if (optind >= argc) {
		fprintf(err, "pvir decode: what to decode? irte, msi or pid\n");
		cli_usage(&decode_command, err);
		return CLI_EXIT_USAGE;
	}
	for (size_t d = 0; d < ARRAY_SIZE(decoders); d++)
		if (!strcmp(argv[optind], decoders[d].name))
			return decoders[d].run(argc - optind, argv + optind, &o, out, err);
	fprintf(err, "pvir decode: unknown format '%s' (irte, msi or pid)\n", argv[optind]);
	cli_usage(&decode_command, err);
	return CLI_EXIT_USAGE;
}
