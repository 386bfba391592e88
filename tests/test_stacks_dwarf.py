# SPDX-License-Identifier: GPL-2.0
"""--stacks=dwarf: stacks of code without frame pointers, unwound in user
space with the CFI of the mapped files (the workload built -O2
-fomit-frame-pointer, and Debian's own stripped python3 and xz)."""

import os
import shutil

import pytest

from harness import IN_VM, MIB_KB, SCALE, TEST_BUILD, hooked_env, own_peak, trace, wl
from test_stacks import EXACT, by_leaf as site, near, stack_objs as objs

pytestmark = pytest.mark.root

# libc's start frames: the outermost a stack of the main thread can reach
# (_start itself has no symbol in a stripped executable such as xz)
START_FRAMES = ("__libc_start_main", "__libc_start_call_main")


def frames(stack):
    """Outermost first, without the command."""
    return stack["folded"].split(";")[1:]


def reaches_start(stack):
    return any(f.split("@")[0] in START_FRAMES for f in frames(stack))


def reaches_outermost(stack):
    """Through libc's start, or from the loader's own _start (ld.so is not
    stripped of it: its stacks before main are _start;_dl_start;...)."""
    return reaches_start(stack) or frames(stack)[:2] == ["_start", "_dl_start"]


SITES = {"site_a": 24, "site_b": 16, "site_c": 32}  # MiB, the workload's arguments


def run_nofp_sites(mode, **kw):
    return trace([wl("nofp_sites")] + [str(m) for m in SITES.values()], f"--stacks={mode}", *EXACT, **kw)


def test_nofp_sites_unwind_through_main_to_libc_start():
    run = run_nofp_sites("dwarf")
    assert run.code == 0, run.stderr
    stacks = objs(run)
    rss_anon = run.report("nofp_sites")["status"]["RssAnon"]
    for leaf, mib in SITES.items():
        s = site(stacks, leaf)
        f = frames(s)
        stage = "stage_" + leaf[-1]
        # innermost last: site_X, called by stage_X, called by main, from libc
        assert f[-3:] == ["main", stage, leaf], s
        assert reaches_start(s), s
        assert near(s["grown_kb"], mib * MIB_KB), s
    # b and c are held to the end: the kernel's RssAnon then holds both
    held = site(stacks, "site_b")["grown_kb"] + site(stacks, "site_c")["grown_kb"]
    assert 0.95 * rss_anon <= held <= rss_anon, (held, rss_anon)
    summary = objs(run, "stacks")[0]
    assert summary["unwind"] == "dwarf", summary
    assert summary["samples"] > 0 and summary["samples_lost"] == 0, summary


def test_frame_pointer_mode_stops_in_nofp_code():
    """The same workload with frame-pointer walking: its sites are found, but
    their stacks do not reach main (what the dwarf mode is for)."""
    run = run_nofp_sites("fp")
    assert run.code == 0, run.stderr
    stacks = objs(run)
    for leaf in SITES:
        s = site(stacks, leaf)
        assert "main" not in frames(s) and not reaches_start(s), s
    assert objs(run, "stacks")[0]["unwind"] == "fp"


def test_text_output_names_the_mode():
    run = run_nofp_sites("dwarf", json_out=False)
    assert run.code == 0, run.stderr
    assert "(--stacks=dwarf)" in run.output and "unwound with the files' CFI" in run.output, run.output
    assert "Unwound " in run.output, run.output


def assert_charged_to_whole_stacks(run, comm, named):
    """>= 95% of what comm's stacks held at its peak is in stacks that reach
    the outermost frame (libc's start, or ld.so's _start before main); the
    process's peak is what they explain; and the heaviest stack names a
    library function (`named`)."""
    assert run.code == 0, run.stderr
    stacks = [s for s in objs(run) if s["folded"].startswith(comm + ";")]
    charged = sum(s["at_peak_kb"] for s in stacks)
    whole = sum(s["at_peak_kb"] for s in stacks if reaches_outermost(s))
    peak = max(own_peak(r) for r in run.rows if r["comm"] == comm)
    assert whole >= 0.95 * charged, [s["folded"] for s in stacks if not reaches_outermost(s)][:10]
    assert charged >= 0.9 * peak, (charged, peak)
    # what was resident at the peak, net of frees: whole stacks hold it too
    held = sum(s["held_at_peak_kb"] for s in stacks)
    held_whole = sum(s["held_at_peak_kb"] for s in stacks if reaches_outermost(s))
    assert held_whole >= 0.95 * held and 0.9 * peak <= held <= peak, (held_whole, held, peak)
    assert any(f.split("@")[0] in named for f in frames(stacks[0])), stacks[0]


