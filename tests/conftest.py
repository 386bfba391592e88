# SPDX-License-Identifier: GPL-2.0
"""pytest configuration. The harness lives in harness.py; this file holds the
suite-wide rules:

- `@pytest.mark.root` (or `pytestmark = pytest.mark.root` for a whole file):
  the test loads BPF programs, so it is skipped, with that reason, when not run
  as root. `pytest -m "not root" tests` runs the tier that needs no root.
- tracefs is mounted (as root), for the ground truth that bpftrace reads from
  the classic tracepoints: a fresh machine of this kind has it unmounted, and
  rsstrace mounts it only when one of its own hooks needs it, so bpftrace's
  "tracepoint not found" depended on which test ran first.
- after pytest's own summary, the suite's last line,
  `N passed, N failed, N skipped` (CI and people read that line)."""

import os
import subprocess
import sys

import pytest

ROOT_REASON = "needs root to load BPF programs"

# harness.py's asserts show the values compared too, as the tests' own do.
pytest.register_assert_rewrite("harness")


TRACEFS = "/sys/kernel/tracing"


def pytest_configure(config):
    config.addinivalue_line("markers", f"root: {ROOT_REASON} (skipped otherwise)")
    if os.geteuid() == 0 and not os.path.exists(f"{TRACEFS}/events"):
        subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS], check=True)


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    for item in items:
        if item.get_closest_marker("root"):
            item.add_marker(pytest.mark.skip(reason=ROOT_REASON))


def pytest_unconfigure(config):
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is None:
        return
    count = lambda key: len([r for r in tr.stats.get(key, []) if getattr(r, "when", "call") in ("call", "setup", "teardown")])
    passed = len([r for r in tr.stats.get("passed", []) if r.when == "call"])
    failed = len({r.nodeid for r in tr.stats.get("failed", [])}) + len(tr.stats.get("error", []))
    skipped = count("skipped")
    sys.stdout.write(f"\n{passed} passed, {failed} failed, {skipped} skipped\n")
    sys.stdout.flush()
