# SPDX-License-Identifier: GPL-2.0
"""Real programs, unmodified, against the kernel's own record.

The workloads of tests/test_accuracy.py report their own /proc/self/status;
programs people trace do not. Their ground truth is the classic
kmem:rss_stat tracepoint (bpftrace): the kernel's exact value of one counter
at every change. A bpftrace program keeps, per address space, the largest
resident total (file + anon + shmem) the tracepoint showed and every process
that changed it; each of rsstrace's rows must have its traced peak
(traced_peak_kb) equal to that of one address space its process changed.

The tracepoint names an address space by a hash of its address (mm_id),
which the next mm allocated there gets too: a short-lived process's mm is
usually the next one's. So an mm_id starts a new generation after an event
leaves all four of its counters at 0 (an mm's teardown ends so; a live one
never is: its stack and code are resident or swapped)."""

import re
import shutil
import tempfile

import pytest

from harness import ROOT, TEST_BUILD, exact_counters, hooked_env, start_bpftrace, stop_bpftrace, trace

pytestmark = pytest.mark.root

# per (mm_id, generation): the peak of file + anon + shmem (bytes), and the
# processes whose events changed it
TRACEPOINT_PEAKS = r'''
tracepoint:kmem:rss_stat {
    $m = args->mm_id;
    if (@dead[$m]) { @gen[$m] = @gen[$m] + 1; delete(@dead[$m]); }
    $g = @gen[$m];
    @cur[$m, args->member] = args->size;
    $rss = @cur[$m, 0] + @cur[$m, 1] + @cur[$m, 3];
    if ($rss + @cur[$m, 2] == 0) { @dead[$m] = 1; }
    @peak[$m, $g] = max($rss);
    @pids[$m, $g, pid] = 1;
}
'''

# Each a program that allocates the way real ones do (malloc arenas,
# interpreters' heaps, mmap'd buffers, fork and exec, pipes), small enough
# for the emulated guests. $T is a scratch directory.
PROGRAMS = {
    "python3": "python3 -c 'b = bytearray(24 << 20); d = {i: str(i) for i in range(100000)}; print(len(b) + len(d))'",
    "perl": "perl -e 'my @a = map { \"x\" x 500 } 1..20000; my %h = map { $_ => $_ } 1..50000; print scalar(@a), \"\\n\"'",
    "od": "head -c 1000000 /dev/urandom | od -An -x > $T/data",
    "xz": "xz -T1 -6 -c $T/data > $T/data.xz && xz -dc $T/data.xz | cmp - $T/data",
    "gzip": "gzip -9 -c $T/data | gzip -dc | wc -c",
    "sort": "sort -S 32M --parallel=1 $T/data | tail -n 1",
    "awk": "awk '{ a[NR % 20000] = $0 } END { print length(a) }' $T/data",
    "tar": f"tar -cf - -C {ROOT} src include | wc -c",
    "gcc": f"gcc -O2 -c -o $T/demo.o -I {ROOT}/tests/workloads {ROOT}/tests/workloads/demo.c",
}


def parse_tracepoint(out):
    """({(mm_id, gen): peak kB}, {(mm_id, gen): {pids}}) from bpftrace's maps."""
    peaks, pids = {}, {}
    for m in re.finditer(r"^@peak\[(\d+), (\d+)\]: (\d+)$", out, re.M):
        peaks[(m[1], m[2])] = int(m[3]) // 1024
    for m in re.finditer(r"^@pids\[(\d+), (\d+), (\d+)\]: 1$", out, re.M):
        pids.setdefault((m[1], m[2]), set()).add(int(m[3]))
    return peaks, pids


def run_programs(monkeypatch, **kw):
    """The programs found here, one after another in one traced shell: the
    run, and the tracepoint's peaks of the address spaces each pid changed."""
    if not shutil.which("bpftrace"):
        pytest.skip("bpftrace missing (scripts/install-deps installs it): it reads the rss_stat tracepoint")
    found = [name for name in PROGRAMS if shutil.which(name)]
    assert {"python3", "xz", "gcc"} <= set(found), f"scripts/install-deps installs these; found {found}"
    # the tracepoint's maps hold every mm of the machine during the run
    monkeypatch.setenv("BPFTRACE_MAP_KEYS_MAX", "65536")
    with tempfile.TemporaryDirectory(prefix="rsstrace-real-") as scratch:
        script = "set -e\n" + "".join(f"{PROGRAMS[name]}\n" for name in found)
        bpftrace = start_bpftrace(TRACEPOINT_PEAKS)
        try:
            run = trace(["env", f"T={scratch}", "sh", "-c", script], **kw)
        finally:
            out, _ = stop_bpftrace(bpftrace)
    assert run.code == 0, run.stderr
    peaks, pids = parse_tracepoint(out)
    assert "@peak[" in out and "@pids[" in out, f"the tracepoint saw nothing: {out[:2000]}"
    by_pid = {}
    for mm, who in pids.items():
        for pid in who:
            by_pid.setdefault(pid, []).append(peaks.get(mm))
    return run, by_pid, found


def assert_rows_equal_the_tracepoint(run, by_pid, found):
    comms = {r["comm"] for r in run.rows}
    # every program made at least one row (sh, env and each program's own)
    assert len(run.rows) >= len(found), (found, comms)
    wrong = [(r["pid"], r["comm"], r["exec_seq"], r["traced_peak_kb"], by_pid.get(r["pid"]))
             for r in run.rows if r["traced_peak_kb"] not in by_pid.get(r["pid"], [])]
    assert not wrong, ("rows whose traced peak (kB) is no peak of an address space their process changed "
                       f"(pid, comm, exec_seq, row, the tracepoint's): {wrong}")


def test_real_programs_peaks_equal_the_tracepoint(monkeypatch):
    run, by_pid, found = run_programs(monkeypatch)
    assert_rows_equal_the_tracepoint(run, by_pid, found)


def test_real_programs_read_from_shadows(monkeypatch):
    """The same, each address space read from shadows of its counters from
    its first CPU (the test build; tests/test_shadow_reads.py)."""
    if not exact_counters():
        pytest.skip("counters are one atomic each up to 6.1: read exactly in O(1), no shadows")
    run, by_pid, found = run_programs(monkeypatch, exe=TEST_BUILD,
                                      env=hooked_env(RSSTRACE_TEST_SHADOW_FROM_CPUS="1"))
    assert run.summary["address_spaces_read_from_shadows"] >= len(found), run.summary
    assert_rows_equal_the_tracepoint(run, by_pid, found)
