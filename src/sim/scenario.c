// SPDX-License-Identifier: MIT
/*
 * YAML scenario loader (libyaml's document API). Every node carries its line,
 * so every error says where: "FILE:LINE: KEY: what is wrong". The first error
 * stops the load. Parsing and checking are one pass per section; references
 * between sections (a device named in the workload) are resolved after the
 * VMs are known.
 */
#include "pvir/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define PATH_MAX_LEN	    96
/* bus 0, any device, function 0: what the guest's PCI scan finds */
#define GUEST_BDF_SLOT_MASK 0x00f8u
#define MAX_SCALAR	    64

struct ctx {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
	bool failed;
	struct scenario *sc;
	uint64_t raises;	  /* the traffic's device raises, summed so far */
	char hpath[PATH_MAX_LEN]; /* "host", or "hosts[i]": where host keys are */
	unsigned vm_host;	  /* the host of the VM being read */
};

static bool fail(struct ctx *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool fail(struct ctx *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
	char msg[SC_ERR_MAX];
	va_list ap;

	if (c->failed)
		return false;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%lu: %s: %s", c->file,
		 n ? (unsigned long)n->start_mark.line + 1 : 1UL, path, msg);
	c->failed = true;
	return false;
}

static yaml_node_t *node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

static const char *type_name(const yaml_node_t *n)
{
	return n->type == YAML_MAPPING_NODE    ? "a mapping"
	       : n->type == YAML_SEQUENCE_NODE ? "a list"
					       : "a value";
}

/* The scalar's text, copied out; false (with an error) if @n is not a scalar. */
static bool scalar(struct ctx *c, yaml_node_t *n, const char *path, char *out, size_t outlen)
{
	if (n->type != YAML_SCALAR_NODE)
		return fail(c, n, path, "expected a value, found %s", type_name(n));
	if (n->data.scalar.length >= outlen)
		return fail(c, n, path, "value too long");
	memcpy(out, n->data.scalar.value, n->data.scalar.length);
	out[n->data.scalar.length] = 0;
	return true;
}

/* ---- value parsers ---------------------------------------------------------------- */

static bool parse_uint(struct ctx *c, yaml_node_t *n, const char *path, uint64_t min, uint64_t max,
		       uint64_t *ret)
{
	char s[MAX_SCALAR], *end;
	unsigned long long v;

	if (!scalar(c, n, path, s, sizeof(s)))
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (!isdigit((unsigned char)s[0]) || *end || (errno && errno != ERANGE))
		return fail(c, n, path, "'%s' is not a whole number", s);
	/* C reads 010 as octal 8; a scenario's author means ten, or made a slip */
	if (s[0] == '0' && isdigit((unsigned char)s[1]))
		return fail(c, n, path, "'%s' has a leading zero (write it in decimal, or 0x hex)",
			    s);
	if (errno == ERANGE)
		return fail(c, n, path, "'%s' is out of range (%" PRIu64 "..%" PRIu64 ")", s, min,
			    max);
	if (v < min || v > max)
		return fail(c, n, path, "%llu is out of range (%" PRIu64 "..%" PRIu64 ")", v, min,
			    max);
	*ret = v;
	return true;
}

static bool parse_unsigned(struct ctx *c, yaml_node_t *n, const char *path, unsigned min,
			   unsigned max, unsigned *ret)
{
	uint64_t v;

	if (!parse_uint(c, n, path, min, max, &v))
		return false;
	*ret = (unsigned)v;
	return true;
}

/* A decimal number followed by a unit from @units; @ret is in the smallest unit. */
struct unit {
	const char *name;
	uint64_t scale;
};

struct units {
	const char *what; /* "duration" */
	const char *help; /* "ns, us, ms, s" */
	struct unit list[5];
};

/* Digits, at most one '.', more digits: what strtod reads of @s, no hex or exponent. */
static bool decimal_prefix(const char *s)
{
	size_t i = strspn(s, "0123456789");

	if (!i)
		return false;
	if (s[i] == '.')
		i += 1 + strspn(s + i + 1, "0123456789");
	return !s[i] || !strchr("0123456789.xXeEpP", s[i]);
}

static bool parse_with_unit(struct ctx *c, yaml_node_t *n, const char *path, const struct units *u,
			    uint64_t *ret)
{
	const char *what = u->what;
	char s[MAX_SCALAR], *end;
	double v;

	if (!scalar(c, n, path, s, sizeof(s)))
		return false;
	if (!decimal_prefix(s))
		return fail(c, n, path, "'%s' is not a %s (a decimal number, then a unit: %s)", s,
			    what, u->help);
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || v < 0 || !isdigit((unsigned char)s[0]))
		return fail(c, n, path, "'%s' is not a %s", s, what);
	for (const struct unit *k = u->list; k->name; k++)
		if (!strcmp(end, k->name)) {
			double scaled = v * (double)k->scale;

			if (scaled > 1.8e19)
				return fail(c, n, path, "'%s' is too large", s);
			*ret = (uint64_t)(scaled + 0.5);
			return true;
		}
	if (!*end && v == 0) {
		*ret = 0;
		return true;
	}
	return fail(c, n, path, "'%s' is not a %s (a number with a unit: %s)", s, what, u->help);
}

static const struct units time_units = {
    "duration", "ns, us, ms, s", {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}}};
static const struct units rate_units = {
    "rate", "/s, K/s, M/s, G/s", {{"/s", 1}, {"K/s", 1000}, {"M/s", 1000000}, {"G/s", 1000000000}}};
static const struct units size_units = {
    "size", "K, M, G", {{"K", 1024}, {"M", 1024 * 1024}, {"G", 1024 * 1024 * 1024}}};

static bool parse_duration(struct ctx *c, yaml_node_t *n, const char *path, uint64_t *ret)
{
	return parse_with_unit(c, n, path, &time_units, ret);
}

static bool parse_bool(struct ctx *c, yaml_node_t *n, const char *path, bool *ret)
{
	char s[MAX_SCALAR];

	if (!scalar(c, n, path, s, sizeof(s)))
		return false;
	if (!strcmp(s, "true") || !strcmp(s, "yes")) {
		*ret = true;
		return true;
	}
	if (!strcmp(s, "false") || !strcmp(s, "no")) {
		*ret = false;
		return true;
	}
	return fail(c, n, path, "'%s' is not true or false", s);
}

/* "bb:dd.f" */
static bool parse_bdf(struct ctx *c, yaml_node_t *n, const char *path, uint16_t *ret)
{
	char s[MAX_SCALAR], tail;
	unsigned bus, dev, fn;

	if (!scalar(c, n, path, s, sizeof(s)))
		return false;
	if (sscanf(s, "%2x:%2x.%1u%c", &bus, &dev, &fn, &tail) != 3 || strlen(s) != 7 || dev > 31 ||
	    fn > 7)
		return fail(c, n, path, "'%s' is not a BDF (bus:device.function, e.g. 03:00.0)", s);
	*ret = (uint16_t)(bus << 8 | dev << 3 | fn);
	return true;
}

static bool parse_name(struct ctx *c, yaml_node_t *n, const char *path, char *out)
{
	if (!scalar(c, n, path, out, SC_NAME_MAX))
		return false;
	if (!out[0] || strchr(out, '/'))
		return fail(c, n, path, "'%s' is not a name (non-empty, no '/')", out);
	return true;
}

