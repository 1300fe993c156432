// SPDX-License-Identifier: MIT
#include "dumps.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MAX_TOKENS 24
#define TOKEN_LEN  64

struct tokens {
	char t[MAX_TOKENS][TOKEN_LEN];
	unsigned n;
};

/* Whitespace-separated words; a word longer than TOKEN_LEN makes the line unknown. */
static bool split(const char *line, struct tokens *tk)
{
	tk->n = 0;
	while (*line) {
		size_t len;

		while (isspace((unsigned char)*line))
			line++;
		if (!*line)
			break;
		len = strcspn(line, " \t\r\n");
		if (tk->n == MAX_TOKENS || len >= TOKEN_LEN)
			return false;
		memcpy(tk->t[tk->n], line, len);
		tk->t[tk->n++][len] = '\0';
		line += len;
	}
	return true;
}

bool dump_hex_digits(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > 16)
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

bool dump_hex(const char *s, unsigned max, uint64_t *ret)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	return strlen(s) <= max && dump_hex_digits(s, strlen(s), ret);
}

/* Exactly @digits hex digits, no 0x: how debugfs and lspci print. */
static bool hex_exact(const char *s, unsigned digits, uint64_t *ret)
{
	return strlen(s) == digits && !strpbrk(s, "xX") && dump_hex(s, digits, ret);
}

static bool decimal(const char *s, unsigned *ret)
{
	unsigned v = 0;

	if (!*s || strlen(s) > 9)
		return false;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*ret = v;
	return true;
}

/* "bb:dd.f" as debugfs prints a source-id. */
static bool bdf(const char *s, uint16_t *ret)
{
	unsigned b, d, f;
	char end;

	if (strlen(s) != 7 || sscanf(s, "%2x:%2x.%1x%c", &b, &d, &f, &end) != 3 || d > 31 || f > 7)
		return false;
	*ret = (uint16_t)(b << 8 | d << 3 | f);
	return true;
}

static bool starts(const char *line, const char *prefix)
{
	while (isspace((unsigned char)*line))
		line++;
	return !strncmp(line, prefix, strlen(prefix));
}

/* The lines of a debugfs table or an lspci listing that carry no entry. */
static bool header(const char *line, const struct tokens *tk)
{
	static const char *const skip[] = {
	    "Remapped Interrupt supported",
	    "Posted Interrupt supported",
	    "IR table address:",
	    "Entry SrcID",
	    "****",
	    "Interrupt Remapping is not",
	    "Capabilities:",
	};

	if (!tk->n)
		return true;
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (starts(line, skip[i]))
			return true;
	return false;
}

static bool debugfs_row(const struct tokens *tk, struct dump *d)
{
	uint64_t v[4];
	bool posted = tk->n == 7;

	if (tk->n != 6 && tk->n != 7)
		return false;
	if (!decimal(tk->t[0], &d->index) || !bdf(tk->t[1], &d->sid) ||
	    !hex_exact(tk->t[2], 8, &v[0]) || (posted && !hex_exact(tk->t[3], 8, &v[1])) ||
	    !hex_exact(tk->t[tk->n - 3], 2, &v[2]) || !hex_exact(tk->t[tk->n - 2], 16, &d->hi) ||
	    !hex_exact(tk->t[tk->n - 1], 16, &d->lo))
		return false;
	d->columns = true;
	d->posted = posted;
	d->dst = (uint32_t)v[0];
	d->pda = posted ? v[0] << 32 | v[1] : 0;
	d->vector = (uint8_t)v[2];
	d->source = posted ? "debugfs ir_translation_struct, posted table"
			   : "debugfs ir_translation_struct, remapped table";
	return true;
}

/* "...vtd_ir_irte_get index N low 0xA high 0xB": A is the high qword. */
static bool qemu_irte(const struct tokens *tk, struct dump *d)
{
	unsigned i = 0;

	while (i < tk->n && !strstr(tk->t[i], "vtd_ir_irte_get"))
		i++;
	if (i + 7 != tk->n || strcmp(tk->t[i + 1], "index") || !decimal(tk->t[i + 2], &d->index) ||
	    strcmp(tk->t[i + 3], "low") || !dump_hex(tk->t[i + 4], 16, &d->hi) ||
	    strcmp(tk->t[i + 5], "high") || !dump_hex(tk->t[i + 6], 16, &d->lo))
		return false;
	d->source = "QEMU trace vtd_ir_irte_get (its \"low\" is the high qword, as QEMU prints it)";
	return true;
}

