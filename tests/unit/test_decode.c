// SPDX-License-Identifier: MIT
/* `pvir decode`: exact JSON for hand-built vectors, the text form, and every input error. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct run {
	int rc;
	char *out;
	char *err;
};

static struct run decode(const char *a1, const char *a2, const char *a3, const char *a4)
{
	const char *args[] = {"decode", a1, a2, a3, a4};
	char *argv[5];
	int argc = 1;
	size_t out_len, err_len;
	struct run r = {0};
	FILE *out = open_memstream(&r.out, &out_len);
	FILE *err = open_memstream(&r.err, &err_len);

	assert_non_null(out);
	assert_non_null(err);
	argv[0] = (char *)args[0];
	for (int i = 1; i < 5 && args[i]; i++)
		argv[argc++] = (char *)args[i];
	r.rc = cli_decode(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

struct json_row {
	const char *args[4];
	const char *json;
};

static const struct json_row json_rows[] = {
    /* the posted vector of test_irte: VV 0x41, PDA 0x123456789abcdec0, URG, AVAIL 5 */
    {{"--json", "irte", "0x1234567800040300:0x9abcdec00041c501"},
     "{\"format\":\"posted\",\"p\":1,\"fpd\":0,\"avail\":5,\"urg\":1,\"im\":1,\"vector\":65,"
     "\"pda\":1311768467463790272,\"sid\":768,\"sq\":0,\"svt\":1,\"reserved_bits_set\":[]}\n"},
    /* the same entry as one 32-digit number */
    {{"--json", "irte",
      "1234567800040300"
      "9abcdec00041c501"},
     "{\"format\":\"posted\",\"p\":1,\"fpd\":0,\"avail\":5,\"urg\":1,\"im\":1,\"vector\":65,"
     "\"pda\":1311768467463790272,\"sid\":768,\"sq\":0,\"svt\":1,\"reserved_bits_set\":[]}\n"},
    /* remapped, every flag, x2APIC dest 0x12345, reserved bits 12 and 84 set */
    {{"--json", "irte", "0x00000000001b1234:0x0001234500ec1a3f"},
     "{\"format\":\"remapped\",\"p\":1,\"fpd\":1,\"dm\":1,\"rh\":1,\"tm\":1,\"dlm\":1,"
     "\"avail\":10,\"im\":0,\"vector\":236,\"dst\":74565,\"sid\":4660,\"sq\":3,\"svt\":2,"
     "\"reserved_bits_set\":[12,84]}\n"},
    /* xAPIC check: DST bit 0 (entry bit 32) becomes reserved */
    {{"--json", "--xapic", "irte", "0x0:0x0000070100310001"},
     "{\"format\":\"remapped\",\"p\":1,\"fpd\":0,\"dm\":0,\"rh\":0,\"tm\":0,\"dlm\":0,"
     "\"avail\":0,\"im\":0,\"vector\":49,\"dst\":1793,\"sid\":0,\"sq\":0,\"svt\":0,"
     "\"reserved_bits_set\":[32]}\n"},
    /* no posting support: IM is reserved and the entry reads as remapped */
    {{"--json", "--no-posting", "irte", "0x0:0x8001"},
     "{\"format\":\"remapped\",\"p\":1,\"fpd\":0,\"dm\":0,\"rh\":0,\"tm\":0,\"dlm\":0,"
     "\"avail\":0,\"im\":1,\"vector\":0,\"dst\":0,\"sid\":0,\"sq\":0,\"svt\":0,"
     "\"reserved_bits_set\":[15]}\n"},
    /* compatibility MSI: dest 0x1234 with extended ID bits, vector 0xec */
    {{"--json", "msi", "0xfee34240", "0xec"},
     "{\"format\":\"compat\",\"dest_id\":4660,\"rh\":0,\"dm\":0,\"vector\":236,"
     "\"delivery_mode\":0,\"level\":0,\"trigger\":0,\"interrupt_address\":1,"
     "\"reserved_address_hi\":0,\"reserved_data\":0}\n"},
    /* remappable MSI: handle 0x8001 (bit 15 in address bit 2), subhandle 3 */
    {{"--json", "msi", "0xfee0003c", "3"},
     "{\"format\":\"remappable\",\"handle\":32769,\"shv\":1,\"subhandle\":3,\"index\":32772,"
     "\"interrupt_address\":1,\"reserved_address_hi\":0,\"reserved_data\":0}\n"},
    /* a 64-bit address: address_hi is reserved; data 31:16 with SHV too */
    {{"--json", "msi", "0x1fee00018", "0x10000"},
     "{\"format\":\"remappable\",\"handle\":0,\"shv\":1,\"subhandle\":0,\"index\":0,"
     "\"interrupt_address\":1,\"reserved_address_hi\":1,\"reserved_data\":65536}\n"},
    /* descriptor: PIR 0x00 and 0x3f, ON, NV 0xf2, NDST 3, a reserved bit (258) */
    {{"--json", "pid", "0:0:0:0x0000000300f20005:0:0:0:0x8000000000000001"},
     "{\"pir\":[0,63],\"on\":1,\"sn\":0,\"nv\":242,\"ndst\":3,"
     "\"reserved_bits_set\":[258]}\n"},
};