/* ---- mappings: key lookup with unknown-key detection ------------------------------ */

/* Fails on any key of @map not in @allowed (NULL-terminated). */
/* Whether the key of @pair appears before it in @map (YAML forbids it; libyaml lets it by). */
static bool key_again(struct ctx *c, yaml_node_t *map, const yaml_node_pair_t *pair)
{
	yaml_node_t *k = node(c, pair->key);

	for (const yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair; p++) {
		yaml_node_t *o = node(c, p->key);

		if (o->type == YAML_SCALAR_NODE && k->type == YAML_SCALAR_NODE &&
		    o->data.scalar.length == k->data.scalar.length &&
		    !memcmp(o->data.scalar.value, k->data.scalar.value, k->data.scalar.length))
			return true;
	}
	return false;
}

static bool check_keys(struct ctx *c, yaml_node_t *map, const char *path,
		       const char *const *allowed)
{
	if (map->type != YAML_MAPPING_NODE)
		return fail(c, map, path, "expected a mapping, found %s", type_name(map));
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key);
		char key[MAX_SCALAR], full[PATH_MAX_LEN];
		bool ok = false;

		if (!scalar(c, k, path, key, sizeof(key)))
			return false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(*a, key);
		snprintf(full, sizeof(full), "%s%s%s", path, *path ? "." : "", key);
		if (!ok)
			return fail(c, k, full, "unknown key");
		if (key_again(c, map, p))
			return fail(c, k, full, "given twice");
	}
	return true;
}

static yaml_node_t *get(struct ctx *c, yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key);

		if (k->type == YAML_SCALAR_NODE && k->data.scalar.length == strlen(key) &&
		    !memcmp(k->data.scalar.value, key, k->data.scalar.length))
			return node(c, p->value);
	}
	return NULL;
}

/*
 * A key's path for messages. Paths are short; one longer than PATH_MAX_LEN
 * is cut, which only shortens a message (the return value says so, and
 * using it keeps -O3's -Wformat-truncation from warning about it).
 */
static void mark_if_cut(char *out, int len)
{
	if (len >= PATH_MAX_LEN)
		out[PATH_MAX_LEN - 2] = '~';
}

static void subpath(char *out, const char *path, const char *key)
{
	mark_if_cut(out, snprintf(out, PATH_MAX_LEN, "%s%s%s", path, *path ? "." : "", key));
}

/* "path[i]", cut like subpath() */
static void index_path(char *out, const char *path, unsigned i)
{
	mark_if_cut(out, snprintf(out, PATH_MAX_LEN, "%s[%u]", path, i));
}

static bool require(struct ctx *c, yaml_node_t *map, const char *path, const char *key,
		    yaml_node_t **ret)
{
	char p[PATH_MAX_LEN];

	*ret = get(c, map, key);
	if (*ret)
		return true;
	subpath(p, path, key);
	return fail(c, map, p, "missing");
}