/* "Address: fee00558  Data: 0000", or "Address: 00000000fee00558  Data: 4021" */
static bool lspci_msi(const struct tokens *tk, struct dump *d)
{
	uint64_t addr, data;

	for (unsigned i = 0; i + 3 < tk->n; i++) {
		if (strcmp(tk->t[i], "Address:") || strcmp(tk->t[i + 2], "Data:"))
			continue;
		if ((!hex_exact(tk->t[i + 1], 8, &addr) && !hex_exact(tk->t[i + 1], 16, &addr)) ||
		    !hex_exact(tk->t[i + 3], 4, &data))
			return false;
		d->msg = (struct msi_msg){.address_lo = (uint32_t)addr,
					  .address_hi = (uint32_t)(addr >> 32),
					  .data = (uint32_t)data};
		d->source = "lspci -vv MSI capability";
		return true;
	}
	return false;
}

/* gdb's "0xADDR <sym>:\t0x..\t0x.." or crash's "ADDR:  .. ..  ascii": qwords, low first. */
static bool memory_dump(const struct tokens *tk, struct dump *d)
{
	unsigned i = 0;
	uint64_t addr;

	while (i < tk->n && !strchr(tk->t[i], ':'))
		i++;
	if (i == tk->n || i > 1 || tk->t[i][strlen(tk->t[i]) - 1] != ':')
		return false;
	if (i == 0) {
		char a[TOKEN_LEN];

		snprintf(a, sizeof(a), "%.*s", (int)strlen(tk->t[0]) - 1, tk->t[0]);
		if (!dump_hex(a, 16, &addr))
			return false;
	} else if (!dump_hex(tk->t[0], 16, &addr) || tk->t[1][0] != '<') {
		return false; /* "0xADDR <sym+off>:" */
	}
	d->nq = 0;
	for (i++; i < tk->n && d->nq < DUMP_MAX_QWORDS; i++) {
		const char *t = tk->t[i];
		size_t digits = strlen(t) - (t[0] == '0' && t[1] == 'x' ? 2 : 0);

		if (digits != 16 || !dump_hex(t, 16, &d->q[d->nq]))
			break; /* crash's ASCII column follows the qwords */
		d->nq++;
	}
	d->source = "memory dump (gdb x/gx, crash rd -64), low qword first";
	return d->nq > 0;
}

/* "lo=X hi=Y" in either order, "low X high Y", "high Y low X". */
static bool labelled(const struct tokens *tk, struct dump *d)
{
	bool lo = false, hi = false;

	for (unsigned i = 0; i < tk->n; i++) {
		const char *t = tk->t[i], *v;
		bool is_lo;

		if (!strncmp(t, "lo=", 3) || !strncmp(t, "low=", 4) || !strncmp(t, "hi=", 3) ||
		    !strncmp(t, "high=", 5)) {
			is_lo = t[1] == 'o';
			v = strchr(t, '=') + 1;
		} else if ((!strcmp(t, "low") || !strcmp(t, "high")) && i + 1 < tk->n) {
			is_lo = t[1] == 'o';
			v = tk->t[++i];
		} else {
			return false;
		}
		if (!dump_hex(v, 16, is_lo ? &d->lo : &d->hi) || (is_lo ? lo : hi))
			return false;
		*(is_lo ? &lo : &hi) = true;
	}
	d->source = "labelled qwords";
	return lo && hi;
}

enum dump_kind dump_parse_line(const char *line, struct dump *d)
{
	struct tokens tk;

	*d = (struct dump){0};
	if (!split(line, &tk))
		return d->kind = DUMP_NONE;
	if (header(line, &tk))
		return d->kind = DUMP_SKIP;
	if (starts(line, "Vector table:") || strstr(line, "MSI-X: Enable"))
		return d->kind = DUMP_MSIX_WHERE;
	if (debugfs_row(&tk, d) || qemu_irte(&tk, d) || labelled(&tk, d))
		return d->kind = DUMP_IRTE;
	if (lspci_msi(&tk, d))
		return d->kind = DUMP_MSI;
	if (memory_dump(&tk, d))
		return d->kind = DUMP_QWORDS;
	return d->kind = DUMP_NONE;
}
