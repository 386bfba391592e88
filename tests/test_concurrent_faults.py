# SPDX-License-Identifier: GPL-2.0
"""Threads on different CPUs fault and free on one address space while
rsstrace traces it (issue 18): since 6.2 each counter is a percpu_counter
whose per-CPU parts move concurrently and fold under a lock; after 10^6
changes nothing may have drifted. Ground truth: /proc/self/status read by the
workload, and the classic kmem:rss_stat tracepoint (the kernel sums the
counter exactly for it), read by bpftrace."""

import os
import shutil
import subprocess

import pytest

from harness import (IN_VM, PAGE_KB, SCALE, TEST_BUILD, assert_row_matches_status, assert_tree_peak_sane, exact_counters,
                     hooked_env, program_names_of, start_attached, start_bpftrace, stop_attached, stop_bpftrace, trace, wl)

pytestmark = pytest.mark.root

EVENTS = int(1e6 * SCALE)
PAGES = 64
# the largest anon size per address space (mm_id) of the workload's threads
TRACEPOINT_MAX = ('tracepoint:kmem:rss_stat /comm == "churn_threads" && args->member == 1/ '
                  '{ @anon[args->mm_id] = max(args->size); }')


def tracepoint_peaks(bpftrace):
    """{mm_id: the largest anon size in kB the tracepoint reported}."""
    out, _ = stop_bpftrace(bpftrace)
    peaks = {}
    for line in out.splitlines():
        if line.startswith("@anon["):
            key, _, value = line.partition("]: ")
            peaks[int(key[len("@anon["):])] = int(value) // 1024
    return peaks


@pytest.mark.parametrize("opts, program", [((), "rss_stat_lean"), (("--stacks",), "rss_stat_btf")])
def test_the_lean_program_takes_the_events_where_it_can(opts, program, tmp_path):
    """6.2+: rss_stat_lean (bpf/account.bpf.c: the lean path, then the full
    one) is loaded in rss_stat_btf's place, except where a feature that the
    lean path leaves out is on (--stacks). So the accuracy tests here test
    the path that a default run takes."""
    if not exact_counters():
        pytest.skip("up to 6.1 the counters are atomic: no lean path")
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        tracer = start_attached(["-p", str(sleeper.pid), *opts], tmp_path / "out.json")
        loaded = sorted(n for n in program_names_of(tracer.pid) if n.startswith("rss_stat"))
    finally:
        sleeper.kill()
        sleeper.wait()
    stop_attached(tracer, tmp_path / "out.json")
    assert loaded == [program], f"rsstrace {' '.join(opts)} loaded {loaded}"


def test_an_mm_on_two_cpus_then_on_a_third_peaks_exactly():
    """An address space on two CPUs is read inline (read_inline(): `count`
    and those two CPUs' deltas); an event on a third CPU must leave that
    read for the sum, which joins the CPU. Taken inline, the third CPU's
    events would leave its delta out: the peak up to a batch of pages below
    the kernel's. Ground truth: /proc/self/status at the peak."""
    if not {0, 1, 2} <= os.sched_getaffinity(0):
        pytest.skip(f"needs CPUs 0-2 to fault on, this runs on {sorted(os.sched_getaffinity(0))}: "
                    "the 6.12@64:40 VM guest has 40")
    if not exact_counters():
        pytest.skip("counters are one atomic each up to 6.1: no per-CPU delta to leave out")
    run = trace([wl("third_cpu"), "1000"])
    assert run.code == 0, run.stderr
    peak, end = run.report("peak"), run.report("end")
    row = run.row(end["pid"], exec_seq=1)  # the image it execs pinned to CPU 0
    assert_row_matches_status(row, end["status"])
    # the peak: 1,000 pages faulted on the third CPU, held while /proc was
    # read (a thread's frames may add a page or two after that read)
    held = peak["status"]["RssAnon"]
    assert held <= row["hwm_anon_kb"] < held + 16 * PAGE_KB, f"peak anon {row['hwm_anon_kb']} kB, /proc {held}: {row}"


# src/core/tracer.c SHADOW_FROM_CPUS: an address space is read from shadows
# from its 4th CPU on
SHADOW_FROM_CPUS = 4


def test_threads_on_two_cpus_fault_and_free_one_mm_no_drift():
    """Two threads on the host's 2 CPUs (the inline two-CPU read). Where
    there are 4 CPUs (the 6.12@64:40 guest), 4 threads on 4 CPUs: the
    address space is then read from shadows, whose common step the lean
    program takes itself (bpf/account.bpf.c lean_from_shadows())."""
    run = threads_fault_and_free_one_mm()
    if len(os.sched_getaffinity(0)) >= SHADOW_FROM_CPUS:
        assert run.summary["address_spaces_read_from_shadows"] == 1, run.summary


@pytest.mark.parametrize("possible", [128, 1024])
def test_exact_as_a_machine_with_many_possible_cpus(possible):
    """The BPF side as it loads where the kernel has that many possible CPUs
    (the test build's RSSTRACE_TEST_POSSIBLE_CPUS: the verifier walks every
    iteration of the loops over them, and rejected 1,024 once), still exact:
    the CPUs that do not exist read as 0."""
    if IN_VM:
        pytest.skip("host only: the CPUs made up read whatever their offset 0 points at, which only this "
                    "host's run has shown to be unmapped; the 6.12@64 guest has 64 real possible CPUs")
    threads_fault_and_free_one_mm(exe=TEST_BUILD, env=hooked_env(RSSTRACE_TEST_POSSIBLE_CPUS=str(possible)),
                                  events=int(1e5 * SCALE))


