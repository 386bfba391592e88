# SPDX-License-Identifier: GPL-2.0
"""--sharing (PSS/USS/footprint from smaps_rollup) and the --csv / --svg
timelines, against the kernel's own numbers and the summary's tree peak."""

import csv
import json
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import MIB_KB, RSSTRACE, Prefork, read_rollup, run_rsstrace, trace, wl

pytestmark = pytest.mark.root

SVG_NS = "{http://www.w3.org/2000/svg}"


def objects(run, kind):
    return [json.loads(l) for l in run.output.splitlines() if l.strip() and json.loads(l)["type"] == kind]


def test_sharing_prefork_footprint_against_smaps(tmp_path):
    """-p on a live prefork tree: the footprint is close to what was really
    allocated while the sum of RSS is several times larger, and each process's
    PSS/USS is the kernel's own smaps_rollup."""
    pf = Prefork()
    try:
        run = run_rsstrace(["--sharing", "-d", "0.5", "-p", ",".join(map(str, pf.pids))])
        assert run.code == 0, run.stderr
        # the processes are idle: the kernel's numbers now are the ones rsstrace read
        truth = {pid: read_rollup(pid) for pid in pf.pids}
    finally:
        pf.release()
    tree = {o["at"]: o for o in objects(run, "sharing")}
    procs = [o for o in objects(run, "sharing_process") if o["at"] == "end"]
    assert set(tree) == {"peak", "end"}, tree
    end = tree["end"]
    assert end["processes"] == len(pf.pids) and end["unreadable"] == 0, end
    fp = end["footprint_kb"]
    assert abs(fp - pf.expected_footprint_kb) <= 0.10 * pf.expected_footprint_kb, \
        f"footprint {fp} kB, expected ~{pf.expected_footprint_kb} kB"
    assert end["rss_kb"] >= 2.5 * fp, f"sum of RSS {end['rss_kb']} not several times the footprint {fp}"
    assert end["pss_kb"] == fp and end["uss_kb"] <= fp
    assert {o["pid"] for o in procs} == set(pf.pids)
    for o in procs:
        t = truth[o["pid"]]
        for key, field in (("rss_kb", "Rss"), ("pss_anon_kb", "Pss_Anon"), ("swap_kb", "Swap")):
            # file pages may move by a page or two; anon cannot
            assert abs(o[key] - t.get(field, 0)) <= 64, f"{key} of {o['pid']}: {o[key]} vs smaps {t[field]}"
        # the PSS of shared file pages (libc...) changes when other processes
        # map or unmap them, rsstrace itself among them
        assert abs(o["pss_kb"] - t["Pss"]) <= 64 + t.get("Pss_File", t["Pss"]), (o, t)
        # likewise a file page turns private when its other mappers go:
        # USS may move by at most the file-backed part of the RSS
        file_kb = t["Rss"] - t["Anonymous"]
        assert abs(o["uss_kb"] - (t["Private_Clean"] + t["Private_Dirty"])) <= 64 + file_kb, (o, t)
    # the three dirtiers hold half the shared memory privately
    dirtiers = sorted(o["uss_kb"] for o in procs)[-3:]
    for uss in dirtiers:
        assert abs(uss - pf.shared_kb // 2) <= 0.05 * pf.shared_kb, dirtiers
    # the peak reading (at attach: the seeded tree is a new peak) saw the same tree
    assert abs(tree["peak"]["footprint_kb"] - fp) <= 0.02 * fp, tree


def test_sharing_reading_near_the_peak_in_cmd_mode(tmp_path):
    """-- CMD: readings are taken at the tree's peaks and, while the tree stays
    near its peak, again every second (copy-on-write changes no RSS counter);
    the live footprint reaches the real allocation. The parent grows a little
    once the children have copied their halves, so the tree's last peak comes
    after the copy-on-write: the reading kept as "peak" (the one nearest that
    peak) shows the whole footprint, and quotes the summary's peak."""
    out = tmp_path / "out.json"
    pf = Prefork(under_rsstrace=["--sharing", "--json", "-i", "0.05", "-o", str(out)], last_mib=4)
    want = pf.expected_footprint_kb
    try:
        deadline = time.monotonic() + 30
        while True:
            lines = [json.loads(l) for l in out.read_text().splitlines() if l.strip()]
            iv = [o for o in lines if o["type"] == "interval" and "sharing_footprint_kb" in o]
            if iv and abs(iv[-1]["sharing_footprint_kb"] - want) <= 0.10 * want:
                break
            assert time.monotonic() < deadline, f"the footprint never reached ~{want} kB: {iv[-3:]}"
            time.sleep(0.05)
    finally:
        code, stdout, stderr = pf.release()
    assert code == 0, stderr
    objs = [json.loads(l) for l in out.read_text().splitlines() if l.strip()]
    peak = [o for o in objs if o["type"] == "sharing" and o["at"] == "peak"]
    assert len(peak) == 1, objs[-5:]
    peak = peak[0]
    assert peak["processes"] == len(pf.pids), peak
    assert abs(peak["footprint_kb"] - want) <= 0.10 * want, peak
    assert peak["rss_kb"] >= 2.5 * peak["footprint_kb"], peak
    # nothing was alive at the end: no end reading
    assert not [o for o in objs if o["type"] == "sharing" and o["at"] == "end"]
    assert objs[-1]["type"] == "summary"
    summary = objs[-1]
    assert (peak["tree_peak_kb"], peak["tree_peak_at_ms"]) == \
        (summary["tree_peak_kb"], summary["tree_peak_at_ms"]), (peak, summary)
    assert peak["read_after_peak_ms"] == peak["read_at_ms"] - peak["tree_peak_at_ms"], peak


def test_sharing_text_report():
    pf = Prefork(nchild=2, shared_mib=32, dirtiers=1)
    try:
        run = run_rsstrace(["--sharing", "-d", "0.3", "-p", ",".join(map(str, pf.pids))],
                           json_out=False)
    finally:
        pf.release()
    assert run.code == 0, run.stderr
    assert "Sharing when tracing stopped (smaps_rollup of 3 live processes" in run.output, run.output
    assert "Sharing near the tree's peak" in run.output, run.output
    assert "footprint (sum of PSS)" in run.output
    assert "the sum of RSS is" in run.output


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_csv_peak_equals_summary_peak(tmp_path):
    """A spike shorter than the sampling interval: the CSV still holds the
    exact tree peak, equal to the summary's, breakdown included."""
    path = tmp_path / "t.csv"
    run = trace([wl("spike"), "96", "8"], "--csv", str(path), "--timeline-interval", "0.5")
    assert run.code == 0, run.stderr
    rows = csv_rows(path)
    assert rows and set(rows[0]) == {"time_s", "scope", "pid", "comm", "rss_kb", "anon_kb",
                                       "file_kb", "shmem_kb", "swap_kb", "processes"}
    s = run.summary
    tree = [r for r in rows if r["scope"] in ("tree", "tree_peak")]
    top = max(tree, key=lambda r: int(r["rss_kb"]))
    assert int(top["rss_kb"]) == s["tree_peak_kb"], (top, s)
    assert top["scope"] == "tree_peak"
    assert int(top["anon_kb"]) == s["tree_peak_anon_kb"] and int(top["file_kb"]) == s["tree_peak_file_kb"]
    assert abs(float(top["time_s"]) * 1000 - s["tree_peak_at_ms"]) <= 1
    assert s["tree_peak_kb"] >= 96 * MIB_KB  # the spike is in it
    for r in tree:  # every row adds up
        assert int(r["rss_kb"]) == int(r["anon_kb"]) + int(r["file_kb"]) + int(r["shmem_kb"]), r
    times = [float(r["time_s"]) for r in rows if r["scope"] == "tree"]
    assert times == sorted(times)
    procs = [r for r in rows if r["scope"] == "process"]
    assert procs and all(r["comm"] == "spike" for r in procs), procs[:3]
    tl = objects(run, "timeline")
    assert len(tl) == 1 and tl[0]["samples"] == len(times) and tl[0]["csv"] == str(path)


def test_csv_per_process_rows_match_rows(tmp_path):
    """Per-process samples of a fork tree: the last sample of each child is
    never above its own peak, and every traced child appears."""
    path = tmp_path / "t.csv"
    run = trace([wl("burst"), "4", "16"], "--csv", str(path), "--timeline-interval", "0.01",
                "--timeline-procs", "0")
    assert run.code == 0, run.stderr
    rows = csv_rows(path)
    peaks = {r["pid"]: max(r["traced_peak_kb"], r["vm_hwm_kb"]) for r in run.rows}
    seen = {int(r["pid"]) for r in rows if r["scope"] == "process"}
    assert seen <= set(peaks), (seen, peaks)
    for r in rows:
        if r["scope"] == "process":
            assert int(r["rss_kb"]) <= peaks[int(r["pid"])] + 8, (r, peaks)


def test_svg_is_xml_with_peak_marker(tmp_path):
    path = tmp_path / "t.svg"
    run = trace([wl("spike"), "64", "8"], "--svg", str(path))
    assert run.code == 0, run.stderr
    root = ET.parse(path).getroot()
    assert root.tag == SVG_NS + "svg"
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    assert {"peak-marker", "anon", "file", "shmem", "swap", "legend", "axes"} <= ids, ids
    marker = next(e for e in root.iter() if e.get("id") == "peak-marker")
    label = "".join(marker.itertext()).strip()
    peak_mib = run.summary["tree_peak_kb"] / 1024
    assert label.startswith("peak ") and (f"{peak_mib:.1f}M" in label or f"{peak_mib:.0f}M" in label), \
        (label, peak_mib)
    assert "rsstrace: RSS of" in "".join(root.find(SVG_NS + "title").itertext())
    legend = "".join(next(e for e in root.iter() if e.get("id") == "legend").itertext())
    assert "spike" in legend and "anon" in legend


def test_timeline_bad_path_is_a_usage_error(tmp_path):
    run = run_rsstrace(["--csv", str(tmp_path / "no" / "such" / "dir.csv"), "--", "true"], json_out=False)
    assert run.code == 2
    err = run.stderr.strip().splitlines()
    assert len(err) == 1 and "cannot open" in err[0] and "dir.csv" in err[0], run.stderr
