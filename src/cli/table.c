// SPDX-License-Identifier: MIT
#include "table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void table_init(struct table *t, unsigned ncols, const char *indent)
{
	*t = (struct table){.ncols = ncols < TABLE_MAX_COLS ? ncols : TABLE_MAX_COLS,
			    .indent = indent ? indent : ""};
	memset(t->align, 'r', sizeof(t->align));
	t->align[0] = 'l';
}

void table_align(struct table *t, const char *align)
{
	for (unsigned c = 0; c < t->ncols && align[c]; c++)
		t->align[c] = align[c] == 'l' ? 'l' : 'r';
}

/* Room for one more row; Return: its index, or -1 (the table remembers the failure). */
static long add(struct table *t)
{
	if (t->oom)
		return -1;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		void *c = realloc(t->cells, cap * sizeof(*t->cells));
		bool *s;

		if (c)
			t->cells = c;
		s = c ? realloc(t->section, cap * sizeof(*t->section)) : NULL;
		if (!s) {
			t->oom = true;
			return -1;
		}
		t->section = s;
		t->cap = cap;
	}
	memset(t->cells[t->nrows], 0, sizeof(t->cells[t->nrows]));
	return (long)t->nrows++;
}

void table_row(struct table *t, const char *const cells[])
{
	long r = add(t);

	if (r < 0)
		return;
	t->section[r] = false;
	for (unsigned c = 0; c < t->ncols; c++)
		snprintf(t->cells[r][c], TABLE_CELL, "%s", cells[c] ? cells[c] : "");
}

void table_section(struct table *t, const char *text)
{
	long r = add(t);

	if (r < 0)
		return;
	t->section[r] = true;
	snprintf(t->cells[r][0], TABLE_CELL, "%s", text);
}

/* One row into @line, columns padded to @width, without trailing blanks. */
static void format_row(const struct table *t, size_t r, const size_t width[], char *line,
		       size_t size)
{
	size_t at = (size_t)snprintf(line, size, "%s", t->indent), end;

	for (unsigned c = 0; c < t->ncols && at < size; c++)
		at +=
		    (size_t)snprintf(line + at, size - at, t->align[c] == 'l' ? "%s%-*s" : "%s%*s",
				     c ? "  " : "", (int)width[c], t->cells[r][c]);
	end = strlen(line);
	while (end && line[end - 1] == ' ')
		line[--end] = '\0';
}

int table_print(const struct table *t, FILE *out)
{
	size_t width[TABLE_MAX_COLS] = {0};
	char line[TABLE_MAX_COLS * (TABLE_CELL + 2) + 64];

	if (t->oom)
		return -ENOMEM;
	for (size_t r = 0; r < t->nrows; r++)
		for (unsigned c = 0; c < t->ncols && !t->section[r]; c++)
			if (strlen(t->cells[r][c]) > width[c])
				width[c] = strlen(t->cells[r][c]);
	for (size_t r = 0; r < t->nrows; r++) {
		if (t->section[r])
			fprintf(out, "%s\n", t->cells[r][0]);
		else {
			format_row(t, r, width, line, sizeof(line));
			fprintf(out, "%s\n", line);
		}
	}
	return 0;
}

void table_free(struct table *t)
{
	free(t->cells);
	free(t->section);
	*t = (struct table){0};
}

void fmt_ns(char *out, size_t len, uint64_t ns)
{
	if (ns >= 1000000000)
		snprintf(out, len, "%.2f s", (double)ns / 1e9);
	else if (ns >= 1000000)
		snprintf(out, len, "%.2f ms", (double)ns / 1e6);
	else if (ns >= 1000)
		snprintf(out, len, "%.2f us", (double)ns / 1e3);
	else
		snprintf(out, len, "%" PRIu64 " ns", ns);
}

void fmt_ratio(char *out, size_t len, uint64_t v, uint64_t base)
{
	if (!base)
		snprintf(out, len, NO_VALUE);
	else if ((double)v / (double)base >= 100)
		snprintf(out, len, "%.0fx", (double)v / (double)base);
	else
		snprintf(out, len, "%.1fx", (double)v / (double)base);
}

void fmt_u64(char *out, size_t len, uint64_t v)
{
	snprintf(out, len, "%" PRIu64, v);
}
