// SPDX-License-Identifier: MIT
/*
 * Physical memory as an array of qwords accessed only through atomics. The
 * 64-bit operations are plain C11-model atomics (the __atomic builtins, which
 * <stdatomic.h> itself is built on); the 128-bit ones exist because the VT-d
 * IRTE write protocol needs them and C11 has no 128-bit atomic type.
 */
#include "pvir/physmem.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "pvir/zmem.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "physmem maps guest byte order onto host qwords and assumes a little-endian host"
#endif

__extension__ typedef unsigned __int128 u128;

struct physmem {
	uint64_t size;
	uint64_t *words;
};

struct physmem *physmem_new(uint64_t size)
{
	struct physmem *pm;

	if (size == 0 || size % 16 != 0 || size > SIZE_MAX)
		return NULL;
	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return NULL;
	/* pages a run never touches cost nothing; page alignment covers 128-bit accesses */
	pm->words = zmem_alloc((size_t)size);
	if (!pm->words) {
		free(pm);
		return NULL;
	}
	pm->size = size;
	return pm;
}

void physmem_free(struct physmem *pm)
{
	if (!pm)
		return;
	zmem_free(pm->words, (size_t)pm->size);
	free(pm);
}

bool physmem_prefer_huge_pages(struct physmem *pm, uint64_t pa, uint64_t len)
{
	return physmem_range_ok(pm, pa, len) &&
	       zmem_prefer_huge_pages(pm->words, (size_t)pa, (size_t)len);
}

uint64_t physmem_size(const struct physmem *pm)
{
	return pm->size;
}

bool physmem_range_ok(const struct physmem *pm, uint64_t pa, uint64_t len)
{
	return pa <= pm->size && len <= pm->size - pa;
}

static int check_aligned(const struct physmem *pm, uint64_t pa, uint64_t len)
{
	if (!physmem_range_ok(pm, pa, len))
		return -EFAULT;
	if (pa % len != 0)
		return -EINVAL;
	return 0;
}

static uint64_t *word_at(const struct physmem *pm, uint64_t pa)
{
	return &pm->words[pa / 8];
}

void physmem_prefetch(const struct physmem *pm, uint64_t pa)
{
	if (pa < pm->size)
		__builtin_prefetch(word_at(pm, pa));
}

/* How many bytes from @pa on, at most @len, lie in @pa's qword. */
static unsigned bytes_in_word(uint64_t pa, size_t len)
{
	unsigned room = 8 - (unsigned)(pa % 8);

	return len < room ? (unsigned)len : room;
}

/*
 * A qword's bytes [@lo, @lo + @n), out to @buf, and a value of @n bytes in from @buf:
 * little-endian, byte i at bits 8i. A qword or a dword (a register, a status word)
 * is one move.
 */
