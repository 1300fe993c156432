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

/* decode with @in as its stdin, for "-". */
static struct run decode_in(const char *in, const char *a1, const char *a2, const char *a3)
{
	const char *args[] = {"decode", a1, a2, a3};
	char *argv[4];
	int argc = 1;
	size_t out_len, err_len;
	struct run r = {0};
	FILE *out = open_memstream(&r.out, &out_len), *err = open_memstream(&r.err, &err_len);
	FILE *f = fmemopen((void *)in, strlen(in), "r");

	assert_non_null(f);
	argv[0] = (char *)args[0];
	for (int i = 1; i < 4 && args[i]; i++)
		argv[argc++] = (char *)args[i];
	r.rc = cli_decode_stream(argc, argv, f, out, err);
	fclose(f);
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
    /* AMD-Vi legacy: RemapEn, dest 3, vector 0x45, reserved bit 31 */
    {{"--json", "amd-irte", "0x80450301"},
     "{\"format\":\"amdvi-legacy\",\"remapen\":1,\"supiopf\":0,\"inttype\":0,\"rqeoi\":0,"
     "\"dm\":0,\"dest\":3,\"vector\":69,\"reserved_bits_set\":[31]}\n"},
    /* AMD-Vi GA, remapped: arbitrated, dest 0x06012345 split 23:0 / 31:24, vector 0x51 */
    {{"--json", "amd-irte", "0x0600000000000051:0x0000000001234505"},
     "{\"format\":\"amdvi-ga-remapped\",\"remapen\":1,\"supiopf\":0,\"inttype\":1,"
     "\"rqeoi\":0,\"dm\":0,\"dest\":100737861,\"vector\":81,\"reserved_bits_set\":[]}\n"},
    /* AMD-Vi GA, guest mode: GALogIntr, IsRun, core 9, tag 0xabc, page 0x50000, vector 0x61 */
    {{"--json", "amd-irte", "0000000000050061", "00000abc000009c5"},
     "{\"format\":\"amdvi-ga-guest\",\"remapen\":1,\"supiopf\":0,\"galogintr\":1,"
     "\"isrun\":1,\"dest\":9,\"gatag\":2748,\"garootptr\":80,\"vector\":97,"
     "\"reserved_bits_set\":[]}\n"},
    /* AMD-Vi event as Linux prints one it does not know: IO_PAGE_FAULT, I, 03:00.0 */
    {{"--json", "amd-event",
      "event[0]=0x00000300 event[1]=0x20080000 event[2]=0xfee00000 event[3]=0x00000000"},
     "{\"format\":\"amdvi-event\",\"code\":2,\"name\":\"IO_PAGE_FAULT\",\"devid\":768,"
     "\"flags\":8,\"interrupt\":1,\"address\":4276092928}\n"},
    /* the same event as HI:LO */
    {{"--json", "amd-event", "0x00000000fee00000:0x2008000000000300"},
     "{\"format\":\"amdvi-event\",\"code\":2,\"name\":\"IO_PAGE_FAULT\",\"devid\":768,"
     "\"flags\":8,\"interrupt\":1,\"address\":4276092928}\n"},
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
	/* DM=1: the destination is logical, cluster and CPU mask (x2APIC), not an APIC ID */
	assert_non_null(strstr(r.out, "x2APIC logical destination: cluster 0x1, CPUs 0x2345"));
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
    {{"irte", "xyz"}, "'xyz' is not an IRTE"},
    {{"irte", "0x1:0x2:0x3"}, "is not an IRTE"},
    {{"irte", "0x11112222333344445:0x0"}, "is not an IRTE"},
    {{"irte", "123456789012345678901234567890123"}, "is not an IRTE"},
    {{"irte", ""}, "'' is not an IRTE"},
    {{"irte"}, "nothing is not an IRTE"},
    {{"irte", "1", "2", "3"}, "'1 2 3' is not an IRTE"},
    {{"msi", "0xfee00000"}, "expected two arguments, ADDR DATA"},
    {{"msi", "xyz", "0"}, "ADDR 'xyz' is not a 64-bit hex number"},
    {{"msi", "0xfee00000", "0x100000000"}, "DATA '0x100000000' is not a 32-bit hex number"},
    {{"msi", "--", "0xfee00000", "-1"}, "DATA '-1' is not a 32-bit hex number"},
    {{"pid", "0:1"}, "is not a 512-bit hex value"},
    {{"ioapic", "0"}, "unknown format 'ioapic'"},
    {{"--verbose", "irte", "0"}, "unknown option '--verbose'"},
    {{NULL}, "usage: pvir decode"},
    {{"msi", "0xfee00000", "-1"}, "unknown option '-1'"}, /* -- ends the options first */
    {{"msi", "0xfee00000", "0", "--json=yes"}, "option '--json' takes no argument"},
    {{"amd-irte", "xyz"}, "expected HEX32 (legacy) or HEX128"},
    {{"amd-irte", "1", "2", "3"}, "expected HEX32 (legacy) or HEX128"},
    {{"amd-event", "1:2:3"}, "expected HEX128"},
    {{"amd-event"}, "expected HEX128"},
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

/*
 * The dumps people have, each as its tool prints it (drivers/iommu/intel/
 * debugfs.c, QEMU's vtd_ir_irte_get, lspci -vv, gdb x/2gx, crash rd -64),
 * all holding the same IRTE or message.
 */
struct dump_row {
	const char *stdin_text; /* NULL: the line is an argument */
	const char *args[3];
	const char *out;  /* in the output */
	const char *warn; /* NULL: no warning */
	int rc;
};

#define IRTE_0 "IRTE 0x0000000000040050:0x000000800024000d  format: remapped (IM=0)"

static const struct dump_row dump_rows[] = {
    /* the kernel's own example row (Documentation/ABI/testing/debugfs-intel-iommu) */
    {NULL,
     {" 0     00:0a.0 00000080 24  0000000000040050\t000000800024000d"},
     "debugfs ir_translation_struct, remapped table, entry 0\n" IRTE_0,
     NULL,
     0},
    /* the whole table on stdin: headers skipped, one decode per row */
    {"Remapped Interrupt supported on IOMMU: dmar0\n IR table address:100900000\n"
     " Entry SrcID   DstID    Vct IRTE_high\t\tIRTE_low\n"
     " 0     00:0a.0 00000080 24  0000000000040050\t000000800024000d\n"
     " 1     00:0a.0 00000001 ef  0000000000040050\t0000000100ef000d\n\n****\n\n"
     "Posted Interrupt supported on IOMMU: dmar0\n IR table address:100900000\n"
     " Entry SrcID   PDA_high PDA_low  Vct IRTE_high\t\tIRTE_low\n"
     " 5     03:00.0 12345678 9abcdec0 41  1234567800040300\t9abcdec00041c501\n",
     {"-"},
     "entry 1\nIRTE 0x0000000000040050:0x0000000100ef000d",
     NULL,
     0},
    {NULL,
     {" 5     03:00.0 12345678 9abcdec0 41  1234567800040300\t9abcdec00041c501"},
     "posted table, entry 5\nIRTE 0x1234567800040300:0x9abcdec00041c501  format: posted",
     NULL,
     0},
    /* a row whose vector column is not its entry's */
    {NULL,
     {" 5     03:00.0 12345678 9abcdec0 42  1234567800040300\t9abcdec00041c501"},
     "format: posted",
     "entry 5: the row's SrcID/DstID/Vct columns disagree",
     0},
    /* QEMU prints data[1] after "low": the high qword */
    {NULL,
     {"vtd_ir_irte_get index 0 low 0x40050 high 0x800024000d"},
     "QEMU trace vtd_ir_irte_get (its \"low\" is the high qword, as QEMU prints it)\n" IRTE_0,
     NULL,
     0},
    {NULL, {"1234@1701.5:vtd_ir_irte_get index 7 low 0x40050 high 0x800024000d"}, IRTE_0, NULL, 0},
    /* lspci -vv: no 0x, a 64-bit address as two 32-bit halves */
    {NULL,
     {"msi", "Address: 00000000fee00558  Data: 4021"},
     "lspci -vv MSI capability\nMSI address 0x00000000fee00558 data 0x00004021",
     NULL,
     0},
    {NULL, {"Address: fee00558  Data: 0000"}, "format: remappable", NULL, 0},
    {NULL,
     {"Vector table: BAR=0 offset=00002000"},
     "",
     "lspci prints only where the MSI-X table",
     0},
    /* bare hex, and two words high first */
    {NULL, {"msi", "fee00558", "4021"}, "MSI address 0x00000000fee00558 data 0x00004021", NULL, 0},
    {NULL, {"irte", "40050", "800024000d"}, IRTE_0, NULL, 0},
    /* labelled, in either order */
    {NULL, {"irte", "lo=0x800024000d", "hi=0x40050"}, IRTE_0, NULL, 0},
    {NULL, {"irte", "high 40050 low 800024000d"}, IRTE_0, NULL, 0},
    /* memory order: gdb and crash print the low qword first */
    {NULL,
     {"irte", "0xffffffff81000000 <ir_table>:\t0x000000800024000d\t0x0000000000040050"},
     IRTE_0,
     NULL,
     0},
    {"ffff888100900000:  000000800024000d 0000000000040050   ..$.............\n",
     {"irte", "-"},
     IRTE_0,
     NULL,
     0},
    /* a descriptor from gdb x/8gx: four lines of two, low first */
    {"0xffff888100a00000:\t0x8000000000000001\t0x0000000000000000\n"
     "0xffff888100a00010:\t0x0000000000000000\t0x0000000000000000\n"
     "0xffff888100a00020:\t0x0000000300f20001\t0x0000000000000000\n"
     "0xffff888100a00030:\t0x0000000000000000\t0x0000000000000000\n",
     {"pid", "-"},
     "PIR      0x00 0x3f  (pending vectors)",
     NULL,
     0},
    /* the same descriptor typed high first, low first: reserved bits, and the hint */
    {NULL,
     {"pid", "0x8000000000000001:0:0:0:0x0000000300f20001:0:0:0"},
     "reserved bits set:",
     "memory order (low qword first, as gdb's x/8gx prints)? add --memory-order",
     0},
    {NULL,
     {"--memory-order", "pid", "0x8000000000000001:0:0:0:0x0000000300f20001:0:0:0"},
     "reserved bits set: none",
     NULL,
     0},
    /* halves pasted the wrong way round: the warning names the fix; --strict exits 1 */
    {NULL,
     {"irte", "0x000000800024000d:0x0000000000040050"},
     "reserved bits set: 85 103",
     "the high qword goes first (try 0x0000000000040050:0x000000800024000d)",
     0},
    {NULL,
     {"--strict", "irte", "0x000000800024000d:0x0000000000040050"},
     "format: remapped",
     "the high qword goes first",
     CLI_EXIT_VIOLATION},
    /* what no tool prints, on stdin: named by line, and exit 2 */
    {"Entry SrcID\nhello world\n",
     {"-"},
     "",
     "line 2: not a dump pvir knows: hello world",
     CLI_EXIT_USAGE},
    /* AMD-Vi debugfs: irqtbl of a legacy table and of a GA one, devtbl (one entry) */
    {"DeviceId 0000:03:00:0\nIRT[0005] 00450301\n"
     "IRQ lookup table not set for 0000:04:00:0\n"
     "DeviceId 0000:03:00:1\nIRT[0001] 0000000000050061 00000abc000009c5\n",
     {"amd-irte", "-"},
     "AMD-Vi IRTE, legacy 32-bit: 0x00450301",
     NULL,
     0},
    {"DeviceId     QWORD[3]         QWORD[2]         QWORD[1]         QWORD[0] iommu\n"
     "0000:03:00.0 0000000000000000 2000000100900013 0000000000000000 0000000000000003 "
     "iommu0\n",
     {"amd-irte", "-"},
     "IntCtl     0x2          remap",
     NULL,
     0},
    {"IRT[0005] 00450301\nhello world\n",
     {"amd-irte", "-"},
     "Vector     0x45",
     "line 2: not a dump pvir knows: hello world",
     CLI_EXIT_USAGE},
    {"0x00000000fee00000:0x2008000000000300\n"
     "event[0]=0x00000300 event[1]=0x10080000 event[2]=0xfee00000 event[3]=0x00000000\n",
     {"amd-event", "-"},
     "ILLEGAL_DEV_TABLE_ENTRY",
     NULL,
     0},
};

static void dump_input(void **state)
{
	const struct dump_row *row = *state;
	struct run r = row->stdin_text
			   ? decode_in(row->stdin_text, row->args[0], row->args[1], row->args[2])
			   : decode(row->args[0], row->args[1], row->args[2], NULL);

	assert_int_equal(r.rc, row->rc);
	assert_non_null(strstr(r.out, row->out));
	if (row->warn)
		assert_non_null(strstr(r.err, row->warn));
	else
		assert_string_equal(r.err, "");
	run_free(&r);
}

/* JSON: one object per entry, with where it came from. */
static void json_lines_from_a_table(void **state)
{
	struct run r = decode_in(" 0     00:0a.0 00000080 24  0000000000040050\t000000800024000d\n"
				 " 1     00:0a.0 00000001 ef  0000000000040050\t0000000100ef000d\n",
				 "--json", "-", NULL);

	(void)state;
	assert_int_equal(r.rc, CLI_EXIT_OK);
	assert_string_equal(
	    r.out, "{\"source\":\"debugfs ir_translation_struct, remapped table\",\"entry\":0,"
		   "\"format\":\"remapped\",\"p\":1,\"fpd\":0,\"dm\":1,\"rh\":1,\"tm\":0,\"dlm\":0,"
		   "\"avail\":0,\"im\":0,\"vector\":36,\"dst\":128,\"sid\":80,\"sq\":0,\"svt\":1,"
		   "\"reserved_bits_set\":[]}\n"
		   "{\"source\":\"debugfs ir_translation_struct, remapped table\",\"entry\":1,"
		   "\"format\":\"remapped\",\"p\":1,\"fpd\":0,\"dm\":1,\"rh\":1,\"tm\":0,\"dlm\":0,"
		   "\"avail\":0,\"im\":0,\"vector\":239,\"dst\":1,\"sid\":80,\"sq\":0,\"svt\":1,"
		   "\"reserved_bits_set\":[]}\n");
	run_free(&r);
}

/* A compatibility message with DM=1 names a logical destination, not an APIC ID. */
static void logical_mode_is_labelled(void **state)
{
	struct run r = decode("msi", "0xfee0200c", "0x31", NULL);

	(void)state;
	assert_non_null(strstr(r.out, "logical destination: mask"));
	assert_null(strstr(r.out, "APIC ID"));
	run_free(&r);
}

#define JSON(name, i) TEST_ROW("decode/json/" name, json_golden, &json_rows[i])
#define BAD(name, i)  TEST_ROW("decode/bad/" name, bad_input, &bad_rows[i])
#define DUMP(name, i) TEST_ROW("decode/dump/" name, dump_input, &dump_rows[i])

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
	    JSON("amd-irte-legacy", 9),
	    JSON("amd-irte-ga-remapped", 10),
	    JSON("amd-irte-ga-guest", 11),
	    JSON("amd-event-linux-dwords", 12),
	    JSON("amd-event-hi-lo", 13),
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
	    BAD("amd-irte-not-hex", 17),
	    BAD("amd-irte-three-words", 18),
	    BAD("amd-event-three-parts", 19),
	    BAD("amd-event-missing", 20),
	    DUMP("debugfs-row", 0),
	    DUMP("debugfs-tables-on-stdin", 1),
	    DUMP("debugfs-posted-row", 2),
	    DUMP("debugfs-columns-disagree", 3),
	    DUMP("qemu-irte-get", 4),
	    DUMP("qemu-log-prefix", 5),
	    DUMP("lspci-msi-64bit", 6),
	    DUMP("lspci-msi-32bit", 7),
	    DUMP("lspci-msix-says-where", 8),
	    DUMP("bare-hex-msi", 9),
	    DUMP("hi-lo-words", 10),
	    DUMP("labelled-lo-hi", 11),
	    DUMP("labelled-high-low", 12),
	    DUMP("gdb-x2gx", 13),
	    DUMP("crash-rd64-on-stdin", 14),
	    DUMP("gdb-x8gx-descriptor", 15),
	    DUMP("pid-memory-order-hint", 16),
	    DUMP("pid-memory-order", 17),
	    DUMP("swapped-halves", 18),
	    DUMP("swapped-halves-strict", 19),
	    DUMP("unknown-line", 20),
	    DUMP("amd-irqtbl-on-stdin", 21),
	    DUMP("amd-devtbl-on-stdin", 22),
	    DUMP("amd-unknown-line", 23),
	    DUMP("amd-events-on-stdin", 24),
	    cmocka_unit_test(json_lines_from_a_table),
	    cmocka_unit_test(logical_mode_is_labelled),
	};

	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