static unsigned seq_len(yaml_node_t *n)
{
	return (unsigned)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *seq_item(struct ctx *c, yaml_node_t *n, unsigned i)
{
	return node(c, n->data.sequence.items.start[i]);
}

static bool expect_seq(struct ctx *c, yaml_node_t *n, const char *path)
{
	return n->type == YAML_SEQUENCE_NODE ||
	       fail(c, n, path, "expected a list, found %s", type_name(n));
}

/* ---- host ------------------------------------------------------------------------------ */

/* host.kernel and host.vfio_msix: how the host kernel behaves (docs/host-kernel.md). */
/* Host key @key's path, under `host` or `hosts[i]` (c->hpath). */
static const char *hkey(const struct ctx *c, char *buf, const char *key)
{
	subpath(buf, c->hpath, key);
	return buf;
}

static bool parse_kernel(struct ctx *c, yaml_node_t *host)
{
	char p[PATH_MAX_LEN];
	yaml_node_t *n;
	char v[MAX_SCALAR];

	if ((n = get(c, host, "kernel"))) {
		if (!scalar(c, n, hkey(c, p, "kernel"), v, sizeof(v)))
			return false;
		if (!host_kernel_parse(v, &c->sc->kernel))
			return fail(c, n, p, "'%s' is not a kernel setting (stock, legacy, tuned)",
				    v);
	}
	if ((n = get(c, host, "vfio_msix"))) {
		if (!scalar(c, n, hkey(c, p, "vfio_msix"), v, sizeof(v)))
			return false;
		if (strcmp(v, "dynamic") && strcmp(v, "noresize"))
			return fail(c, n, p, "'%s' is neither dynamic nor noresize", v);
		c->sc->msix_noresize = !strcmp(v, "noresize");
	}
	return true;
}

/* host.slice: the scheduler's slice, within what Linux lets a task ask for (0.1-100 ms) */
static bool parse_slice(struct ctx *c, yaml_node_t *host)
{
	char p[PATH_MAX_LEN];
	yaml_node_t *n = get(c, host, "slice");

	if (!n)
		return true;
	if (!parse_duration(c, n, hkey(c, p, "slice"), &c->sc->slice_ns))
		return false;
	if (c->sc->slice_ns < SC_MIN_SLICE || c->sc->slice_ns > SC_MAX_SLICE)
		return fail(c, n, p, "must be 100us to 100ms");
	return true;
}

static bool parse_amdvi(struct ctx *c, yaml_node_t *iommu);
static bool parse_vtd(struct ctx *c, yaml_node_t *iommu);

static bool parse_host(struct ctx *c, yaml_node_t *host, bool named)
{
	static const char *const keys[] = {"pcpus", "iommu", "kernel", "vfio_msix", "slice", NULL};
	static const char *const named_keys[] = {"name",      "pcpus", "iommu", "kernel",
						 "vfio_msix", "slice", NULL};
	static const char *const iommu_keys[] = {"kind", "irte_entries", "posting", "x2apic",
						 "ga",	 "table",	 NULL};
	struct scenario *sc = c->sc;
	char p[PATH_MAX_LEN], ip[PATH_MAX_LEN];
	yaml_node_t *n, *iommu;
	char kind[MAX_SCALAR];

	if (!check_keys(c, host, c->hpath, named ? named_keys : keys) ||
	    !require(c, host, c->hpath, "pcpus", &n) ||
	    !parse_unsigned(c, n, hkey(c, p, "pcpus"), 1, HOST_MAX_PCPUS, &sc->pcpus) ||
	    !parse_kernel(c, host) || !parse_slice(c, host))
		return false;
	iommu = get(c, host, "iommu");
	if (!iommu)
		return true;
	hkey(c, ip, "iommu");
	if (!check_keys(c, iommu, ip, iommu_keys))
		return false;
	if ((n = get(c, iommu, "kind"))) {
		subpath(p, ip, "kind");
		if (!scalar(c, n, p, kind, sizeof(kind)))
			return false;
		if (!strcmp(kind, "amdvi"))
			sc->iommu = HOST_IOMMU_AMDVI;
		else if (strcmp(kind, "vtd"))
			return fail(c, n, p, "'%s' is not vtd or amdvi", kind);
	}
	return sc->iommu == HOST_IOMMU_AMDVI ? parse_amdvi(c, iommu) : parse_vtd(c, iommu);
}

/* @key of host.iommu, @what of it, into @p. */
static const char *ikey(const struct ctx *c, char *p, const char *key)
{
	char ip[PATH_MAX_LEN];

	subpath(p, hkey(c, ip, "iommu"), key);
	return p;
}

/* A key of the other IOMMU: refused, saying what it means and what stands for it here. */
static bool refuse(struct ctx *c, yaml_node_t *iommu, const char *key, const char *why)
{
	char p[PATH_MAX_LEN];
	yaml_node_t *n = get(c, iommu, key);

	return !n || fail(c, n, ikey(c, p, key), "%s", why);
}

static bool parse_amdvi(struct ctx *c, yaml_node_t *iommu)
{
	struct scenario *sc = c->sc;
	char p[PATH_MAX_LEN];
	yaml_node_t *n;
	unsigned table;

	if (!refuse(c, iommu, "irte_entries",
		    "the size of VT-d's one table; AMD-Vi gives each device its own (table)") ||
	    !refuse(c, iommu, "posting", "VT-d's; AMD-Vi posts in guest mode (ga)"))
		return false;
	if ((n = get(c, iommu, "ga")) && !parse_bool(c, n, ikey(c, p, "ga"), &sc->posting))
		return false;
	if ((n = get(c, iommu, "table"))) {
		if (!parse_unsigned(c, n, ikey(c, p, "table"), 1, 65536, &table))
			return false;
		if (table != 512 && table != 2048)
			return fail(c, n, p, "%u is not 512 or 2048", table);
		sc->amd_table = table;
	}
	if ((n = get(c, iommu, "x2apic")) && !parse_bool(c, n, ikey(c, p, "x2apic"), &sc->x2apic))
		return false;
	return true;
}

static bool parse_vtd(struct ctx *c, yaml_node_t *iommu)
{
	struct scenario *sc = c->sc;
	char p[PATH_MAX_LEN];
	yaml_node_t *n;
	uint64_t entries;

	if (!refuse(c, iommu, "ga", "AMD-Vi's; VT-d posts with posting") ||
	    !refuse(c, iommu, "table", "AMD-Vi's; VT-d has one table (irte_entries)"))
		return false;
	if ((n = get(c, iommu, "irte_entries"))) {
		if (!parse_uint(c, n, ikey(c, p, "irte_entries"), 2, 65536, &entries))
			return false;
		if (entries & (entries - 1))
			return fail(c, n, p, "%" PRIu64 " is not a power of two", entries);
		sc->irte_entries = (uint32_t)entries;
	}
	if ((n = get(c, iommu, "posting")) &&
	    !parse_bool(c, n, ikey(c, p, "posting"), &sc->posting))
		return false;
	if ((n = get(c, iommu, "x2apic")) && !parse_bool(c, n, ikey(c, p, "x2apic"), &sc->x2apic))
		return false;
	return true;
}

/* The host settings parse_host() wrote, as host @i. */
static void host_take(struct scenario *sc, unsigned i, const char *name)
{
	struct sc_host *h = &sc->hosts[i];

	snprintf(h->name, sizeof(h->name), "%s", name);
	h->pcpus = sc->pcpus;
	h->slice_ns = sc->slice_ns;
	h->iommu = sc->iommu;
	h->irte_entries = sc->irte_entries;
	h->amd_table = sc->amd_table;
	h->kernel = sc->kernel;
	h->msix_noresize = sc->msix_noresize;
	h->posting = sc->posting;
	h->x2apic = sc->x2apic;
}

/* Host @i's settings where the rest of the scenario reads the host's (host_take()'s inverse). */
static void host_put(struct scenario *sc, unsigned i)
{
	const struct sc_host *h = &sc->hosts[i];

	sc->pcpus = h->pcpus;
	sc->slice_ns = h->slice_ns;
	sc->iommu = h->iommu;
	sc->irte_entries = h->irte_entries;
	sc->amd_table = h->amd_table;
	sc->kernel = h->kernel;
	sc->msix_noresize = h->msix_noresize;
	sc->posting = h->posting;
	sc->x2apic = h->x2apic;
}

static void host_defaults(struct scenario *sc)
{
	sc->pcpus = 0;
	sc->iommu = HOST_IOMMU_VTD;
	sc->irte_entries = 65536;
	sc->amd_table = 2048; /* Linux's choice on a unit with NumIntRemapSup */
	sc->kernel = HOST_KERNEL_STOCK;
	sc->msix_noresize = false;
	sc->posting = true;
	sc->x2apic = true;
	sc->slice_ns = SC_DEFAULT_SLICE;
}

static bool parse_one_host(struct ctx *c, yaml_node_t *host)
{
	snprintf(c->hpath, sizeof(c->hpath), "host");
	if (!parse_host(c, host, false))
		return false;
	host_take(c->sc, 0, "host");
	c->sc->nhosts = 1;
	return true;
}

/*
 * hosts: each with its name and a host's keys. The scheduler's tick is one for all of
 * them, so they share a slice.
 */
static bool parse_hosts(struct ctx *c, yaml_node_t *list)
{
	struct scenario *sc = c->sc;
	char p[PATH_MAX_LEN], name[SC_NAME_MAX];
	yaml_node_t *n;

	if (!expect_seq(c, list, "hosts"))
		return false;
	if (!seq_len(list) || seq_len(list) > SC_MAX_HOSTS)
		return fail(c, list, "hosts", "1 to %d hosts", SC_MAX_HOSTS);
	for (unsigned i = 0; i < seq_len(list); i++) {
		yaml_node_t *h = seq_item(c, list, i);

		index_path(c->hpath, "hosts", i);
		host_defaults(sc);
		if (!parse_host(c, h, true) || !require(c, h, c->hpath, "name", &n) ||
		    !parse_name(c, n, hkey(c, p, "name"), name))
			return false;
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(sc->hosts[j].name, name))
				return fail(c, n, p, "name '%s' used twice", name);
		if (i && sc->slice_ns != sc->hosts[0].slice_ns)
			return fail(c, get(c, h, "slice") ? get(c, h, "slice") : h,
				    hkey(c, p, "slice"),
				    "every host has the first one's slice: one scheduler tick "
				    "serves them all");
		host_take(sc, i, name);
		sc->nhosts++;
	}
	host_put(sc, 0);
	return true;
}

/* ---- VMs and devices --------------------------------------------------------------------- */

/* How a function shares its requester-id: its PASID, and whether it enforces a handle window. */
static bool parse_device_sharing(struct ctx *c, yaml_node_t *d, const char *path,
				 struct sc_device *dev)
{
	char p[PATH_MAX_LEN];
	yaml_node_t *n;

	subpath(p, path, "pasid");
	if ((n = get(c, d, "pasid"))) {
		uint64_t pasid;

		if (!parse_uint(c, n, p, 1, PCI_PASID_MAX, &pasid))
			return false;
		dev->pasid = (uint32_t)pasid;
	}
	subpath(p, path, "handle_window");
	return !(n = get(c, d, "handle_window")) || parse_bool(c, n, p, &dev->handle_window);
}

/* On AMD-Vi every interrupt of a function is an entry of its requester-id's own table. */
static bool fits_amd_table(struct ctx *c, yaml_node_t *n, const char *path, unsigned count)
{
	const struct sc_host *h = &c->sc->hosts[c->vm_host];

	if (h->iommu != HOST_IOMMU_AMDVI || count <= h->amd_table)
		return true;
	return fail(c, n, path,
		    "%u interrupts: a device's AMD-Vi table holds %u (host.iommu.table)", count,
		    h->amd_table);
}

