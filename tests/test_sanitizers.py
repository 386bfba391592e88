# SPDX-License-Identifier: GPL-2.0
"""The user-space code under AddressSanitizer + UndefinedBehaviorSanitizer
(unit tests and full runs), valgrind memcheck on a full `-- CMD` run, and
bounded libFuzzer runs of every parser of external text. `make check` builds
the binaries under build/san and build/fuzz."""

import os
import subprocess
import tempfile

import pytest

from harness import IN_VM, ROOT, RSSTRACE, SAN_ENV, TEST_BUILD, VALGRIND, built, parse_json_lines, valgrind_errors, wl

SAN = ROOT / "build" / "san"
FUZZ = ROOT / "build" / "fuzz"
FUZZ_SECONDS = int(os.environ.get("RSSTRACE_FUZZ_SECONDS", "10"))

# These test the user-space code, which does not depend on the kernel: they run
# on the host, not again inside every (software-emulated) VM guest.
pytestmark = pytest.mark.skipif(IN_VM, reason="user-space sanitizers and fuzzers run on the host suite")


def assert_clean(p):
    for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert bad not in p.stderr, p.stderr[-3000:]


@pytest.mark.parametrize("unit", sorted(p.stem for p in (ROOT / "tests" / "unit").glob("test_*.c")))
def test_unit_tests_under_asan_ubsan(unit):
    exe = built(SAN / "unit" / unit)
    p = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120, env=SAN_ENV)
    assert_clean(p)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]


@pytest.mark.parametrize("args", [
    ["--json", "--", wl("fork_cow"), "2", "8"],
    ["--causes", "-i", "0.05", "--", wl("exec_twice"), "16", "8"],
    ["--rows", "2", "--", wl("burst"), "6", "2"],
    ["--kernel-stacks", "--folded", "/dev/null", "--pprof", "/dev/null", "--sharing", "--csv", "/dev/null",
     "--svg", "/dev/null", "-i", "0.05", "--", wl("fork_cow"), "2", "8"],
], ids=["json-fork", "causes-exec-interval", "text-burst", "stacks-sharing-timeline"])
@pytest.mark.root
def test_full_run_under_asan_ubsan(args):
    exe = built(TEST_BUILD)
    with tempfile.NamedTemporaryFile("r") as f:
        p = subprocess.run([str(exe), "-o", f.name] + args, capture_output=True, text=True, timeout=120,
                           env=SAN_ENV)
        out = open(f.name).read()
    assert_clean(p)
    assert p.returncode in (0, 5), p.stderr[-2000:]
    if "--json" in args:
        rows, summary, _ = parse_json_lines(out)
        assert summary["processes"] == 3
    else:
        assert "Tree peak RSS" in out


@pytest.mark.parametrize("opts", [
    ["--causes"],
    ["--kernel-stacks", "--sharing", "--csv", "/dev/null", "--svg", "/dev/null", "--folded", "/dev/null",
     "--pprof", "/dev/null"],
], ids=["causes", "stacks-sharing-timeline"])
@pytest.mark.root
def test_valgrind_memcheck_full_run_no_leak(opts):
    with tempfile.NamedTemporaryFile("r") as f:
        p = subprocess.run(VALGRIND + [str(RSSTRACE), "-o", f.name, "--json"] + opts +
                           ["--", wl("fork_cow"), "2", "8"],
                           capture_output=True, text=True, timeout=600)
        rows, summary, _ = parse_json_lines(open(f.name).read())
    assert p.returncode == 0, valgrind_errors(p.stderr)
    assert summary["processes"] == 3


@pytest.mark.parametrize("target", sorted(p.stem for p in (ROOT / "tests" / "fuzz").glob("fuzz_*.c")))
def test_fuzz_parser(target, tmp_path):
    exe = built(FUZZ / target)
    p = subprocess.run([str(exe), f"-max_total_time={FUZZ_SECONDS}", "-rss_limit_mb=1024", "-timeout=10",
                        f"-artifact_prefix={tmp_path}/", str(tmp_path)],
                       capture_output=True, text=True, timeout=FUZZ_SECONDS + 120)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Done" in p.stderr
