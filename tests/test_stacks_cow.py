# SPDX-License-Identifier: GPL-2.0
"""--stacks' second sample type: which code broke copy-on-write. A prefork
tree whose writers copy half of a shared region from dirty_half(): the copies
are charged to that function, per process and for the tree, and agree with
each writer's own Private_Dirty in smaps_rollup."""

import json
import re
import subprocess
from pathlib import Path

import pytest

from harness import MIB_KB, PAGE_KB, RSSTRACE, file_dir, program_names_of, start_idle, trace, wait_for_line, wl

pytestmark = pytest.mark.root

SHARED_MIB, WRITERS, CHILDREN = 64, 2, 3
HALF_KB = SHARED_MIB // 2 * MIB_KB


def objects(text, kind):
    return [o for o in map(json.loads, filter(str.strip, text.splitlines())) if o["type"] == kind]


def private_dirty_kb(pid):
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return int(re.search(r"^Private_Dirty:\s+(\d+) kB", text, re.M).group(1))


def near(value, want, tol=0.05):
    return abs(value - want) <= tol * want


def run_prefork(tmp_path, *opts, json_out=True, mode="--stacks"):
    """prefork under rsstrace --stacks[=MODE] OPTS; returns (pids, each
    child's Private_Dirty read while it waits on its pipe, rsstrace's output)."""
    out = tmp_path / "out"
    cmd = [str(RSSTRACE), "-o", str(out), mode, "--stack-sample", "0", *opts] + (["--json"] if json_out else []) + \
        ["--", wl("prefork"), str(CHILDREN), str(SHARED_MIB), str(WRITERS), "", "0", "0"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = wait_for_line(p.stdout, "@@ready pids=")
        pids = [int(x) for x in line.split("pids=")[1].split()[0].split(",")]
        assert len(pids) == CHILDREN + 1, line
        # every child has written (or read) and now blocks on the hold pipe
        dirty = {pid: private_dirty_kb(pid) for pid in pids[1:]}
    finally:
        _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode(errors="replace")
    return pids, dirty, out.read_text()


@pytest.mark.parametrize("mode", ["--stacks", "--stacks=dwarf"])
def test_copies_charged_to_the_writing_function_per_process_and_tree(tmp_path, mode):
    folded = tmp_path / "cow.folded"
    pids, dirty, text = run_prefork(tmp_path, "--cow-folded", str(folded), mode=mode)
    writers, reader = pids[1:1 + WRITERS], pids[1 + WRITERS]
    summary = objects(text, "cow_stacks")
    assert len(summary) == 1 and summary[0]["hook"], summary
    per_process = objects(text, "cow_process_stack")

    def copied(pid, leaf=None):
        return sum(o["copied_kb"] for o in per_process
                   if o["pid"] == pid and (leaf is None or o["folded"].endswith(";" + leaf)))

    for pid in writers:
        mine = [o for o in per_process if o["pid"] == pid and o["folded"].endswith(";dirty_half")]
        assert len(mine) == 1, [o for o in per_process if o["pid"] == pid]
        assert near(mine[0]["copied_kb"], HALF_KB), (mine, summary)
        assert mine[0]["folded"].startswith("prefork;"), mine
        # the kernel's truth: the writer's private dirty pages are its copies
        # (the half it wrote, plus the few of its stack and libc's data)
        assert near(copied(pid), dirty[pid]), (pid, copied(pid), dirty[pid])
    # the reader copied nothing of the region, and little at all
    assert copied(reader, "dirty_half") == 0 and copied(reader, "read_half") == 0
    assert copied(reader) <= 0.05 * HALF_KB, [o for o in per_process if o["pid"] == reader]
    assert abs(copied(reader) - dirty[reader]) <= 0.05 * HALF_KB, (copied(reader), dirty[reader])
    # the tree: one stack, both writers (with dwarf, each process has its own
    # variants of it: counted once each)
    tree = [o for o in objects(text, "cow_stack") if o["folded"].endswith(";dirty_half")]
    assert len(tree) == 1 and tree[0]["processes"] == WRITERS, tree
    assert tree[0]["copied_kb"] == sum(copied(pid, "dirty_half") for pid in writers), tree
    # --cow-folded: the same stack and amount, in pages
    lines = dict(l.rsplit(" ", 1) for l in folded.read_text().splitlines())
    assert int(lines[tree[0]["folded"]]) * PAGE_KB == tree[0]["copied_kb"], lines
    # the faulted-in type is unchanged: the copies (anon) are not in it. Up
    # to 6.1 a task's RSS cache is folded in every 64 faults and charged to
    # the stack then current (the 5.10 guest charged 200 kB of earlier file
    # faults to dirty_half): only the anon part is asserted
    for o in objects(text, "stack"):
        if o["folded"].endswith(";dirty_half"):
            assert o["anon_kb"] <= 0.05 * HALF_KB, o


def test_text_summary_names_the_writer(tmp_path):
    pids, _, text = run_prefork(tmp_path, json_out=False)
    section = text.split("Which code broke copy-on-write", 1)[1]
    first = section.split("#1 ", 1)[1].split("#2", 1)[0]
    assert "dirty_half" in first and f"in {WRITERS} prefork processes" in first, section
    for pid in pids[1:1 + WRITERS]:
        assert re.search(rf"^\s+{pid}\s+3[12]\.\dM\s+dirty_half$", section, re.M), section


def test_write_notify_faults_of_a_shared_file_mapping_are_not_copies():
    """file_map reads 16 MiB of a shared file mapping, then writes one byte
    per page: 4096 write-protect faults (the kernel tracks dirty file pages;
    --causes counts them) and no copy."""
    run = trace([wl("file_map"), str(file_dir()), "16", "1"], "--stacks", "--causes", "--stack-sample", "0")
    assert run.code == 0, run.stderr
    row = [r for r in run.rows if r["comm"] == "file_map"][0]
    if row.get("wp_faults") is not None:  # on every kernel of the test tiers
        assert row["wp_faults"] >= 16 * MIB_KB // PAGE_KB, row
    copied = sum(o["copied_kb"] for o in objects(run.output, "cow_process_stack") if o["pid"] == row["pid"])
    # the loader's and libc's own first writes to their data are copies
    assert copied <= 0.05 * 16 * MIB_KB, objects(run.output, "cow_process_stack")


@pytest.mark.parametrize("stacks", [False, True])
def test_copy_hook_loaded_only_with_stacks(tmp_path, stacks):
    """Without --stacks the copy hook costs nothing: it is not even loaded."""
    idle = start_idle(1)
    tracer = subprocess.Popen([str(RSSTRACE), "-v", "-o", str(tmp_path / "out"), "-p", str(idle.pid)] +
                              (["--stacks"] if stacks else []), stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(tracer.stderr, "tracing started")
        names = program_names_of(tracer.pid)
    finally:
        tracer.send_signal(2)
        tracer.wait(60)
        idle.stdin.close()
        idle.wait(30)
    assert names, "bpftool lists no program of this rsstrace"
    assert any(n.startswith("cow_") for n in names) == stacks, names