static bool parse_device(struct ctx *c, yaml_node_t *d, const char *path, struct sc_device *dev)
{
	static const char *const keys[] = {"name",	    "bdf", "guest_bdf",	  "msix",
					   "msi",	    "ims", "ims_storage", "pasid",
					   "handle_window", NULL};
	char p[PATH_MAX_LEN], storage[MAX_SCALAR];
	yaml_node_t *n;

	dev->ims_storage = IMS_NONE;
	if (!check_keys(c, d, path, keys) || !require(c, d, path, "name", &n))
		return false;
	subpath(p, path, "name");
	if (!parse_name(c, n, p, dev->name) || !require(c, d, path, "bdf", &n))
		return false;
	subpath(p, path, "bdf");
	if (!parse_bdf(c, n, p, &dev->bdf) || !require(c, d, path, "guest_bdf", &n))
		return false;
	subpath(p, path, "guest_bdf");
	if (!parse_bdf(c, n, p, &dev->guest_bdf))
		return false;
	/*
	 * The guest scans function 0 of every slot on bus 0, as Linux finds
	 * devices with no bridge and no multi-function header modelled: a
	 * function it would never see is refused here, not met at run time.
	 */
	if (dev->guest_bdf & ~GUEST_BDF_SLOT_MASK)
		return fail(c, n, p,
			    "%02x:%02x.%u is not function 0 of a slot on bus 0, the only "
			    "functions the guest enumerates",
			    dev->guest_bdf >> 8, (dev->guest_bdf >> 3) & 0x1f, dev->guest_bdf & 7);
	subpath(p, path, "msix");
	if ((n = get(c, d, "msix")) &&
	    (!parse_unsigned(c, n, p, 1, PCI_MSIX_MAX_VECTORS, &dev->msix) ||
	     !fits_amd_table(c, n, p, dev->msix)))
		return false;
	subpath(p, path, "msi");
	if ((n = get(c, d, "msi"))) {
		if (!parse_unsigned(c, n, p, 1, PCI_MSI_MAX_VECTORS, &dev->msi) ||
		    !fits_amd_table(c, n, p, dev->msi))
			return false;
		if (dev->msi & (dev->msi - 1))
			return fail(c, n, p,
				    "%u vectors: an MSI capability has 1, 2, 4, 8, 16 or 32",
				    dev->msi);
	}
	subpath(p, path, "ims");
	if ((n = get(c, d, "ims"))) {
		if (!parse_unsigned(c, n, p, 1, SC_MAX_IMS, &dev->ims) ||
		    !fits_amd_table(c, n, p, dev->ims))
			return false;
		dev->ims_storage = IMS_DEVICE;
	}
	subpath(p, path, "ims_storage");
	if ((n = get(c, d, "ims_storage"))) {
		if (!scalar(c, n, p, storage, sizeof(storage)))
			return false;
		if (!dev->ims)
			return fail(c, n, p, "given without ims");
		if (!strcmp(storage, "memory"))
			dev->ims_storage = IMS_MEMORY;
		else if (strcmp(storage, "device"))
			return fail(c, n, p, "'%s' is not device or memory", storage);
	}
	if (!parse_device_sharing(c, d, path, dev))
		return false;
	if (!dev->msix && !dev->ims && !dev->msi)
		return fail(c, d, path, "a device needs msix, msi or ims");
	if (!!dev->msix + !!dev->ims + !!dev->msi > 1)
		return fail(c, d, path,
			    "one kind of interrupt storage a function: give each its own device");
	return true;
}

static bool parse_pin(struct ctx *c, yaml_node_t *n, const char *path, struct sc_vm *vm)
{
	char p[PATH_MAX_LEN];

	if (!expect_seq(c, n, path))
		return false;
	if (seq_len(n) != vm->vcpus)
		return fail(c, n, path, "%u entries for %u vCPUs", seq_len(n), vm->vcpus);
	for (unsigned i = 0; i < seq_len(n); i++) {
		index_path(p, path, i);
		if (!parse_unsigned(c, seq_item(c, n, i), p, 0, c->sc->pcpus - 1, &vm->pin[i]))
			return false;
	}
	vm->pinned = true;
	return true;
}

static bool parse_vm_pvir(struct ctx *c, yaml_node_t *n, const char *path, struct sc_vm *vm)
{
	static const char *const keys[] = {"guest", "vmm", NULL};
	char p[PATH_MAX_LEN];
	yaml_node_t *v;

	if (!check_keys(c, n, path, keys))
		return false;
	subpath(p, path, "guest");
	if ((v = get(c, n, "guest")) && !parse_bool(c, v, p, &vm->guest_pvir))
		return false;
	subpath(p, path, "vmm");
	return !(v = get(c, n, "vmm")) || parse_bool(c, v, p, &vm->vmm_pvir);
}

static bool unique_devices(struct ctx *c, yaml_node_t *list, const char *path, struct sc_vm *vm)
{
	for (unsigned i = 0; i < vm->ndevs; i++)
		for (unsigned j = 0; j < i; j++) {
			char p[PATH_MAX_LEN];

			index_path(p, path, i);
			if (!strcmp(vm->devs[i].name, vm->devs[j].name))
				return fail(c, seq_item(c, list, i), p, "name '%s' used twice",
					    vm->devs[i].name);
			if (vm->devs[i].guest_bdf == vm->devs[j].guest_bdf)
				return fail(c, seq_item(c, list, i), p,
					    "guest_bdf used twice in this VM");
		}
	return true;
}

/* vms[].host: one of hosts' names; the first host when it is not given. */
static bool parse_vm_host(struct ctx *c, yaml_node_t *v, const char *path, struct sc_vm *vm)
{
	char p[PATH_MAX_LEN], name[SC_NAME_MAX];
	yaml_node_t *n = get(c, v, "host");

	vm->host = 0;
	c->vm_host = 0;
	if (!n)
		return true;
	subpath(p, path, "host");
	if (!parse_name(c, n, p, name))
		return false;
	for (unsigned h = 0; h < c->sc->nhosts; h++)
		if (!strcmp(c->sc->hosts[h].name, name)) {
			vm->host = c->vm_host = h;
			return true;
		}
	return fail(c, n, p, "no host is named '%s'", name);
}

