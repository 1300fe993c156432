/* SPDX-License-Identifier: MIT */
/*
 * Failure injection, as SQLite's tests do it: fail the Nth call of one kind
 * from now on, for N = 1, 2, ... until the operation under test succeeds,
 * and check after each failure that nothing was half-done.
 *
 * The kinds are the host's failures that a guest's operation can meet:
 *  - FAILPOINT_ALLOC: an allocation (the test binary routes malloc, calloc
 *    and realloc through failpoint_hit(); the library itself does not);
 *  - FAILPOINT_IRTE_WRITE: the host IR driver storing an IRTE, -EIO with the
 *    entry left as it was;
 *  - FAILPOINT_INVALIDATION: the host's IEC invalidation, -EIO, as an
 *    invalidation queue error;
 *  - FAILPOINT_GUEST_READ: the host reading guest memory (a vIRTE copied
 *    by SYNC, a device's DMA of memory-resident IMS), -EFAULT.
 *
 * The state is per thread. Unarmed, a hit costs one thread-local load.
 */
#ifndef PVIR_FAILPOINT_H
#define PVIR_FAILPOINT_H

#include <stdbool.h>
#include <stdint.h>

enum failpoint {
	FAILPOINT_ALLOC,
	FAILPOINT_IRTE_WRITE,
	FAILPOINT_INVALIDATION,
	FAILPOINT_GUEST_READ,
	FAILPOINT_COUNT
};

/* The @nth call (1-based) of @fp from now fails; 0 disarms. Counts restart. */
void failpoint_arm(enum failpoint fp, uint64_t nth);
/* The @nth call and every one after it fail: a failure that persists. */
void failpoint_arm_sticky(enum failpoint fp, uint64_t nth);
void failpoint_disarm(void);
/* Called at each site: true when this call is the one to fail. */
bool failpoint_hit(enum failpoint fp);
/* Calls of @fp since it was armed, and whether the armed one came. */
uint64_t failpoint_calls(enum failpoint fp);
bool failpoint_fired(enum failpoint fp);
const char *failpoint_name(enum failpoint fp);

#endif
