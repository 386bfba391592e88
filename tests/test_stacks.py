# SPDX-License-Identifier: GPL-2.0
"""--stacks / --kernel-stacks / --folded: growth charged to the code that
caused it, at each process's peak, named by function."""

import json
import math
import re

import pytest

from harness import MIB_KB, PAGE_KB, TASK_RSS_CACHES, run_rsstrace, trace, wl

pytestmark = pytest.mark.root


# every page charged: the figures are exact (the default samples, 512K)
EXACT = ("--stack-sample", "0")


def stack_objs(run, kind="stack"):
    return [o for o in map(json.loads, filter(str.strip, run.output.splitlines())) if o["type"] == kind]


def by_leaf(stacks, leaf):
    found = [s for s in stacks if s["folded"].endswith(";" + leaf)]
    assert len(found) == 1, f"one stack ending in {leaf} expected: {[s['folded'] for s in stacks][:20]}"
    return found[0]


def near(value, want, tol=0.05):
    return abs(value - want) <= tol * want


def test_two_allocation_sites_named_with_their_sizes(tmp_path):
    folded = tmp_path / "f.txt"
    run = trace([wl("two_sites"), "48", "16"], "--folded", str(folded), *EXACT)
    assert run.code == 0, run.stderr
    stacks = stack_objs(run)
    alpha, beta = by_leaf(stacks, "site_alpha"), by_leaf(stacks, "site_beta")
    for s, mib in ((alpha, 48), (beta, 16)):
        assert near(s["at_peak_kb"], mib * MIB_KB), s
        assert near(s["anon_kb"], mib * MIB_KB), s
        assert s["folded"].startswith("two_sites;") and ";main;" in s["folded"], s
    # the two biggest stacks are the two sites, in order
    assert [s["folded"] for s in stacks[:2]] == [alpha["folded"], beta["folded"]]
    # folded file: "comm;frames PAGES", the same numbers in pages
    lines = folded.read_text().splitlines()
    assert lines, "empty folded file"
    pages = {}
    for line in lines:
        m = re.fullmatch(r"(two_sites(?:;[^;\n]+)+) (\d+)", line)
        assert m, f"not a folded line: {line!r}"
        assert m.group(1) not in pages, f"duplicate stack line {line!r}"
        pages[m.group(1)] = int(m.group(2))
    assert pages[alpha["folded"]] * PAGE_KB == alpha["at_peak_kb"]
    assert pages[beta["folded"]] * PAGE_KB == beta["at_peak_kb"]
    summary = stack_objs(run, "stacks")[0]
    assert summary["lost_charges"] == 0 and summary["lost_frames"] == 0, summary
    # the stacks explain the process's peak (within what ld.so maps and unmaps)
    assert summary["charged_at_peaks_kb"] >= 0.95 * summary["sum_of_peaks_kb"], summary


def test_pages_after_the_peak_are_not_at_the_peak():
    """alpha is freed before beta runs: the peak holds alpha's pages only;
    beta grew after it (counted in grown_kb, not at the peak)."""
    run = trace([wl("two_sites"), "48", "16", "free"], "--stacks", *EXACT)
    assert run.code == 0, run.stderr
    stacks = stack_objs(run)
    alpha, beta = by_leaf(stacks, "site_alpha"), by_leaf(stacks, "site_beta")
    assert near(alpha["at_peak_kb"], 48 * MIB_KB), alpha
    assert beta["at_peak_kb"] == 0, beta
    assert near(beta["grown_kb"], 16 * MIB_KB), beta


def test_short_lived_exec_child_is_symbolized():
    """The traced tree runs two_sites through a shell: it is gone long before
    the summary, and its frames are still named."""
    run = trace(["/bin/sh", "-c", f"{wl('two_sites')} 16 8; true"], "--stacks", *EXACT)
    assert run.code == 0, run.stderr
    stacks = stack_objs(run)
    assert near(by_leaf(stacks, "site_alpha")["at_peak_kb"], 16 * MIB_KB)
    assert near(by_leaf(stacks, "site_beta")["at_peak_kb"], 8 * MIB_KB)


def test_kernel_stacks_show_the_fault_path_without_tracing_glue(tmp_path):
    folded = tmp_path / "k.txt"
    run = trace([wl("two_sites"), "16", "8"], "--kernel-stacks", "--folded", str(folded), *EXACT)
    assert run.code == 0, run.stderr
    text = folded.read_text()
    alpha = [l for l in text.splitlines() if ";site_alpha;" in l]
    assert alpha, text[:2000]
    assert any("handle_mm_fault_[k]" in l for l in alpha), alpha
    assert "bpf_prog" not in text and "__traceiter" not in text, "tracing glue in the stacks"
    total = sum(int(l.rsplit(" ", 1)[1]) for l in alpha)
    assert near(total * PAGE_KB, 16 * MIB_KB), alpha


def test_a_stack_run_by_eight_processes_counts_eight():
    """Each process maps the code elsewhere (ASLR): one named stack is made
    of a variant per process, whose processes add up (each counted once)."""
    run = trace(["/bin/sh", "-c", f"for i in 1 2 3 4 5 6 7 8; do {wl('two_sites')} 4 2; done"], "--stacks", *EXACT)
    assert run.code == 0, run.stderr
    alpha = by_leaf(stack_objs(run), "site_alpha")
    assert alpha["processes"] == 8, alpha
    assert near(alpha["at_peak_kb"], 8 * 4 * MIB_KB), alpha


