// SPDX-License-Identifier: MIT
/*
 * `pvir decode amd-irte` and `amd-event`: AMD-Vi's formats (pvir/amdvi.h, pvir/amdvi_unit.h)
 * for someone reading a dump. An IRTE is the legacy 32-bit entry or the 128-bit GA entry,
 * read in the view its GuestMode selects; on stdin, Linux's debugfs files: `irqtbl` (a
 * "DeviceId" line, then "IRT[%04d] %08x" or "IRT[%04d] %016llx %016llx", high qword
 * first; drivers/iommu/amd/debugfs.c dump_32_irte/dump_128_irte) and `devtbl` (QWORD[3]
 * to QWORD[0] of one entry, of which the interrupt fields are QWORD[2]; dump_dte). An
 * event is the 128-bit event log entry, or the four dwords Linux prints for an event it
 * does not know ("event[0]=0x...", iommu_print_event()).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "decode.h"
#include "pvir/amdvi.h"
#include "pvir/amdvi_unit.h"
#include "pvir/json.h"
#include "pvir/msi.h"

/* decode_field() with room for AMD-Vi's longer field names. */
static void amd_field(FILE *out, const char *name, uint64_t v, const char *meaning)
{
	fprintf(out, "  %-10s 0x%-10" PRIx64 " %s\n", name, v, meaning);
}

static const char *int_type_meaning(unsigned t)
{
	return msi_delivery_mode_is_reserved(t) ? "reserved" : msi_delivery_mode_name(t);
}

/* ---- IRTEs -------------------------------------------------------------------------------- */

static void irte32_text(FILE *out, uint32_t v)
{
	struct amdvi_irte32 e;
	uint64_t rsvd = amdvi_irte32_reserved(v);

	amdvi_irte32_decode(v, &e);
	fprintf(out, "AMD-Vi IRTE, legacy 32-bit: 0x%08" PRIx32 "\n", v);
	amd_field(out, "RemapEn", e.remap_en, e.remap_en ? "remaps" : "not remapping: faults");
	amd_field(out, "SupIOPF", e.sup_iopf, e.sup_iopf ? "its faults not logged" : "");
	amd_field(out, "IntType", e.int_type, int_type_meaning(e.int_type));
	amd_field(out, "RqEoi", e.rq_eoi, "");
	amd_field(out, "DM", e.dm, e.dm ? "logical" : "physical");
	amd_field(out, "Dest", e.dest, "APIC ID");
	amd_field(out, "Vector", e.vector, "");
	decode_text_bits(out, &rsvd, 1);
}

static void irte32_json(FILE *out, uint32_t v)
{
	struct amdvi_irte32 e;
	uint64_t rsvd = amdvi_irte32_reserved(v);
	struct json j;

	amdvi_irte32_decode(v, &e);
	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_string(&j, "format", "amdvi-legacy");
	json_uint(&j, "remapen", e.remap_en);
	json_uint(&j, "supiopf", e.sup_iopf);
	json_uint(&j, "inttype", e.int_type);
	json_uint(&j, "rqeoi", e.rq_eoi);
	json_uint(&j, "dm", e.dm);
	json_uint(&j, "dest", e.dest);
	json_uint(&j, "vector", e.vector);
	decode_json_bits(&j, "reserved_bits_set", &rsvd, 1);
	json_object_end(&j);
	json_finish(&j);
}

