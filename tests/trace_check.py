#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every trace pvir writes keeps the Trace Event Format's rules, checked on
traces that hold every event kind and on names with '"' and '\\':

  - it is JSON that parses, {"traceEvents": [...]};
  - every event has a phase, a track (pid, tid), a category and a name, and
    the names are a small fixed set (values go in args);
  - every track an event is on is named (process_name, thread_name);
  - slices on one track nest or follow each other, never partly overlap;
  - nothing lies past the run's end (setup takes no virtual time);
  - every flow starts once, ends once, goes forward in time, and each of
    its steps sits inside a slice on its track;

and the text trace is one line per event. Speaks TAP."""
import bisect
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict

from tap import check, finish

PVIR = sys.argv[1]
NAMES = {"dev_msi_send", "dev_msi_send_rogue", "vtd_ir_remap", "vtd_ir_fault",
         "amdvi_ir_remap", "amdvi_ir_fault", "pi_post", "avic_post",
         "kvm_inj_virq", "guest_irq_handlers", "sched_vcpu_in", "sched_vcpu_wait",
         "interrupt", "activate", "free", "traffic", "set_affinity", "preempt", "block",
         "migrate", "offline", "rogue_write", "hypercall"}
QUOTED = """name: 'q"uo\\te'
duration: 1ms
host: { pcpus: 2 }
vms:
  - name: 'v"m\\1'
    vcpus: 2
    devices:
      - { name: 'n"ic\\x', bdf: "03:00.0", guest_bdf: "00:04.0", msix: 4 }
workload:
  - { at: 0ms, do: activate, dev: 'v"m\\1/n"ic\\x', count: 4 }
  - { at: 0ms, do: traffic, dev: 'v"m\\1/n"ic\\x', rate: 1M/s, until: 1ms }
  - { at: 0ms, do: rogue_write, dev: 'v"m\\1/n"ic\\x', entry: 1, addr: 0xfee00000, data: 0x30 }
