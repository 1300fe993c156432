// SPDX-License-Identifier: MIT
/*
 * Posted-interrupt descriptor in host memory. The IOMMU's post is modelled as
 * two atomics, PIR first, then the control qword. Against a consumer that
 * clears ON and then takes the PIR (KVM's order), nothing is lost:
 *
 *   IOMMU (pid_post)                 CPU (notification handler)
 *   ----------------                 --------------------------
 *   PIR |= bit(v)
 *                                    ON = 0
 *                                    take PIR  -> sees v
 *   ON was 0: ON = 1, notify
 *                                    (next notification finds PIR empty:
 *                                     a spurious pass, never a lost vector)
 *
 * If the consumer's take happens before the PIR write instead, ON is clear by
 * then and the post notifies, so v is taken on the next pass. The take reads
 * each PIR word and exchanges only those that are not zero, as KVM's
 * __kvm_apic_update_irr() does; a word read as zero just before the post is
 * that second case. The hardware
 * does the whole update as one locked read-modify-write (VT-d §9.12); the two
 * orders above are the only ones that differ from it, and both are safe.
 */
#include "pvir/pi_desc.h"

#include <errno.h>

#include "pvir/physmem.h"

static uint64_t control_encode(bool on, bool sn, uint8_t nv, uint32_t ndst)
{
	uint64_t c = 0;

	c = bit_set(c, PID_ON, on);
	c = bit_set(c, PID_SN, sn);
	c = bits_set(c, PID_NV_HI, PID_NV_LO, nv);
	return bits_set(c, PID_NDST_HI, PID_NDST_LO, ndst);
}

void pid_encode(const struct pid_image *img, uint64_t ret[PID_WORDS])
{
	for (unsigned i = 0; i < PID_WORDS; i++)
		ret[i] = i < PID_PIR_WORDS ? img->pir[i] : 0;
	ret[PID_CONTROL_OFFSET / 8] = control_encode(img->on, img->sn, img->nv, img->ndst);
}

void pid_decode(const uint64_t words[PID_WORDS], struct pid_image *ret)
{
	uint64_t c = words[PID_CONTROL_OFFSET / 8];

	for (unsigned i = 0; i < PID_PIR_WORDS; i++)
		ret->pir[i] = words[i];
	ret->on = bit_get(c, PID_ON);
	ret->sn = bit_get(c, PID_SN);
	ret->nv = (uint8_t)bits_get(c, PID_NV_HI, PID_NV_LO);
	ret->ndst = (uint32_t)bits_get(c, PID_NDST_HI, PID_NDST_LO);
}

void pid_reserved_bits(const uint64_t words[PID_WORDS], uint64_t ret[PID_WORDS])
{
	for (unsigned i = 0; i < PID_WORDS; i++)
		ret[i] = i < PID_PIR_WORDS ? 0 : words[i];
	ret[PID_CONTROL_OFFSET / 8] &= bits_mask(15, 2) | bits_mask(31, 24);
}

static int check_desc(const struct physmem *pm, uint64_t pa)
{
	if (!physmem_range_ok(pm, pa, PID_SIZE))
		return -EFAULT;
	if (pa % PID_SIZE != 0)
		return -EINVAL;
	return 0;
}

static uint64_t pir_qword(uint64_t pa, unsigned vector)
{
	return pa + 8 * (vector / 64);
}

static uint64_t control_qword(uint64_t pa)
{
	return pa + PID_CONTROL_OFFSET;
}

/*
 * Applies @update to the control qword until it sticks, as hardware may set ON
 * concurrently. @update returns the new value for the value it is given.
 */
typedef uint64_t (*control_update_fn)(uint64_t old, const void *arg);

static int control_update(struct physmem *pm, uint64_t pa, control_update_fn update,
			  const void *arg, uint64_t *ret_old)
{
	uint64_t old;
	int err = physmem_load64(pm, control_qword(pa), &old);

	while (!err) {
		err = physmem_cmpxchg64(pm, control_qword(pa), &old, update(old, arg));
		if (err == -EAGAIN) {
			err = 0;
			continue;
		}
		if (!err && ret_old)
			*ret_old = old;
		break;
	}
	return err;
}

static uint64_t post_update(uint64_t old, const void *arg)
{
	bool urgent = *(const bool *)arg;

	if (bit_get(old, PID_ON) || (bit_get(old, PID_SN) && !urgent))
		return old;
	return bit_set(old, PID_ON, true);
}

