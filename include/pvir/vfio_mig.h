/* SPDX-License-Identifier: MIT */
/*
 * VFIO's migration interface for an assigned function, as the uapi defines it
 * (include/uapi/linux/vfio.h: VFIO_DEVICE_FEATURE_MIGRATION,
 * VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, the data transfer fd,
 * VFIO_MIG_GET_PRECOPY_INFO): the host kernel's variant driver for a pvir
 * function. It supports STOP_COPY and PRE_COPY, not P2P (the model has no
 * peer-to-peer DMA), so its states are RUNNING, STOP, STOP_COPY, RESUMING and
 * PRE_COPY. A request for a state more than one arc away walks the shortest
 * path as Linux's vfio_mig_get_next_state() does; the data fd is modelled as
 * vfio_mig_read()/vfio_mig_write() on the open session (docs/migration.md).
 */
#ifndef PVIR_VFIO_MIG_H
#define PVIR_VFIO_MIG_H

#include <linux/vfio.h>
#include <stddef.h>
#include <sys/types.h>

#include "pvir/compiler.h"

/* The precopy states and flag, on uapi headers older than Linux 6.2 (Debian 12's). */
#ifndef VFIO_MIGRATION_PRE_COPY
#define VFIO_MIGRATION_PRE_COPY	       (1 << 2)
#define VFIO_DEVICE_STATE_PRE_COPY     6
#define VFIO_DEVICE_STATE_PRE_COPY_P2P 7
struct vfio_precopy_info {
	__u32 argsz;
	__u32 flags;
	__aligned_u64 initial_bytes;
	__aligned_u64 dirty_bytes;
};
#endif
#define VFIO_MIG_STATES (VFIO_DEVICE_STATE_PRE_COPY_P2P + 1)

struct pci_func;
struct vfio_mig;

/** vfio_mig_open() - the migration driver bound to @f, in RUNNING. Return: 0 or -ENOMEM */
int vfio_mig_open(struct pci_func *f, struct vfio_mig **ret) WARN_UNUSED;
void vfio_mig_close(struct vfio_mig *m);

/** vfio_mig_flags() - VFIO_DEVICE_FEATURE_MIGRATION's flags: STOP_COPY | PRE_COPY */
uint64_t vfio_mig_flags(void);

/** vfio_mig_state() - VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, GET */
uint32_t vfio_mig_state(const struct vfio_mig *m);

/**
 * vfio_mig_next_state() - the first arc toward @target from @cur, for a driver with
 * @flags; @cur itself when there. Linux's vfio_mig_get_next_state(), from the uapi's
 * rules. Return: 0, or -EINVAL for a state that does not exist or is not supported, and
 * for STOP_COPY -> PRE_COPY, which the uapi forbids.
 */
int vfio_mig_next_state(uint64_t flags, uint32_t cur, uint32_t target, uint32_t *next) WARN_UNUSED;

/**
 * vfio_mig_set_state() - VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE, SET: walk to @target one
 * arc at a time. RUNNING -> STOP stops the function, STOP -> RUNNING starts it (its
 * latched vectors go out); STOP -> STOP_COPY and PRE_COPY -> STOP_COPY take the state
 * stream; STOP -> RESUMING opens an empty one; RESUMING -> STOP loads it.
 * Return: 0; -EINVAL for a bad @target (nothing done); or the error of the arc that
 * failed, with the state left where the walk stood, as the uapi allows. RESUMING -> STOP
 * with a stream the function refuses fails with -EINVAL and stays in RESUMING, the
 * function unchanged.
 */
int vfio_mig_set_state(struct vfio_mig *m, uint32_t target) WARN_UNUSED;

/**
 * vfio_mig_read() - read() on the saving session's data fd: in STOP_COPY the stream from
 * where the last read stopped, 0 at its end; in PRE_COPY nothing yet (0). Return: bytes
 * read, or -EINVAL with no saving session open.
 */
ssize_t vfio_mig_read(struct vfio_mig *m, void *buf, size_t len) WARN_UNUSED;

/**
 * vfio_mig_write() - write() on the resuming session's data fd: appends @len bytes.
 * Return: @len; -EINVAL outside RESUMING; -ENOSPC, appending nothing, past the size of a
 * whole stream.
 */
ssize_t vfio_mig_write(struct vfio_mig *m, const void *buf, size_t len) WARN_UNUSED;

/**
 * vfio_mig_precopy_info() - VFIO_MIG_GET_PRECOPY_INFO: the function's interrupt state is
 * small and changes while it runs, so nothing is worth sending early: initial and dirty
 * bytes are 0. Return: 0, or -EINVAL outside PRE_COPY.
 */
int vfio_mig_precopy_info(const struct vfio_mig *m, struct vfio_precopy_info *info) WARN_UNUSED;

/** vfio_mig_reset() - VFIO_DEVICE_RESET as it concerns migration: back to RUNNING, sessions closed */
void vfio_mig_reset(struct vfio_mig *m);

#endif
