# SPDX-License-Identifier: GPL-2.0
"""The BPF tier (tests/bpf/): C programs in the kernel selftests' style that
load the real programs through the tracer API, make a child fork, fault and
exit, and check the BPF maps and globals against the child's /proc/PID/status
(see tests/bpf/bpftest.h). One pytest item per case.

Each binary runs once and prints TAP; a binary that cannot load the programs
prints `Bail out!` with the reason, and every case of it fails with that."""

import pytest

from harness import ROOT, assert_tap_case, run_tap, tap_cases

pytestmark = pytest.mark.root

BPFTEST_DIR = ROOT / "build" / "bpftest"
SOURCES = sorted((ROOT / "tests" / "bpf").glob("test_*.c"))


@pytest.mark.parametrize("binary,case", tap_cases(SOURCES, r"BPFTEST_CASE\((\w+)\)"))
def test_bpf(binary, case):
    # probing and loading take a while in the software-emulated VM guests
    assert_tap_case(run_tap(BPFTEST_DIR / binary, timeout=300), binary, case)
