#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`pvir compare --sweep ... --plot FILE.svg` draws an SVG that parses as
XML, with a series per design in that design's colour and, in each, a point
per N, or a failure mark where the design failed (past 4,096 vectors a stock
KVM has no GSI route left). Speaks TAP."""
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

from tap import check, finish

PVIR = sys.argv[1]
SVG = "{http://www.w3.org/2000/svg}"
COLOURS = {"trap": "#d55e00", "vir-emul": "#e69f00", "hcall": "#0072b2"}
SIZES = [8, 64, 4100]



with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "sweep.svg")
    run = subprocess.run([PVIR, "compare", "--sweep", ",".join(map(str, SIZES)),
                          "--plot", path, "--quiet"], capture_output=True, text=True,
                         check=False)
    check("compare --sweep --plot exits 0 and prints its table too",
          run.returncode == 0 and "hcall" in run.stdout, run.stderr)
    root = ET.parse(path).getroot()
    check("the file is an SVG document", root.tag == SVG + "svg" and root.get("viewBox"))
    series = {g.get("data-name"): g for g in root.iter(SVG + "g") if g.get("class") == "series"}
    check("a series per design", set(series) == set(COLOURS), sorted(series))
    for name, g in series.items():
        check(f"{name}: drawn in its colour", g.get("stroke") == COLOURS.get(name), g.get("stroke"))
        marks = {int(e.get("data-x")): e.get("class") for e in g
                 if e.get("class") in ("point", "fail")}
        check(f"{name}: a point or a failure mark per N", sorted(marks) == SIZES, marks)
        check(f"{name}: points where it set N up", marks.get(8) == "point" and
              marks.get(64) == "point", marks)
        check(f"{name}: a failure mark past the 4096 routes", marks.get(4100) == "fail", marks)

    bad = subprocess.run([PVIR, "compare", "--plot", path], capture_output=True, text=True,
                         check=False)
    check("--plot without --sweep is refused with the fix",
          bad.returncode == 2 and "add --sweep" in bad.stderr, bad.stderr)

finish()
