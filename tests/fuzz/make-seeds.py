#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of tests/fuzz/corpus/ (run from the repository root).

The ABI seeds are programs in fuzz_abi.c's encoding: one opcode byte, then
its operands, little-endian. The scenario seeds are the shipped scenarios
that fit in 4 KiB plus small ones; the decode seeds, command lines.
"""
import os
import shutil
import struct

SYNC, SET_TABLE, QUERY, VIRTE_RAW, VIRTE, HOOK = 0, 2, 3, 4, 5, 6
MMIO_W, MMIO_R, CFG, MEM, RAISE, VCPU = 7, 8, 9, 10, 11, 12
NIC, DSA, MEMIMS, OTHER = 0, 1, 2, 3  # structured vIRTE sid choice


def virte(idx, sid=NIC, present=True, dest=0, vector=0x21):
    sel = sid | (0 if present else 4)
    return bytes([VIRTE, idx, sel, dest, vector - 0x20])


def sync(first, count):
    return bytes([SYNC, first, count])


def raise_(dev, n, b=0):
    return bytes([RAISE, dev, n, b])


def mmio_w(dev, off, val):
    return bytes([MMIO_W, dev]) + struct.pack('<HI', off, val)


def vcpu(vm, n, action, pcpu=0):
    return bytes([VCPU, vm | n << 1 | action << 2 | pcpu << 5])


def guest_virte_raw(idx, raw16):
    return bytes([VIRTE_RAW, idx]) + raw16


ABI = {
    'activate-nic': virte(0) + sync(0, 1) + raise_(NIC, 0),
    'activate-dsa-batch': b''.join(virte(i, DSA, dest=i & 1, vector=0x30 + i) for i in range(4))
    + sync(0, 4) + raise_(DSA, 0) + raise_(DSA, 3),
    'activate-memory-ims': virte(5, MEMIMS, vector=0x50) + sync(5, 1) + raise_(MEMIMS, 0),
    'retarget-then-teardown': virte(1) + sync(1, 1) + virte(1, dest=1, vector=0x33)
    + sync(1, 1) + virte(1, present=False) + sync(1, 1) + raise_(NIC, 0),
    'entry-changed-after-copy': virte(2) + bytes([HOOK]) + bytes([0x20, 0x00, 0x01, 0x00])
    + bytes(12) + sync(2, 1),
    'foreign-sid': virte(3, OTHER) + sync(3, 1) + virte(3, NIC, vector=0xec) + sync(3, 1),
    'set-table-variants': bytes([SET_TABLE, 0x20, 0x00, 0x01, 0x00])
    + bytes([SET_TABLE, 0x00, 0x00, 0x00, 0x00]) + bytes([SET_TABLE, 0xff, 0xff, 0xff, 0xff])
    + struct.pack('<Q', 0x10000) + bytes([QUERY, 0, 0]),
    'rogue-handles-in-msix': b''.join(mmio_w(NIC, 16 * n, 0xfee00010 | (h << 5))
                                      + mmio_w(NIC, 16 * n + 8, 0)
                                      + mmio_w(NIC, 16 * n + 12, 0) + raise_(NIC, n)
                                      for n, h in enumerate([0, 1, 2, 511, 512, 0x7fff])),
    'compat-message': mmio_w(NIC, 0, 0xfee01000) + mmio_w(NIC, 8, 0x41) + mmio_w(NIC, 12, 0)
    + raise_(NIC, 0, 1),
    'vcpu-states': virte(0) + sync(0, 1) + vcpu(0, 0, 0) + raise_(NIC, 0) + vcpu(0, 0, 1)
    + vcpu(1, 1, 2) + raise_(NIC, 0, 1) + vcpu(1, 1, 3, 2) + raise_(NIC, 0, 1)
    + vcpu(0, 1, 4),
    'huge-sync-count': bytes([SYNC, 0, 0xff]) + struct.pack('<Q', 2**64 - 1),
    'reserved-bits': guest_virte_raw(4, bytes([0x20, 0, 0x09, 0, 0, 0, 0, 0, 0x41, 1])
                                     + bytes(6)) + sync(4, 1),
    'guest-memory-under-table': bytes([MEM]) + (0x10000).to_bytes(3, 'little')
    + struct.pack('<Q', 0x0000000100010020) + sync(0, 1),
    'config-writes': bytes([CFG, 0x08, 0x04]) + struct.pack('<I', 0) + bytes([CFG, 0x0b, 0x72])
    + struct.pack('<I', 0x0000c00f),
    # the NIC's MSI: a block of four vIRTEs (PRESENT | MSI), its vectors raised, then one
    # more that MSI cannot take (-EBUSY)
    'msi-block': b''.join(guest_virte_raw(8 + i, bytes([0x20, 0, 0x09, 0, i & 1, 0, 0, 0,
                                                        0x50 + i]) + bytes(7))
                          for i in range(4)) + sync(8, 4)
    + b''.join(raise_(3, n) for n in range(4))
    + guest_virte_raw(12, bytes([0x20, 0, 0x09, 0, 0, 0, 0, 0, 0x60]) + bytes(7)) + sync(12, 1),
}

DECODE = {
    'irte-posted': b'irte\n0x1234567800040300:0x9abcdec00041c501',
    'irte-json-xapic': b'--json\n--xapic\nirte\n0x0:0x0000070100310001',
    'irte-no-posting': b'--no-posting\nirte\n0x0:0x8001',
    'msi-remappable': b'msi\n0xfee34240\n0xec',
    'msi-compat': b'--json\nmsi\n0xfee0003c\n3',
    'pid': b'pid\n0:0:0:0x0000000300f20005:0:0:0:0x8000000000000001',
    'bad-hex': b'irte\n0x11112222333344445:0x0',
    'debugfs-remapped': b' 0     00:0a.0 00000080 24  0000000000040050\t000000800024000d',
    'debugfs-posted': b' 5     03:00.0 12345678 9abcdec0 41  1234567800040300\t9abcdec00041c501',
    'qemu-irte-get': b'vtd_ir_irte_get index 0 low 0x0 high 0x100d10005',
    'lspci-msi': b'msi\nAddress: 00000000fee00558  Data: 4021',
    'gdb-irte': b'irte\n0xffff888100900000 <ir+0>:\t0x000000800024000d\t0x0000000000040050',
    'strict-swapped': b'--strict\nirte\n0x000000800024000d:0x0000000000040050',
    'stdin': b'-',
    'amd-irte-legacy': b'amd-irte\n0x80450301',
    'amd-irte-ga': b'--json\namd-irte\n0000000000050061\n00000abc000009c5',
    'amd-event': b'amd-event\nevent[0]=0x00000300 event[1]=0x20080000 event[2]=0xfee00000 '
                 b'event[3]=0x00000000',
    'amd-irqtbl': b'amd-irte\n-\nDeviceId 0000:03:00:0\nIRT[0005] 00450301\n'
                  b'0000:03:00.0 0000000000000000 2000000100900013 0000000000000000 '
                  b'0000000000000003 iommu0',
}

SCENARIO_SMALL = {
    'handle-windows.yaml': 'duration: 2ms\nhost: {pcpus: 4}\nvms:\n'
    '  - name: a\n    vcpus: 2\n    pin: [0, 1]\n    devices:\n'
    '      - {name: d, bdf: "6a:01.0", pasid: 1, guest_bdf: "00:04.0", ims: 8, '
    'handle_window: true}\n'
    '  - name: b\n    vcpus: 2\n    pin: [2, 3]\n    devices:\n'
    '      - {name: d, bdf: "6a:01.0", pasid: 2, guest_bdf: "00:04.0", ims: 8, '
    'ims_storage: memory, handle_window: true}\n'
    'workload:\n  - {at: 0ms, do: activate, dev: a/d, count: 2}\n'
    '  - {at: 0ms, do: activate, dev: b/d, count: 2}\n'
    '  - {at: 1ms, do: rogue_write, dev: b/d, entry: 0, addr: 0xfee00118, data: 0}\n'
    '  - {at: 1ms, do: traffic, dev: a/d, rate: 10K/s, until: 2ms}\n',
    'overcommit.yaml': 'duration: 2ms\nhost: {pcpus: 2, slice: 100us}\nvms:\n'
    '  - name: a\n    vcpus: 5\n    devices:\n'
    '      - {name: n, bdf: "03:00.0", guest_bdf: "00:04.0", msix: 8}\n'
    'workload:\n  - {at: 0ms, do: activate, dev: a/n, count: 8}\n'
    '  - {at: 0ms, do: traffic, dev: a/n, rate: 200K/s, until: 2ms}\n'
    '  - {at: 0.3ms, do: block, vcpu: a/0, for: 0.5ms}\n'
    '  - {at: 0.5ms, do: migrate, vcpu: a/3, pcpu: 1}\n'
    '  - {at: 0.7ms, do: preempt, vcpu: a/1, for: 0.2ms}\n',
    'two-hosts.yaml': 'duration: 1ms\nhosts:\n  - {name: a, pcpus: 2}\n'
    '  - {name: b, pcpus: 2, iommu: {kind: amdvi, table: 512}}\nvms:\n'
    '  - name: v\n    host: b\n    vcpus: 1\n    devices:\n'
    '      - {name: n, bdf: "03:00.0", guest_bdf: "00:04.0", msix: 2}\n'
    '  - name: w\n    vcpus: 1\n    devices:\n'
    '      - {name: n, bdf: "03:00.0", guest_bdf: "00:04.0", msix: 2}\n'
    'workload:\n  - {at: 0ms, do: activate, dev: v/n, count: 2}\n'
    '  - {at: 0ms, do: traffic, dev: v/n, rate: 100k, until: 1ms}\n',
    'migrate-vm.yaml': 'duration: 2ms\nhosts: [{name: a, pcpus: 2}, {name: b, pcpus: 2}]\n'
    'vms:\n  - name: v\n    vcpus: 2\n    devices:\n'
    '      - {name: n, bdf: "03:00.0", guest_bdf: "00:04.0", msix: 4}\n'
    '      - {name: m, bdf: "6a:00.0", guest_bdf: "00:05.0", ims: 4, ims_storage: memory}\n'
    'workload:\n  - {at: 0ms, do: activate, dev: v/n, count: 4}\n'
    '  - {at: 0ms, do: activate, dev: v/m, count: 4}\n'
    '  - {at: 0ms, do: traffic, dev: v/n, rate: 100K/s, until: 2ms}\n'
    '  - {at: 0ms, do: traffic, dev: v/m, rate: 100K/s, until: 2ms}\n'
    '  - {at: 0.5ms, do: migrate_vm, vm: v, to: b, downtime: 0.3ms}\n'
    '  - {at: 1.2ms, do: migrate_vm, vm: v, to: a, downtime: 0.3ms}\n',
    'minimal.yaml': 'duration: 1ms\nhost: {pcpus: 2}\nvms:\n  - name: a\n    vcpus: 1\n'
    '    devices:\n      - {name: n, bdf: "03:00.0", guest_bdf: "00:04.0", msix: 2}\n'
    'workload:\n  - {at: 0ms, do: activate, dev: a/n, count: 2}\n'
    '  - {at: 0ms, do: traffic, dev: a/n, rate: 100k, until: 1ms}\n',
}


# Device state streams: edits of a valid stream (tests/fuzz/fuzz_devstate.c).
DEVSTATE = {
    'unchanged': b'\x00',
    'cut-short': b'\x01\x10',
    'one-byte-long': b'\x02\x01',
    'other-magic': b'\x00\x00\x00\x01',
    'other-version': b'\x00\x04\x00\x02',
    'msix-ctrl-all-ones': b'\x00' + bytes([0x1c + 0x1000 & 0xff, (0x1c + 0x1000) >> 8, 0xff]),
    'config-command': b'\x00' + bytes([0x1c + 4, 0, 0xff]),
}


def write(folder, items):
    os.makedirs(folder, exist_ok=True)
    for name, data in items.items():
        with open(os.path.join(folder, name), 'wb') as f:
            f.write(data if isinstance(data, bytes) else data.encode())


def main():
    root = 'tests/fuzz/corpus'
    write(os.path.join(root, 'abi'), ABI)
    write(os.path.join(root, 'decode'), DECODE)
    write(os.path.join(root, 'scenario'), SCENARIO_SMALL)
    write(os.path.join(root, 'devstate'), DEVSTATE)
    for name in sorted(os.listdir('scenarios')):
        path = os.path.join('scenarios', name)
        if os.path.getsize(path) <= 4096:
            shutil.copy(path, os.path.join(root, 'scenario', name))


if __name__ == '__main__':
    main()