@pytest.mark.skipif(IN_VM, reason="real programs under emulation are slow, and unwinding is user space: "
                    "the guests test the kernel side on nofp_sites")
def test_stripped_python_holding_a_bytearray():
    python = "/usr/bin/python3"
    if not os.access(python, os.X_OK):
        pytest.skip("no /usr/bin/python3")
    mib = max(16, int(200 * SCALE))
    run = trace([python, "-c", f"b = bytearray(b'\\x01') * ({mib} << 20)"], "--stacks=dwarf", *EXACT)
    assert_charged_to_whole_stacks(run, "python3", ("Py_BytesMain", "Py_RunMain", "PyEval_EvalCode"))


@pytest.mark.skipif(IN_VM, reason="real programs under emulation are slow, and unwinding is user space: "
                    "the guests test the kernel side on nofp_sites")
def test_stripped_xz_compressing(tmp_path):
    xz = shutil.which("xz")
    if not xz:
        pytest.skip("xz not installed (scripts/install-deps installs xz-utils)")
    data = tmp_path / "random.bin"
    data.write_bytes(os.urandom(max(1, int(30 * SCALE)) << 20))
    run = trace([xz, "-9", "-k", "-f", str(data)], "--stacks=dwarf", *EXACT)
    assert_charged_to_whole_stacks(run, "xz", ("lzma_code",))


def test_short_lived_child_of_a_shell_is_unwound():
    """nofp_sites with small sites lives a few milliseconds, exec'd by sh -c:
    gone long before the summary, maybe before the loader could read its
    /proc/PID/maps (a CI host run under load unwound it to its innermost
    frame only). Whatever the timing, the kernel's mmap records of its image
    name every frame, from libc's start down to the site."""
    run = trace(["/bin/sh", "-c", f"{wl('nofp_sites')} 2 1 1; true"], "--stacks=dwarf", *EXACT)
    assert run.code == 0, run.stderr
    stacks = objs(run)
    for leaf in SITES:
        s = site(stacks, leaf)
        assert frames(s)[-3:] == ["main", "stage_" + leaf[-1], leaf], s
        assert reaches_start(s), s
    summary = objs(run, "stacks")[0]
    assert summary["samples_without_maps"] == 0 and summary["mmap_records_lost"] == 0, summary


def test_processes_gone_before_their_maps_are_read_unwound_from_mmap_records():
    """The test build's RSSTRACE_TEST_NO_PROC_MAPS makes every process look
    gone before its /proc/PID/maps could be read: the maps come from the
    kernel's mmap records alone (an exec'd image's code mappings, each file
    placed by its first segment). The stacks are the same as with /proc:
    through main to libc's start; sh's own too (its exec'd image), and its
    forked child's before the exec (its parent's maps)."""
    cmd = ["/bin/sh", "-c", f"{wl('nofp_sites')} {' '.join(str(m) for m in SITES.values())}; true"]
    run = trace(cmd, "--stacks=dwarf", *EXACT, exe=TEST_BUILD, env=hooked_env(RSSTRACE_TEST_NO_PROC_MAPS="1"))
    assert run.code == 0, run.stderr
    stacks = objs(run)
    for leaf, mib in SITES.items():
        s = site(stacks, leaf)
        assert frames(s)[-3:] == ["main", "stage_" + leaf[-1], leaf], s
        assert reaches_start(s), s
        assert near(s["grown_kb"], mib * MIB_KB), s
    sh = [s for s in stacks if s["folded"].startswith("sh;")]
    assert sh and any(reaches_outermost(s) for s in sh), sh
    summary = objs(run, "stacks")[0]
    assert summary["samples_with_mmap_records"] > 0, summary
    assert summary["samples_with_mmap_records"] + summary["samples_with_parent_maps"] == summary["samples"], summary
    assert summary["samples_without_maps"] == 0 and summary["mmap_records_lost"] == 0, summary


def test_cxx_frames_are_demangled():
    """The binary's symbol is _ZN2wl5Arena4fillEm; the stack names it as the
    source does."""
    run = trace([wl("cxx_sites"), "8"], "--stacks=dwarf", *EXACT)
    assert run.code == 0, run.stderr
    s = site(objs(run), "wl::Arena::fill(unsigned long)")
    assert frames(s)[-2] == "main" and reaches_start(s), s
    assert near(s["grown_kb"], 8 * MIB_KB), s
    assert not any(f.startswith("_Z") for o in objs(run) for f in frames(o)), "a mangled name left"