static bool parse_vm(struct ctx *c, yaml_node_t *v, const char *path, struct sc_vm *vm)
{
	static const char *const keys[] = {"name",   "host", "vcpus",	"pin",	   "irte_quota",
					   "memory", "pvir", "vectors", "devices", NULL};
	char vectors[MAX_SCALAR];
	char p[PATH_MAX_LEN];
	yaml_node_t *n;
	uint64_t quota = 4096;

	vm->memory = 64u << 20;
	vm->guest_pvir = vm->vmm_pvir = true;
	if (!check_keys(c, v, path, keys) || !require(c, v, path, "name", &n))
		return false;
	subpath(p, path, "name");
	if (!parse_name(c, n, p, vm->name) || !parse_vm_host(c, v, path, vm) ||
	    !require(c, v, path, "vcpus", &n))
		return false;
	subpath(p, path, "vcpus");
	if (!parse_unsigned(c, n, p, 1, VM_MAX_VCPUS, &vm->vcpus))
		return false;
	subpath(p, path, "pin");
	if ((n = get(c, v, "pin"))) {
		if (!parse_pin(c, n, p, vm))
			return false;
	}
	subpath(p, path, "irte_quota");
	if ((n = get(c, v, "irte_quota")) && !parse_uint(c, n, p, 0, 65536, &quota))
		return false;
	vm->irte_quota = (uint32_t)quota;
	subpath(p, path, "memory");
	if ((n = get(c, v, "memory"))) {
		if (!parse_with_unit(c, n, p, &size_units, &vm->memory))
			return false;
		if (vm->memory < (4u << 20) || vm->memory % 4096)
			return fail(c, n, p, "at least 4M, in whole pages");
		if (vm->memory > SC_MAX_MEMORY)
			return fail(c, n, p, "at most 4G");
	}
	subpath(p, path, "pvir");
	if ((n = get(c, v, "pvir")) && !parse_vm_pvir(c, n, p, vm))
		return false;
	subpath(p, path, "vectors");
	if ((n = get(c, v, "vectors"))) {
		if (!scalar(c, n, p, vectors, sizeof(vectors)))
			return false;
		if (!strcmp(vectors, "at_alloc"))
			vm->vectors_at_alloc = true;
		else if (strcmp(vectors, "at_request"))
			return fail(c, n, p, "'%s' is not at_request or at_alloc", vectors);
	}
	subpath(p, path, "devices");
	if (!(n = get(c, v, "devices")))
		return true;
	if (!expect_seq(c, n, p))
		return false;
	if (seq_len(n) > SC_MAX_DEVS)
		return fail(c, n, p, "at most %d devices", SC_MAX_DEVS);
	for (unsigned i = 0; i < seq_len(n); i++) {
		char dp[PATH_MAX_LEN];

		if (snprintf(dp, sizeof(dp), "%s[%u]", p, i) >= (int)sizeof(dp))
			return fail(c, n, p, "path too long");
		if (!parse_device(c, seq_item(c, n, i), dp, &vm->devs[i]))
			return false;
		vm->ndevs++;
	}
	return unique_devices(c, n, p, vm);
}

/*
 * One physical function: the same requester-id with no PASID to tell them
 * apart. Functions sharing a requester-id are distinct interfaces (SIOV)
 * only when each names its own PASID.
 */
static bool same_function(const struct sc_device *a, const struct sc_device *b)
{
	return a->bdf == b->bdf && (!a->pasid || !b->pasid || a->pasid == b->pasid);
}

/* The VM (and its device) that names device @d of VM @a's function earlier in the file. */
static const struct sc_vm *function_seen_before(const struct scenario *sc, unsigned a, unsigned d,
						const struct sc_device **ret_dev)
{
	for (unsigned b = 0; b <= a; b++)
		for (unsigned e = 0; e < (b == a ? d : sc->vms[b].ndevs); e++)
			if (sc->vms[a].host == sc->vms[b].host &&
			    same_function(&sc->vms[a].devs[d], &sc->vms[b].devs[e])) {
				*ret_dev = &sc->vms[b].devs[e];
				return &sc->vms[b];
			}
	return NULL;
}

static bool parse_vms(struct ctx *c, yaml_node_t *vms)
{
	struct scenario *sc = c->sc;

	if (!expect_seq(c, vms, "vms"))
		return false;
	if (!seq_len(vms) || seq_len(vms) > SC_MAX_VMS)
		return fail(c, vms, "vms", "1 to %d VMs", SC_MAX_VMS);
	for (unsigned i = 0; i < seq_len(vms); i++) {
		char p[PATH_MAX_LEN];

		snprintf(p, sizeof(p), "vms[%u]", i);
		if (!parse_vm(c, seq_item(c, vms, i), p, &sc->vms[i]))
			return false;
		sc->nvms++;
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(sc->vms[i].name, sc->vms[j].name))
				return fail(c, seq_item(c, vms, i), p, "name '%s' used twice",
					    sc->vms[i].name);
	}
	/* each host's slots for functions */
	for (unsigned h = 0; h < sc->nhosts; h++)
		for (unsigned a = 0, total = 0; a < sc->nvms; a++) {
			total += sc->vms[a].host == h ? sc->vms[a].ndevs : 0;
			if (total > HOST_MAX_DEVICES)
				return fail(c, seq_item(c, vms, a), "vms",
					    "more than the host's %d functions, with those of %s",
					    HOST_MAX_DEVICES, sc->vms[a].name);
		}
	/* a physical function belongs to one VM */
	for (unsigned a = 0; a < sc->nvms; a++)
		for (unsigned d = 0; d < sc->vms[a].ndevs; d++) {
			const struct sc_device *other;
			const struct sc_vm *owner = function_seen_before(sc, a, d, &other);

			if (owner)
				return fail(c, seq_item(c, vms, a), "vms",
					    "bdf of %s/%s is also %s/%s's (a shared bdf needs a "
					    "distinct pasid on each)",
					    sc->vms[a].name, sc->vms[a].devs[d].name, owner->name,
					    other->name);
		}
	return true;
}

/* ---- references ---------------------------------------------------------------------------- */

static int find_vm(const struct scenario *sc, const char *name)
{
	for (unsigned i = 0; i < sc->nvms; i++)
		if (!strcmp(sc->vms[i].name, name))
			return (int)i;
	return -1;
}

static int find_dev(const struct sc_vm *vm, const char *name)
{
	for (unsigned i = 0; i < vm->ndevs; i++)
		if (!strcmp(vm->devs[i].name, name))
			return (int)i;
	return -1;
}

/* "vm/dev" (want_dev), "vm/N" (want_vcpu), "vm/dev/N" (want_dev and want_index). */
static bool parse_ref(struct ctx *c, yaml_node_t *n, const char *path, bool want_dev,
		      bool want_index, struct sc_op *op)
{
	char s[MAX_SCALAR], *parts[3] = {NULL}, *save = NULL;
	unsigned np = 0, expect = 2 + (want_dev && want_index);
	const struct sc_vm *vm;
	int vi, di;

	if (!scalar(c, n, path, s, sizeof(s)))
		return false;
	for (char *t = strtok_r(s, "/", &save); t && np < 3; t = strtok_r(NULL, "/", &save))
		parts[np++] = t;
	if (np != expect)
		return fail(c, n, path, "expected %s",
			    want_dev ? (want_index ? "vm/device/index" : "vm/device") : "vm/vcpu");
	vi = find_vm(c->sc, parts[0]);
	if (vi < 0)
		return fail(c, n, path, "no VM '%s'", parts[0]);
	vm = &c->sc->vms[vi];
	op->vm = (unsigned)vi;
	if (want_dev) {
		di = find_dev(vm, parts[1]);
		if (di < 0)
			return fail(c, n, path, "no device '%s' in VM '%s'", parts[1], parts[0]);
		op->dev = (unsigned)di;
	}
	if (want_dev && !want_index)
		return true;
	{
		const char *num = want_dev ? parts[2] : parts[1];
		unsigned limit = want_dev ? sc_device_vectors(&vm->devs[op->dev]) : vm->vcpus;
		char *end;
		unsigned long v = strtoul(num, &end, 10);

		if (!isdigit((unsigned char)num[0]) || *end || v >= limit)
			return fail(c, n, path, "'%s' is not %s (0..%u)", num,
				    want_dev ? "an interrupt of the device" : "a vCPU of the VM",
				    limit - 1);
		if (want_dev)
			op->index = (unsigned)v;
		else
			op->vcpu = (unsigned)v;
	}
	return true;
}

