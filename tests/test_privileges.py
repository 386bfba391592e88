# SPDX-License-Identifier: GPL-2.0
"""Issue 15 item 15: the least privilege rsstrace needs, tried for real with
setpriv: the user `nobody` with exactly the capabilities the docs name
(CAP_BPF + CAP_PERFMON; CAP_DAC_READ_SEARCH in addition for the hooks on
classic tracepoints, whose tracefs is mode 0700). With CAP_BPF + CAP_PERFMON
every load failed with EPERM ("failed to iterate BTF objects") before."""

import json
import platform
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import (NOBODY, ROOT, RSSTRACE, assert_row_matches_status, parse_json_lines, parse_reports, proc_status,
                     start_idle, temp_dir_with_mode, wl)
from test_install import unit_capabilities
from test_serve import Serve, parse_exposition, samples

pytestmark = pytest.mark.root  # to become nobody

LEAST = "+bpf,+perfmon"
# The least set rsstrace(8) documents is for kernels whose hooks are all
# tp_btf (6.2 and newer). Before that, measured with serve (the same loader)
# in the Debian 6.1 and 5.10 guests: the attach fails with EACCES without
# CAP_SYS_ADMIN (Debian's kernel.perf_event_paranoid=3 lets only it call
# perf_event_open(), which the exec hook's classic tracepoint needs there),
# and 5.10 the load itself with EPERM unless RLIMIT_MEMLOCK is raised (map
# memory is charged to it before 5.11).
LOAD_REFUSED = tuple(map(int, platform.release().split(".")[:2])) < (6, 2)
least_set_loads = pytest.mark.skipif(LOAD_REFUSED, reason=f"the documented least set is for 6.2+, {platform.release()} "
                                     "is older (Debian's 6.1 and 5.10 fail the attach with EACCES without "
                                     "CAP_SYS_ADMIN at perf_event_paranoid 3; 5.10 the load with EPERM unless "
                                     "RLIMIT_MEMLOCK is raised)")
PARANOID = int(Path("/proc/sys/kernel/perf_event_paranoid").read_text())
WITH_TRACEFS = LEAST + ",+dac_read_search"


def as_nobody(caps):
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", f"--inh-caps={caps}",
            f"--ambient-caps={caps}"]


@pytest.fixture
def nobody_dir():
    """A directory nobody may write its output in."""
    with temp_dir_with_mode("rsstrace-priv-", 0o777) as d:
        yield d


def hooks_in_use(prefix=()):
    p = subprocess.run(list(prefix) + [str(RSSTRACE), "--hooks", "--json"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return {o["hook"]: o["in_use"] for o in map(json.loads, p.stdout.splitlines())}


@least_set_loads
def test_trace_as_nobody_with_cap_bpf_and_cap_perfmon(nobody_dir):
    out = nobody_dir / "out.json"
    p = subprocess.run(as_nobody(LEAST) + [str(RSSTRACE), "-o", str(out), "--json", "--", wl("spike"), "32", "4"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    rows, summary, _ = parse_json_lines(out.read_text())
    rep = [r for r in parse_reports(p.stdout) if r["tag"] == "spike"][-1]
    row = [r for r in rows if r["pid"] == rep["pid"] and r["exec_seq"] == 0]
    assert len(row) == 1, rows
    assert_row_matches_status(row[0], rep["status"], "as nobody")
    assert summary["lost_events"] == 0, summary


@least_set_loads
def test_top_as_nobody_sees_root_processes_with_their_numbers():
    idle = start_idle(16)
    try:
        p = subprocess.run(as_nobody(LEAST) + [str(RSSTRACE), "top", "-b", "-n", "1", "--json"],
                           capture_output=True, text=True, timeout=120)
        st = proc_status(idle.pid)
    finally:
        idle.kill()
        idle.wait()
    assert p.returncode == 0, p.stderr
    rows = [o for o in map(json.loads, p.stdout.splitlines()) if o["type"] == "process" and o["pid"] == idle.pid]
    assert len(rows) == 1 and rows[0]["user"] == "root", rows
    assert rows[0]["rss_anon_kb"] == st["RssAnon"], (rows[0], st)


@least_set_loads
def test_hooks_as_nobody_are_roots_and_only_tracefs_needs_more():
    """With CAP_DAC_READ_SEARCH too, every hook is the one root gets; without
    it, only the classic tracepoints (tracefs) are out of reach."""
    root = hooks_in_use()
    assert hooks_in_use(as_nobody(WITH_TRACEFS)) == root
    least = hooks_in_use(as_nobody(LEAST))
    for hook, use in root.items():
        if use and use.startswith("tracepoint/"):
            continue
        assert least[hook] == use, (hook, least[hook], use)


@least_set_loads
@pytest.mark.skipif(PARANOID > 2, reason=f"kernel.perf_event_paranoid is {PARANOID}: above 2 (Debian's patch) "
                    "perf_event_open() needs CAP_SYS_ADMIN, as rsstrace-serve(8) says")
def test_serve_needs_no_cap_sys_admin_at_paranoid_2():
    """rsstrace-serve(8): the unit's CAP_SYS_ADMIN is for Debian's
    perf_event_paranoid level 3 and can be removed where it is 2 or less.
    Both bounding sets serve the same families and hooks, as nobody with no
    capability left."""
    unit = unit_capabilities((ROOT / "dist/systemd/rsstrace-serve.service.in").read_text())
    assert "sys_admin" in unit, unit
    seen = {}
    for name, caps in (("unit", unit), ("without", [c for c in unit if c != "sys_admin"])):
        bounding = "--bounding-set=-all," + ",".join("+" + c for c in caps)
        srv = Serve("--user", "nobody", wrapper=["setpriv", bounding, "--inh-caps=-all"])
        try:
            ctype, text = srv.scrape()
            fams = parse_exposition(text, openmetrics=ctype.startswith("application/openmetrics-text"))
            hooks = {(lab["hook"], lab["attach"]) for lab, _ in samples(fams, "rsstrace_hook_info")}
            assert samples(fams, "rsstrace_bpf_map_entries", map="mms")[0][1] > 0, name
            seen[name] = (set(fams), hooks)
            status = proc_status(srv.p.pid)
            assert status["Uid"] == NOBODY and int(str(status["CapEff"]), 16) in (0, 1 << 39), status
        finally:
            code, err = srv.stop()
        assert code == 0, (name, err)
    assert seen["without"] == seen["unit"]