static void ga_text(FILE *out, const struct amdvi_irte_ga *e, const struct amdvi_irte_ga *rsvd)
{
	uint64_t r[2] = {rsvd->lo, rsvd->hi};

	if (amdvi_ga_guest_mode(e)) {
		struct amdvi_ga_vapic v;

		amdvi_ga_vapic_decode(e, &v);
		fprintf(out,
			"AMD-Vi IRTE, 128-bit, guest mode (AVIC): 0x%016" PRIx64 ":0x%016" PRIx64
			"\n",
			e->hi, e->lo);
		amd_field(out, "RemapEn", v.remap_en, v.remap_en ? "posts" : "faults");
		amd_field(out, "SupIOPF", v.sup_iopf, v.sup_iopf ? "its faults not logged" : "");
		amd_field(out, "GALogIntr", v.ga_log_intr,
			  v.ga_log_intr ? "not running: a GA log entry" : "");
		amd_field(out, "IsRun", v.is_run, v.is_run ? "running: doorbell" : "not running");
		amd_field(out, "Dest", v.dest, "the host core's APIC ID");
		amd_field(out, "GATag", v.ga_tag, "the host's name for the vCPU");
		amd_field(out, "GARootPtr", v.ga_root_ptr, "vAPIC backing page >> 12");
		amd_field(out, "Vector", v.vector, "the guest's");
	} else {
		struct amdvi_ga_remap g;

		amdvi_ga_remap_decode(e, &g);
		fprintf(out, "AMD-Vi IRTE, 128-bit, remapped: 0x%016" PRIx64 ":0x%016" PRIx64 "\n",
			e->hi, e->lo);
		amd_field(out, "RemapEn", g.remap_en, g.remap_en ? "remaps" : "faults");
		amd_field(out, "SupIOPF", g.sup_iopf, g.sup_iopf ? "its faults not logged" : "");
		amd_field(out, "IntType", g.int_type, int_type_meaning(g.int_type));
		amd_field(out, "RqEoi", g.rq_eoi, "");
		amd_field(out, "DM", g.dm, g.dm ? "logical" : "physical");
		amd_field(out, "Dest", g.dest, "APIC ID (bits 7:0 without XTEn)");
		amd_field(out, "Vector", g.vector, "");
	}
	decode_text_bits(out, r, 2);
}

static void ga_json(FILE *out, const struct amdvi_irte_ga *e, const struct amdvi_irte_ga *rsvd)
{
	uint64_t r[2] = {rsvd->lo, rsvd->hi};
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	if (amdvi_ga_guest_mode(e)) {
		struct amdvi_ga_vapic v;

		amdvi_ga_vapic_decode(e, &v);
		json_string(&j, "format", "amdvi-ga-guest");
		json_uint(&j, "remapen", v.remap_en);
		json_uint(&j, "supiopf", v.sup_iopf);
		json_uint(&j, "galogintr", v.ga_log_intr);
		json_uint(&j, "isrun", v.is_run);
		json_uint(&j, "dest", v.dest);
		json_uint(&j, "gatag", v.ga_tag);
		json_uint(&j, "garootptr", v.ga_root_ptr);
		json_uint(&j, "vector", v.vector);
	} else {
		struct amdvi_ga_remap g;

		amdvi_ga_remap_decode(e, &g);
		json_string(&j, "format", "amdvi-ga-remapped");
		json_uint(&j, "remapen", g.remap_en);
		json_uint(&j, "supiopf", g.sup_iopf);
		json_uint(&j, "inttype", g.int_type);
		json_uint(&j, "rqeoi", g.rq_eoi);
		json_uint(&j, "dm", g.dm);
		json_uint(&j, "dest", g.dest);
		json_uint(&j, "vector", g.vector);
	}
	decode_json_bits(&j, "reserved_bits_set", r, 2);
	json_object_end(&j);
	json_finish(&j);
}

static void show_irte32(struct ctx *c, uint32_t v)
{
	decode_next_entry(c);
	if (c->o->json)
		irte32_json(c->out, v);
	else
		irte32_text(c->out, v);
}

static void show_ga(struct ctx *c, struct amdvi_irte_ga e)
{
	struct amdvi_irte_ga rsvd = amdvi_ga_reserved(&e), swapped = {.lo = e.hi, .hi = e.lo};
	struct amdvi_irte_ga srsvd = amdvi_ga_reserved(&swapped);

	decode_next_entry(c);
	if (c->o->json)
		ga_json(c->out, &e, &rsvd);
	else
		ga_text(c->out, &e, &rsvd);
	if ((rsvd.lo || rsvd.hi) && !srsvd.lo && !srsvd.hi)
		decode_warn(c, "reserved bits are set, and none would be with the qwords swapped: "
			       "give the high qword first (debugfs prints it first)");
}

/* One hex token of at most @digits digits. */
static bool hex_token(const char *s, unsigned digits, uint64_t *ret)
{
	s = decode_skip_0x(s);
	return *s && strlen(s) <= digits && dump_hex_digits(s, strlen(s), ret);
}

