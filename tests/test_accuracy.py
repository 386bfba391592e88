# SPDX-License-Identifier: GPL-2.0
"""rsstrace's numbers against the kernel's own, workload by workload.

Each workload reads /proc/self/status just before it exits (or execs); the
row rsstrace reports for that address space must show the same values."""

import json
import subprocess
import tempfile

import pytest

from harness import (MIB_KB, PAGE_KB, RSSTRACE, assert_row_matches_status, assert_tree_peak_sane, exact_counters,
                     file_dir, own_peak, trace, wl)

pytestmark = pytest.mark.root


def test_anon_spike_freed_within_milliseconds():
    spike_mib, steady_mib = 96, 8
    run = trace([wl("spike"), str(spike_mib), str(steady_mib)])
    assert run.code == 0, run.stderr
    rep = run.report("spike")
    row = run.row(rep["pid"])
    assert_row_matches_status(row, rep["status"])
    # the peak is the spike: both allocations were resident together
    assert row["hwm_anon_kb"] >= (spike_mib + steady_mib) * MIB_KB, row
    assert row["traced_peak_kb"] == row["hwm_anon_kb"] + row["hwm_file_kb"] + row["hwm_shmem_kb"]
    # and it was gone at the end
    assert row["rss_anon_kb"] < (steady_mib + 4) * MIB_KB, row
    assert row["end_reason"] == "exit" and row["exit_code"] == 0
    assert_tree_peak_sane(run)
    assert run.summary["tree_peak_anon_kb"] >= (spike_mib + steady_mib) * MIB_KB


def test_fork_copy_on_write_children():
    nchild, shared_mib = 3, 32
    run = trace([wl("fork_cow"), str(nchild), str(shared_mib)])
    assert run.code == 0, run.stderr
    parent = run.report("parent")
    children = [r for r in run.reports if r["tag"] == "child"]
    assert len(children) == nchild
    assert_row_matches_status(run.row(parent["pid"]), parent["status"], "parent")
    for c in children:
        row = run.row(c["pid"])
        assert_row_matches_status(row, c["status"], "child")
        assert row["ppid"] == parent["pid"]
        # fork copied the parent's anon mapping: the child's RSS counts it
        assert row["rss_anon_kb"] >= shared_mib * MIB_KB
    assert len(run.rows) == nchild + 1
    assert run.summary["processes"] == nchild + 1
    assert_tree_peak_sane(run)


def test_posix_spawn_child_is_its_own_row_after_exec():
    child_mib = 24
    run = trace([wl("spawn"), str(child_mib)])
    assert run.code == 0, run.stderr
    parent, child = run.report("parent"), run.report("child")
    prow = run.row(parent["pid"])
    assert_row_matches_status(prow, parent["status"], "parent")
    # the spawned child ran on its parent's mm until it exec'd: its own row
    # starts at its first exec
    crow = run.row(child["pid"], exec_seq=1)
    assert_row_matches_status(crow, child["status"], "child")
    assert crow["exit_code"] == 3 and crow["ppid"] == parent["pid"]
    assert crow["rss_anon_kb"] >= child_mib * MIB_KB
    # the child's memory was never charged to the parent
    assert prow["vm_hwm_kb"] < child_mib * MIB_KB
    assert_tree_peak_sane(run)


def test_private_and_shared_file_mappings():
    mib = 16
    d = file_dir()
    fs = subprocess.run(["stat", "-f", "-c", "%T", str(d)], capture_output=True, text=True).stdout.strip()
    if fs in ("tmpfs", "ramfs"):
        pytest.skip(f"{d} is {fs}: its mappings would count as shmem, not file")
    run = trace([wl("file_map"), str(d), str(mib)])
    assert run.code == 0, run.stderr
    rep = run.report("file_map")
    row = run.row(rep["pid"])
    assert_row_matches_status(row, rep["status"])
    assert row["rss_file_kb"] >= 2 * mib * MIB_KB, row
    assert row["rss_shmem_kb"] == 0


def test_memfd_shared_mapping_is_shmem():
    mib = 20
    run = trace([wl("memfd"), str(mib)])
    assert run.code == 0, run.stderr
    rep = run.report("memfd")
    row = run.row(rep["pid"])
    assert_row_matches_status(row, rep["status"])
    # exact where the kernel's counters are (6.2+); up to 6.1 /proc itself lags
    # by the task's cached, not yet folded changes (at most 64 faults' worth)
    lag = 0 if exact_counters() else 64 * PAGE_KB
    assert mib * MIB_KB - lag <= row["rss_shmem_kb"] <= mib * MIB_KB, row
    assert mib * MIB_KB - lag <= row["hwm_shmem_kb"] <= mib * MIB_KB, row
    assert mib * MIB_KB - lag <= run.summary["tree_peak_shmem_kb"] <= mib * MIB_KB


