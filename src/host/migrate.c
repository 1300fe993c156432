// SPDX-License-Identifier: MIT
/*
 * A VM moved to another host (pvir/migrate.h, docs/migration.md): the VMM's side,
 * over VFIO's migration driver for each device (vfio_mig.c), KVM's vCPU save and the
 * service's restore (hcall.c).
 */
#include "pvir/migrate.h"

#include <errno.h>
#include <stdlib.h>

#include "pvir/physmem.h"
#include "pvir/vfio_mig.h"
#include "vm_internal.h"

struct vm_migration {
	struct vm *src, *dst;
	struct vfio_mig *from[VM_MAX_DEVICES], *to[VM_MAX_DEVICES];
	unsigned ndevs;
	uint32_t moved;
	bool switched, finished;
};

static int make_dest(struct vm_migration *m, struct host *dst, struct pci_func *const *funcs,
		     uint32_t quota)
{
	struct vm *src = m->src;
	struct vm_config c = {.name = src->name,
			      .vcpus = src->nvcpus,
			      .mem_size = physmem_size(src->mem),
			      .irte_quota = quota,
			      .pvir_service = src->pvir_service,
			      .remap_event = src->remap_event,
			      .viommu = src->viommu_cfg};
	int err = vm_create(dst, &c, &m->dst);

	for (unsigned d = 0; !err && d < src->ndevs; d++)
		err = vm_assign_device(m->dst, funcs[d], src->devs[d]->guest_bdf, NULL);
	for (unsigned d = 0; !err && d < src->ndevs; d++) {
		err = vfio_mig_open(src->devs[d]->func, &m->from[d]);
		if (!err)
			err = vfio_mig_open(funcs[d], &m->to[d]);
		m->ndevs = d + 1;
	}
	return err;
}

static void close_devices(struct vm_migration *m)
{
	for (unsigned d = 0; d < m->ndevs; d++) {
		vfio_mig_close(m->from[d]);
		vfio_mig_close(m->to[d]);
		m->from[d] = m->to[d] = NULL;
	}
}

void vm_migration_free(struct vm_migration *m)
{
	if (!m)
		return;
	close_devices(m);
	if (!m->switched)
		vm_free(m->dst);
	free(m);
}

int vm_migration_begin(struct vm *src, struct host *dst, struct pci_func *const *funcs,
		       unsigned nfuncs, const struct vm_migrate_opts *opts,
		       struct vm_migration **ret)
{
	uint32_t quota = opts && opts->irte_quota ? opts->irte_quota : src->quota;
	struct vm_migration *m;
	int err;

	if (nfuncs != src->ndevs || (nfuncs && !funcs))
		return -EINVAL;
	if (quota < src->used)
		return -EDQUOT; /* what the VM holds would not fit: refused while it runs */
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->src = src;
	err = make_dest(m, dst, funcs, quota);
	if (err) {
		vm_migration_free(m);
		return err;
	}
	*ret = m;
	return 0;
}

/* ---- the switch ---------------------------------------------------------------------- */

/* KVM's save: off its pCPU, the posted vectors in its vAPIC. */
static void stop_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		host_vcpu_preempt(vm->host, &vm->vcpus[i]);
		host_vcpu_harvest(vm->host, &vm->vcpus[i]);
	}
}

/* One device's state, source STOP_COPY to destination RESUMING and loaded: both stopped. */
static int move_device(struct vm_migration *m, unsigned d)
{
	uint8_t buf[4096];
	ssize_t n;
	int err = vfio_mig_set_state(m->from[d], VFIO_DEVICE_STATE_STOP_COPY);

	if (!err)
		err = vfio_mig_set_state(m->to[d], VFIO_DEVICE_STATE_RESUMING);
	while (!err && (n = vfio_mig_read(m->from[d], buf, sizeof(buf))) > 0)
		if (vfio_mig_write(m->to[d], buf, (size_t)n) != n)
			err = -EIO;
	if (!err)
		err = vfio_mig_set_state(m->to[d], VFIO_DEVICE_STATE_STOP);
	if (!err)
		err = vfio_mig_set_state(m->from[d], VFIO_DEVICE_STATE_STOP);
	return err;
}

/* The vAPICs, with what was posted harvested into them (stop_vcpus). */
static void copy_vcpus(struct vm *to, const struct vm *from)
{
	for (unsigned i = 0; i < from->nvcpus; i++)
		to->vcpus[i].vapic = from->vcpus[i].vapic;
}

/* A switch that failed: the source's devices and vCPUs run again; the destination's stop. */
static void resume_source(struct vm_migration *m)
{
	for (unsigned d = 0; d < m->ndevs; d++) {
		(void)!vfio_mig_set_state(m->from[d], VFIO_DEVICE_STATE_RUNNING);
		vfio_mig_reset(m->to[d]);
	}
	for (unsigned i = 0; i < m->src->nvcpus; i++)
		host_vcpu_run(m->src->host, &m->src->vcpus[i]);
}

int vm_migration_switch(struct vm_migration *m)
{
	int err = 0;

	if (m->switched)
		return -EINVAL;
	stop_vcpus(m->src);
	for (unsigned d = 0; !err && d < m->ndevs; d++)
		err = move_device(m, d);
	if (!err)
		err = physmem_copy(m->dst->mem, m->src->mem);
	if (!err) {
		copy_vcpus(m->dst, m->src);
		err = viommu_restore(m->dst, m->src);
	}
	if (!err)
		err = hcall_restore(m->dst, m->src, &m->moved);
	for (unsigned d = 0; !err && d < m->ndevs; d++) {
		irq_emul_restore(m->dst->devs[d], m->src->devs[d]); /* emulated storage (`trap`) */
		vmm_cfg_restore(m->dst->devs[d], m->src->devs[d]);
	}
	if (!err && (m->moved || m->dst->hc.nstale) && !m->dst->hc.event_vector)
		err = -EBUSY; /* handles moved, and the guest cannot be told */
	if (err) {
		resume_source(m);
		return err;
	}
	m->switched = true;
	return 0;
}

int vm_migration_finish(struct vm_migration *m)
{
	if (!m->switched || m->finished)
		return -EINVAL;
	for (unsigned d = 0; d < m->ndevs; d++)
		(void)!vfio_mig_set_state(m->to[d],
					  VFIO_DEVICE_STATE_RUNNING); /* STOP -> RUNNING */
	if (vm_migration_remap_event(m))
		(void)!vm_pvir_remap_event(m->dst); /* registered: the switch checked */
	m->finished = true;
	return 0;
}

struct vm *vm_migration_dest(const struct vm_migration *m)
{
	return m->dst;
}

bool vm_migration_remap_event(const struct vm_migration *m)
{
	return m->switched && m->dst->hc.nstale;
}

uint32_t vm_migration_moved(const struct vm_migration *m)
{
	return m->moved;
}
