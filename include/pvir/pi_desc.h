/* SPDX-License-Identifier: MIT */
/*
 * VT-d posted-interrupt descriptor (VT-d spec §9.12; Linux struct pi_desc): 64 bytes, 64-byte aligned, in host memory.
 *
 *   bits 255:0   PIR, one bit per vector
 *   bit  256     ON   outstanding notification
 *   bit  257     SN   suppress notification
 *   bits 279:272 NV   notification vector
 *   bits 319:288 NDST notification destination (x2APIC: APIC ID; xAPIC: ID in 15:8)
 *   bits 271:258, 287:280, 511:320 reserved
 *
 * The descriptor is shared between the IOMMU (which posts) and the CPU side
 * (which harvests, and which updates SN/NV/NDST as the vCPU is scheduled), so
 * every access here is atomic on the qword: PIR qwords with fetch-or and
 * exchange, the control qword (bits 319:256) with compare-and-exchange loops,
 * as Linux's pi_try_set_control does.
 */
#ifndef PVIR_PI_DESC_H
#define PVIR_PI_DESC_H

#include <stdbool.h>
#include <stdint.h>

#include "pvir/compiler.h"

struct physmem;

#define PID_SIZE	   64
#define PID_PIR_WORDS	   4
#define PID_WORDS	   8
#define PID_CONTROL_OFFSET 32

/* Control-qword bit positions (descriptor bit - 256). */
#define PID_ON	    0
#define PID_SN	    1
#define PID_NV_HI   23
#define PID_NV_LO   16
#define PID_NDST_HI 63
#define PID_NDST_LO 32

/* A decoded copy of a descriptor. */
struct pid_image {
	uint64_t pir[PID_PIR_WORDS];
	bool on;
	bool sn;
	uint8_t nv;
	uint32_t ndst;
};

/* What the IOMMU did when it posted one interrupt. */
struct pid_post_result {
	bool coalesced; /* the vector's PIR bit was already set */
	bool notify;	/* a notification event (vector nv to ndst) must be sent */
	uint8_t nv;
	uint32_t ndst;
};

void pid_encode(const struct pid_image *img, uint64_t ret[PID_WORDS]);
void pid_decode(const uint64_t words[PID_WORDS], struct pid_image *ret);
/** pid_reserved_bits() - @words masked down to its reserved bits */
void pid_reserved_bits(const uint64_t words[PID_WORDS], uint64_t ret[PID_WORDS]);

static inline bool pid_image_test_pir(const struct pid_image *img, uint8_t vector)
{
	return bit_get(img->pir[vector / 64], vector % 64);
}

/*
 * All functions below address a descriptor at @pa in @pm and return 0,
 * -EFAULT (outside memory) or -EINVAL (not 64-byte aligned).
 */

/**
 * pid_post() - the IOMMU side: post @vector, deciding on a notification
 * @urgent:	the IRTE's URG bit: notify even while SN is set
 *
 * Sets PIR[@vector]; then, if ON was clear and (SN clear or @urgent), sets ON
 * and reports that a notification must be sent. See pi_desc.c for why doing
 * this as two atomics loses nothing against a concurrent pid_take_pir().
 */
int pid_post(struct physmem *pm, uint64_t pa, uint8_t vector, bool urgent,
	     struct pid_post_result *ret) WARN_UNUSED;

/** pid_write() - software initialisation of the whole descriptor */
int pid_write(struct physmem *pm, uint64_t pa, const struct pid_image *img) WARN_UNUSED;
/** pid_read() - a snapshot (each qword atomic; not the whole descriptor at once) */
int pid_read(const struct physmem *pm, uint64_t pa, struct pid_image *ret) WARN_UNUSED;

/** pid_set_sn() - set or clear SN; @ret_old_control (may be NULL) gets the prior qword */
int pid_set_sn(struct physmem *pm, uint64_t pa, bool sn, uint64_t *ret_old_control) WARN_UNUSED;
/** pid_set_on() - set ON; @ret_was_on says whether it was already set */
int pid_set_on(struct physmem *pm, uint64_t pa, bool *ret_was_on) WARN_UNUSED;
/** pid_clear_on() - clear ON; @ret_was_on says whether it was set */
int pid_clear_on(struct physmem *pm, uint64_t pa, bool *ret_was_on) WARN_UNUSED;
/** pid_set_notification() - change NV and NDST together, keeping ON and SN */
int pid_set_notification(struct physmem *pm, uint64_t pa, uint8_t nv, uint32_t ndst) WARN_UNUSED;

/**
 * pid_take_pir() - take and clear the PIR, as KVM harvests it (__kvm_apic_update_irr())
 *
 * A qword that reads zero is left alone; the others are exchanged with zero. A post that
 * lands after its qword read zero sets ON again and notifies again, so nothing is lost.
 */
int pid_take_pir(struct physmem *pm, uint64_t pa, uint64_t ret[PID_PIR_WORDS]) WARN_UNUSED;
/** pid_pir_pending() - whether any PIR bit (or, with @vector >= 0, that bit) is set */
int pid_pir_pending(const struct physmem *pm, uint64_t pa, int vector, bool *ret) WARN_UNUSED;

#endif
