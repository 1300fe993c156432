# SPDX-License-Identifier: MIT
"""TAP for the Python checks: record results, then print them and exit."""
import sys

_results = []


def check(name, cond, detail=""):
    """One test point; @detail is printed as a diagnostic if it fails."""
    _results.append((name, bool(cond), detail))


def finish():
    print(f"1..{len(_results)}")
    for i, (name, ok, detail) in enumerate(_results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {name}")
        if not ok and detail:
            print(f"# {detail}")
    sys.exit(0 if all(ok for _, ok, _ in _results) else 1)
