/* SPDX-License-Identifier: MIT */
/*
 * The dumps people paste into `pvir decode`, one line at a time:
 *
 *   debugfs   /sys/kernel/debug/iommu/intel/ir_translation_struct, both
 *             tables (drivers/iommu/intel/debugfs.c): " %-5d %02x:%02x.%01x
 *             %08x %02x  %016llx\t%016llx" (index, SID, DstID, vector, IRTE
 *             high, IRTE low) and, posted, "... %08x %08x %02x ..." (SID,
 *             PDA high, PDA low << 6, vector); headers are skipped;
 *   QEMU      the vtd_ir_irte_get trace event, "index %d low 0x%lx high
 *             0x%lx", whose "low" is the IRTE's high qword and "high" its
 *             low one (hw/i386/intel_iommu.c passes data[1] first);
 *   lspci     -vv's MSI capability, "Address: %08x%08x  Data: %04x" (64-bit)
 *             or "Address: %08x  Data: %04x", hex without 0x; for MSI-X it
 *             prints only where the table is (BAR and offset);
 *   gdb       x/Ngx, "0xADDR <sym+off>:\t0x%016lx\t0x%016lx", and crash's
 *             "rd -64", "ADDR:  %016lx %016lx  ascii": qwords in memory
 *             order, low first;
 *   labelled  "lo=X hi=Y", "hi=Y lo=X", "low X high Y".
 */
#ifndef PVIR_CLI_DUMPS_H
#define PVIR_CLI_DUMPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvir/msi.h"

#define DUMP_MAX_QWORDS 8

enum dump_kind {
	DUMP_NONE,	 /* no format pvir knows */
	DUMP_SKIP,	 /* a header, a blank line: nothing to decode */
	DUMP_IRTE,	 /* lo, hi */
	DUMP_MSI,	 /* msg */
	DUMP_QWORDS,	 /* q[0..nq), memory order */
	DUMP_MSIX_WHERE, /* lspci's MSI-X line: where the table is, not what it holds */
};

struct dump {
	enum dump_kind kind;
	const char *source; /* which format it was, for the output */
	uint64_t lo, hi;
	struct msi_msg msg;
	uint64_t q[DUMP_MAX_QWORDS];
	unsigned nq;
	/* a debugfs row's own columns, to check against the entry they print */
	bool columns;
	bool posted;
	unsigned index;
	uint16_t sid;
	uint32_t dst; /* remapped: DstID */
	uint64_t pda; /* posted: PDA_high:PDA_low */
	uint8_t vector;
};

/** dump_parse_line() - what @line holds; Return: its kind, the fields in @d */
enum dump_kind dump_parse_line(const char *line, struct dump *d);
/* Exactly 1..@max hex digits, with or without 0x; Return: false if not. */
bool dump_hex(const char *s, unsigned max, uint64_t *ret);
/* The @len (1..16) hex digits at @s, no prefix; Return: false if not. */
bool dump_hex_digits(const char *s, size_t len, uint64_t *ret);

#endif