static void json_golden(void **state)
{
	const struct json_row *row = *state;
	struct run r = decode(row->args[0], row->args[1], row->args[2], row->args[3]);

	assert_int_equal(r.rc, CLI_EXIT_OK);
	assert_string_equal(r.out, row->json);
	assert_string_equal(r.err, "");
	run_free(&r);
}

static void text_names_fields_and_flags(void **state)
{
	struct run r = decode("irte", "0x00000000001b1234:0x0001234500ec1a3f", NULL, NULL);

	(void)state;
	assert_int_equal(r.rc, CLI_EXIT_OK);
	assert_non_null(strstr(r.out, "format: remapped (IM=0)"));
	assert_non_null(strstr(r.out, "x2APIC destination: APIC ID 0x12345"));
	assert_non_null(strstr(r.out, "source id 12:06.4"));
	assert_non_null(strstr(r.out, "reserved bits set: 12 84  <-- reserved"));
	run_free(&r);
	r = decode("msi", "0xfed00000", "0", NULL);
	assert_non_null(strstr(r.out, "not an interrupt request"));
	run_free(&r);
	r = decode("pid", "0", NULL, NULL);
	assert_non_null(strstr(r.out, "none pending"));
	assert_non_null(strstr(r.out, "reserved bits set: none"));
	run_free(&r);
}

struct bad_row {
	const char *args[4];
	const char *message;
};

static const struct bad_row bad_rows[] = {
    {{"irte", "xyz"}, "'xyz' is not a 128-bit hex value"},
    {{"irte", "0x1:0x2:0x3"}, "is not a 128-bit hex value"},
    {{"irte", "0x11112222333344445:0x0"}, "is not a 128-bit hex value"},
    {{"irte", "123456789012345678901234567890123"}, "is not a 128-bit hex value"},
    {{"irte", ""}, "is not a 128-bit hex value"},
    {{"irte"}, "expected one argument, HEX128"},
    {{"irte", "1", "2"}, "expected one argument, HEX128"},
    {{"msi", "0xfee00000"}, "expected two arguments, ADDR DATA"},
    {{"msi", "fee", "0"}, "ADDR 'fee' is not a 64-bit number"},
    {{"msi", "0xfee00000", "0x100000000"}, "DATA '0x100000000' is not a 32-bit number"},
    {{"msi", "--", "0xfee00000", "-1"}, "DATA '-1' is not a 32-bit number"},
    {{"pid", "0:1"}, "is not a 512-bit hex value"},
    {{"ioapic", "0"}, "unknown format 'ioapic'"},
    {{"--verbose", "irte", "0"}, "unknown option '--verbose'"},
    {{NULL}, "usage: pvir decode"},
    {{"msi", "0xfee00000", "-1"}, "unknown option '-1'"}, /* -- ends the options first */
    {{"msi", "0xfee00000", "0", "--json=yes"}, "option '--json' takes no argument"},
};

static void bad_input(void **state)
{
	const struct bad_row *row = *state;
	struct run r = decode(row->args[0], row->args[1], row->args[2], row->args[3]);

	assert_int_equal(r.rc, CLI_EXIT_USAGE);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, row->message));
	run_free(&r);
}

#define JSON(name, i) TEST_ROW("decode/json/" name, json_golden, &json_rows[i])
#define BAD(name, i)  TEST_ROW("decode/bad/" name, bad_input, &bad_rows[i])

int main(void)
{
	const struct CMUnitTest tests[] = {
	    JSON("irte-posted", 0),
	    JSON("irte-posted-one-number", 1),
	    JSON("irte-remapped-reserved", 2),
	    JSON("irte-xapic-reserved-dst", 3),
	    JSON("irte-no-posting", 4),
	    JSON("msi-compat-ext-dest", 5),
	    JSON("msi-remappable", 6),
	    JSON("msi-reserved", 7),
	    JSON("pid", 8),
	    TEST(text_names_fields_and_flags),
	    BAD("irte-not-hex", 0),
	    BAD("irte-three-parts", 1),
	    BAD("irte-qword-too-long", 2),
	    BAD("irte-number-too-long", 3),
	    BAD("irte-empty", 4),
	    BAD("irte-missing", 5),
	    BAD("irte-extra", 6),
	    BAD("msi-missing-data", 7),
	    BAD("msi-addr-not-number", 8),
	    BAD("msi-data-too-wide", 9),
	    BAD("msi-data-negative", 10),
	    BAD("pid-two-parts", 11),
	    BAD("unknown-format", 12),
	    BAD("unknown-option", 13),
	    BAD("nothing", 14),
	    BAD("negative-needs-dashdash", 15),
	    BAD("flag-with-value", 16),
	};

	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
