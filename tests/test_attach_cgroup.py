# SPDX-License-Identifier: GPL-2.0
"""--cgroup-path: every process in a cgroup made by the test and in its child
cgroup is traced from attach, a process moved in later from its move, a
process outside is not; each row equals the process's own /proc/PID/status
at its exit. On the memory controller's hierarchy (v1 on this host, v2 in the
guests) and on a plain v2 cgroup."""

import os
import subprocess

import pytest

from cgroups import memory_cgroup  # noqa: F401 (fixture)
from harness import RSSTRACE, assert_row_matches_status, hooks, parse_reports, start_attached, stop_attached, wl

pytestmark = pytest.mark.root


def start_idle_in(procs_file, mib):
    """tests/workloads/idle holding mib MiB, moved into a cgroup first
    (procs_file: its cgroup.procs; None: left where it is), once ready."""
    cmd = [wl("idle"), str(mib)]
    if procs_file:
        cmd = ["/bin/sh", "-c", f'echo $$ > {procs_file} && exec "$@"', "sh"] + cmd
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    return p


def end_idle(p):
    """Lets it report and exit; its report."""
    p.stdin.close()
    rest = p.stdout.read()
    assert p.wait(30) == 0
    return parse_reports(rest)[0]


@pytest.mark.parametrize("layout", ["memory", "v2"])
def test_cgroup_path_traces_members_children_and_newcomers(memory_cgroup, tmp_path, layout):
    cg = memory_cgroup("rsstrace-cgpath", any_v2=layout == "v2")
    sub = cg.dir / "sub"
    sub.mkdir()
    procs = []
    try:
        inside = start_idle_in(cg.procs, 8)
        below = start_idle_in(sub / "cgroup.procs", 12)
        outside = start_idle_in(None, 4)
        later = start_idle_in(None, 16)
        procs = [inside, below, outside, later]
        out = tmp_path / "out.json"
        tracer = start_attached(["--cgroup-path", str(cg.dir)], out)
        # the kernel runs the entry hook inside this write: traced once it returns
        cg.write("cgroup.procs", str(later.pid))
        reports = {p.pid: end_idle(p) for p in procs}
        rows, summary, _ = stop_attached(tracer, out)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        sub.rmdir()
    traced = {inside.pid, below.pid, later.pid}
    assert {r["pid"] for r in rows} == traced, f"rows {rows}, expected {traced} (not {outside.pid})"
    for row in rows:
        assert row["end_reason"] == "exit" and row["attached"] is True, row
        assert_row_matches_status(row, reports[row["pid"]]["status"], layout)
    assert summary["attached_to"] == "cgroup", summary
    assert summary["processes_at_attach"] == 2, summary
    assert summary["processes"] == 3, summary
    assert summary["target"] == f"cgroup {cg.dir}", summary


def test_cgroup_path_by_hierarchy_path_and_empty_cgroup(memory_cgroup, tmp_path):
    """A path within the hierarchy ("/name") names the same cgroup; an empty
    cgroup is traced until stopped, and a process that enters it then counts."""
    cg = memory_cgroup("rsstrace-cgpath-empty")
    out = tmp_path / "out.json"
    tracer = start_attached(["--cgroup-path", cg.path], out)
    p = start_idle_in(cg.procs, 8)
    try:
        rep = end_idle(p)
    finally:
        p.kill()
    assert tracer.poll() is None, "an empty cgroup's trace does not end by itself"
    rows, summary, _ = stop_attached(tracer, out)
    # the shell entered, then exec'd idle: two images of one process
    assert sorted((r["pid"], r["exec_seq"], r["end_reason"]) for r in rows) == \
        [(p.pid, 0, "exec"), (p.pid, 1, "exit")], rows
    assert_row_matches_status([r for r in rows if r["exec_seq"] == 1][0], rep["status"], "entered")
    assert summary["processes_at_attach"] == 0 and summary["processes"] == 1, summary


@pytest.mark.parametrize("arg,why", [
    ("/nonexistent-cgroup-xyz", "no such cgroup"),
    ("/proc", "not a cgroup directory"),
])
def test_cgroup_path_errors_are_one_line(arg, why):
    p = subprocess.run([str(RSSTRACE), "--cgroup-path", arg], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stderr.startswith(f"rsstrace: --cgroup-path {arg}: {why}") and p.stderr.count("\n") == 1, p.stderr


def test_hooks_table_names_the_seed_iterator_and_the_cgroup_attach_hook():
    """Issue 17: --hooks listed neither what -p and --cgroup-path attach with
    (the task iterator that finds the processes that exist, the cgroup
    attach tracepoint that follows newcomers) nor what happens without them.
    The rows are in the text and the JSON, and the tracepoint named is one
    the kernel lists in tracefs (where it does not, the row says the
    fallback instead)."""
    h = hooks()
    assert h["seed"]["in_use"] == "iter/task" and h["seed"]["optional"] is False, h["seed"]
    kernel_has_it = any(os.path.exists(f"{d}/events/cgroup/cgroup_attach_task")
                        for d in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"))
    enter = h["cgroup_enter"]
    assert enter["optional"] is True
    assert enter["in_use"] == ("tp_btf/cgroup_attach_task" if kernel_has_it else None), enter
    text = subprocess.run([str(RSSTRACE), "--hooks"], capture_output=True, text=True, timeout=60)
    assert text.returncode == 0, text.stderr
    rows = {l.split("->")[0].strip(): l.split("->")[1].strip() for l in text.stdout.splitlines() if "->" in l}
    assert rows["seed"] == "iter/task", rows
    assert rows["cgroup enter"] == (enter["in_use"] or
                                    "UNAVAILABLE (--cgroup-path traces the processes there at attach only)"), rows
