#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""docs/pvir.1 keeps up with the program: every option a command's --help
lists is in the man page, every shipped scenario is installed, and the page
renders without warnings where groff is installed. Speaks TAP."""
import os
import re
import shutil
import subprocess
import sys

from tap import check, finish

PVIR, ROOT = sys.argv[1], sys.argv[2]
COMMANDS = ["run", "compare", "decode", "bench"]

with open(os.path.join(ROOT, "docs", "pvir.1"), encoding="utf-8") as f:
    page = f.read().replace("\\-", "-")

for cmd in COMMANDS:
    run = subprocess.run([PVIR, cmd, "--help"], capture_output=True, text=True, check=False)
    options = sorted(set(re.findall(r"--[a-z][a-z-]*", run.stdout)) - {"--help"})
    missing = [o for o in options if o not in page]
    check(f"{cmd}: {len(options)} options of --help in pvir.1",
                    run.returncode == 0 and options and not missing, missing)

with open(os.path.join(ROOT, "meson.build"), encoding="utf-8") as f:
    meson = f.read()
shipped = sorted(n for n in os.listdir(os.path.join(ROOT, "scenarios")) if n.endswith(".yaml"))
missing = [n for n in shipped if f"'scenarios/{n}'" not in meson]
check("meson install installs every shipped scenario", not missing, missing)

if shutil.which("groff"):
    render = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z",
                             os.path.join(ROOT, "docs", "pvir.1")],
                            capture_output=True, text=True, check=False)
    check("pvir.1 renders without warnings",
                    render.returncode == 0 and not render.stderr, [render.stderr])
else:
    check("pvir.1 renders (skipped: no groff)", True, [])

finish()