def test_text_summary_lists_top_stacks():
    run = trace([wl("two_sites"), "32", "8"], "--stacks", *EXACT, json_out=False)
    assert run.code == 0, run.stderr
    out = run.output
    assert "Where the memory came from (--stacks=fp)" in out, out
    first = out.split("#1 ", 1)[1].split("#2", 1)[0]
    assert "site_alpha" in first, first
    if TASK_RSS_CACHES:  # a fold carries pages of other faults: 31.8M of 32.3M faulted in (6.1 guest)
        held = float(re.match(r"\s*(\d+\.\d)M held", first).group(1))
        assert abs(held - 32) <= 0.05 * 32, first
    else:
        assert first.lstrip().startswith("32.0M held"), first


def test_stack_map_overflow_is_counted_and_reported():
    # two_sites has at least its two sites and the loader's stacks: > 2
    run = trace([wl("two_sites"), "8", "4"], "--stacks", "--stack-entries", "2", *EXACT)
    assert run.code == 0, run.stderr
    summary = stack_objs(run, "stacks")[0]
    assert summary["lost_charges"] > 0, summary
    text = run_rsstrace(["--stacks", "--stack-entries", "2", *EXACT, "--", wl("two_sites"), "8", "4"], json_out=False)
    assert "WARNING: stacks incomplete" in text.output, text.output


def test_no_stacks_without_the_option():
    run = trace([wl("two_sites"), "8", "4"])
    assert run.code == 0
    assert not stack_objs(run) and not stack_objs(run, "stacks")


# --stack-sample: 64 pages, so that 16 MiB is ~64 samples; and a huge page
# (512 pages, which the guests' THP "always" faults in at once) is sampled
# too, not charged whole (16 intervals or more are)
SAMPLE_KB = 256


def assert_estimate(stack, want_kb):
    """A sampled figure: its stated error is 1.96 standard deviations of a
    Poisson count of samples (95%); the estimate must fall within twice that
    (3.9 deviations: a false failure in ~10,000 runs) of the truth."""
    k = stack["samples"]
    assert k > 0, stack
    assert stack["error_kb"] == math.ceil(1.96 * math.sqrt(k) * SAMPLE_KB / PAGE_KB) * PAGE_KB, stack
    assert abs(stack["at_peak_kb"] - want_kb) <= 2 * stack["error_kb"], (want_kb, stack)
    # a charge is a sample's weight, or an event too big to sample charged whole
    assert stack["grown_kb"] >= k * SAMPLE_KB, stack


def test_sampled_stacks_estimate_each_site_within_their_stated_error():
    run = trace([wl("two_sites"), "48", "16"], "--stack-sample", f"{SAMPLE_KB}K")
    assert run.code == 0, run.stderr
    stacks = stack_objs(run)
    alpha, beta = by_leaf(stacks, "site_alpha"), by_leaf(stacks, "site_beta")
    assert_estimate(alpha, 48 * MIB_KB)
    assert_estimate(beta, 16 * MIB_KB)
    summary = stack_objs(run, "stacks")[0]
    assert summary["sample_kb"] == SAMPLE_KB, summary
    assert summary["charge_samples"] == sum(s["samples"] for s in stacks), summary
    # far fewer charges than pages
    assert summary["charge_samples"] < 64 * MIB_KB / SAMPLE_KB * 2, summary


def test_sampled_estimate_is_unbiased_over_many_short_processes():
    """Each CPU's countdown goes on from process to process: a process that
    faults in less than a gap is charged a sample or none, with the right
    odds, and the sum over many stays on the truth."""
    run = trace(["/bin/sh", "-c", f"for i in 1 2 3 4 5 6 7 8; do {wl('two_sites')} 4 2; done"],
                "--stack-sample", f"{SAMPLE_KB}K")
    assert run.code == 0, run.stderr
    stacks = stack_objs(run)
    alpha, beta = by_leaf(stacks, "site_alpha"), by_leaf(stacks, "site_beta")
    assert_estimate(alpha, 8 * 4 * MIB_KB)
    assert_estimate(beta, 8 * 2 * MIB_KB)


def test_sampled_text_summary_says_so_and_gives_each_error():
    run = trace([wl("two_sites"), "32", "8"], "--stack-sample", "128K", json_out=False)
    assert run.code == 0, run.stderr
    out = run.output
    assert "Sampled (--stack-sample 128K): a page in 32 on average" in out, out
    first = out.split("#1 ", 1)[1].split("#2", 1)[0]
    assert "site_alpha" in first and re.search(r"estimated from \d+ samples: within \S+ \(95%\)", first), first


def test_exact_stacks_say_no_sampling():
    run = trace([wl("two_sites"), "8", "4"], "--stacks", *EXACT)
    assert run.code == 0, run.stderr
    summary = stack_objs(run, "stacks")[0]
    assert summary["sample_kb"] == 0 and summary["charge_samples"] == 0, summary
    assert all("samples" not in s for s in stack_objs(run)), stack_objs(run)[:3]
    text = trace([wl("two_sites"), "8", "4"], "--stacks", *EXACT, json_out=False)
    assert "Sampled" not in text.output, text.output


def test_stacks_sample_512k_unless_asked():
    """--stacks alone samples (its cost on a fault storm is that of no
    stacks: docs/performance.md), and says so."""
    run = trace([wl("two_sites"), "48", "16"], "--stacks")
    assert run.code == 0, run.stderr
    summary = stack_objs(run, "stacks")[0]
    assert summary["sample_kb"] == 512 and summary["charge_samples"] > 0, summary
    alpha = by_leaf(stack_objs(run), "site_alpha")
    k = alpha["samples"]
    assert abs(alpha["at_peak_kb"] - 48 * MIB_KB) <= 2 * alpha["error_kb"], alpha
    assert alpha["error_kb"] == math.ceil(1.96 * math.sqrt(k) * 512 / PAGE_KB) * PAGE_KB, alpha
