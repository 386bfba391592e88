# SPDX-License-Identifier: GPL-2.0
"""The C unit tests (cmocka, tests/unit/), one pytest item per test case.

Each binary runs once, in cmocka's TAP mode; its `ok` / `not ok` lines become
the outcomes. A binary that crashes or prints no plan fails as a whole."""

import pytest

from harness import ROOT, assert_tap_case, run_tap, tap_cases

UNIT_DIR = ROOT / "build" / "unit"
SOURCES = sorted((ROOT / "tests" / "unit").glob("test_*.c"))


@pytest.mark.parametrize("binary,case", tap_cases(SOURCES, r"cmocka_unit_test\((\w+)\)"))
def test_unit(binary, case):
    assert_tap_case(run_tap(UNIT_DIR / binary, env=(("CMOCKA_MESSAGE_OUTPUT", "TAP"),)), binary, case)