static bool parse_cpus(struct ctx *c, yaml_node_t *n, const char *path, unsigned vcpus,
		       struct cpumask *ret)
{
	char p[PATH_MAX_LEN];

	if (!expect_seq(c, n, path))
		return false;
	if (!seq_len(n))
		return fail(c, n, path, "empty");
	*ret = (struct cpumask){{0}};
	for (unsigned i = 0; i < seq_len(n); i++) {
		unsigned cpu;

		index_path(p, path, i);
		if (!parse_unsigned(c, seq_item(c, n, i), p, 0, vcpus - 1, &cpu))
			return false;
		cpumask_set(ret, cpu);
	}
	return true;
}

static unsigned dev_capacity(const struct scenario *sc, const struct sc_op *op)
{
	return sc_device_vectors(&sc->vms[op->vm].devs[op->dev]);
}

/* ---- workload -------------------------------------------------------------------------------- */

struct op_kind {
	const char *name;
	enum sc_op_kind kind;
	const char *const *keys;
};

#define K(...) ((const char *const[]){"at", "do", __VA_ARGS__, NULL})

static const struct op_kind op_kinds[] = {
    {"activate", OP_ACTIVATE, K("dev", "count", "min", "managed", "affinity")},
    {"free", OP_FREE, K("dev", "count")},
    {"traffic", OP_TRAFFIC, K("dev", "rate", "until", "entries")},
    {"set_affinity", OP_SET_AFFINITY, K("irq", "cpus")},
    {"preempt", OP_PREEMPT, K("vcpu", "for")},
    {"block", OP_BLOCK, K("vcpu", "for")},
    {"migrate", OP_MIGRATE, K("vcpu", "pcpu")},
    {"offline", OP_OFFLINE, K("vcpu")},
    {"online", OP_ONLINE, K("vcpu")},
    {"rogue_write", OP_ROGUE_WRITE, K("dev", "entry", "addr", "data")},
    {"hypercall", OP_HYPERCALL, K("vm", "vcpu", "regs")},
    {"migrate_vm", OP_MIGRATE_VM, K("vm", "to", "downtime")},
};

static bool need(struct ctx *c, yaml_node_t *op, const char *path, const char *key,
		 yaml_node_t **ret)
{
	return require(c, op, path, key, ret);
}

static bool parse_activate(struct ctx *c, yaml_node_t *o, const char *path, struct sc_op *op)
{
	char p[PATH_MAX_LEN];
	yaml_node_t *n;

	subpath(p, path, "count");
	if (!need(c, o, path, "count", &n) ||
	    !parse_unsigned(c, n, p, 1, dev_capacity(c->sc, op), &op->count))
		return false;
	op->min = op->count;
	subpath(p, path, "min");
	if ((n = get(c, o, "min")) && !parse_unsigned(c, n, p, 1, op->count, &op->min))
		return false;
	op->spread = true;
	subpath(p, path, "managed");
	if ((n = get(c, o, "managed")) && !parse_bool(c, n, p, &op->managed))
		return false;
	if (op->managed && !c->sc->vms[op->vm].devs[op->dev].msix)
		return fail(c, n, p, "managed interrupts are MSI-X's here (PCI_IRQ_AFFINITY)");
	subpath(p, path, "affinity");
	if (!(n = get(c, o, "affinity")))
		return true;
	if (op->managed)
		return fail(c, n, p, "a managed activate is spread by the kernel: no affinity");
	if (n->type == YAML_SCALAR_NODE) {
		char s[MAX_SCALAR];

		if (!scalar(c, n, p, s, sizeof(s)))
			return false;
		return !strcmp(s, "spread") || fail(c, n, p, "'%s' is not spread or a list", s);
	}
	op->spread = false;
	return parse_cpus(c, n, p, c->sc->vms[op->vm].vcpus, &op->cpus);
}

static bool parse_entries(struct ctx *c, yaml_node_t *n, const char *path, struct sc_op *op)
{
	char p[PATH_MAX_LEN];

	if (!expect_seq(c, n, path))
		return false;
	op->nentries = seq_len(n);
	if (!op->nentries)
		return fail(c, n, path, "empty");
	op->entries = calloc(op->nentries, sizeof(*op->entries));
	if (!op->entries)
		return fail(c, n, path, "out of memory");
	for (unsigned i = 0; i < op->nentries; i++) {
		index_path(p, path, i);
		if (!parse_unsigned(c, seq_item(c, n, i), p, 0, dev_capacity(c->sc, op) - 1,
				    &op->entries[i]))
			return false;
	}
	return true;
}

static bool parse_traffic(struct ctx *c, yaml_node_t *o, const char *path, struct sc_op *op)
{
	char p[PATH_MAX_LEN];
	yaml_node_t *n;

	subpath(p, path, "rate");
	if (!need(c, o, path, "rate", &n) || !parse_with_unit(c, n, p, &rate_units, &op->rate))
		return false;
	if (!op->rate || op->rate > 1000000000)
		return fail(c, n, p, "between 1/s and 1G/s");
	subpath(p, path, "until");
	if (!need(c, o, path, "until", &n) || !parse_duration(c, n, p, &op->until))
		return false;
	if (op->until <= op->at)
		return fail(c, n, p, "not after at");
	/* a run's length is its raises: bounded, so that none runs for hours */
	c->raises += (uint64_t)((double)op->rate * (double)(op->until - op->at) / 1e9);
	if (c->raises > SC_MAX_RAISES)
		return fail(c, n, p,
			    "the traffic so far raises %" PRIu64 " interrupts, more than %" PRIu64
			    " a run",
			    c->raises, SC_MAX_RAISES);
	subpath(p, path, "entries");
	return !(n = get(c, o, "entries")) || parse_entries(c, n, p, op);
}

static bool parse_regs(struct ctx *c, yaml_node_t *n, const char *path, struct vcpu_regs *r)
{
	static const char *const keys[] = {"rax", "rbx", "rcx", "rdx", "rsi", NULL};
	uint64_t *fields[] = {&r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi};
	char p[PATH_MAX_LEN];

	if (!check_keys(c, n, path, keys))
		return false;
	for (unsigned i = 0; i < 5; i++) {
		yaml_node_t *v = get(c, n, keys[i]);

		subpath(p, path, keys[i]);
		if (v && !parse_uint(c, v, p, 0, UINT64_MAX, fields[i]))
			return false;
	}
	return true;
}

/* An op's `vm`: a VM's name. */
static bool parse_op_vm(struct ctx *c, yaml_node_t *o, const char *path, struct sc_op *op)
{
	char p[PATH_MAX_LEN], name[SC_NAME_MAX];
	yaml_node_t *n;
	int vi;

	subpath(p, path, "vm");
	if (!need(c, o, path, "vm", &n) || !parse_name(c, n, p, name))
		return false;
	vi = find_vm(c->sc, name);
	if (vi < 0)
		return fail(c, n, p, "no VM '%s'", name);
	op->vm = (unsigned)vi;
	return true;
}

