# SPDX-License-Identifier: GPL-2.0
"""--stacks: what each stack still held at its process's peak, net of what
it gave back before it (bpf/held.bpf.c, src/trace/held_pages.c), against
what it faulted in up to the peak and the kernel's own VmHWM."""

import os
import re
import subprocess

import pytest

from harness import MIB_KB, TASK_RSS_CACHES, file_dir, hooks, trace, wl
from test_causes import swap_total_kb
from test_stacks import EXACT, SAMPLE_KB, by_leaf, near, stack_objs
from test_stacks_dwarf import reaches_start

pytestmark = pytest.mark.root

# Up to 6.1 a task's RSS cache may be folded outside a fault (at no known
# address): such charges stay held.
STRAY_KB = 8 * MIB_KB if TASK_RSS_CACHES else 0


def held_near(value, want):
    """near(), but up to 6.1 a stack's first fold may also bring the last
    faults of the stack before it (up to 64, huge pages among them): site_hold
    held 34,612 kB of 32 MiB once in the 6.1 guest (CI of stop 33)."""
    return near(value, want) or (TASK_RSS_CACHES and want <= value <= want + STRAY_KB)


def assert_held_explains_the_peak(run, tag):
    """The stacks' held pages are what was resident at the peak: no more
    than the kernel's VmHWM, and all of it but what came without a charge
    (fork's copy, pages resident before tracing began)."""
    summary = stack_objs(run, "stacks")[0]
    hwm = run.report(tag)["status"]["VmHWM"]
    assert summary["held_measured"] is True, summary
    assert summary["held_records_lost"] == 0 and summary["held_records_dropped"] == 0, summary
    # up to 6.1 a fold of a task's cache is charged at the address of the
    # fault that made it, with pages of up to 64 earlier faults, which may
    # have been given back already (the 6.1 guest: 420 kB over VmHWM)
    over = 64 * 2 * MIB_KB if TASK_RSS_CACHES else STRAY_KB
    assert 0.95 * hwm <= summary["held_at_peaks_kb"] <= hwm + over, (hwm, summary)


def test_freed_before_the_peak_is_not_held_at_it():
    """The issue's three sites, in code without frame pointers: a's 40 MiB
    are unmapped before b (16) and c (32) make the peak."""
    run = trace([wl("nofp_sites"), "40", "16", "32"], "--stacks=dwarf", *EXACT)
    assert run.code == 0, run.stderr
    stacks = stack_objs(run)
    a, b, c = (by_leaf(stacks, s) for s in ("site_a", "site_b", "site_c"))
    assert near(a["at_peak_kb"], 40 * MIB_KB), a  # faulted in before the peak...
    # ...and gone at it; up to 6.1 a fold made outside a fault (at no known
    # address) stays held: 2 MiB of a's 40 (a huge page) in a 6.1 guest
    assert a["held_at_peak_kb"] <= max(0.25 * 40 * MIB_KB if TASK_RSS_CACHES else 0.01 * 40 * MIB_KB, STRAY_KB), a
    assert held_near(b["held_at_peak_kb"], 16 * MIB_KB), b
    assert held_near(c["held_at_peak_kb"], 32 * MIB_KB), c
    for s in (a, b, c):
        assert reaches_start(s), s
    # heaviest first by what is held
    assert [s["folded"] for s in stacks[:2]] == [c["folded"], b["folded"]]
    assert_held_explains_the_peak(run, "nofp_sites")


def test_every_way_of_giving_back_memory():
    run = trace([wl("held_paths"), "8", "32"], "--stacks", *EXACT)
    assert run.code == 0, run.stderr
    stacks = stack_objs(run)
    for leaf in ("site_brk", "site_dontneed", "site_fixed"):
        s = by_leaf(stacks, leaf)
        assert near(s["at_peak_kb"], 8 * MIB_KB) and s["held_at_peak_kb"] <= STRAY_KB, s
    moved = by_leaf(stacks, "site_moved")  # mremap()ed to a new place, kept
    assert held_near(moved["held_at_peak_kb"], 8 * MIB_KB), moved
    hold = by_leaf(stacks, "site_hold")
    assert held_near(hold["held_at_peak_kb"], 32 * MIB_KB), hold
    assert_held_explains_the_peak(run, "held_paths")


def test_sampled_held_is_within_the_stated_error():
    run = trace([wl("held_paths"), "8", "32"], "--stack-sample", f"{SAMPLE_KB}K")
    assert run.code == 0, run.stderr
    stacks = stack_objs(run)
    for leaf in ("site_brk", "site_dontneed", "site_fixed"):
        s = by_leaf(stacks, leaf)  # 32 samples on average: all given back
        assert s["samples"] > 0 and s["held_at_peak_kb"] <= STRAY_KB, s
    for leaf, mib in (("site_moved", 8), ("site_hold", 32)):
        s = by_leaf(stacks, leaf)
        assert abs(s["held_at_peak_kb"] - mib * MIB_KB) <= 2 * s["error_kb"], s


