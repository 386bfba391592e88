# SPDX-License-Identifier: GPL-2.0
"""--pprof FILE: the stacks as a gzip'd profile.proto, read back by the real
consumer, go tool pprof (Debian's golang-go): the same run's JSON stacks are
the numbers it must show, the workload's own ELF note its build id, and its
source the line of its allocation site."""

import gzip
import re
import shutil
import subprocess

import pytest

from harness import IN_VM, MIB_KB, ROOT, run_rsstrace, start_idle, trace, wl
from test_stacks import EXACT, by_leaf, stack_objs

GO = shutil.which("go")

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(IN_VM, reason="--pprof is user space (the stacks' kernel side runs in the "
                                 "guests through test_stacks*.py): tested on the host"),
              pytest.mark.skipif(not GO, reason="go not installed (scripts/install-deps installs golang-go "
                                 "for go tool pprof)")]

NOFP_SITES = {"site_a": 24, "site_b": 16, "site_c": 32}  # MiB; a is unmapped before b and c


def pprof(*args):
    p = subprocess.run([GO, "tool", "pprof", *map(str, args)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout


ROW = re.compile(r"^\s*(\d+)B?\s+[\d.]+%\s+[\d.]+%\s+(\d+)B?\s+[\d.]+%\s+(.+)$")


def top(path, sample_index, *opts):
    """go tool pprof -top in bytes: (the header text, [(flat, cum, name)]
    heaviest flat first, the total of all samples)."""
    out = pprof("-top", "-unit=B", f"-sample_index={sample_index}", *opts, path)
    head, _, table = out.partition("      flat  flat%")
    rows = [(int(m[1]), int(m[2]), m[3].strip()) for m in map(ROW.match, table.splitlines()[1:]) if m]
    total = re.search(r"of (\d+)B? total", head)
    assert total and rows, out
    return head, rows, int(total[1])


def flat(rows, name):
    found = [r[0] for r in rows if r[2] == name]
    assert len(found) == 1, (name, rows[:20])
    return found[0]


def elf_build_id(path):
    """The build id in the file's own ELF note (binutils' readelf)."""
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True, check=True).stdout
    return re.search(r"Build ID: ([0-9a-f]+)", out)[1]


def source_line(path, text):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_go_pprof_lists_site_c_first_with_the_bytes_of_the_json(tmp_path):
    """nofp_sites (no frame pointers), --stacks=dwarf: the JSON and the
    profile of one run. Faulted up to the peak, c's 32 MiB lead; each site's
    bytes in the profile are its JSON stack's, in both sample types."""
    prof = tmp_path / "mem.pb.gz"
    run = trace([wl("nofp_sites")] + [str(m) for m in NOFP_SITES.values()], "--stacks=dwarf",
                "--pprof", str(prof), *EXACT)
    assert run.code == 0, run.stderr
    stacks = stack_objs(run)
    head, rows, total = top(prof, "faulted_to_peak_space")
    assert rows[0][2] == "site_c", rows[:5]
    for leaf, mib in NOFP_SITES.items():
        s = by_leaf(stacks, leaf)
        assert flat(rows, leaf) == s["at_peak_kb"] * 1024, (leaf, s)
        assert s["at_peak_kb"] >= 0.95 * mib * MIB_KB, s  # the JSON is right (test_stacks_dwarf.py)
    assert total == sum(s["at_peak_kb"] for s in stacks) * 1024, (total, len(stacks))
    _, grown, grown_total = top(prof, "faulted_space")
    for leaf in NOFP_SITES:
        assert flat(grown, leaf) == by_leaf(stacks, leaf)["grown_kb"] * 1024, leaf
    assert grown_total == sum(s["grown_kb"] for s in stacks) * 1024
    # held at the peak (the default sample type): a's pages were unmapped before it
    _, held, held_total = top(prof, "held_at_peak_space")
    assert held[0][2] == "site_c" and "site_a" not in [r[2] for r in held], held[:5]
    for leaf in ("site_b", "site_c"):
        assert flat(held, leaf) == by_leaf(stacks, leaf)["held_at_peak_kb"] * 1024, leaf
    assert held_total == sum(s["held_at_peak_kb"] for s in stacks) * 1024
    # the main mapping: the workload, by its path and its ELF note's build id
    assert re.search(r"^File: nofp_sites$", head, re.M), head
    assert f"Build ID: {elf_build_id(wl('nofp_sites'))}" in head, head
    assert "up to each process's peak RSS, including pages freed before that peak" in head, head
    # the profile's duration: tracing until the outputs were written, before the summary's end
    d = re.search(r"^Duration: ([\d.]+)(ms|s),", head, re.M)
    assert d, head
    assert 0 < float(d[1]) * (1 if d[2] == "ms" else 1000) <= run.summary["duration_ms"] + 1, (d[0], run.summary)
    # source lines from the workload's debug info: site_c is defined by SITE(c, 3)
    _, lines, _ = top(prof, "faulted_to_peak_space", "-lines")
    line = source_line(ROOT / "tests" / "workloads" / "nofp_sites.c", "SITE(c, 3)")
    assert re.fullmatch(rf"site_c (\S*/)?tests/workloads/nofp_sites\.c:{line}", lines[0][2]), lines[:3]
    # every sample labelled with its command
    tags = pprof("-tags", "-unit=B", "-sample_index=faulted_to_peak_space", prof)
    assert re.search(rf"comm: Total {total}(\.0)?B\s+{total}(\.0)?B \(\s*100%\): nofp_sites\n", tags), tags


def test_frame_pointer_stacks_too(tmp_path):
    """--pprof alone: frame-pointer stacks (the default), two_sites' alpha
    first with its JSON stack's bytes."""
    prof = tmp_path / "fp.pb.gz"
    run = trace([wl("two_sites"), "48", "16"], "--pprof", str(prof), *EXACT)
    assert run.code == 0, run.stderr
    alpha = by_leaf(stack_objs(run), "site_alpha")
    assert stack_objs(run, "stacks")[0]["unwind"] == "fp"
    head, rows, _ = top(prof, "faulted_to_peak_space")
    assert rows[0][2] == "site_alpha" and rows[0][0] == alpha["at_peak_kb"] * 1024, (rows[:3], alpha)
    # the walk stops in libc, below main: the main mapping is still the workload
    assert re.search(r"^File: two_sites$", head, re.M), head


def test_no_samples_is_still_a_valid_profile(tmp_path):
    """An idle process attached to charges nothing: the file is still gzip
    holding a profile pprof reads, with the sample types and no sample."""
    prof = tmp_path / "empty.pb.gz"
    idle = start_idle(1)
    try:
        run = run_rsstrace(["--pprof", str(prof), "-p", str(idle.pid), "-d", "0.2"])
    finally:
        idle.stdin.close()
        idle.wait()
    assert run.code == 0, run.stderr
    assert stack_objs(run, "stacks")[0]["stacks"] == 0, "the idle process faulted: not an empty profile"
    assert gzip.decompress(prof.read_bytes()), "not gzip, or empty"
    raw = pprof("-raw", prof)
    assert "held_at_peak_space/bytes[dflt]" in raw and "faulted_to_peak_space/bytes" in raw, raw
    samples = raw.split("Samples:", 1)[1].split("Locations", 1)[0]
    assert not re.search(r"\d+:", samples), raw


def test_empty_file_name_is_a_usage_error():
    p = subprocess.run([str(ROOT / "rsstrace"), "--pprof", "", "--", "true"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2 and "empty file name for --pprof" in p.stderr, p


def test_locations_lie_in_their_mappings_and_kernel_frames_have_no_address(tmp_path):
    """--kernel-stacks: the kernel frames are there, by name only (an address
    would show where the kernel is to whoever reads the file); every user
    location is inside its mapping's range, and none is a kernel address
    (a frame-pointer walk past the real frames reads such values)."""
    prof = tmp_path / "k.pb.gz"
    run = trace([wl("two_sites"), "16", "8"], "--kernel-stacks", "--pprof", str(prof), *EXACT)
    assert run.code == 0, run.stderr
    raw = pprof("-raw", prof)
    maps = {int(m[1]): (int(m[2], 16), int(m[3], 16))
            for m in re.finditer(r"^(\d+): 0x([0-9a-f]+)/0x([0-9a-f]+)/0x[0-9a-f]+ ", raw, re.M)}
    locs = re.findall(r"^\s+\d+: 0x([0-9a-f]+) (?:M=(\d+) )?(\S+)", raw.split("Locations", 1)[1], re.M)
    assert maps and locs, raw[-3000:]
    kernel = [(a, m) for a, m, name in locs if name.endswith("_[k]")]
    assert kernel and all(a == "0" and not m for a, m in kernel), kernel[:5]
    for addr, m, name in locs:
        assert int(addr, 16) < 1 << 47, (addr, name)
        if m:
            start, limit = maps[int(m)]
            assert start <= int(addr, 16) < limit, (addr, name, maps[int(m)])


def test_lost_charges_are_said_in_the_profile(tmp_path):
    """Two stack entries for two_sites' many stacks: the charges that did not
    fit are counted (the JSON's lost_charges) and the profile's comments say
    so, as the summary warns."""
    prof = tmp_path / "lost.pb.gz"
    run = trace([wl("two_sites"), "8", "4"], "--pprof", str(prof), "--stack-entries", "2", *EXACT)
    assert run.code == 0, run.stderr
    lost = stack_objs(run, "stacks")[0]["lost_charges"]
    said = re.search(r"WARNING: stacks incomplete: (\d+) charges lost", pprof("-comments", prof))
    assert lost > 0 and said, (lost, said)
    # written at the end of tracing, before the summary's final count
    assert 0 < int(said[1]) <= lost, (said[0], lost)


def test_copies_on_write_are_a_sample_type_of_their_own(tmp_path):
    """prefork: two children write half of a 64 MiB region shared since the
    fork from dirty_half(). The cow_copied_space sample type puts dirty_half
    first, with the bytes of the run's JSON cow_stack (which
    test_stacks_cow.py checks against each writer's Private_Dirty), and the
    total of every cow_stack; the hook that counted is said."""
    prof = tmp_path / "cow.pb.gz"
    run = trace([wl("prefork"), "3", "64", "2", "", "0", "0"], "--stacks", "--pprof", str(prof), *EXACT,
                stdin=subprocess.DEVNULL)
    assert run.code == 0, run.stderr
    cows = stack_objs(run, "cow_stack")
    dirty = [c for c in cows if c["folded"].endswith(";dirty_half")]
    assert len(dirty) == 1 and dirty[0]["copied_kb"] >= 0.95 * 2 * 32 * MIB_KB, cows
    head, rows, total = top(prof, "cow_copied_space")
    assert rows[0][2] == "dirty_half" and rows[0][0] == dirty[0]["copied_kb"] * 1024, (rows[:3], dirty)
    assert total == sum(c["copied_kb"] for c in cows) * 1024, (total, cows)
    assert "cow_copied_space counted at " + stack_objs(run, "cow_stacks")[0]["hook"] in head, head
    # the faulted sample types of the same profile are still the faulted stacks'
    _, _, faulted = top(prof, "faulted_space")
    assert faulted == sum(s["grown_kb"] for s in stack_objs(run)) * 1024


def test_sampled_profile_says_so_and_holds_the_estimates(tmp_path):
    """--stack-sample: the profile's comments say that its figures are
    estimates and how they were sampled; its values are the JSON's."""
    prof = tmp_path / "sampled.pb.gz"
    run = trace([wl("two_sites"), "32", "8"], "--pprof", str(prof), "--stack-sample", "256K")
    assert run.code == 0, run.stderr
    assert "--stack-sample: a page in 64 on average charged as 64 pages" in pprof("-comments", prof)
    alpha = by_leaf(stack_objs(run), "site_alpha")
    _, rows, _ = top(prof, "faulted_to_peak_space")
    assert flat(rows, "site_alpha") == alpha["at_peak_kb"] * 1024, (rows[:5], alpha)
