#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`pvir run --trace` and `pvir compare --trace` write trace-event JSON that
parses, with a track per pCPU and vCPU, the IOMMU and each device, and the
operations, landings and interrupts on them. Speaks TAP."""
import json
import os
import subprocess
import sys
import tempfile

PVIR = sys.argv[1]
results = []


def check(name, cond):
    results.append((name, bool(cond)))


def tracks(events):
    procs = {e["pid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "process_name"}
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
               if e["ph"] == "M" and e["name"] == "thread_name"}
    return procs, threads


def on(events, procs, proc, ph, prefix):
    pids = [p for p, n in procs.items() if n == proc]
    return [e for e in events if e["ph"] == ph and e["pid"] in pids
            and e["name"].startswith(prefix)]


with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "run.json")
    rc = subprocess.run([PVIR, "run", "--design", "all", "--trace", path, "--quiet"],
                        stdout=subprocess.DEVNULL).returncode
    check("run --design all --trace exits 0", rc == 0)
    with open(path, encoding="utf-8") as f:
        events = json.load(f)["traceEvents"]
    procs, threads = tracks(events)
    for d in ("trap", "vir-emul", "hcall"):
        for p in ("pCPUs", "IOMMU", "devices", "VM web"):
            check(f"{d}: process '{p}'", f"{d}: {p}" in procs.values())
        pcpu = [n for (pid, _), n in threads.items() if procs[pid] == f"{d}: pCPUs"]
        vcpu = [n for (pid, _), n in threads.items() if procs[pid] == f"{d}: VM web"]
        devs = [n for (pid, _), n in threads.items() if procs[pid] == f"{d}: devices"]
        check(f"{d}: 16 pCPU tracks", sorted(pcpu) == sorted(f"pCPU {i}" for i in range(16)))
        check(f"{d}: 12 vCPU tracks", sorted(vcpu) == sorted(f"vCPU {i}" for i in range(12)))
        check(f"{d}: a track per device", sorted(devs) == ["web/dsa0", "web/nic0"])
        act = on(events, procs, f"{d}: VM web", "X", "activate web/nic0")
        check(f"{d}: the NIC's activation is a slice", len(act) == 1)
        if act:
            want = {"trap": 384, "vir-emul": 512, "hcall": 0}[d]
            check(f"{d}: its args count {want} trapped accesses",
                  act[0]["args"]["mmio_traps"] == want)
        check(f"{d}: interrupts handled on vCPU tracks",
              len(on(events, procs, f"{d}: VM web", "X", "interrupts")) > 1000)
        check(f"{d}: raises on the device tracks",
              len(on(events, procs, f"{d}: devices", "i", "raise entry")) > 30000)
        check(f"{d}: posts on the pCPU tracks",
              len(on(events, procs, f"{d}: pCPUs", "i", "post")) > 30000)
    check("hcall: the IOMMU blocks the rogue handle (0x26)",
          on(events, procs, "hcall: IOMMU", "i", "blocked 0x26"))

    path = os.path.join(tmp, "compare.json")
    rc = subprocess.run([PVIR, "compare", "--trace", path, "--quiet"],
                        stdout=subprocess.DEVNULL).returncode
    with open(path, encoding="utf-8") as f:
        procs, _ = tracks(json.load(f)["traceEvents"])
    check("compare --trace holds all three designs",
          rc == 0 and {"trap: IOMMU", "vir-emul: IOMMU", "hcall: IOMMU"} <= set(procs.values()))

    bad = subprocess.run([PVIR, "run", "--trace", os.path.join(tmp, "no", "such", "dir")],
                         capture_output=True, text=True)
    check("an unwritable trace is a usage error", bad.returncode == 2 and
          "--trace" in bad.stderr and "No such file or directory" in bad.stderr)

print(f"1..{len(results)}")
for i, (name, ok) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
sys.exit(0 if all(ok for _, ok in results) else 1)
