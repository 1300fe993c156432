/* SPDX-License-Identifier: MIT */
/*
 * Text tables for the reports: rows of cells, each column as wide as its
 * widest cell, aligned left or right as the table says (by default the first
 * column left, the others right), no trailing blanks, and section lines
 * between rows. Cells are ASCII, so bytes are columns.
 * Also the cell formats every table uses: a time with its unit, a ratio, and
 * NO_VALUE where there is no sample or the operation failed.
 */
#ifndef PVIR_CLI_TABLE_H
#define PVIR_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TABLE_MAX_COLS 10
#define TABLE_CELL     96
#define NO_VALUE       "-" /* no sample, or no figure because the operation failed */

struct table {
	unsigned ncols;
	const char *indent;	    /* before each row (not before sections) */
	char align[TABLE_MAX_COLS]; /* 'l' or 'r' per column */
	char (*cells)[TABLE_MAX_COLS][TABLE_CELL];
	bool *section; /* the row is one line of text, its first cell */
	size_t nrows, cap;
	bool oom;
};

void table_init(struct table *t, unsigned ncols, const char *indent);
/** table_align() - @align holds 'l' or 'r' for each column, such as "rrrrl" */
void table_align(struct table *t, const char *align);
/** table_row() - a row of ncols cells; a NULL cell is empty */
void table_row(struct table *t, const char *const cells[]);
/** table_section() - a line of its own between rows, not aligned */
void table_section(struct table *t, const char *text);
/* Return: 0, or -ENOMEM if a row could not be kept (and nothing is printed) */
int table_print(const struct table *t, FILE *out);
void table_free(struct table *t);

/* ns with its unit: "200 ns", "1.29 ms", "4.01 s" */
void fmt_ns(char *out, size_t len, uint64_t ns);
/* @v / @base as "3.9x", "120x"; NO_VALUE when @base is 0 */
void fmt_ratio(char *out, size_t len, uint64_t v, uint64_t base);
void fmt_u64(char *out, size_t len, uint64_t v);

#endif
