// SPDX-License-Identifier: MIT
/*
 * The fuzz targets without libFuzzer, for gcc builds and make test:
 *
 *   fuzz_X [--burst N] [--seed S] FILE_OR_DIR...
 *
 * Every file named, and every file in every directory named, is run once
 * (the committed corpus replayed); then N inputs made from them by a small
 * seeded mutator (byte flips, insertions, deletions, splices, runs of one
 * value) are run. The same seed gives the same inputs. A violated invariant
 * aborts, as under libFuzzer; the input is printed first, in hex.
 *
 * Output is TAP: one line per corpus file, one for the burst.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT  4096
#define MAX_INPUTS 1024

struct corpus {
	uint8_t *data[MAX_INPUTS];
	size_t size[MAX_INPUTS];
	unsigned n;
};

static uint64_t rng;

static uint64_t next(void)
{
	/* splitmix64: the same sequence on every machine */
	uint64_t z = (rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static int add_file(struct corpus *c, const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f)
		return -errno;
	buf = malloc(MAX_INPUT);
	n = buf ? fread(buf, 1, MAX_INPUT, f) : 0;
	fclose(f);
	if (!buf || c->n == MAX_INPUTS) {
		free(buf);
		return -ENOMEM;
	}
	c->data[c->n] = buf;
	c->size[c->n++] = n;
	return 0;
}

static int add_path(struct corpus *c, const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int err = 0;

	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return add_file(c, path);
	d = opendir(path);
	if (!d)
		return -errno;
	while (!err && (e = readdir(d))) {
		char full[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
		err = add_file(c, full);
	}
	closedir(d);
	return err;
}

static void print_hex(const uint8_t *p, size_t n)
{
	fprintf(stderr, "# input (%zu bytes):", n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i % 32 ? "" : "\n# ", p[i]);
	fprintf(stderr, "\n");
}

static const uint8_t *current;
static size_t current_size;

static void run(const uint8_t *p, size_t n)
{
	current = p;
	current_size = n;
	(void)LLVMFuzzerTestOneInput(p, n);
}

/* One mutation of @buf (holding *@n bytes, room for MAX_INPUT). */
static void mutate(struct corpus *c, uint8_t *buf, size_t *n)
{
	size_t at = *n ? next() % *n : 0;

	switch (next() % 6) {
	case 0: /* flip a bit */
		if (*n)
			buf[at] ^= (uint8_t)(1u << (next() % 8));
		break;
	case 1: /* a random byte */
		if (*n)
			buf[at] = (uint8_t)next();
		break;
	case 2: /* insert a byte */
		if (*n < MAX_INPUT) {
			memmove(buf + at + 1, buf + at, *n - at);
			buf[at] = (uint8_t)next();
			(*n)++;
		}
		break;
	case 3: /* delete a byte */
		if (*n) {
			memmove(buf + at, buf + at + 1, *n - at - 1);
			(*n)--;
		}
		break;
	case 4: { /* splice a piece of another input in */
		unsigned k = c->n ? (unsigned)(next() % c->n) : 0;
		size_t len = c->n && c->size[k] ? next() % c->size[k] + 1 : 0;

		if (len > MAX_INPUT - at)
			len = MAX_INPUT - at;
		if (len)
			memcpy(buf + at, c->data[k] + next() % (c->size[k] - len + 1), len);
		if (at + len > *n)
			*n = at + len;
		break;
	}
	default: { /* a run of one interesting value */
		static const uint8_t values[] = {0x00, 0x01, 0x7f, 0x80, 0xff};
		size_t len = next() % 8 + 1;

		for (size_t i = 0; i < len && at + i < MAX_INPUT; i++)
			buf[at + i] = values[next() % sizeof(values)];
		if (at + len > *n)
			*n = at + len < MAX_INPUT ? at + len : MAX_INPUT;
	}
	}
}

static void burst(struct corpus *c, unsigned count)
{
	uint8_t *buf = malloc(MAX_INPUT);

	if (!buf)
		abort();
	for (unsigned i = 0; i < count; i++) {
		size_t n = 0;
		unsigned rounds = (unsigned)(next() % 8) + 1;

		if (c->n) {
			unsigned k = (unsigned)(next() % c->n);

			n = c->size[k];
			memcpy(buf, c->data[k], n);
		}
		for (unsigned r = 0; r < rounds; r++)
			mutate(c, buf, &n);
		run(buf, n);
	}
	free(buf);
}

/* A violated invariant or a sanitizer report aborts: say which input did it. */
static void on_abort(int sig)
{
	if (current)
		print_hex(current, current_size);
	raise(sig); /* SA_RESETHAND: the default action now */
}

int main(int argc, char **argv)
{
	struct corpus c = {0};
	unsigned count = 0, tests = 0;
	uint64_t seed = 1;

	struct sigaction sa = {.sa_handler = on_abort, .sa_flags = (int)SA_RESETHAND};

	sigaction(SIGABRT, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--burst") && i + 1 < argc) {
			count = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
		} else if (add_path(&c, argv[i])) {
			printf("Bail out! cannot read %s\n", argv[i]);
			return 1;
		}
	}
	rng = seed;
	printf("1..%u\n", c.n + 1);
	for (unsigned i = 0; i < c.n; i++) {
		run(c.data[i], c.size[i]);
		printf("ok %u - corpus input %u (%zu bytes)\n", ++tests, i, c.size[i]);
	}
	burst(&c, count);
	printf("ok %u - %u mutated inputs, seed %llu\n", ++tests, count, (unsigned long long)seed);
	current = NULL;
	for (unsigned i = 0; i < c.n; i++)
		free(c.data[i]);
	return 0;
}
