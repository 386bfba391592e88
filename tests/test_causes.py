# SPDX-License-Identifier: GPL-2.0
"""The hook layer and the cause counters.

The expectations are derived from what this kernel offers, checked here
independently of rsstrace (kprobe support, kallsyms): on a kernel with kprobes
(the 5.10 / 6.1 / 6.12 VM guests) the function hooks must really be attached
and their counters must move; where they cannot attach (this 6.18 host), the
fallbacks must be chosen and what has no hook must read as null, never 0."""

from pathlib import Path

import pytest

from harness import PAGE_KB, assert_row_matches_status, hooks, trace, wl

pytestmark = pytest.mark.root


def kernel_has_kprobes():
    return Path("/sys/bus/event_source/devices/kprobe/type").exists()


def kallsyms_text(name):
    with open("/proc/kallsyms") as f:
        return any(l.split()[1] in "tT" and l.split()[2] == name for l in f if len(l.split()) == 3)


def function_hook(h):
    return h["in_use"] is not None and h["in_use"].split("/")[0] in ("fentry", "kprobe")


def test_every_logical_hook_is_listed_with_reasons():
    hk = hooks()
    assert set(hk) == {"rss_change", "fork", "exec", "exit", "teardown", "fault", "wp_fault",
                       "rmap_removal", "rmap_removal_pmd", "vma_removal", "swap_in", "oom_kill",
                       "footprint_new_anon", "footprint_anon", "footprint_anon_pmd", "footprint_file",
                       "footprint_file_pmd", "footprint_remove", "footprint_remove_pmd", "cow_copy", "reclaim",
                       "reclaim_end", "seed",
                       "cgroup_enter", "rename"}
    for core in ("rss_change", "fork", "exec", "exit", "teardown"):
        assert hk[core]["in_use"], hk[core]
    for name, h in hk.items():
        rejected = [k for k in h if k.startswith("rejected_")]
        if h["in_use"] is None:
            assert rejected, f"{name}: unavailable but no reason given: {h}"
        for k in rejected:
            assert h["reason_" + k.split("_")[1]], h


@pytest.mark.parametrize("hook,symbols", [
    ("fault", ["handle_mm_fault"]),
    ("wp_fault", ["do_wp_page"]),
    ("rmap_removal", ["folio_remove_rmap_ptes", "page_remove_rmap"]),
    ("rmap_removal_pmd", ["folio_remove_rmap_pmd"]),
    ("vma_removal", ["remove_vma"]),
    ("swap_in", ["do_swap_page"]),
])
def test_function_hooks_used_where_the_kernel_allows(hook, symbols):
    h = hooks()[hook]
    present = [s for s in symbols if kallsyms_text(s)]
    if kernel_has_kprobes() and present:
        assert function_hook(h), f"kprobes work and {present} exist, yet {hook} uses {h}"
    if not kernel_has_kprobes():
        assert not (h["in_use"] or "").startswith("kprobe/"), h
        kp = [h["reason_" + k.split("_")[1]] for k in h if k.startswith("rejected_") and h[k].startswith("kprobe/")]
        assert all("no kprobe support" in r or "not in kallsyms" in r for r in kp), h


def test_copy_on_write_and_fork_counters():
    nchild, shared_mib = 3, 16
    run = trace([wl("fork_cow"), str(nchild), str(shared_mib)], "--causes")
    assert run.code == 0, run.stderr
    hk = hooks()
    shared_pages = shared_mib * 1024 // PAGE_KB
    for i, c in enumerate(sorted((r for r in run.reports if r["tag"] == "child"), key=lambda r: r["pid"])):
        row = run.row(c["pid"])
        assert_row_matches_status(row, c["status"])
        assert row["fork_inherited_pages"] >= shared_pages, row
        assert row["faults"] is not None and row["wp_faults"] is not None, hk["wp_fault"]
        assert row["faults"] >= row["wp_faults"]
        # child i dirtied (i+1)/(n+1) of the shared pages: one CoW fault each
        dirtied = shared_pages // (nchild + 1) * (i + 1)
        assert dirtied <= row["wp_faults"] <= dirtied * 1.05 + 64, (dirtied, row)