"""



def run(args, tmp, name):
    path = os.path.join(tmp, name)
    rc = subprocess.run([PVIR] + args + ["--trace", path, "--quiet"],
                        stdout=subprocess.DEVNULL, check=False).returncode
    with open(path, encoding="utf-8") as f:
        return rc, f.read()


def tracks(events):
    procs = {e["pid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "process_name"}
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events
               if e["ph"] == "M" and e["name"] == "thread_name"}
    return procs, threads


def nesting_errors(events):
    by_track = defaultdict(list)
    for e in events:
        if e["ph"] == "X":
            by_track[(e["pid"], e["tid"])].append((e["ts"], e["ts"] + e["dur"]))
    errors = []
    for track, slices in by_track.items():
        open_ends = []
        for start, end in sorted(slices, key=lambda s: (s[0], -s[1])):
            while open_ends and open_ends[-1] <= start:
                open_ends.pop()
            if open_ends and end > open_ends[-1]:
                errors.append(f"{track}: [{start}, {end}] overlaps a slice ending {open_ends[-1]}")
            open_ends.append(end)
    return errors, by_track


def flow_errors(events, by_track):
    flows = defaultdict(list)
    for e in events:
        if e["ph"] in "stf" and len(e["ph"]) == 1:
            flows[e["id"]].append(e)
    # per track: starts sorted, with the largest end so far, to find an enclosing slice fast
    index = {}
    for track, slices in by_track.items():
        slices = sorted(slices)
        ends, top = [], float("-inf")
        for _, end in slices:
            top = max(top, end)
            ends.append(top)
        index[track] = ([a for a, _ in slices], ends)

    def inside(track, ts):
        starts, ends = index.get(track, ([], []))
        i = bisect.bisect_right(starts, ts)
        return i > 0 and ends[i - 1] >= ts

    errors = []
    for fid, steps in flows.items():
        phases = [s["ph"] for s in steps]
        if phases.count("s") != 1 or phases.count("f") != 1 or phases[0] != "s" \
                or phases[-1] != "f":
            errors.append(f"flow {fid}: phases {phases}")
        if any(b["ts"] < a["ts"] for a, b in zip(steps, steps[1:])):
            errors.append(f"flow {fid}: goes back in time")
        for s in steps:
            if s.get("bp") != "e" or not inside((s["pid"], s["tid"]), s["ts"]):
                errors.append(f"flow {fid}: step at {s['ts']} on ({s['pid']}, {s['tid']}) "
                              "is not inside a slice")
    return errors, len(flows)


def validate(label, text, end_us):
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        check(f"{label}: the trace is JSON", False, str(e))
        return []
    events = doc.get("traceEvents", [])
    check(f"{label}: the trace is JSON with traceEvents", isinstance(events, list) and events)
    bad = [e for e in events if not {"ph", "pid", "tid", "name"} <= e.keys()
           or (e["ph"] != "M" and not {"ts", "cat"} <= e.keys())]
    check(f"{label}: every event has a phase, track, category and name", not bad, bad[:3])
    names = {e["name"] for e in events if e["ph"] != "M"}
    check(f"{label}: {len(names)} fixed event names", names <= NAMES, names - NAMES)
    procs, threads = tracks(events)
    unnamed = {(e["pid"], e["tid"]) for e in events if e["ph"] != "M"} - set(threads)
    unnamed |= {(p, 0) for p, _ in threads if p not in procs}
    check(f"{label}: every track is named", not unnamed, sorted(unnamed)[:5])
    late = [e for e in events if e["ph"] != "M" and e["ts"] + e.get("dur", 0) > end_us]
    check(f"{label}: nothing past the run's end ({end_us} us)", not late, late[:2])
    errors, by_track = nesting_errors(events)
    check(f"{label}: slices nest per track", not errors, errors[:3])
    errors, n = flow_errors(events, by_track)
    check(f"{label}: {n} flows, each closed and bound to slices", n and not errors, errors[:3])
    return events


# The default scenario, every operation of it, at a tenth of its traffic: the
# checks walk every event, and a sanitizer build runs this too.
HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "scenarios", "default.yaml"), encoding="utf-8") as f:
    LIGHT = f.read().replace("rate: 2M/s", "rate: 200K/s")
assert "rate: 200K/s" in LIGHT

with tempfile.TemporaryDirectory() as tmp:
    light = os.path.join(tmp, "light.yaml")
    with open(light, "w", encoding="utf-8") as f:
        f.write(LIGHT)
    rc, text = run(["run", "--design", "all", light], tmp, "all.json")
    check("run --design all --trace exits 0", rc == 0)
    events = validate("default, all designs", text, 20000)
    procs, threads = tracks(events)
    kinds = {e["name"] for e in events}
    for kind in ("dev_msi_send", "dev_msi_send_rogue", "vtd_ir_remap", "vtd_ir_fault",
                 "pi_post", "kvm_inj_virq", "guest_irq_handlers", "activate", "set_affinity"):
        check(f"the default run, all designs, has {kind}", kind in kinds)
    for d in ("trap", "vir-emul", "hcall"):
        vcpu = [n for (pid, _), n in threads.items() if procs.get(pid) == f"{d}: VM web"]
        check(f"{d}: 12 vCPU tracks and the operations'",
              sorted(vcpu) == sorted([f"vCPU {i}" for i in range(12)] + ["operations"]))
        act = [e for e in events if e["name"] == "activate" and procs.get(e["pid"]) ==
               f"{d}: VM web" and e["args"]["target"] == "web/nic0"]
        # 64 vectors, 10 trapped accesses each (14 with the vIOMMU's two flushes)
        want = {"trap": 640, "vir-emul": 896, "hcall": 0}[d]
        check(f"{d}: the NIC's activation, an instant with {want} trapped accesses in args",
              len(act) == 1 and act[0]["ph"] == "i" and act[0]["args"]["mmio_traps"] == want
              and act[0]["args"]["modelled_ns"] > 0)

    path = os.path.join(tmp, "quoted.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(QUOTED)
    rc, text = run(["run", "--design", "all", path], tmp, "quoted.json")
    check("a scenario whose names hold quotes and backslashes runs", rc == 0)
    events = validate("quoted names", text, 1000)
    procs, threads = tracks(events)
    check("the quoted names come back as written",
          'hcall: VM v"m\\1' in procs.values() and 'v"m\\1/n"ic\\x' in threads.values())

    rc, text = run(["compare", light], tmp, "compare.json")
    events = validate("compare", text, 20000)
    procs, _ = tracks(events)
    check("compare --trace holds all three designs",
          rc == 0 and {"trap: IOMMU", "vir-emul: IOMMU", "hcall: IOMMU"} <= set(procs.values()))

    rc, text = run(["run", "--design", "vir-emul", "--trace-format", "text", light], tmp,
                   "vir.txt")
    lines = text.splitlines()
    form = re.compile(r"^(trap|vir-emul|hcall) \d+\.\d{3}: [a-z_]+( \S+ \S+)*$")
    bad = [l for l in lines if not form.match(l)]
    check("the text trace is one event per line, design, time, name, key value",
          rc == 0 and len(lines) > 3000 and not bad, bad[:3])
    check("the text trace names events like QEMU's and KVM's tracepoints",
          any(": vtd_ir_remap " in l for l in lines) and
          any(": kvm_inj_virq " in l for l in lines) and
          any(": irq_handler_entry " in l for l in lines))

    bad = subprocess.run([PVIR, "run", "--trace", os.path.join(tmp, "no", "such", "dir")],
                         capture_output=True, text=True, check=False)
    check("an unwritable trace is a usage error", bad.returncode == 2 and
          "--trace" in bad.stderr and "No such file or directory" in bad.stderr)

finish()