def test_text_output_says_held_and_faulted_in():
    run = trace([wl("held_paths"), "8", "32"], "--stacks", *EXACT, json_out=False)
    assert run.code == 0, run.stderr
    out = run.output
    first = out.split("#1 ", 1)[1].split("#2", 1)[0]
    assert "site_hold" in first and "Held at the peaks by these stacks:" in out, out
    if TASK_RSS_CACHES:  # site_hold's first fold brings site_fixed's last faults (33.8M in the 6.1 guest)
        assert re.search(r"\d+\.\dM held \(anon \S+, file \S+, shmem \S+\) of \S+ faulted in, in 1 ", first), first
    else:
        assert "32.0M held (anon 32.0M" in first and "of 32.0M faulted in" in first, first
    assert "Held at the peaks by these stacks:" in out, out


# an untraced task that faults without a pause
FAULTER = "import mmap\nwhile True:\n    m = mmap.mmap(-1, 1 << 20); m.write(b'x' * (1 << 20)); m.close()"


def test_a_fault_that_sleeps_keeps_its_address():
    """Each of cold_file's faults sleeps on a read from disk; meanwhile another
    task faults on the same CPU. With the address kept per CPU, 17 MiB of its
    32 came back without one (held to the end, whatever happened to them);
    kept per task, none does."""
    faulter = subprocess.Popen(["python3", "-c", FAULTER], preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    try:
        run = trace([wl("cold_file"), str(file_dir()), "32", "0"], "--stacks", *EXACT)
    finally:
        faulter.kill()
        faulter.wait()
    assert run.code == 0, run.stderr
    # a sleep per page read (8,186-8,190 of 8,192 here)
    assert run.report("cold_file")["status"]["voluntary_ctxt_switches"] >= 8192 / 2, "the faults did not sleep"
    cold = by_leaf(stack_objs(run), "site_cold")
    assert held_near(cold["held_at_peak_kb"], 32 * MIB_KB), cold
    summary = stack_objs(run, "stacks")[0]
    # what exec() itself makes resident has no user fault (72 kB here)
    assert summary["held_unknown_address_kb"] <= max(MIB_KB, STRAY_KB), summary


def test_reclaimed_before_the_peak_is_not_held_at_it():
    """site_swapped's 32 MiB go to swap and site_dropped's 16 MiB of file
    pages are dropped (MADV_PAGEOUT, reclaim's own path) before site_peak's
    64 MiB make the peak: neither holds what reclaim took."""
    reclaim = hooks()["reclaim"]
    if not reclaim["in_use"]:
        pytest.skip(f"reclaim cannot be hooked here ({reclaim.get('reason_1')}): its pages stay held; "
                    "the guests hook it")
    if swap_total_kb() == 0:
        pytest.skip("no swap on this machine (never turned on on the host; the VM suite runs this with zram)")
    run = trace([wl("held_pageout"), str(file_dir()), "32", "16", "64"], "--stacks", *EXACT)
    assert run.code == 0, run.stderr
    touched, paged = run.report("touched")["status"], run.report("paged")["status"]
    swapped_kb, dropped_kb = paged["VmSwap"], touched["RssFile"] - paged["RssFile"]
    assert swapped_kb >= 0.9 * 32 * MIB_KB and dropped_kb >= 0.5 * 16 * MIB_KB, (touched, paged)
    stacks = stack_objs(run)
    swapped, dropped, peak = (by_leaf(stacks, s) for s in ("site_swapped", "site_dropped", "site_peak"))
    # what reclaim left resident is still held, and no more (up to 6.1 a
    # task's cache carries up to 64 pages of other faults into a charge)
    slack = STRAY_KB or 0.01 * 32 * MIB_KB
    assert near(swapped["at_peak_kb"], 32 * MIB_KB), swapped
    assert swapped["held_at_peak_kb"] <= 32 * MIB_KB - swapped_kb + slack, (swapped, swapped_kb)
    assert dropped["held_at_peak_kb"] <= 16 * MIB_KB - dropped_kb + slack, (dropped, dropped_kb)
    assert held_near(peak["held_at_peak_kb"], 64 * MIB_KB), peak
    assert_held_explains_the_peak(run, "held_pageout")


def test_held_at_the_tree_peak_is_of_the_processes_alive_then():
    """tree_sites: the parent keeps site_parent's 16 MiB; a first child's
    site_early makes 64 MiB and exits, then a second child's site_late 32.
    The tree peaks while the first child lives: site_late held its 32 MiB
    at its own process's peak, nothing at the tree's."""
    run = trace([wl("tree_sites"), "16", "64", "32"], "--stacks", *EXACT)
    assert run.code == 0, run.stderr
    stacks = stack_objs(run)
    parent, early, late = (by_leaf(stacks, s) for s in ("site_parent", "site_early", "site_late"))
    assert held_near(late["held_at_peak_kb"], 32 * MIB_KB) and late["held_at_tree_peak_kb"] == 0, late
    assert near(early["held_at_tree_peak_kb"], 64 * MIB_KB), early
    assert near(parent["held_at_tree_peak_kb"], 16 * MIB_KB), parent
    summary = stack_objs(run, "stacks")[0]
    # the tree's peak counts the first child's copy of the parent's pages
    # too, which fork made resident, not a stack: it is the held pages' bound
    tree_peak = run.summary["tree_peak_kb"]
    assert 80 * MIB_KB * 0.98 <= summary["held_at_tree_peak_kb"] <= tree_peak - 16 * MIB_KB * 0.98, (summary, tree_peak)
    assert summary["held_at_tree_peak_kb"] == sum(s.get("held_at_tree_peak_kb", 0) for s in stacks), summary
