# SPDX-License-Identifier: GPL-2.0
"""The C unit tests (cmocka, tests/unit/), one pytest item per test case.

Each binary runs once, in cmocka's TAP mode; its `ok` / `not ok` lines become
the outcomes. A binary that crashes or prints no plan fails as a whole."""

import os
import re
import subprocess
from functools import lru_cache

import pytest

from harness import ROOT

UNIT_DIR = ROOT / "build" / "unit"
SOURCES = sorted((ROOT / "tests" / "unit").glob("test_*.c"))


@lru_cache(maxsize=None)
def run_binary(name):
    exe = UNIT_DIR / name
    if not exe.exists():
        return None, f"{exe} not built (make check builds it)"
    p = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP"))
    results = {}
    for m in re.finditer(r"^(not ok|ok) \d+ - (\S+)", p.stdout, re.M):
        results[m.group(2)] = m.group(1) == "ok"
    return results, p.stdout + p.stderr


def cases():
    for src in SOURCES:
        names = re.findall(r"cmocka_unit_test\((\w+)\)", src.read_text())
        for n in names:
            yield pytest.param(src.stem, n, id=f"{src.stem}.{n}")


@pytest.mark.parametrize("binary,case", list(cases()))
def test_unit(binary, case):
    results, log = run_binary(binary)
    assert results is not None, log
    assert case in results, f"{binary} did not report {case} (crash?):\n{log}"
    assert results[case], f"{binary}: {case} failed:\n{log}"