static void bytes_out(uint8_t *buf, uint64_t w, unsigned lo, unsigned n)
{
	uint64_t v = w >> (8 * lo);

	if (n == 8) {
		memcpy(buf, &v, 8);
		return;
	}
	if (n == 4) {
		uint32_t d = (uint32_t)v;

		memcpy(buf, &d, 4);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		buf[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t bytes_in(const uint8_t *buf, unsigned n)
{
	uint64_t v = 0;

	if (n == 8) {
		memcpy(&v, buf, 8);
		return v;
	}
	if (n == 4) {
		uint32_t d;

		memcpy(&d, buf, 4);
		return d;
	}
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)buf[i] << (8 * i);
	return v;
}

/* Whole qwords from an aligned @pa: the usual access (descriptors, entries, table rows). */
static bool whole_qwords(uint64_t pa, size_t len)
{
	return (pa | len) % 8 == 0;
}

int physmem_read(const struct physmem *pm, uint64_t pa, void *buf, size_t len)
{
	uint8_t *out = buf;

	if (!physmem_range_ok(pm, pa, len))
		return -EFAULT;
	if (whole_qwords(pa, len)) {
		for (size_t i = 0; i < len / 8; i++) {
			uint64_t w = __atomic_load_n(word_at(pm, pa) + i, __ATOMIC_ACQUIRE);

			memcpy(out + 8 * i, &w, 8);
		}
		return 0;
	}
	while (len) {
		unsigned n = bytes_in_word(pa, len);
		uint64_t w = __atomic_load_n(word_at(pm, pa), __ATOMIC_ACQUIRE);

		bytes_out(out, w, (unsigned)(pa % 8), n);
		out += n;
		pa += n;
		len -= n;
	}
	return 0;
}

/*
 * Replaces @n bytes of one qword from @pa on, in one atomic access, without
 * disturbing concurrent writers of its other bytes.
 */
static void store_bytes(const struct physmem *pm, uint64_t pa, const uint8_t *in, unsigned n)
{
	uint64_t *w = word_at(pm, pa);
	unsigned lo = (unsigned)(pa % 8);
	uint64_t val = bytes_in(in, n), mask, old;

	if (n == 8) {
		__atomic_store_n(w, val, __ATOMIC_RELEASE);
		return;
	}
	val <<= 8 * lo;
	mask = ((UINT64_C(1) << (8 * n)) - 1) << (8 * lo); /* n < 8: its bytes, from @lo */
	old = __atomic_load_n(w, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(w, &old, (old & ~mask) | val, true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
}

int physmem_write(struct physmem *pm, uint64_t pa, const void *buf, size_t len)
{
	const uint8_t *in = buf;

	if (!physmem_range_ok(pm, pa, len))
		return -EFAULT;
	if (whole_qwords(pa, len)) {
		for (size_t i = 0; i < len / 8; i++) {
			uint64_t w;

			memcpy(&w, in + 8 * i, 8);
			__atomic_store_n(word_at(pm, pa) + i, w, __ATOMIC_RELEASE);
		}
		return 0;
	}
	while (len) {
		unsigned n = bytes_in_word(pa, len);

		store_bytes(pm, pa, in, n);
		in += n;
		pa += n;
		len -= n;
	}
	return 0;
}

int physmem_copy(struct physmem *dst, const struct physmem *src)
{
	if (dst->size != src->size)
		return -EINVAL;
	for (uint64_t i = 0; i < src->size / 8; i++) {
		uint64_t v = __atomic_load_n(&src->words[i], __ATOMIC_ACQUIRE);

		if (__atomic_load_n(&dst->words[i], __ATOMIC_RELAXED) != v)
			__atomic_store_n(&dst->words[i], v, __ATOMIC_RELEASE);
	}
	return 0;
}

int physmem_load64(const struct physmem *pm, uint64_t pa, uint64_t *ret)
{
	int err = check_aligned(pm, pa, 8);

	if (err)
		return err;
	*ret = __atomic_load_n(word_at(pm, pa), __ATOMIC_SEQ_CST);
	return 0;
}

int physmem_store64(struct physmem *pm, uint64_t pa, uint64_t val)
{
	int err = check_aligned(pm, pa, 8);

	if (err)
		return err;
	__atomic_store_n(word_at(pm, pa), val, __ATOMIC_SEQ_CST);
	return 0;
}

int physmem_fetch_or64(struct physmem *pm, uint64_t pa, uint64_t bits, uint64_t *ret_old)
{
	int err = check_aligned(pm, pa, 8);

	if (err)
		return err;
	*ret_old = __atomic_fetch_or(word_at(pm, pa), bits, __ATOMIC_SEQ_CST);
	return 0;
}

int physmem_fetch_and64(struct physmem *pm, uint64_t pa, uint64_t mask, uint64_t *ret_old)
{
	int err = check_aligned(pm, pa, 8);

	if (err)
		return err;
	*ret_old = __atomic_fetch_and(word_at(pm, pa), mask, __ATOMIC_SEQ_CST);
	return 0;
}

int physmem_xchg64(struct physmem *pm, uint64_t pa, uint64_t val, uint64_t *ret_old)
{
	int err = check_aligned(pm, pa, 8);

	if (err)
		return err;
	*ret_old = __atomic_exchange_n(word_at(pm, pa), val, __ATOMIC_SEQ_CST);
	return 0;
}

int physmem_harvest64(struct physmem *pm, uint64_t pa, unsigned n, uint64_t *ret)
{
	int err = check_aligned(pm, pa, 8);

	if (!err && !physmem_range_ok(pm, pa, 8 * (uint64_t)n))
		err = -EFAULT;
	for (unsigned i = 0; !err && i < n; i++) {
		uint64_t *w = word_at(pm, pa + 8 * (uint64_t)i);

		ret[i] = __atomic_load_n(w, __ATOMIC_ACQUIRE);
		if (ret[i])
			ret[i] = __atomic_exchange_n(w, 0, __ATOMIC_SEQ_CST);
	}
	return err;
}

int physmem_cmpxchg64(struct physmem *pm, uint64_t pa, uint64_t *expected, uint64_t desired)
{
	int err = check_aligned(pm, pa, 8);

	if (err)
		return err;
	if (__atomic_compare_exchange_n(word_at(pm, pa), expected, desired, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST))
		return 0;
	return -EAGAIN;
}

static u128 *dqword_at(const struct physmem *pm, uint64_t pa)
{
	return (u128 *)(void *)word_at(pm, pa);
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PHYSMEM_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define PHYSMEM_TSAN 1
#endif

/*
 * An aligned 16-byte load is one atomic access on x86-64 CPUs that have AVX (Intel
 * SDM vol. 3A §9.1.1, "Guaranteed Atomic Operations"; AMD APM vol. 2 §7.3.2): the
 * load libatomic's __atomic_load_16 itself picks on them, here without its call
 * through the PLT. A load is ordered as SEQ_CST needs on x86 without a fence (the
 * stores carry them). Elsewhere, and under TSan, which would not see it as atomic,
 * libatomic's. Return: true if done.
 */
static bool load128_inline(const u128 *p, u128 *ret)
{
#if defined(__x86_64__) && !defined(PHYSMEM_TSAN)
	static int avx = -1; /* not yet asked; threads may ask at once and agree */
	int have = __atomic_load_n(&avx, __ATOMIC_RELAXED);

	if (have < 0) {
		have = __builtin_cpu_supports("avx") ? 1 : 0;
		__atomic_store_n(&avx, have, __ATOMIC_RELAXED);
	}
	if (have) {
		__asm__ volatile("movdqa %1, %0" : "=x"(*ret) : "m"(*p) : "memory");
		return true;
	}
#else
	(void)p;
	(void)ret;
#endif
	return false;
}

int physmem_load128(const struct physmem *pm, uint64_t pa, uint64_t ret[2])
{
	int err = check_aligned(pm, pa, 16);
	u128 v;

	if (err)
		return err;
	if (!load128_inline(dqword_at(pm, pa), &v))
		v = __atomic_load_n(dqword_at(pm, pa), __ATOMIC_SEQ_CST);
	ret[0] = (uint64_t)v;
	ret[1] = (uint64_t)(v >> 64);
	return 0;
}

int physmem_cmpxchg128(struct physmem *pm, uint64_t pa, uint64_t expected[2],
		       const uint64_t desired[2])
{
	int err = check_aligned(pm, pa, 16);
	u128 exp, des;

	if (err)
		return err;
	exp = ((u128)expected[1] << 64) | expected[0];
	des = ((u128)desired[1] << 64) | desired[0];
	if (__atomic_compare_exchange_n(dqword_at(pm, pa), &exp, des, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST))
		return 0;
	expected[0] = (uint64_t)exp;
	expected[1] = (uint64_t)(exp >> 64);
	return -EAGAIN;
}
