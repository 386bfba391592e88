# SPDX-License-Identifier: GPL-2.0
"""Rows' exit_growth_kb: what a process made resident after its exit passed
the point of no return (its last thread counted out in do_exit(), before
exit_mm()): the kernel's own exit path faulting. exit_fault makes a page of
an untouched file mapping its robust-futex list head, which mm_release()
reads at exit; with "resident" that page was read before. Ground truth: the
workload's /proc/self/status read just before its exit_group(), and the
classic kmem:rss_stat tracepoint (bpftrace), the kernel's record of each
change of the counters. Code that exit() runs in user space (atexit
handlers, destructors) comes before the kernel's exit and is not counted."""

import re
import shutil

import pytest

from harness import exact_counters, file_dir, start_bpftrace, stop_bpftrace, trace, wl

pytestmark = pytest.mark.root

# the largest file RSS (bytes) the tracepoint reported for the workload
TP_FILE_MAX = 'tracepoint:kmem:rss_stat /comm == "exit_fault" && args->member == 0/ { @file = max(args->size); }'
FAULT_AROUND_KB = 64  # the default fault_around_bytes: the most one read fault maps of a cached file


@pytest.fixture(scope="module")
def data_file():
    path = file_dir() / "exit_fault.data"
    path.write_bytes(b"\0" * (1 << 20))  # in the page cache: fault-around maps its neighbours
    yield path
    path.unlink()


def run_exit_fault(path, mode, json_out=True):
    """exit_fault under rsstrace and bpftrace: (run, its row, its report's
    status, the tracepoint's largest file RSS in kB)."""
    if not shutil.which("bpftrace"):
        pytest.skip("bpftrace missing (scripts/install-deps installs it): it reads the rss_stat tracepoint")
    bpftrace = start_bpftrace(TP_FILE_MAX)
    try:
        run = trace([wl("exit_fault"), str(path), mode], json_out=json_out)
    finally:
        out, _ = stop_bpftrace(bpftrace)
    found = re.search(r"^@file: (\d+)$", out, re.M)
    assert found, f"the tracepoint saw no file RSS change of the workload: {out}"
    assert run.code == 0, run.stderr
    report = run.report("exit")
    row = run.row(report["pid"]) if json_out else None
    return run, row, report["status"], int(found[1]) // 1024


def test_exit_path_fault_is_exit_growth(data_file):
    run, row, status, tp_file_kb = run_exit_fault(data_file, "fault")
    grown = row["exit_growth_kb"]
    assert 0 < grown <= FAULT_AROUND_KB, row
    if exact_counters():
        # the kernel's record: the file RSS rose by exactly that after the report
        assert tp_file_kb - status["RssFile"] == grown, (tp_file_kb, status["RssFile"], row)
        # the row's end (before teardown) holds it; the report was the state before
        assert row["rss_file_kb"] - status["RssFile"] == grown, (status, row)
    else:
        # up to 6.1 the tracepoint fires at folds of each task's cache: the
        # exit's last fold carries the exit growth on top of what /proc showed
        assert tp_file_kb >= status["RssFile"] + grown, (tp_file_kb, status, row)
    s = run.summary
    assert s["exit_growth_kb"] == grown and s["processes_grown_while_exiting"] == 1, s
    if exact_counters() and s["tree_peak_kb"] == status["VmRSS"] + grown:
        # the exit's fault made the tree's peak: the summary says whose exit
        assert s["tree_peak_while_exiting_pid"] == row["pid"], s


def test_exit_that_faults_nothing_has_no_exit_growth(data_file):
    run, row, status, tp_file_kb = run_exit_fault(data_file, "resident")
    assert row["exit_growth_kb"] == 0, row
    if exact_counters():
        assert tp_file_kb == status["RssFile"], (tp_file_kb, status)
    s = run.summary
    assert s["exit_growth_kb"] == 0 and s["processes_grown_while_exiting"] == 0, s
    assert s["tree_peak_while_exiting_pid"] is None, s


def test_text_summary_says_it_only_when_there_was_some(data_file):
    grown, _, _, _ = run_exit_fault(data_file, "fault", json_out=False)
    assert re.search(r"^Grown in exit: +\S+ by 1 process after exiting began", grown.output, re.M), grown.output
    quiet, _, _, _ = run_exit_fault(data_file, "resident", json_out=False)
    assert "Grown in exit" not in quiet.output, quiet.output