int pid_post(struct physmem *pm, uint64_t pa, uint8_t vector, bool urgent,
	     struct pid_post_result *ret)
{
	uint64_t bit = UINT64_C(1) << (vector % 64), old_pir, old_ctl;
	int err = check_desc(pm, pa);

	if (err)
		return err;
	err = physmem_fetch_or64(pm, pir_qword(pa, vector), bit, &old_pir);
	if (!err)
		err = control_update(pm, pa, post_update, &urgent, &old_ctl);
	if (err)
		return err;
	ret->coalesced = old_pir & bit;
	ret->notify = post_update(old_ctl, &urgent) != old_ctl;
	ret->nv = (uint8_t)bits_get(old_ctl, PID_NV_HI, PID_NV_LO);
	ret->ndst = (uint32_t)bits_get(old_ctl, PID_NDST_HI, PID_NDST_LO);
	return 0;
}

int pid_write(struct physmem *pm, uint64_t pa, const struct pid_image *img)
{
	uint64_t words[PID_WORDS];
	int err = check_desc(pm, pa);

	pid_encode(img, words);
	for (unsigned i = 0; !err && i < PID_WORDS; i++)
		err = physmem_store64(pm, pa + 8 * i, words[i]);
	return err;
}

int pid_read(const struct physmem *pm, uint64_t pa, struct pid_image *ret)
{
	uint64_t words[PID_WORDS];
	int err = check_desc(pm, pa);

	for (unsigned i = 0; !err && i < PID_WORDS; i++)
		err = physmem_load64(pm, pa + 8 * i, &words[i]);
	if (!err)
		pid_decode(words, ret);
	return err;
}

static uint64_t sn_update(uint64_t old, const void *arg)
{
	return bit_set(old, PID_SN, *(const bool *)arg);
}

int pid_set_sn(struct physmem *pm, uint64_t pa, bool sn, uint64_t *ret_old_control)
{
	int err = check_desc(pm, pa);

	return err ? err : control_update(pm, pa, sn_update, &sn, ret_old_control);
}

/* One locked bit operation, as KVM's pi_test_and_set_on() and pi_test_and_clear_on(). */
static int set_on(struct physmem *pm, uint64_t pa, bool on, bool *ret_was_on)
{
	uint64_t old, bit = UINT64_C(1) << PID_ON;
	int err = check_desc(pm, pa);

	if (!err && on)
		err = physmem_fetch_or64(pm, control_qword(pa), bit, &old);
	else if (!err)
		err = physmem_fetch_and64(pm, control_qword(pa), ~bit, &old);
	if (!err)
		*ret_was_on = bit_get(old, PID_ON);
	return err;
}

int pid_set_on(struct physmem *pm, uint64_t pa, bool *ret_was_on)
{
	return set_on(pm, pa, true, ret_was_on);
}

int pid_clear_on(struct physmem *pm, uint64_t pa, bool *ret_was_on)
{
	return set_on(pm, pa, false, ret_was_on);
}

struct notification {
	uint8_t nv;
	uint32_t ndst;
};

static uint64_t notification_update(uint64_t old, const void *arg)
{
	const struct notification *n = arg;

	old = bits_set(old, PID_NV_HI, PID_NV_LO, n->nv);
	return bits_set(old, PID_NDST_HI, PID_NDST_LO, n->ndst);
}

int pid_set_notification(struct physmem *pm, uint64_t pa, uint8_t nv, uint32_t ndst)
{
	struct notification n = {.nv = nv, .ndst = ndst};
	int err = check_desc(pm, pa);

	return err ? err : control_update(pm, pa, notification_update, &n, NULL);
}

/* Once per notification and per VM entry: kept whole (HOT_FLAT). */
HOT_FLAT int pid_take_pir(struct physmem *pm, uint64_t pa, uint64_t ret[PID_PIR_WORDS])
{
	int err = check_desc(pm, pa);

	return err ? err : physmem_harvest64(pm, pa, PID_PIR_WORDS, ret);
}

int pid_pir_pending(const struct physmem *pm, uint64_t pa, int vector, bool *ret)
{
	uint64_t w;
	int err = check_desc(pm, pa);
	bool any = false;

	if (err)
		return err;
	if (vector >= 0) {
		err = physmem_load64(pm, pir_qword(pa, (unsigned)vector), &w);
		any = !err && bit_get(w, (unsigned)vector % 64);
	}
	for (unsigned i = 0; vector < 0 && !err && i < PID_PIR_WORDS; i++) {
		err = physmem_load64(pm, pa + 8 * i, &w);
		any = any || w;
	}
	if (!err)
		*ret = any;
	return err;
}