/* migrate_vm: vm, to (a host's name), downtime (how long the VM is stopped). */
static bool parse_migrate_vm(struct ctx *c, yaml_node_t *o, const char *path, struct sc_op *op)
{
	char p[PATH_MAX_LEN], name[SC_NAME_MAX];
	yaml_node_t *n;

	if (!parse_op_vm(c, o, path, op))
		return false;
	subpath(p, path, "to");
	if (!need(c, o, path, "to", &n) || !parse_name(c, n, p, name))
		return false;
	for (op->host = 0; op->host < c->sc->nhosts; op->host++)
		if (!strcmp(c->sc->hosts[op->host].name, name))
			break;
	if (op->host == c->sc->nhosts)
		return fail(c, n, p, "no host is named '%s'", name);
	subpath(p, path, "downtime");
	if (!need(c, o, path, "downtime", &n) || !parse_duration(c, n, p, &op->for_ns))
		return false;
	if (op->at + op->for_ns > c->sc->duration)
		return fail(c, n, p, "ends after the run (duration)");
	return true;
}

static bool parse_op_args(struct ctx *c, yaml_node_t *o, const char *path, struct sc_op *op)
{
	char p[PATH_MAX_LEN];
	yaml_node_t *n;
	uint64_t v;

	switch (op->kind) {
	case OP_ACTIVATE:
	case OP_FREE:
	case OP_TRAFFIC:
	case OP_ROGUE_WRITE:
		subpath(p, path, "dev");
		if (!need(c, o, path, "dev", &n) || !parse_ref(c, n, p, true, false, op))
			return false;
		break;
	case OP_SET_AFFINITY:
		subpath(p, path, "irq");
		if (!need(c, o, path, "irq", &n) || !parse_ref(c, n, p, true, true, op))
			return false;
		subpath(p, path, "cpus");
		return need(c, o, path, "cpus", &n) &&
		       parse_cpus(c, n, p, c->sc->vms[op->vm].vcpus, &op->cpus);
	case OP_MIGRATE_VM:
		return parse_migrate_vm(c, o, path, op);
	case OP_HYPERCALL:
		if (!parse_op_vm(c, o, path, op))
			return false;
		subpath(p, path, "vcpu");
		if (!need(c, o, path, "vcpu", &n) ||
		    !parse_unsigned(c, n, p, 0, c->sc->vms[op->vm].vcpus - 1, &op->vcpu))
			return false;
		subpath(p, path, "regs");
		return need(c, o, path, "regs", &n) && parse_regs(c, n, p, &op->regs);
	default:
		subpath(p, path, "vcpu");
		if (!need(c, o, path, "vcpu", &n) || !parse_ref(c, n, p, false, false, op))
			return false;
		break;
	}
	switch (op->kind) {
	case OP_ACTIVATE:
		return parse_activate(c, o, path, op);
	case OP_FREE:
		subpath(p, path, "count");
		return need(c, o, path, "count", &n) &&
		       parse_unsigned(c, n, p, 1, dev_capacity(c->sc, op), &op->count);
	case OP_TRAFFIC:
		return parse_traffic(c, o, path, op);
	case OP_PREEMPT:
	case OP_BLOCK:
		subpath(p, path, "for");
		return need(c, o, path, "for", &n) && parse_duration(c, n, p, &op->for_ns);
	case OP_MIGRATE:
		subpath(p, path, "pcpu");
		return need(c, o, path, "pcpu", &n) &&
		       parse_unsigned(c, n, p, 0, c->sc->pcpus - 1, &op->pcpu);
	case OP_ROGUE_WRITE:
		if (c->sc->vms[op->vm].devs[op->dev].msi)
			return fail(
			    c, o, path,
			    "a rogue write needs storage in a BAR or RAM; MSI's is in config "
			    "space, the VMM's view");
		subpath(p, path, "entry");
		if (!need(c, o, path, "entry", &n) ||
		    !parse_unsigned(c, n, p, 0, dev_capacity(c->sc, op) - 1, &op->index))
			return false;
		subpath(p, path, "addr");
		if (!need(c, o, path, "addr", &n) || !parse_uint(c, n, p, 0, UINT64_MAX, &op->addr))
			return false;
		subpath(p, path, "data");
		if (!need(c, o, path, "data", &n) || !parse_uint(c, n, p, 0, UINT32_MAX, &v))
			return false;
		op->data = (uint32_t)v;
		return true;
	default:
		return true;
	}
}

static bool parse_op(struct ctx *c, yaml_node_t *o, const char *path, struct sc_op *op)
{
	char p[PATH_MAX_LEN], what[MAX_SCALAR];
	const struct op_kind *k = NULL;
	yaml_node_t *n;

	if (o->type != YAML_MAPPING_NODE)
		return fail(c, o, path, "expected a mapping, found %s", type_name(o));
	op->line = (unsigned)o->start_mark.line + 1;
	subpath(p, path, "do");
	if (!need(c, o, path, "do", &n) || !scalar(c, n, p, what, sizeof(what)))
		return false;
	for (size_t i = 0; i < sizeof(op_kinds) / sizeof(op_kinds[0]) && !k; i++)
		if (!strcmp(op_kinds[i].name, what))
			k = &op_kinds[i];
	if (!k)
		return fail(c, n, p,
			    "'%s' is not an operation (activate, free, traffic, "
			    "set_affinity, preempt, block, migrate, offline, "
			    "online, rogue_write, hypercall, migrate_vm)",
			    what);
	op->kind = k->kind;
	if (!check_keys(c, o, path, k->keys))
		return false;
	subpath(p, path, "at");
	if (!need(c, o, path, "at", &n) || !parse_duration(c, n, p, &op->at))
		return false;
	if (op->at > c->sc->duration)
		return fail(c, n, p, "after the end of the run (duration)");
	return parse_op_args(c, o, path, op);
}

static bool parse_workload(struct ctx *c, yaml_node_t *w)
{
	struct scenario *sc = c->sc;

	if (!expect_seq(c, w, "workload"))
		return false;
	sc->ops = calloc(seq_len(w) ? seq_len(w) : 1, sizeof(*sc->ops));
	if (!sc->ops)
		return fail(c, w, "workload", "out of memory");
	for (unsigned i = 0; i < seq_len(w); i++) {
		char p[PATH_MAX_LEN];

		snprintf(p, sizeof(p), "workload[%u]", i);
		sc->nops++;
		if (!parse_op(c, seq_item(c, w, i), p, &sc->ops[i]))
			return false;
	}
	return true;
}

static bool parse_costs(struct ctx *c, yaml_node_t *m)
{
	if (m->type != YAML_MAPPING_NODE)
		return fail(c, m, "costs", "expected a mapping, found %s", type_name(m));
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		char key[MAX_SCALAR], path[PATH_MAX_LEN];
		uint64_t ns;

		if (!scalar(c, node(c, p->key), "costs", key, sizeof(key)))
			return false;
		subpath(path, "costs", key);
		if (key_again(c, m, p))
			return fail(c, node(c, p->key), path, "given twice");
		if (!parse_duration(c, node(c, p->value), path, &ns))
			return false;
		if (ns > SC_MAX_COST)
			return fail(c, node(c, p->value), path, "at most 1s");
		if (!cost_model_set(&c->sc->costs, key, ns))
			return fail(c, node(c, p->key), path, "unknown cost");
	}
	return true;
}

/* ---- the document ------------------------------------------------------------------------------ */

