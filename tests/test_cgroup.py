# SPDX-License-Identifier: GPL-2.0
"""--cgroup: the traced processes' memory cgroup, read by rsstrace, next to
their summed RSS. The workload runs in a cgroup the test makes; the test reads
the cgroup's memory.stat itself (the ground truth) while the workload holds
its memory, then stops tracing with SIGINT (the "end" reading)."""

import json
import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from cgroups import memory_cgroup  # noqa: F401 (fixture)
from harness import FILE_TOLERANCE_KB, RSSTRACE, file_dir, parse_reports, interrupt_holding_run, read_until, wl

pytestmark = pytest.mark.root

CACHE_MIB, SHARED_MIB = 32, 8


def run_mix(cg, json_out):
    """cgroup_mix in cg under rsstrace --cgroup; returns (output, workload
    reports, the cgroup's memory.stat read by the test while all was in place)."""
    with tempfile.NamedTemporaryFile("r", suffix=".out") as out:
        p = subprocess.Popen([str(RSSTRACE), "--cgroup", "-o", out.name] + (["--json"] if json_out else []) +
                             ["--"] + cg.enter_cmd([wl("cgroup_mix"), str(file_dir()), str(CACHE_MIB), str(SHARED_MIB)]),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            seen = read_until(p.stdout, lambda s: "@@ready" in s and len(parse_reports(s)) == 2,
                              "the workload's readiness", timeout=60)
            truth = cg.stat()  # the kernel's own figures while everything is in place
            # rsstrace reads the cgroup, writes its summary, then waits for CMD
            err = interrupt_holding_run(p, out.name, json_out)
        finally:
            p.kill()
        output = Path(out.name).read_text()
    assert p.returncode == 0, err
    return output, parse_reports(seen), truth


def test_cgroup_counts_page_cache_and_shared_files_once(memory_cgroup):
    cg = memory_cgroup("rsstrace-cg")
    output, reports, truth = run_mix(cg, True)
    objs = [json.loads(l) for l in output.splitlines()]
    ends = [o for o in objs if o["type"] == "cgroup" and o["when"] == "end" and o["path"] == cg.path]
    assert len(ends) == 1, objs
    end = ends[0]
    assert end["version"] == (1 if cg.v1 else 2) and end["traced_processes"] == 2, end
    # the tree's part: what the two processes' /proc/PID/status said
    rss_file = sum(r["status"]["RssFile"] for r in reports)
    assert 0 <= end["tree_file_kb"] - rss_file <= 2 * FILE_TOLERANCE_KB, (end, reports)
    # rsstrace read the same cgroup counters as the test (nothing moved meanwhile)
    file_key = "total_cache" if cg.v1 else "file"
    assert abs(end["file_kb"] - truth[file_key] // 1024) <= 0.05 * truth[file_key] // 1024, (end, truth)
    # page cache that nobody maps: in the cgroup, not in RSS; and the report says so
    assert end["file_kb"] >= CACHE_MIB * 1024, end
    assert end["file_minus_tree_kb"] == end["file_kb"] - end["tree_file_kb"] - end["tree_shmem_kb"], end
    assert end["file_kb"] > end["tree_file_kb"] + end["tree_shmem_kb"], end
    assert end["file_kb"] - end["file_mapped_kb"] >= 0.9 * CACHE_MIB * 1024, end
    assert "page cache" in end["why_file"], end
    # the cache nobody maps is the cgroup's own file - file_mapped: not less by
    # the library pages in the tree's RssFile that are charged to another cgroup
    assert end["unmapped_cache_kb"] == end["file_kb"] - end["file_mapped_kb"], end
    truth_unmapped = (truth[file_key] - truth["total_mapped_file" if cg.v1 else "file_mapped"]) // 1024
    assert abs(end["unmapped_cache_kb"] - truth_unmapped) <= 0.05 * truth_unmapped, (end, truth)
    assert end["tree_file_minus_mapped_kb"] == end["tree_file_kb"] + end["tree_shmem_kb"] - end["file_mapped_kb"], end
    # the shared file: in both processes' RssFile, once in the cgroup's mapped file pages
    mapped_key = "total_mapped_file" if cg.v1 else "file_mapped"
    assert end["file_mapped_kb"] == truth[mapped_key] // 1024 or abs(end["file_mapped_kb"] - truth[mapped_key] // 1024) <= 256, (end, truth)
    # (up to 6.1 the child's RssFile lags its faults: /proc, and so the tree,
    # may show part of its mapping only; more than half is there)
    assert end["tree_file_kb"] - end["file_mapped_kb"] >= 0.5 * SHARED_MIB * 1024, end
    # near the peak, too
    peaks = [o for o in objs if o["type"] == "cgroup" and o["when"] == "peak" and o["path"] == cg.path]
    assert len(peaks) == 1 and peaks[0]["file_kb"] > 0, objs


def test_cgroup_text_report(memory_cgroup):
    cg = memory_cgroup("rsstrace-cg-text")
    output, _, _ = run_mix(cg, False)
    assert re.search(rf"Memory cgroup {re.escape(cg.path)} \(v[12]\)", output), output
    assert re.search(r"near the tree's peak \([\d.]+ s\): cgroup [\d.]+[KMG]", output), output
    assert re.search(r"file \+[\d.]+[KMG]: page cache the cgroup counts but no process maps", output), output
    assert re.search(r"mapped file \+[\d.]+[KMG] in RSS: shared, or charged to another cgroup", output), output
    assert re.search(r"its 2 traced: RSS [\d.]+[KMG]", output), output