def test_unmap_counters_follow_the_hooks_in_use():
    nmaps, mib = 8, 4
    run = trace([wl("munmap_many"), str(nmaps), str(mib)], "--causes")
    assert run.code == 0, run.stderr
    rep = run.report("munmap_many")
    row = run.row(rep["pid"])
    assert_row_matches_status(row, rep["status"])
    pages = nmaps * mib * 1024 // PAGE_KB
    assert row["unmapped_pages"] >= pages, row  # from rss_stat: always exact
    assert row["teardown_pages"] * PAGE_KB == row["vm_rss_kb"]
    hk = hooks()
    if function_hook(hk["vma_removal"]):
        assert row["vmas_removed"] >= nmaps and row["unmapped_vma_bytes"] >= nmaps * mib << 20, row
        assert row["munmap_request_bytes"] is None
    elif hk["vma_removal"]["in_use"]:  # the munmap() syscall tracepoint
        assert row["vmas_removed"] is None and row["unmapped_vma_bytes"] is None, row
        assert row["munmap_request_bytes"] >= nmaps * mib << 20, row
    else:
        assert row["vmas_removed"] is None and row["munmap_request_bytes"] is None, row
    if hk["rmap_removal"]["in_use"]:
        assert row["rmap_removed_pages"] >= pages, row
    else:
        assert row["rmap_removed_pages"] is None, row
    if hk["swap_in"]["in_use"] is None:
        assert row["swapin_faults"] is None
    assert run.summary["hook_vma_removal"] == hk["vma_removal"]["in_use"]


def test_unmap_text_names_the_fallback_that_measured_it():
    """The text shows the munmap() figure the JSON has, under the fallback's
    name, where that fallback is the hook in use: never n/a for it."""
    nmaps, mib = 8, 4
    hk = hooks()
    run = trace([wl("munmap_many"), str(nmaps), str(mib)], "--causes", json_out=False)
    assert run.code == 0, run.stderr
    rep = run.report("munmap_many")
    header = next(l for l in run.output.splitlines() if l.split()[:2] == ["PID", "COMMAND"] and "FAULTS" in l)
    line = next(l for l in run.output.splitlines()[run.output.splitlines().index(header):]
                if l.split()[:1] == [str(rep["pid"])])
    last = line.split()[-1]
    if function_hook(hk["vma_removal"]):
        assert header.split()[-1] == "VMA-RM" and int(last) >= nmaps, (header, line)
    elif hk["vma_removal"]["in_use"]:
        assert header.split()[-1] == "MUNMAP", header
        assert last != "n/a" and parse_size_kb(last) >= nmaps * mib * 1024, line
        assert "vma_removal   " + hk["vma_removal"]["in_use"] in run.output, run.output
    else:
        assert last == "n/a", line


def parse_size_kb(text):
    """"32.0M" (the text output's K/M/G) in kB."""
    return float(text[:-1]) * {"K": 1, "M": 1024, "G": 1024 * 1024}[text[-1]]


def test_without_causes_hook_counters_are_null():
    run = trace([wl("spike"), "8", "1"])
    row = run.rows[0]
    for k in ("faults", "wp_faults", "rmap_removed_pages", "vmas_removed", "swapin_faults"):
        assert row[k] is None, (k, row)
    assert row["unmapped_pages"] >= 8 * 1024 // PAGE_KB


def swap_total_kb():
    with open("/proc/meminfo") as f:
        return int(next(l for l in f if l.startswith("SwapTotal:")).split()[1])


def test_swap_out_with_madv_pageout():
    if swap_total_kb() == 0:
        pytest.skip("no swap on this machine (never turned on on the host; the VM suite runs this with zram)")
    mib, out_mib = 32, 16
    run = trace([wl("pageout"), str(mib), str(out_mib)], "--causes")
    assert run.code == 0, run.stderr
    rep = run.report("pageout")
    row = run.row(rep["pid"])
    assert_row_matches_status(row, rep["status"])  # VmSwap exact
    assert rep["status"]["VmSwap"] >= out_mib * 1024 * 0.9, rep["status"]
    assert row["swapout_pages"] * PAGE_KB >= rep["status"]["VmSwap"], row
