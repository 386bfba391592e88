# SPDX-License-Identifier: GPL-2.0
"""-p PID attaches to PID and every descendant it has at attach (and to the
children they fork later); --no-children to PID alone. Each row is compared
with the process's own /proc/PID/status at its exit."""

import subprocess

import pytest

from harness import (MIB_KB, RSSTRACE, assert_row_matches_status, parse_json_lines, parse_reports,
                     proc_status, start_attached, stop_attached, wl)

pytestmark = pytest.mark.root

NCHILD, NGRAND = 3, 2
PARENT_MIB, CHILD_MIB, GRAND_MIB = 16, 8, 4


def start_tree():
    """tests/workloads/pretree, once every process of it holds its memory;
    its pids, parent first."""
    p = subprocess.Popen([wl("pretree"), str(NCHILD), str(NGRAND), str(PARENT_MIB), str(CHILD_MIB),
                          str(GRAND_MIB)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line.startswith("@@ready pids="), line
    return p, [int(x) for x in line.split("=", 1)[1].split(",")]


def end_tree(p):
    """Lets the tree exit; the reports every process wrote, by pid."""
    p.stdin.close()
    rest = p.stdout.read()
    assert p.wait(30) == 0
    return {r["pid"]: r for r in parse_reports(rest)}


def trace_tree(tmp_path, *opts):
    """Attaches to a running tree; also the sum of VmRSS over the tree read
    from /proc at attach (the tree is idle then)."""
    p, pids = start_tree()
    out = tmp_path / "out.json"
    try:
        tracer = start_attached(list(opts) + ["-p", str(pids[0])], out)
        rss_at_attach = sum(proc_status(pid)["VmRSS"] for pid in pids)
        reports = end_tree(p)
    finally:
        p.kill()
    rows, summary, _ = stop_attached(tracer, out)
    assert len(reports) == len(pids), f"every process reports: {reports.keys()} vs {pids}"
    return pids, reports, rows, summary, rss_at_attach


def test_attach_traces_the_existing_descendants(tmp_path):
    pids, reports, rows, summary, rss_at_attach = trace_tree(tmp_path)
    assert sorted(r["pid"] for r in rows) == sorted(pids), f"one row per process of the tree: {rows}"
    for row in rows:
        rep = reports[row["pid"]]
        assert row["attached"] is True and row["end_reason"] == "exit", row
        assert_row_matches_status(row, rep["status"], rep["tag"])
        assert row["ppid"] == rep["status"]["PPid"], f"ppid of {row} vs {rep['status']}"
    by_tag = {}
    for row in rows:
        by_tag.setdefault(reports[row["pid"]]["tag"], []).append(row)
    assert len(by_tag["child"]) == NCHILD and len(by_tag["grandchild"]) == NCHILD * NGRAND
    # each holds at least what it allocated (more: libc, the copy of its parent's)
    assert by_tag["parent"][0]["rss_anon_kb"] >= PARENT_MIB * MIB_KB
    assert max(r["rss_anon_kb"] for r in by_tag["child"]) >= PARENT_MIB * MIB_KB + NCHILD * CHILD_MIB * MIB_KB
    assert summary["attached_to"] == "pids_and_descendants", summary
    assert summary["processes_at_attach"] == len(pids), summary
    assert summary["processes"] == len(pids), summary
    assert summary["tree_peak_kb"] >= rss_at_attach, f"the tree at attach was {rss_at_attach} kB: {summary}"


def test_no_children_traces_the_named_process_alone(tmp_path):
    pids, reports, rows, summary, _ = trace_tree(tmp_path, "--no-children")
    assert [r["pid"] for r in rows] == [pids[0]], rows
    assert_row_matches_status(rows[0], reports[pids[0]]["status"], "parent")
    assert summary["attached_to"] == "pids", summary
    assert summary["processes_at_attach"] == 1, summary


def test_several_pids_each_with_its_descendants(tmp_path):
    """Two trees named by one -p: both whole; a process named twice (a
    descendant of another named one) counted once."""
    p1, pids1 = start_tree()
    p2, pids2 = start_tree()
    out = tmp_path / "out.json"
    try:
        tracer = start_attached(["-p", f"{pids1[0]},{pids2[0]},{pids2[1]}"], out)
        reports = {**end_tree(p1), **end_tree(p2)}
    finally:
        p1.kill()
        p2.kill()
    rows, summary, _ = stop_attached(tracer, out)
    assert sorted(r["pid"] for r in rows) == sorted(pids1 + pids2), rows
    for row in rows:
        assert_row_matches_status(row, reports[row["pid"]]["status"], reports[row["pid"]]["tag"])
    assert summary["processes_at_attach"] == len(pids1) + len(pids2), summary


def test_text_summary_says_what_was_attached(tmp_path):
    p, pids = start_tree()
    out = tmp_path / "out.txt"
    try:
        tracer = start_attached(["-p", str(pids[0])], out, json_out=False)
        end_tree(p)
    finally:
        p.kill()
    text = stop_attached(tracer, out, json_out=False)
    assert f"Attached:        {len(pids)} processes at attach: the named PIDs and their descendants" \
        in text, text
    assert "time -v" not in text, "the largest process is time -v's figure only with -- CMD:\n" + text


def test_rsstrace_is_not_its_own_descendant(tmp_path):
    """`rsstrace -p $$` from a shell: rsstrace is a child of the process it
    attaches to; it traces the shell, never itself."""
    out = tmp_path / "out.json"
    sh = subprocess.run(["/bin/sh", "-c", f'{RSSTRACE} --json -o {out} -p $$ -d 0.3; echo "shell=$$"'],
                        capture_output=True, text=True, timeout=60)
    assert sh.returncode == 0, sh.stderr
    shell = int(sh.stdout.split("shell=")[1])
    rows, summary, _ = parse_json_lines(out.read_text())
    assert [r["pid"] for r in rows] == [shell], rows
    assert summary["processes_at_attach"] == 1, summary
