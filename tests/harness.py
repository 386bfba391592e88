# SPDX-License-Identifier: GPL-2.0
"""Running rsstrace and the test workloads, and reading what they report.

Workloads print their own /proc/self/status just before exiting (see
tests/workloads/workload.h); rsstrace writes JSON Lines to a file (-o). The
tests compare the two: the kernel's numbers are the ground truth."""

import json
import os
import re
import select
import subprocess
import time
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
RSSTRACE = ROOT / "rsstrace"
WORKLOADS = ROOT / "build" / "workloads"
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
# The exit path itself may fault in a few file pages after the workload's last
# reading (the issue allows "within a few pages for file").
FILE_TOLERANCE_KB = 8 * PAGE_KB


def hooks():
    """rsstrace --hooks --json: each logical hook's choice on this kernel."""
    p = subprocess.run([str(RSSTRACE), "--hooks", "--json"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return {o["hook"]: o for o in map(json.loads, p.stdout.splitlines())}


def wl(name):
    return str(WORKLOADS / name)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    output: str  # what rsstrace wrote to -o
    rows: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    intervals: list = field(default_factory=list)
    reports: list = field(default_factory=list)

    def row(self, pid, exec_seq=0):
        found = [r for r in self.rows if r["pid"] == pid and r["exec_seq"] == exec_seq]
        assert len(found) == 1, f"expected one row for pid {pid} exec_seq {exec_seq}, got {found} in {self.rows}"
        return found[0]

    def report(self, tag, pid=None):
        found = [r for r in self.reports if r["tag"] == tag and (pid is None or r["pid"] == pid)]
        assert found, f"workload report {tag} missing; stdout was {self.stdout!r}"
        return found[-1]


def parse_reports(text):
    out = []
    for m in re.finditer(r"@@status pid=(\d+) tag=(\S+)\n(.*?)@@end\n", text, re.S):
        fields = {}
        for line in m.group(3).splitlines():
            k, _, v = line.partition(":")
            v = v.strip()
            num = re.match(r"^(-?\d+)", v)
            fields[k] = int(num.group(1)) if num else v
        out.append({"pid": int(m.group(1)), "tag": m.group(2), "status": fields})
    return out


def parse_json_lines(text):
    objs = [json.loads(line) for line in text.splitlines() if line.strip()]
    rows = [o for o in objs if o["type"] == "process"]
    summaries = [o for o in objs if o["type"] == "summary"]
    intervals = [o for o in objs if o["type"] == "interval"]
    assert len(summaries) == 1, f"expected exactly one summary object, got {len(summaries)}: {text}"
    assert objs[-1]["type"] == "summary", "the summary must be the last object"
    return rows, summaries[0], intervals


def run_rsstrace(args, json_out=True, timeout=120, stdin=None, env=None):
    """Runs rsstrace with -o to a temp file; parses it if json_out."""
    with tempfile.NamedTemporaryFile("r", suffix=".out") as f:
        cmd = [str(RSSTRACE), "-o", f.name] + (["--json"] if json_out else []) + list(args)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           errors="replace", timeout=timeout, stdin=stdin, env=env)
        output = Path(f.name).read_text(errors="replace")
    run = Run(p.returncode, p.stdout, p.stderr, output, reports=parse_reports(p.stdout))
    if json_out and output:
        run.rows, run.summary, run.intervals = parse_json_lines(output)
    return run


def trace(cmd, *opts, **kw):
    """rsstrace [opts] -- cmd, JSON parsed."""
    return run_rsstrace(list(opts) + ["--"] + list(cmd), **kw)


def assert_row_matches_status(row, status, what=""):
    """The row's end values against /proc/PID/status read just before the end."""
    ctx = f"{what} pid {row['pid']} exec_seq {row['exec_seq']}: row={row} status={status}"
    # exact for anon, shmem and swap
    assert row["rss_anon_kb"] == status["RssAnon"], "RssAnon differs: " + ctx
    assert row["rss_shmem_kb"] == status["RssShmem"], "RssShmem differs: " + ctx
    assert row["vm_swap_kb"] == status["VmSwap"], "VmSwap differs: " + ctx
    # file (and so VmRSS) within a few pages the exit path may add
    assert 0 <= row["rss_file_kb"] - status["RssFile"] <= FILE_TOLERANCE_KB, "RssFile differs: " + ctx
    assert 0 <= row["vm_rss_kb"] - status["VmRSS"] <= FILE_TOLERANCE_KB, "VmRSS differs: " + ctx
    assert 0 <= row["vm_hwm_kb"] - status["VmHWM"] <= FILE_TOLERANCE_KB, "VmHWM differs: " + ctx
    assert row["vm_peak_kb"] == status["VmPeak"], "VmPeak differs: " + ctx
    assert row["vm_size_kb"] == status["VmSize"], "VmSize differs: " + ctx


def own_peak(row):
    """The largest RSS the process had: the kernel's VmHWM, or the exact peak
    rsstrace saw, which can be higher (the kernel updates hiwater_rss from
    batched per-CPU counters)."""
    return max(row["vm_hwm_kb"], row["traced_peak_kb"])


def assert_tree_peak_sane(run):
    s = run.summary
    total = s["tree_peak_anon_kb"] + s["tree_peak_file_kb"] + s["tree_peak_shmem_kb"]
    assert s["tree_peak_kb"] == total, f"tree peak breakdown does not add up: {s}"
    assert s["tree_peak_kb"] <= sum(own_peak(r) for r in run.rows), \
        f"tree peak above the sum of every process's peak: {s} rows={run.rows}"
    assert s["tree_peak_kb"] >= max((r["traced_peak_kb"] for r in run.rows), default=0), \
        f"tree peak below a single process's exact peak: {s} rows={run.rows}"
    assert s["lost_events"] == 0, f"events lost: {s}"


def exact_counters():
    """6.2+: /proc shows exact counters. Up to 6.1 (struct mm_rss_stat in BTF)
    each task caches its RSS changes and folds them in every 64 faults."""
    p = subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                       capture_output=True, text=True)
    return "STRUCT 'mm_rss_stat'" not in p.stdout


def wait_for_line(stream, needle, timeout=30):
    """Reads the raw pipe (no Python buffering, so select() tells the truth)
    until needle appears; bounded by timeout. Returns what was read from the
    line holding needle on (text)."""
    fd = stream.fileno()
    deadline = time.monotonic() + timeout
    seen = b""
    while not re.search(re.escape(needle.encode()) + b"[^\n]*\n", seen):
        left = deadline - time.monotonic()
        r, _, _ = select.select([fd], [], [], max(left, 0))
        if not r:
            raise AssertionError(f"{needle!r} not seen in {timeout} s; got {seen!r}")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise AssertionError(f"{needle!r} not seen before EOF; got {seen!r}")
        seen += chunk
    text = seen.decode(errors="replace")
    start = text.rfind("\n", 0, text.find(needle)) + 1
    return text[start:]