def test_four_threads_fault_at_once_one_row():
    nthreads, mib = 4, 16
    run = trace([wl("threads"), str(nthreads), str(mib)])
    assert run.code == 0, run.stderr
    rep = run.report("threads")
    assert len(run.rows) == 1, f"threads share one address space: {run.rows}"
    row = run.row(rep["pid"])
    assert_row_matches_status(row, rep["status"])
    lag = 0 if exact_counters() else (nthreads + 1) * 64 * PAGE_KB  # a cache per thread
    assert row["rss_anon_kb"] >= nthreads * mib * MIB_KB - lag


def test_threads_exiting_at_once_end_at_what_proc_showed():
    """Up to 6.1 each exiting thread folds its cached RSS changes into the
    address space, which /proc never showed: a row ends at the values from
    before the exit's first fold. The threads of a group that exits fold on
    both CPUs at once; a 5.10 guest's row once held one thread's fold (118
    pages over /proc). Many short runs give that window many chances."""
    runs, nthreads = 60, 4
    loop = f'for i in $(seq {runs}); do "$0" {nthreads} 1 || exit 1; done'
    run = trace(["sh", "-c", loop, wl("threads")])
    assert run.code == 0, run.stderr
    reports = [r for r in run.reports if r["tag"] == "threads"]
    assert len(reports) == runs, run.stdout
    for rep in reports:
        assert_row_matches_status(run.row(rep["pid"], exec_seq=1), rep["status"])


def test_exec_gives_two_rows_same_pid():
    first_mib, second_mib = 40, 12
    run = trace([wl("exec_twice"), str(first_mib), str(second_mib)])
    assert run.code == 5, run.stderr
    first, second = run.report("first"), run.report("second")
    assert first["pid"] == second["pid"]
    r0, r1 = run.row(first["pid"], 0), run.row(first["pid"], 1)
    assert r0["end_reason"] == "exec" and r0["exit_code"] is None
    assert r1["end_reason"] == "exit" and r1["exit_code"] == 5
    assert_row_matches_status(r0, first["status"], "before exec")
    assert_row_matches_status(r1, second["status"], "after exec")
    assert r0["rss_anon_kb"] >= first_mib * MIB_KB
    assert second_mib * MIB_KB <= r1["rss_anon_kb"] < first_mib * MIB_KB
    assert r1["start_ms"] >= r0["end_ms"] - 1
    assert run.summary["processes"] == 1 and run.summary["address_spaces"] == 2


def test_burst_of_short_lived_children_tree_peak():
    nchild, mib = 16, 8
    run = trace([wl("burst"), str(nchild), str(mib)])
    assert run.code == 0, run.stderr
    at_peak = run.report("parent-at-peak")
    children = [r for r in run.reports if r["tag"] == "child"]
    assert len(children) == nchild
    for c in children:
        assert_row_matches_status(run.row(c["pid"]), c["status"], "child")
    s = run.summary
    # all children and the parent were resident at once: the tree peak is at
    # least the sum of what each held then (anon does not change after)
    together = at_peak["status"]["RssAnon"] + sum(c["status"]["RssAnon"] for c in children)
    assert s["tree_peak_anon_kb"] >= together, s
    assert s["tree_peak_procs"] == nchild + 1, s
    assert s["processes"] == nchild + 1
    assert_tree_peak_sane(run)
    # and no single process held anywhere near that: only a tree view shows it
    assert max(own_peak(r) for r in run.rows) * 4 < s["tree_peak_kb"]


def test_transparent_huge_pages():
    mode = open("/sys/kernel/mm/transparent_hugepage/enabled").read()
    if "[never]" in mode:
        pytest.skip("transparent huge pages are disabled on this kernel")
    mib = 64
    run = trace([wl("thp"), str(mib)])
    assert run.code == 0, run.stderr
    rep = run.report("thp")
    row = run.row(rep["pid"])
    assert_row_matches_status(row, rep["status"])
    assert row["rss_anon_kb"] >= mib * MIB_KB
    huge = rep["status"].get("AnonHugePages", 0)  # 0 if the kernel found no huge page
    assert row["rss_anon_kb"] >= huge


def test_real_program_python_against_getrusage():
    """A real interpreter, untouched: its VmHWM must be what the kernel gives
    the parent in getrusage(RUSAGE_CHILDREN).ru_maxrss."""
    code = ("import subprocess, resource, sys\n"
            "p = subprocess.run(sys.argv[1:])\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    prog = "b = bytearray(150 * 2**20); b[::4096] = b'x' * len(b[::4096])"
    with tempfile.NamedTemporaryFile("r", suffix=".json") as f:
        p = subprocess.run(["/usr/bin/python3", "-c", code, str(RSSTRACE), "--json", "-o", f.name, "--",
                            "/usr/bin/python3", "-c", prog], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        maxrss = int(p.stdout.split()[-1])
        rows = [json.loads(l) for l in open(f.name) if '"process"' in l]
    assert len(rows) == 1
    # ru_maxrss is the kernel's hiwater at exit (includes rsstrace's own, far smaller)
    assert rows[0]["vm_hwm_kb"] == maxrss, (rows[0], maxrss)
    assert rows[0]["traced_peak_kb"] >= 150 * MIB_KB
