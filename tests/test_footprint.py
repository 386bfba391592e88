# SPDX-License-Identifier: GPL-2.0
"""--footprint: each physical page counted once.

The prefork workload: a parent with MIB of anonymous memory shared
copy-on-write with CHILDREN children, DIRTIERS of which write half of it, and a
FILE_MIB file every process maps. Its real footprint is
MIB + DIRTIERS * MIB/2 of anonymous memory and FILE_MIB of file, while the sum
of RSS counts the shared pages in every process. Where the rmap hooks attach
(the VM kernels) the first-toucher accounting must be within 5% of that; where
they cannot (this 6.18 host), the PSS fallback must be chosen, said, and be
within 10%."""

import json
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness import RSSTRACE, file_dir, hooks, parse_reports, run_rsstrace, wait_for_file, wait_for_line, wl

pytestmark = pytest.mark.root

MIB, CHILDREN, DIRTIERS, FILE_MIB = 128, 6, 3, 16


def rmap_hooks_attach():
    hk = hooks()
    return all(hk[k]["in_use"] for k in ("footprint_new_anon", "footprint_anon", "footprint_file",
                                          "footprint_remove"))


def run_prefork(*opts):
    """prefork under rsstrace --footprint --json; stops tracing (SIGINT) while
    every process holds its memory, then lets them go (each reports its
    /proc status as it exits). Returns (objects, workload reports, pids:
    the parent first, then the children in order: the dirtiers first)."""
    args = [str(CHILDREN), str(MIB), str(DIRTIERS), str(file_dir()), str(FILE_MIB)]
    with tempfile.NamedTemporaryFile("r", suffix=".json") as out:
        p = subprocess.Popen([str(RSSTRACE), "--json", "--footprint", "-o", out.name, *opts, "--",
                              wl("prefork"), *args],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            line = wait_for_line(p.stdout, "@@ready pids=", timeout=300)
            pids = [int(x) for x in line.split("pids=")[1].split()[0].split(",")]
            p.send_signal(signal.SIGINT)
            # rsstrace writes its summary, then waits for the command
            wait_for_file(Path(out.name), '"type":"summary"', timeout=120)
            rest, err = p.communicate(timeout=120)
        finally:
            p.kill()
        objs = [json.loads(l) for l in Path(out.name).read_text().splitlines()]
    assert p.returncode == 0, err
    return objs, parse_reports(line + rest.decode(errors="replace")), pids


def one(objs, type_):
    found = [o for o in objs if o["type"] == type_]
    assert len(found) == 1, f"expected one {type_} record: {objs}"
    return found[0]


def expected_kb():
    return (MIB + DIRTIERS * MIB // 2) * 1024, FILE_MIB * 1024


def test_prefork_footprint_on_rmap_hooks():
    if not rmap_hooks_attach():
        pytest.skip("the rmap hooks cannot attach on this kernel (no fentry/kprobes): "
                    "the VM kernels test first-toucher accounting; here the fallback is tested")
    objs, reports, pids = run_prefork()
    fp = one(objs, "footprint")
    anon, file = expected_kb()
    assert fp["method"] == "rmap first-toucher", fp
    # processes hold everything when tracing stops: the end is the steady state
    assert abs(fp["anon_kb"] - anon) <= 0.05 * anon, (fp, anon)
    # the file counted once, not once per process (a few KiB of the
    # workload's own binary may be first-touched by it too)
    assert file <= fp["file_kb"] <= file + 0.05 * (anon + file), (fp, file)
    assert fp["peak_kb"] >= fp["footprint_kb"], fp
    assert fp["pages_not_counted"] == 0 and fp["processes_not_itemized"] == 0, fp
    # next to it, the sum of RSS counts the shared pages in every process
    rss_sum = sum(r["status"]["VmRSS"] for r in reports)
    assert rss_sum >= (CHILDREN + 1) * MIB * 1024, reports
    assert fp["tree_rss_kb"] >= 0.95 * rss_sum, (fp, rss_sum)
    # per process: the parent touched the shared pages first, each dirtier its copies
    owners = {o["pid"]: o for o in objs if o["type"] == "footprint_process"}
    parent, children = pids[0], pids[1:]
    assert abs(owners[parent]["anon_kb"] - MIB * 1024) <= 0.05 * MIB * 1024, owners[parent]
    half = MIB * 512
    dirty = [owners.get(c, {}).get("anon_kb", 0) for c in children]
    assert all(abs(d - half) <= 0.05 * half for d in dirty[:DIRTIERS]), dirty
    assert all(d <= 0.05 * half for d in dirty[DIRTIERS:]), dirty
    # and the parent touched the file first: it is the parent's, once
    assert owners[parent]["file_kb"] >= FILE_MIB * 1024, owners[parent]


def test_prefork_footprint_fallback_where_rmap_hooks_cannot_attach():
    if rmap_hooks_attach():
        pytest.skip("the rmap hooks attach on this kernel: first-toucher accounting is tested instead")
    objs, reports, pids = run_prefork()
    fp = one(objs, "footprint")
    assert fp["method"] == "pss (smaps_rollup) fallback", fp
    assert "rmap functions cannot be hooked" in fp["reason"], fp
    anon, file = expected_kb()
    want = anon + file
    # the end reading: every process holds its memory (PSS counts each page once,
    # split between its mappers; the processes' own small private pages come on top)
    assert abs(fp["footprint_kb"] - want) <= 0.10 * want, (fp, want)
    assert abs(fp["footprint_anon_kb"] - anon) <= 0.10 * anon, (fp, anon)
    # the other reading follows a rise of the tree's RSS (rate-limited: it can
    # be one taken while the tree was still growing): never above the end's
    assert fp["peak_kb"] is not None and 0 < fp["peak_kb"] <= 1.10 * want, (fp, want)
    rss_sum = sum(r["status"]["VmRSS"] for r in reports)
    assert rss_sum >= (CHILDREN + 1) * MIB * 1024, reports
    assert fp["tree_rss_kb"] >= 2.5 * fp["footprint_kb"], fp


def test_fallback_is_said_in_the_text_summary():
    if rmap_hooks_attach():
        pytest.skip("the rmap hooks attach on this kernel: no fallback to report")
    run = run_rsstrace(["--footprint", "--", wl("spike"), "16", "8"], json_out=False)
    assert run.code == 0, run.stderr
    assert "Footprint: pss (smaps_rollup) fallback" in run.output, run.output
    assert "rmap functions cannot be hooked" in run.stderr and "smaps_rollup" in run.stderr, run.stderr


def test_footprint_map_overflow_is_counted():
    if not rmap_hooks_attach():
        pytest.skip("the rmap hooks cannot attach on this kernel (no fentry/kprobes): no per-page map here")
    objs, _, _ = run_prefork("--footprint-pages", "1024")
    fp = one(objs, "footprint")
    assert fp["max_pages"] == 1024, fp
    assert fp["pages_not_counted"] > 0, fp
    summary = one(objs, "summary")
    assert summary["footprint_pages_not_counted"] == fp["pages_not_counted"], summary


@pytest.mark.parametrize("bad", ["0", "-5", "lots", "268435457"])
def test_footprint_pages_bad_value_is_a_usage_error(bad):
    p = subprocess.run([str(RSSTRACE), "--footprint-pages", bad, "--", "true"], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 2, p
    assert p.stderr.startswith("rsstrace: invalid page count"), p.stderr
