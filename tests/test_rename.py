# SPDX-License-Identifier: GPL-2.0
"""A process's row shows the name it gave itself (prctl PR_SET_NAME), also
when its address space ends in another task: rename_late renames itself,
then exits while a clone(CLONE_VM) child of another thread group keeps the
address space, and ends it. The row used to keep the name of the exec
(a hostile-names run lost a holder's pprof label so, when --sharing's own
/proc reads held the last reference)."""

import pytest

from harness import trace, wl

pytestmark = pytest.mark.root

NAME = "late\x1bname\n"


def rename_late_row(*opts):
    run = trace([wl("rename_late"), NAME, "16"], *opts)
    assert run.code == 0, run.stderr
    rows = [r for r in run.rows if r["exec_seq"] == 0]
    assert len(rows) == 1, f"one address space, one row: {run.rows}"
    return run, rows[0]


def test_a_renamed_process_keeps_its_name_when_another_task_ends_its_memory():
    _, row = rename_late_row()
    assert row["comm"] == NAME, row
    # the address space that held the 16 MiB (up to 6.1 /proc, and the row,
    # lag the task's cache of up to 64 pages: 16,216 kB in a 5.10 guest)
    assert row["end_reason"] == "exit" and row["rss_anon_kb"] >= 15 * 1024, row


def test_its_stacks_carry_the_name(tmp_path):
    folded = tmp_path / "folded"
    run, _ = rename_late_row("--stacks", "--stack-sample", "0", "--folded", str(folded))
    lines = folded.read_text().splitlines()
    # the folded output shows names escaped, and every stack under its process's name
    assert lines and all(l.startswith("late\\x1bname\\x0a;") for l in lines), lines[:5]


def test_a_thread_that_execs_leaves_the_row_its_process_name():
    """A thread other than the leader names itself "worker" and execs: by the
    time the old address space ends, the thread has taken the leader's place
    (de_thread()) with its own name. The row is the process's, whose name
    (/proc/PID/comm, the leader's) was thread_exec until then."""
    run = trace([wl("thread_exec"), "8"])
    assert run.code == 3, run.stderr
    old = [r for r in run.rows if r["exec_seq"] == 0]
    assert len(old) == 1 and old[0]["end_reason"] == "exec", run.rows
    assert old[0]["comm"] == "thread_exec", old[0]
    # its 8 MiB (up to 6.1 the row lags the task's cache of up to 64 pages)
    assert old[0]["rss_anon_kb"] >= 7 * 1024, old[0]
