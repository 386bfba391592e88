# SPDX-License-Identifier: GPL-2.0
"""`make install` / `make uninstall`: every file in its FHS place under PREFIX
and DESTDIR, the installed binary traces a workload and serves metrics with
exactly the capability bounding set its systemd unit grants, and uninstall
leaves no file behind. The host only: nothing here depends on the kernel."""

import re
import subprocess
from pathlib import Path

import pytest

from harness import IN_VM, ROOT, RSSTRACE, assert_row_matches_status, parse_status, trace, wl
from test_serve import Serve, value, parse_exposition

pytestmark = pytest.mark.skipif(IN_VM, reason="make install does not depend on the kernel: tested on the host")

PREFIX = "/usr/local"
# The FHS places (relative to PREFIX) that make install fills, and nothing else.
EXPECTED = {
    "sbin/rsstrace",
    "share/man/man8/rsstrace.8",
    "share/man/man8/rsstrace-top.8",
    "share/man/man8/rsstrace-serve.8",
    "lib/systemd/system/rsstrace-serve.service",
    "share/bash-completion/completions/rsstrace",
    "share/doc/rsstrace/README.md",
    "share/doc/rsstrace/how-it-works.md",
    "share/doc/rsstrace/json-schema.md",
    "share/doc/rsstrace/performance.md",
}


def make(*args):
    p = subprocess.run(["make", "-s", "-C", str(ROOT)] + list(args), capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, f"make {' '.join(args)} failed: {p.stderr}"
    return p


def files_under(root):
    return {str(f.relative_to(root)) for f in Path(root).rglob("*") if not f.is_dir()}


def makefile_version():
    return re.search(r"^VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)


def unit_capabilities(unit_text):
    """CapabilityBoundingSet= of a unit, as setpriv's names (cap_bpf -> bpf)."""
    line = re.search(r"^CapabilityBoundingSet=(.*)$", unit_text, re.M).group(1)
    return [c.lower().removeprefix("cap_") for c in line.split()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    dest = tmp_path_factory.mktemp("destdir")
    make("install", f"DESTDIR={dest}", f"PREFIX={PREFIX}")
    yield dest, dest / PREFIX.lstrip("/")
    make("uninstall", f"DESTDIR={dest}", f"PREFIX={PREFIX}")


def test_install_puts_every_file_in_its_place(installed):
    dest, prefix = installed
    assert files_under(dest) == {f"{PREFIX.lstrip('/')}/{f}" for f in EXPECTED}
    exe = prefix / "sbin/rsstrace"
    assert exe.stat().st_mode & 0o777 == 0o755
    assert exe.read_bytes() == RSSTRACE.read_bytes(), "the installed binary is not the one built"
    for f in EXPECTED - {"sbin/rsstrace"}:
        assert (prefix / f).stat().st_mode & 0o777 == 0o644, f
    for doc in ("README.md", "docs/how-it-works.md", "docs/json-schema.md", "docs/performance.md"):
        assert (prefix / "share/doc/rsstrace" / Path(doc).name).read_bytes() == (ROOT / doc).read_bytes()
    unit = (prefix / "lib/systemd/system/rsstrace-serve.service").read_text()
    assert re.search(rf"^ExecStart={PREFIX}/sbin/rsstrace serve ", unit, re.M), unit
    assert "@" not in unit.replace("man:", ""), "a placeholder was left in the unit"


def test_installed_binary_reports_the_version(installed):
    _, prefix = installed
    p = subprocess.run([str(prefix / "sbin/rsstrace"), "--version"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"rsstrace {makefile_version()}"


@pytest.mark.root
def test_installed_binary_traces_a_workload(installed):
    _, prefix = installed
    run = trace([wl("spike"), "32", "4"], exe=prefix / "sbin/rsstrace")
    assert run.code == 0, run.stderr
    rep = run.report("spike")
    assert_row_matches_status(run.row(rep["pid"]), rep["status"], "installed binary")


@pytest.mark.root
def test_installed_serve_runs_with_the_units_capabilities(installed):
    """The unit's CapabilityBoundingSet is enough to load, attach and serve,
    and serve then holds no capability as nobody (what its ExecStart asks)."""
    _, prefix = installed
    unit = (prefix / "lib/systemd/system/rsstrace-serve.service").read_text()
    caps = unit_capabilities(unit)
    bounding = "--bounding-set=-all," + ",".join("+" + c for c in caps)
    srv = Serve("--user", "nobody", exe=prefix / "sbin/rsstrace", wrapper=["setpriv", bounding, "--inh-caps=-all"])
    try:
        ctype, text = srv.scrape()
        fams = parse_exposition(text, openmetrics=ctype.startswith("application/openmetrics-text"))
        assert value(fams, "rsstrace_build_info", version=makefile_version()) == 1
        assert value(fams, "rsstrace_bpf_map_entries", map="mms") > 0, "no address space accounted"
        status = parse_status(Path(f"/proc/{srv.p.pid}/status").read_text())
        assert status["Uid"] == 65534, status
        assert int(str(status["CapEff"]), 16) in (0, 1 << 39), status  # CAP_BPF alone before 6.5 (privs.c)
    finally:
        code, err = srv.stop()
    assert code == 0, err


def test_uninstall_leaves_no_file(tmp_path):
    make("install", f"DESTDIR={tmp_path}", f"PREFIX={PREFIX}")
    assert files_under(tmp_path)
    make("uninstall", f"DESTDIR={tmp_path}", f"PREFIX={PREFIX}")
    assert files_under(tmp_path) == set()
    assert not (tmp_path / PREFIX.lstrip("/") / "share/doc/rsstrace").exists()