int decode_amd_irte(struct ctx *c, int argc, char **argv)
{
	struct amdvi_irte_ga e = {0};
	uint64_t v, q[2];

	if (argc == 2 && !strchr(argv[1], ':') && hex_token(argv[1], 8, &v)) {
		show_irte32(c, (uint32_t)v); /* eight digits or fewer: the legacy entry */
		return CLI_EXIT_OK;
	}
	if (argc == 2 && decode_parse_qwords(argv[1], 2, q)) {
		e = (struct amdvi_irte_ga){.lo = q[0], .hi = q[1]};
	} else if (argc == 3 && hex_token(argv[1], 16, &e.hi) && hex_token(argv[2], 16, &e.lo)) {
		/* HI LO, as debugfs prints them */
	} else {
		fprintf(c->err, "pvir decode amd-irte: expected HEX32 (legacy) or HEX128 (GA: "
				"HI:LO, HI LO, or up to 32 hex digits)\n");
		return CLI_EXIT_USAGE;
	}
	show_ga(c, e);
	return CLI_EXIT_OK;
}

/* ---- events -------------------------------------------------------------------------------- */

static void event_text(FILE *out, const uint64_t raw[2], const struct amdvi_event *e)
{
	char where[32];

	snprintf(where, sizeof(where), "%02x:%02x.%u", e->devid >> 8, (e->devid >> 3) & 0x1f,
		 e->devid & 7u);
	fprintf(out, "AMD-Vi event: 0x%016" PRIx64 ":0x%016" PRIx64 "\n", raw[1], raw[0]);
	amd_field(out, "code", e->code, amdvi_event_name(e->code));
	amd_field(out, "devid", e->devid, where);
	amd_field(out, "flags", e->flags,
		  e->flags & AMDVI_EVT_FLAG_I ? "I: an interrupt request" : "");
	amd_field(out, "address", e->addr, "");
}

static void event_json(FILE *out, const struct amdvi_event *e)
{
	struct json j;

	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_string(&j, "format", "amdvi-event");
	json_uint(&j, "code", e->code);
	json_string(&j, "name", amdvi_event_name(e->code));
	json_uint(&j, "devid", e->devid);
	json_uint(&j, "flags", e->flags);
	json_uint(&j, "interrupt", (e->flags & AMDVI_EVT_FLAG_I) != 0);
	json_uint(&j, "address", e->addr);
	json_object_end(&j);
	json_finish(&j);
}

/* Linux's "event[0]=0x... event[1]=0x... event[2]=0x... event[3]=0x..." (dwords, low first). */
static bool event_dwords(const char *line, uint64_t raw[2])
{
	uint32_t d[4];

	for (unsigned i = 0; i < 4; i++) {
		char key[16];
		const char *at;
		char *end;

		snprintf(key, sizeof(key), "event[%u]=", i);
		at = strstr(line, key);
		if (!at)
			return false;
		d[i] = (uint32_t)strtoul(at + strlen(key), &end, 16);
		if (end == at + strlen(key))
			return false;
	}
	raw[0] = d[0] | (uint64_t)d[1] << 32;
	raw[1] = d[2] | (uint64_t)d[3] << 32;
	return true;
}

static void show_event(struct ctx *c, const uint64_t raw[2])
{
	struct amdvi_event e;

	amdvi_event_decode(raw, &e);
	decode_next_entry(c);
	if (c->o->json)
		event_json(c->out, &e);
	else
		event_text(c->out, raw, &e);
}

bool decode_amd_event_line(struct ctx *c, const char *line)
{
	uint64_t raw[2];
	char word[64];

	if (event_dwords(line, raw) ||
	    (sscanf(line, "%63s", word) == 1 && decode_parse_qwords(word, 2, raw))) {
		show_event(c, raw);
		return true;
	}
	return false;
}

