# SPDX-License-Identifier: GPL-2.0
"""OOM kills: a workload that grows until the kernel kills it, inside a memory
cgroup the test makes (small limit, no swap: never the host's own memory).
rsstrace must report the victim, its cgroup, and its breakdown at the kill,
which must agree with the kernel's own figures: the ones read in the same
instant (the tracepoint's) and the OOM killer's "Killed process" line."""

import json
import os
import re
import subprocess

import pytest

from cgroups import memory_cgroup  # noqa: F401 (fixture)
from harness import PAGE_KB, RSSTRACE, run_rsstrace, trace, wait_for_line, wl

pytestmark = pytest.mark.root

LIMIT = 48 << 20
# get_mm_counter() (the "Killed process" line) reads the counter without the
# per-CPU deltas since 6.2: off by up to the per-CPU batch on each CPU.
BATCH_KB = max(32, 2 * os.cpu_count()) * os.cpu_count() * PAGE_KB


def oom_records(run):
    return [o for o in map(json.loads, run.output.splitlines()) if o["type"] == "oom_kill"]


def killed_line(pid):
    """The kernel's own report of the kill, if the log still has it."""
    out = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
    m = re.findall(rf"Killed process {pid} \((\S+)\) total-vm:(\d+)kB, anon-rss:(\d+)kB, "
                   rf"file-rss:(\d+)kB, shmem-rss:(\d+)kB", out)
    return m[-1] if m else None


def test_oom_kill_is_reported_with_the_victims_breakdown(memory_cgroup):
    cg = memory_cgroup("rsstrace-oom", LIMIT)
    run = trace(cg.enter_cmd([wl("oom_hog")]), timeout=120)
    assert run.code == 128 + 9, f"the hog should be killed by the OOM killer: {run.code} {run.stderr}"
    kills = oom_records(run)
    assert len(kills) == 1, f"expected one oom_kill record: {run.output}"
    k = kills[0]
    row = [r for r in run.rows if r["pid"] == k["pid"] and r["end_reason"] == "exit"]
    assert row and row[0]["comm"] == "oom_hog" and row[0].get("exit_signal") == 9, (k, run.rows)
    assert k["comm"] == "oom_hog" and k["cgroup"] == cg.path, k
    assert run.summary["oom_kills"] == 1, run.summary
    assert k["accounting"] == "at the kill", k
    # it was killed for its anonymous memory: most of the limit, never above it
    assert LIMIT // 2048 <= k["anon_kb"] <= LIMIT // 1024, k
    assert k["rss_kb"] == k["anon_kb"] + k["file_kb"] + k["shmem_kb"], k
    assert k["peak_rss_kb"] >= k["rss_kb"], k
    # our accounting vs the kernel's counters read in the same instant
    assert abs(k["anon_kb"] - k["kernel_anon_kb"]) <= 4 * PAGE_KB, k
    assert abs(k["file_kb"] - k["kernel_file_kb"]) <= 4 * PAGE_KB, k
    assert k["shmem_kb"] == k["kernel_shmem_kb"], k
    # the victim is the whole tree here
    assert k["tree_anon_kb"] >= k["anon_kb"], k
    line = killed_line(k["pid"])
    if line:
        assert abs(int(line[2]) - k["anon_kb"]) <= BATCH_KB, (line, k)


def test_oom_kill_in_the_text_summary(memory_cgroup):
    cg = memory_cgroup("rsstrace-oom-text", LIMIT)
    run = run_rsstrace(["--"] + cg.enter_cmd([wl("oom_hog")]), json_out=False, timeout=120)
    assert run.code == 128 + 9, run.stderr
    m = re.search(r"OOM kill at [\d.]+ s: pid (\d+) oom_hog, memory cgroup (\S+)", run.output)
    assert m and m.group(2).rstrip(",") == cg.path, run.output
    assert re.search(r"traced: anon [\d.]+[KMG]", run.output), run.output


def test_oom_kill_shown_by_top(memory_cgroup):
    cg = memory_cgroup("rsstrace-oom-top", LIMIT)
    top = subprocess.Popen([str(RSSTRACE), "top", "-b", "--json", "-d", "0.2", "-n", "300"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_line(top.stdout, '"type":"frame"')  # tracing has begun
        hog = subprocess.run(cg.enter_cmd([wl("oom_hog")]), timeout=60)
        assert hog.returncode == -9, hog
        seen = wait_for_line(top.stdout, '"type":"oom_kill"')
    finally:
        top.kill()
        top.wait()
    kill = json.loads(next(l for l in seen.splitlines() if '"type":"oom_kill"' in l))
    assert kill["comm"] == "oom_hog" and kill["cgroup"] == cg.path, kill
    assert LIMIT // 2048 <= kill["anon_kb"] <= LIMIT // 1024, kill
