#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""scripts/test-summary over made-up meson logs: a binary meson killed at its
timeout, or one that crashed, counts every case it never ran as failed and
is named; a finished one counts what it reported. Speaks TAP."""
import json
import os
import subprocess
import sys
import tempfile

SUMMARY = sys.argv[1]
results = []


def check(name, cond):
    results.append((name, bool(cond)))


def summary(tests):
    with tempfile.TemporaryDirectory() as build:
        os.makedirs(f"{build}/meson-logs")
        with open(f"{build}/meson-logs/testlog.json", "w", encoding="utf-8") as log:
            for t in tests:
                log.write(json.dumps(t) + "\n")
        run = subprocess.run([sys.executable, SUMMARY, build], capture_output=True,
                             text=True, check=False)
        return run.returncode, run.stdout.replace(build, "B")


def tap(plan, ok, not_ok=0):
    lines = [f"1..{plan}"] + [f"ok {i + 1} - t{i}" for i in range(ok)]
    lines += [f"not ok {ok + i + 1} - t{ok + i}" for i in range(not_ok)]
    return "\n".join(lines) + "\n"


rc, out = summary([{"name": "a", "result": "OK", "stdout": tap(3, 3)}])
check("finished binary: its cases", rc == 0 and "B: 3 passed, 0 failed" in out)

rc, out = summary([{"name": "slow", "result": "TIMEOUT", "stdout": tap(10, 4)}])
check("killed binary: the 6 cases it never ran fail", rc == 1 and "4 passed, 6 failed" in out)
check("killed binary: named", "B: slow: TIMEOUT, 4 of 10 cases ran" in out)

rc, out = summary([{"name": "bang", "result": "ERROR", "stdout": tap(5, 2, 1)}])
check("crashed binary: its failure and the unrun", "2 passed, 3 failed" in out)

rc, out = summary([{"name": "early", "result": "ERROR", "stdout": ""}])
check("died before its plan: one failure, named", rc == 1 and "0 passed, 1 failed" in out
      and "B: early: ERROR" in out)

rc, out = summary([{"name": "done", "result": "ERROR", "stdout": tap(2, 2)}])
check("all cases passed but exit failed: one failure", "2 passed, 1 failed" in out)

rc, out = summary([])
check("nothing ran: an error", rc == 1 and "0 passed, 0 failed" in out)

print(f"1..{len(results)}")
for i, (name, ok) in enumerate(results, 1):
    print(f"{'ok' if ok else 'not ok'} {i} - {name}")
sys.exit(0 if all(ok for _, ok in results) else 1)