int decode_amd_event(struct ctx *c, int argc, char **argv)
{
	char line[512] = "";

	for (int i = 1; i < argc; i++)
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s ", argv[i]);
	if (argc < 2 || !decode_amd_event_line(c, line)) {
		fprintf(c->err, "pvir decode amd-event: expected HEX128 (HI:LO, or up to 32 hex "
				"digits) or Linux's 'event[0]=0x... event[3]=0x...'\n");
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* ---- debugfs lines ---------------------------------------------------------------------------- */

static const char *intctl_meaning(unsigned v)
{
	static const char *const m[] = {"abort", "pass unmapped", "remap", "reserved"};

	return m[v & 3];
}

static void dte_text(FILE *out, const char *who, const uint64_t q[4])
{
	struct amdvi_dte_intr d;

	amdvi_dte_intr_decode(q[2], &d);
	fprintf(out,
		"AMD-Vi device table entry, %s: interrupt fields (QWORD[2] 0x%016" PRIx64 ")\n",
		who, q[2]);
	amd_field(out, "IV", d.iv, d.iv ? "valid" : "interrupts pass unmapped");
	amd_field(out, "IntTabLen", d.int_tab_len,
		  d.int_tab_len > 11 ? "reserved" : "2^IntTabLen entries");
	amd_field(out, "IntTabRoot", d.int_table_root, "the table, 128-byte aligned");
	amd_field(out, "IntCtl", d.int_ctl, intctl_meaning(d.int_ctl));
	amd_field(out, "InitPass", d.init_pass, "");
	amd_field(out, "EIntPass", d.eint_pass, "");
	amd_field(out, "NMIPass", d.nmi_pass, "");
	amd_field(out, "Lint0Pass", d.lint0_pass, "");
	amd_field(out, "Lint1Pass", d.lint1_pass, "");
}

static void dte_json(FILE *out, const char *who, const uint64_t q[4])
{
	struct amdvi_dte_intr d;
	struct json j;

	amdvi_dte_intr_decode(q[2], &d);
	json_init(&j, out);
	json_object_begin(&j, NULL);
	json_string(&j, "format", "amdvi-dte");
	json_string(&j, "device", who);
	json_uint(&j, "iv", d.iv);
	json_uint(&j, "inttablen", d.int_tab_len);
	json_uint(&j, "inttableroot", d.int_table_root);
	json_uint(&j, "intctl", d.int_ctl);
	json_uint(&j, "initpass", d.init_pass);
	json_uint(&j, "eintpass", d.eint_pass);
	json_uint(&j, "nmipass", d.nmi_pass);
	json_uint(&j, "lint0pass", d.lint0_pass);
	json_uint(&j, "lint1pass", d.lint1_pass);
	json_object_end(&j);
	json_finish(&j);
}

/* "SSSS:BB:DD.F q3 q2 q1 q0 iommuN" (or "DD:F"): one device table entry. */
static bool devtbl_row(struct ctx *c, const char *line)
{
	char who[16], qs[4][24];
	uint64_t q[4];
	int n = sscanf(line, "%15s %23s %23s %23s %23s iommu", who, qs[3], qs[2], qs[1], qs[0]);

	if (n != 5 || strlen(who) != 12 || who[4] != ':')
		return false;
	for (unsigned i = 0; i < 4; i++)
		if (!hex_token(qs[i], 16, &q[i]))
			return false;
	decode_next_entry(c);
	if (c->o->json)
		dte_json(c->out, who, q);
	else
		dte_text(c->out, who, q);
	return true;
}

/* "IRT[0005] 00450301" or "IRT[0005] HI LO". */
static bool irt_row(struct ctx *c, const char *line)
{
	char a[24], b[24];
	unsigned index;
	int n = sscanf(line, "IRT[%u] %23s %23s", &index, a, b);
	uint64_t v;
	struct amdvi_irte_ga e;

	if (n == 2 && hex_token(a, 8, &v)) {
		show_irte32(c, (uint32_t)v);
		return true;
	}
	if (n == 3 && hex_token(a, 16, &e.hi) && hex_token(b, 16, &e.lo)) {
		show_ga(c, e);
		return true;
	}
	return false;
}

bool decode_amd_line(struct ctx *c, const char *line, unsigned n)
{
	(void)n;
	while (*line == ' ' || *line == '\t')
		line++;
	if (!*line || !strncmp(line, "DeviceId", 8) ||
	    !strncmp(line, "IRQ lookup table not set", 24))
		return true; /* headers, and a device without a table: nothing to decode */
	return irt_row(c, line) || devtbl_row(c, line);
}
