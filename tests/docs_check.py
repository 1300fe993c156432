#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The repository stands alone: no file points at notes kept outside it, and
every `docs/design.md §n` that code or docs cite is a section of that page.
Speaks TAP."""
import os
import re
import sys

ROOT = sys.argv[1]
SKIP_DIRS = {".git", "subprojects"}
OUTSIDE = [
    (re.compile(r"\.\./shared"), "a path outside the repository"),
    (re.compile(r"\bDESIGN\.md\b"), "a design note outside the repository"),
    (re.compile(r"\b(PERF-)?FACTS(\.md)?\s*§"), "a fact sheet outside the repository"),
    (re.compile(r"\bPEERS\.md\b"), "a survey outside the repository"),
]
CITE = re.compile(r"docs/design\.md §(\d+)")


def text_files():
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs
                   if d not in SKIP_DIRS and not d.startswith("build")]
        for name in files:
            path = os.path.join(top, name)
            try:
                with open(path, encoding="utf-8") as f:
                    yield os.path.relpath(path, ROOT), f.read()
            except (UnicodeDecodeError, OSError):
                continue  # binary files hold no references


def main():
    with open(os.path.join(ROOT, "docs", "design.md"), encoding="utf-8") as f:
        sections = set(re.findall(r"^## (\d+)\.", f.read(), re.M))
    bad, cites = [], 0
    for rel, text in text_files():
        if rel == os.path.join("tests", "docs_check.py"):
            continue  # the patterns themselves
        for n, line in enumerate(text.splitlines(), 1):
            for pat, what in OUTSIDE:
                if pat.search(line):
                    bad.append(f"{rel}:{n}: {what}: {line.strip()}")
            for sec in CITE.findall(line):
                cites += 1
                if sec not in sections:
                    bad.append(f"{rel}:{n}: docs/design.md has no §{sec}")
    print("1..2")
    print(("ok" if not bad else "not ok") + " 1 - nothing points outside the repository")
    for b in bad:
        print("# " + b)
    print(("ok" if cites and not bad else "not ok") +
          f" 2 - {cites} citations of docs/design.md name its sections")
    return 0 if not bad and cites else 1


sys.exit(main())