@pytest.mark.parametrize("possible", [128, 256, 1024])
def test_every_option_loads_with_many_possible_cpus(possible):
    """The programs with every option on, where the kernel has that many
    possible CPUs: the verifier's work once grew with them (the walks over
    every possible CPU), and with --kernel-stacks passed its limit from 128
    ("Argument list too long"). Exact as ever: the row against /proc."""
    if IN_VM:
        pytest.skip("host only: the test build's made-up CPUs (see above)")
    run = trace([wl("spike"), "16", "4"], "--causes", "--kernel-stacks", "--sharing", exe=TEST_BUILD,
                env=hooked_env(RSSTRACE_TEST_POSSIBLE_CPUS=str(possible)))
    assert run.code == 0, run.stderr
    report = run.report("spike")
    assert_row_matches_status(run.row(report["pid"]), report["status"])


def test_read_from_shadows_no_drift():
    """The reads from shadows (bpf/lib/shadow.bpf.h) that an address space
    takes once it ran on several CPUs, forced on from its first (the test
    build's RSSTRACE_TEST_SHADOW_FROM_CPUS=1): the same exactness."""
    run = threads_fault_and_free_one_mm(exe=TEST_BUILD, env=hooked_env(RSSTRACE_TEST_SHADOW_FROM_CPUS="1"))
    assert run.summary["address_spaces_read_from_shadows"] >= 1, run.summary


# struct mm_cpus's list (include/rsstrace.h RSS_MM_CPUS): an address space
# that ran on more CPUs than it holds is read on the CPUs of its bitmap
MM_CPUS_LISTED = 32


@pytest.mark.parametrize("reads", ["shadows", "sum"])
def test_an_mm_on_more_cpus_than_its_list_holds_no_drift(reads):
    """Past its list, an address space's retakes of its shadows (its default
    on that many CPUs) and its sums (the test build with shadows off) take
    the CPUs of its bitmap: paths that 2 online CPUs never take (the
    6.12@64:40 guest has 40)."""
    cpus = len(os.sched_getaffinity(0))
    if cpus <= MM_CPUS_LISTED:
        pytest.skip(f"needs more than {MM_CPUS_LISTED} CPUs to fault on, this runs on {cpus}: "
                    "the 6.12@64:40 VM guest has 40")
    kw = {} if reads == "shadows" else dict(exe=TEST_BUILD, env=hooked_env(RSSTRACE_TEST_SHADOW_FROM_CPUS="0"))
    run = threads_fault_and_free_one_mm(nthreads=cpus, **kw)
    shadowed = run.summary["address_spaces_read_from_shadows"]
    assert shadowed == (1 if reads == "shadows" else 0), run.summary


def threads_fault_and_free_one_mm(events=EVENTS, nthreads=4, **run_kw):
    cpus = len(os.sched_getaffinity(0))
    if cpus < 2:
        pytest.skip(f"needs 2 CPUs to fault on at once, this runs on {cpus}")
    if not exact_counters():
        pytest.skip("counters are one atomic each up to 6.1 (read exactly in O(1), nothing per CPU to get "
                    "wrong), and faults there fire no event (SPLIT_RSS_COUNTING: a sync every 64)")
    if not shutil.which("bpftrace"):
        pytest.skip("bpftrace missing (scripts/install-deps installs it): it reads the rss_stat tracepoint")
    nthreads = min(cpus, nthreads)
    rounds = -(-events // (nthreads * (PAGES + 1)))  # a fault per page and an unmap per round
    bpftrace = start_bpftrace(TRACEPOINT_MAX)
    try:
        run = trace([wl("churn_threads"), str(nthreads), str(rounds), str(PAGES)], timeout=600, **run_kw)
    finally:
        peaks = tracepoint_peaks(bpftrace)
    assert run.code == 0, run.stderr
    base, end = run.report("base"), run.report("end")
    assert len(run.rows) == 1, f"threads share one address space: {run.rows}"
    row = run.row(end["pid"])
    assert row["rss_events"] >= events, f"fewer RSS changes than meant: {row}"
    # no drift: the end values are the kernel's, after all those changes
    assert_row_matches_status(row, end["status"])
    # every round gave back what it took
    assert end["status"]["RssAnon"] == base["status"]["RssAnon"], (base, end)
    # the peak: all threads holding their pages at once, as the tracepoint saw it
    assert peaks, "the rss_stat tracepoint saw no anon change of the workload"
    tp_peak = max(peaks.values())  # the workload's mm: the one whose anon went highest
    assert tp_peak == base["status"]["RssAnon"] + nthreads * PAGES * PAGE_KB, (tp_peak, base)
    # A known inexactness (issue 18), kept visible: the read takes no lock,
    # and a fold (count += local, then local = 0, under the counter's lock)
    # caught between its two stores counts the folded pages twice. The read
    # waits for the lock and checks it, but gives up after a bound (a holder
    # stalled that long): with the classic tracepoint on, the other CPU holds
    # the lock for each of its events. Seen in CI host runs: 732 and 744 kB
    # for 628. A fold moves less than the batch, max(32, 2 x online CPUs)
    # pages: the peak is never below the kernel's, nor above it by a batch or
    # more; and exact when no sum was taken unsettled (the summary counts them).
    batch_kb = max(32, 2 * os.cpu_count()) * PAGE_KB
    assert tp_peak <= row["hwm_anon_kb"] < tp_peak + batch_kb, \
        f"peak anon {row['hwm_anon_kb']} kB, tracepoint {tp_peak} kB: {row}"
    if run.summary["unsettled_sums"] == 0:
        assert row["hwm_anon_kb"] == tp_peak, f"every sum settled, yet peak anon {row['hwm_anon_kb']} kB, " \
            f"tracepoint {tp_peak} kB: {row}, {run.summary}"
    assert run.summary["tree_peak_anon_kb"] == row["hwm_anon_kb"], run.summary
    assert_tree_peak_sane(run)
    return run