/* host: (one) or hosts: (a list), and one of them */
static bool parse_root_hosts(struct ctx *c, yaml_node_t *root)
{
	yaml_node_t *one = get(c, root, "host"), *list = get(c, root, "hosts");

	if (one && list)
		return fail(c, list, "hosts", "either host (one) or hosts (a list), not both");
	if (list)
		return parse_hosts(c, list);
	return require(c, root, "", "host", &one) && parse_one_host(c, one);
}

static bool parse_root(struct ctx *c, yaml_node_t *root)
{
	static const char *const keys[] = {"name", "seed",     "duration", "host", "hosts",
					   "vms",  "workload", "costs",	   NULL};
	struct scenario *sc = c->sc;
	yaml_node_t *n;

	if (!root)
		return fail(c, NULL, "scenario", "empty");
	if (!check_keys(c, root, "", keys))
		return false;
	if ((n = get(c, root, "name")) && !scalar(c, n, "name", sc->name, sizeof(sc->name)))
		return false;
	if ((n = get(c, root, "seed")) && !parse_uint(c, n, "seed", 0, UINT64_MAX, &sc->seed))
		return false;
	if (!require(c, root, "", "duration", &n) ||
	    !parse_duration(c, n, "duration", &sc->duration))
		return false;
	if (!sc->duration)
		return fail(c, n, "duration", "must be more than 0");
	if (sc->duration > SC_MAX_DURATION)
		return fail(c, n, "duration", "at most 60s");
	if (!parse_root_hosts(c, root))
		return false;
	if (!require(c, root, "", "vms", &n) || !parse_vms(c, n))
		return false;
	if ((n = get(c, root, "costs")) && !parse_costs(c, n))
		return false;
	n = get(c, root, "workload");
	return !n || parse_workload(c, n);
}

static void set_defaults(struct scenario *sc, const char *file)
{
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	size_t len = strcspn(base, ".");

	snprintf(sc->name, sizeof(sc->name), "%.*s", (int)len, base);
	sc->seed = 42;
	host_defaults(sc);
	sc->costs = cost_model_default();
}

static int yaml_error(const yaml_parser_t *parser, const char *file, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s:%lu: yaml: %s", file,
		 (unsigned long)parser->problem_mark.line + 1,
		 parser->problem ? parser->problem : "cannot be parsed");
	return -EINVAL;
}

/*
 * A pass over the events before the document is built: libyaml's loader
 * takes time quadratic in the nesting depth, and a hostile file nests a
 * hundred thousand deep. A scenario needs a handful of levels; past
 * SC_MAX_DEPTH the file is refused where the nesting goes too deep.
 */
static int check_depth(const char *text, size_t len, const char *file, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	unsigned depth = 0;
	int rc = 0;

	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (bool done = false; !done && !rc;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = yaml_error(&parser, file, err, errlen);
			break;
		}
		if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
			if (++depth > SC_MAX_DEPTH) {
				snprintf(err, errlen, "%s:%lu: yaml: nested deeper than %d", file,
					 (unsigned long)ev.start_mark.line + 1, SC_MAX_DEPTH);
				rc = -EINVAL;
			}
		} else if (ev.type == YAML_SEQUENCE_END_EVENT ||
			   ev.type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return rc;
}

/* After the scenario's document: nothing, or the file holds a second one. */
static int check_one_document(yaml_parser_t *parser, const char *file, char *err, size_t errlen)
{
	yaml_document_t next;
	bool more;

	if (!yaml_parser_load(parser, &next))
		return yaml_error(parser, file, err, errlen);
	more = yaml_document_get_root_node(&next) != NULL;
	if (more)
		snprintf(err, errlen, "%s:%lu: yaml: a second document; a file holds one scenario",
			 file, (unsigned long)next.start_mark.line + 1);
	yaml_document_delete(&next);
	return more ? -EINVAL : 0;
}

int scenario_parse(const char *text, size_t len, const char *file, struct scenario **ret, char *err,
		   size_t errlen)
{
	struct scenario *sc = calloc(1, sizeof(*sc));
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx c = {.doc = &doc, .file = file, .err = err, .errlen = errlen, .sc = sc};
	bool ok;
	int rc;

	if (!sc)
		return -ENOMEM;
	set_defaults(sc, file);
	if (!yaml_parser_initialize(&parser)) {
		free(sc);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	rc = check_depth(text, len, file, err, errlen);
	if (!rc && !yaml_parser_load(&parser, &doc))
		rc = yaml_error(&parser, file, err, errlen);
	if (rc) {
		yaml_parser_delete(&parser);
		free(sc);
		return rc;
	}
	ok = parse_root(&c, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	if (ok && check_one_document(&parser, file, err, errlen))
		ok = false;
	yaml_parser_delete(&parser);
	if (!ok) {
		scenario_free(sc);
		return -EINVAL;
	}
	*ret = sc;
	return 0;
}

int scenario_read(FILE *f, const char *name, struct scenario **ret, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	do {
		if (len > SC_MAX_FILE_BYTES) { /* /dev/zero reads for ever */
			snprintf(err, errlen, "%s: larger than %" PRIu64 " bytes", name,
				 SC_MAX_FILE_BYTES);
			free(text);
			return -EFBIG;
		}
		if (len + 4096 > cap) {
			char *t = realloc(text, cap = cap ? 2 * cap : 8192);

			if (!t) {
				free(text);
				return -ENOMEM;
			}
			text = t;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n);
	if (ferror(f)) { /* a directory opens, and then cannot be read */
		snprintf(err, errlen, "%s: cannot read: %s", name, strerror(errno));
		free(text);
		return -EIO;
	}
	rc = scenario_parse(text ? text : "", len, name, ret, err, errlen);
	free(text);
	return rc;
}

int scenario_load(const char *path, struct scenario **ret, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -ENOENT;
	}
	rc = scenario_read(f, path, ret, err, errlen);
	fclose(f);
	return rc;
}

void scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	for (unsigned i = 0; sc->ops && i < sc->nops; i++)
		free(sc->ops[i].entries);
	free(sc->ops);
	free(sc);
}

void scenario_set_vectors(struct scenario *sc, bool at_alloc)
{
	for (unsigned v = 0; v < sc->nvms; v++)
		sc->vms[v].vectors_at_alloc = at_alloc;
}

const char *scenario_vectors_name(const struct scenario *sc)
{
	unsigned at_alloc = 0;

	for (unsigned v = 0; v < sc->nvms; v++)
		at_alloc += sc->vms[v].vectors_at_alloc;
	if (!at_alloc)
		return "at_request";
	return at_alloc == sc->nvms ? "at_alloc" : "mixed";
}

int scenario_set_iommu(struct scenario *sc, enum host_iommu iommu, char *err, size_t errlen)
{
	for (unsigned v = 0; iommu == HOST_IOMMU_AMDVI && v < sc->nvms; v++)
		for (unsigned d = 0; d < sc->vms[v].ndevs; d++) {
			const struct sc_device *dev = &sc->vms[v].devs[d];
			unsigned n = sc_device_vectors(dev);
			uint32_t table = sc->hosts[sc->vms[v].host].amd_table;

			if (n > table) {
				snprintf(
				    err, errlen,
				    "%s/%s has %u interrupts: a device's AMD-Vi table holds %u",
				    sc->vms[v].name, dev->name, n, table);
				return -EINVAL;
			}
		}
	for (unsigned h = 0; h < sc->nhosts; h++)
		sc->hosts[h].iommu = iommu;
	sc->iommu = iommu;
	return 0;
}
