/* SPDX-License-Identifier: MIT */
/*
 * Live migration of a VM with assigned devices to another host (docs/migration.md), in
 * the three steps a VMM takes:
 *
 *   begin   the source runs on. The destination VM is made on the other host with
 *           the destination's functions at the same guest BDFs; what the destination
 *           cannot give (its quota for the VM) fails here, with the source untouched.
 *   switch  downtime starts. The source's vCPUs stop with their posted vectors
 *           harvested into their vAPICs, as KVM saves them; each device goes through
 *           VFIO's STOP_COPY into its destination function, which stays stopped (a
 *           raise there latches); guest RAM and the vAPICs are copied; the VMM's state
 *           is restored, each vIRTE synced again on the destination. An entry whose
 *           handle was taken there is flagged for the remap event and its storage held
 *           masked. A failure resumes the source as it was.
 *   finish  downtime ends: the destination's devices run (what latched and is unmasked
 *           goes out, once) and, if handles moved, the guest gets the remap event.
 *
 * The guest kernel moves between switch and finish (guest_rebind()). Every design moves:
 * the pvir service's entries are synced again; emulated MSI-X (`trap`, `vir-emul`) is
 * rebuilt as QEMU's load does; an emulated vIOMMU takes the source unit's registers, its
 * tables coming with guest RAM. A vIOMMU cannot become another kind of IOMMU.
 */
#ifndef PVIR_MIGRATE_H
#define PVIR_MIGRATE_H

#include <stdint.h>

#include "pvir/compiler.h"

struct host;
struct pci_func;
struct vm;
struct vm_migration;

struct vm_migrate_opts {
	uint32_t irte_quota; /* the destination's quota for the VM; 0: the source's */
};

/**
 * vm_migration_begin() - the destination VM on @dst, @funcs[i] standing for the source's
 * i-th assigned device (as many as it has)
 * Return: 0 and *@ret; -EINVAL (@funcs do not match); -EDQUOT (the destination's quota
 * is below what the VM holds); an error of making the destination VM (-EBUSY: a function
 * already assigned, -ENOMEM). On error nothing has changed.
 */
int vm_migration_begin(struct vm *src, struct host *dst, struct pci_func *const *funcs,
		       unsigned nfuncs, const struct vm_migrate_opts *opts,
		       struct vm_migration **ret) WARN_UNUSED;

/**
 * vm_migration_switch() - downtime starts: everything moves to the destination
 * Return: 0; or the error that stopped it (-EBUSY: handles moved and the guest registered
 * no remap event; -EOPNOTSUPP: a vIOMMU, and the destination's IOMMU is of another kind; a
 * device's stream refused; the destination's service could not restore an entry), with
 * the source running again as it was.
 */
int vm_migration_switch(struct vm_migration *m) WARN_UNUSED;

/** vm_migration_finish() - downtime ends. Return: 0, or -EINVAL before a switch */
int vm_migration_finish(struct vm_migration *m) WARN_UNUSED;

/** vm_migration_dest() - the destination VM: the caller's to free once finished */
struct vm *vm_migration_dest(const struct vm_migration *m);
/** vm_migration_moved() - vIRTEs whose handle the destination could not keep */
uint32_t vm_migration_moved(const struct vm_migration *m);
/**
 * vm_migration_remap_event() - whether the finish sends the guest the remap event: a
 * handle moved, or an entry was stale at the source already and still is
 */
bool vm_migration_remap_event(const struct vm_migration *m);

/**
 * vm_migration_free() - done with @m. Before a successful switch it abandons the
 * migration: the destination VM goes, the source runs on. After it, the source VM is
 * stopped for good and the caller frees it.
 */
void vm_migration_free(struct vm_migration *m);

#endif
