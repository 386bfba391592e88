# SPDX-License-Identifier: GPL-2.0
"""What rsstrace writes, and what happens when it cannot (issue 15, items 1-6
and 8): every failed write is one line on stderr and exit status 98 (141 when
a pipe's reader went away), a signal never cuts the summary, two outputs never
name one file, a failed run leaves -o FILE as it was, a budget below 1K is
refused, and output paths an unprivileged user could have planted are refused."""

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness import (IN_VM, NOBODY, RSSTRACE, parse_json_lines, read_until, start_idle, temp_dir_with_mode,
                     wait_until)

EXIT_OUTPUT_FAILED = 98


def rsstrace(*args, **kw):
    kw.setdefault("capture_output", True)
    return subprocess.run([str(RSSTRACE)] + list(args), text=True, timeout=60, **kw)


def only_line(stderr):
    """The one line rsstrace wrote to stderr."""
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("rsstrace: "), f"expected one rsstrace: line, got {stderr!r}"
    return lines[0]


@pytest.fixture
def shared_dir():
    """A directory like /tmp: sticky, anyone can write (removed after)."""
    with temp_dir_with_mode("rsstrace-sticky-", 0o1777) as d:
        yield d


# ---- item 1: failed writes ------------------------------------------------------------

@pytest.mark.root
@pytest.mark.parametrize("args,name", [
    (["-o", "/dev/full"], "/dev/full"),
    (["--json", "-o", "/dev/full"], "/dev/full"),
    (["-i", "0.01", "-o", "/dev/full"], "/dev/full"),
    (["-o", "/dev/null", "--csv", "/dev/full"], "/dev/full"),
    (["-o", "/dev/null", "--svg", "/dev/full"], "/dev/full"),
    # every page charged: sampled, sh's pages may have no sample, and an empty file
    # is no failed write
    (["-o", "/dev/null", "--folded", "/dev/full", "--stack-sample", "0"], "/dev/full"),
    (["-o", "/dev/null", "--pprof", "/dev/full"], "/dev/full"),
], ids=["o", "json", "interval", "csv", "svg", "folded", "pprof"])
def test_failed_write_is_one_line_and_exit_98(args, name):
    # CMD's own status (3) must not hide it
    p = rsstrace(*args, "--", "sh", "-c", "exit 3")
    line = only_line(p.stderr)
    assert p.returncode == EXIT_OUTPUT_FAILED, p
    assert name in line and "No space left on device" in line, line


STDOUT_FAILURES = pytest.mark.parametrize("redirect,why", [(">/dev/full", "No space left on device"),
                                                            (">&-", "Bad file descriptor")], ids=["full", "closed"])


@pytest.mark.root
@STDOUT_FAILURES
@pytest.mark.parametrize("args", ["-- true", "top -b -n 1", "top -b -n 1 --json"], ids=["trace", "top", "top-json"])
def test_failed_write_to_stdout_is_one_line_and_exit_98(args, redirect, why):
    """top -b >/dev/full ended with 141 (a closed pipe's status) and no word;
    with stdout closed it wrote its frames into a BPF object's fd."""
    p = subprocess.run(f'"{RSSTRACE}" {args} {redirect}', shell=True, capture_output=True, text=True,
                       timeout=60)
    line = only_line(p.stderr)
    assert p.returncode == EXIT_OUTPUT_FAILED, p
    assert "standard output" in line and why in line, line


@STDOUT_FAILURES
@pytest.mark.parametrize("args", ["--help", "--version", "top --help", "serve --help"])
def test_help_that_cannot_be_written_is_an_error(args, redirect, why):
    """--help >/dev/full said nothing and exited 0."""
    p = subprocess.run(f'"{RSSTRACE}" {args} {redirect}', shell=True, capture_output=True, text=True,
                       timeout=60)
    lines = p.stderr.splitlines()
    command = "rsstrace" + "".join(f" {w}" for w in args.split() if w in ("top", "serve"))
    assert lines == [f"{command}: cannot write standard output: {why}"], p.stderr
    assert p.returncode == EXIT_OUTPUT_FAILED, p


@pytest.mark.root
def test_reader_gone_is_141_and_says_so():
    # -p: live lines until a write fails (the reader closes after the first)
    idle = start_idle(1)
    tracer = subprocess.Popen([str(RSSTRACE), "--json", "-i", "0.02", "-p", str(idle.pid)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert '"type":"interval"' in tracer.stdout.readline()
        tracer.stdout.close()
        err = tracer.stderr.read()
        tracer.wait(timeout=30)
    finally:
        if tracer.poll() is None:
            tracer.kill()
        idle.kill()
        idle.wait()
    assert tracer.returncode == 141, err
    assert "reader closed the pipe" in only_line(err)


# ---- item 2: a signal while the summary is written ------------------------------------

WRITE_NR = {"x86_64": 1, "aarch64": 64}.get(os.uname().machine)


def blocked_writing_stdout(pid):
    """In write(1, ...) (from /proc/PID/syscall: number and first argument)."""
    try:
        f = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return len(f) > 1 and f[0] == str(WRITE_NR) and int(f[1], 16) == 1


def full_pipe():
    """A pipe of one page, already full: the next write to it blocks until
    it is read. Returns (read fd, write fd, bytes in it)."""
    r, w = os.pipe()
    fcntl.fcntl(w, getattr(fcntl, "F_SETPIPE_SZ", 1031), 4096)
    os.set_blocking(w, False)
    filled = 0
    for chunk in (b"#" * 4096, b"#"):
        while True:
            try:
                filled += os.write(w, chunk)
            except BlockingIOError:
                break
    os.set_blocking(w, True)
    return r, w, filled


def first_stderr_line(tracer):
    """rsstrace's first line on stderr, read while the pipe is still full (a
    build that says nothing fails here within 30 s instead of hanging)."""
    return read_until(tracer.stderr, lambda s: "\n" in s, "a line on stderr")


def end(tracer, r, idle):
    os.close(r)  # a tracer still blocked on the pipe gets EPIPE
    if tracer.poll() is None:
        tracer.kill()
    tracer.wait()
    idle.kill()
    idle.wait()


def drain(fd):
    data = b""
    while chunk := os.read(fd, 65536):
        data += chunk
    return data


def start_blocked_summary():
    """rsstrace -p IDLE -d 0.1 --json, its summary blocked on a full pipe."""
    if WRITE_NR is None:
        pytest.skip(f"write(2)'s number on {os.uname().machine} is not known to this test")
    if not Path("/proc/self/syscall").exists():
        pytest.skip("no /proc/PID/syscall (CONFIG_HAVE_ARCH_TRACEHOOK) to see rsstrace blocked in write")
    idle = start_idle(1)
    r, w, filled = full_pipe()
    tracer = subprocess.Popen([str(RSSTRACE), "--json", "-d", "0.1", "-p", str(idle.pid)], stdout=w,
                              stderr=subprocess.PIPE, text=True)
    os.close(w)
    wait_until(lambda: blocked_writing_stdout(tracer.pid) or tracer.poll() is not None,
               "rsstrace blocked writing its summary")
    return idle, tracer, r, filled


@pytest.mark.root
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_signal_during_summary_finishes_it(sig):
    idle, tracer, r, filled = start_blocked_summary()
    try:
        tracer.send_signal(sig)
        # the handler has run when it says so (stderr), then the pipe is read
        line = first_stderr_line(tracer)
        out = drain(r)[filled:].decode()
        err = line + tracer.stderr.read()
        tracer.wait(timeout=30)
    finally:
        end(tracer, r, idle)
    assert tracer.returncode == 0, err
    assert "finishing it" in only_line(err)
    rows, summary, _ = parse_json_lines(out)  # whole lines, the summary last
    assert [row["pid"] for row in rows] == [idle.pid]


@pytest.mark.root
def test_second_signal_aborts_the_summary_and_says_so():
    idle, tracer, r, filled = start_blocked_summary()
    try:
        tracer.send_signal(signal.SIGINT)
        assert "finishing it" in first_stderr_line(tracer)
        tracer.send_signal(signal.SIGINT)
        err = tracer.stderr.read()
        tracer.wait(timeout=30)
    finally:
        end(tracer, r, idle)
    assert tracer.returncode == 128 + signal.SIGINT
    assert "summary aborted" in only_line(err)


# ---- item 3: two outputs, one file ------------------------------------------------------

@pytest.mark.parametrize("a,b", [("-o", "--csv"), ("--csv", "--svg"), ("--svg", "--folded"), ("-o", "--folded"),
                                 ("--folded", "--pprof")])
@pytest.mark.parametrize("how", ["same", "dotdot", "symlink"])
def test_two_outputs_naming_one_file_is_a_usage_error(tmp_path, a, b, how):
    target = tmp_path / "out"
    (tmp_path / "sub").mkdir()
    if how == "symlink":
        target.write_text("keep\n")
        (tmp_path / "link").symlink_to(target)
    other = {"same": target, "dotdot": tmp_path / "sub" / ".." / "out", "symlink": tmp_path / "link"}[how]
    p = rsstrace(a, str(target), b, str(other), "--", "true")
    assert p.returncode == 2, p
    assert "name the same file" in p.stderr.splitlines()[0], p.stderr
    assert target.exists() == (how == "symlink")
    if how == "symlink":
        assert target.read_text() == "keep\n"


@pytest.mark.root
def test_two_outputs_to_one_device_are_fine():
    p = rsstrace("-o", "/dev/null", "--csv", "/dev/null", "--svg", "/dev/null", "--", "true")
    assert p.returncode == 0, p


# ---- item 4: a failed run leaves -o FILE as it was ------------------------------------

@pytest.mark.root  # to become nobody
def test_failed_run_as_non_root_leaves_output_untouched():
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) is not installed")
    with temp_dir_with_mode("rsstrace-out-", 0o777) as d:
        old, new = d / "old.txt", d / "new.txt"
        old.write_text("previous results\n")
        old.chmod(0o666)
        for out in (old, new):
            p = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                                str(RSSTRACE), "-o", str(out), "--", "true"],
                               capture_output=True, text=True, timeout=60)
            assert p.returncode == 1, p  # the preflight check: not root
        assert old.read_text() == "previous results\n"
        assert not new.exists(), "a failed run left a new, empty output file"


@pytest.mark.root
@pytest.mark.parametrize("opt", ["-o", "--csv", "--svg", "--folded", "--pprof"])
def test_failed_launch_leaves_outputs_untouched(tmp_path, opt):
    out = tmp_path / "out"
    out.write_text("previous results\n")
    p = rsstrace(opt, str(out), "--", str(tmp_path / "no-such-command"))
    assert p.returncode == 127, p
    assert out.read_text() == "previous results\n"


@pytest.mark.root
def test_successful_run_replaces_a_longer_output(tmp_path):
    out = tmp_path / "out"
    out.write_text("x" * 1_000_000)
    p = rsstrace("--json", "-o", str(out), "--", "true")
    assert p.returncode == 0, p
    parse_json_lines(out.read_text())  # nothing of the old content is left


# ---- item 5: a budget below 1K --------------------------------------------------------

@pytest.mark.parametrize("size", ["1", "0.5K", "1023", "0.9K"])
def test_max_rss_below_1k_is_a_usage_error(size):
    p = rsstrace("--max-rss", size, "--", "true")
    assert p.returncode == 2, p
    assert "below 1K" in p.stderr.splitlines()[0], p.stderr


@pytest.mark.root
def test_max_rss_of_1k_is_a_budget():
    p = rsstrace("--max-rss", "1K", "-o", "/dev/null", "--", "true")
    assert p.returncode == 99, p


# ---- item 8: output paths another user could have planted ------------------------------

def assert_refused(opt, path, why, kept):
    """rsstrace OPT PATH is a usage error, one line naming PATH and why, and
    the file kept (the victim or the other user's file) is unchanged."""
    before = kept.read_text()
    p = rsstrace(opt, str(path), "--", "true")
    assert p.returncode == 2, p
    line = only_line(p.stderr)
    assert str(path) in line and why in line, line
    assert kept.read_text() == before


@pytest.mark.root
@pytest.mark.parametrize("opt", ["-o", "--csv", "--svg", "--folded", "--pprof"])
@pytest.mark.parametrize("owner", [NOBODY, 0], ids=["their-link", "roots-link"])
def test_symlink_in_shared_dir_is_refused(shared_dir, tmp_path, opt, owner):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    link = shared_dir / "out"
    link.symlink_to(victim)
    os.lchown(link, owner, owner)
    assert_refused(opt, link, "symbolic link", victim)


@pytest.mark.root
def test_symlink_in_a_users_dir_is_refused(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    home = tmp_path / "home"
    home.mkdir()
    (home / "out").symlink_to(victim)
    os.chown(home, NOBODY, NOBODY)
    assert_refused("-o", home / "out", "symbolic link", victim)


@pytest.mark.root
def test_another_users_file_in_shared_dir_is_refused(shared_dir):
    theirs = shared_dir / "out"
    theirs.write_text("theirs\n")
    os.chown(theirs, NOBODY, NOBODY)
    assert_refused("-o", theirs, "another user", theirs)


@pytest.mark.root
def test_own_file_in_shared_dir_and_dev_stdout_are_fine(shared_dir):
    mine = shared_dir / "out"
    mine.write_text("old\n")
    assert rsstrace("-o", str(mine), "--", "true").returncode == 0
    assert "Traced:" in mine.read_text()
    p = rsstrace("-o", "/dev/stdout", "--", "true")
    assert p.returncode == 0 and "Traced:" in p.stdout, p


@pytest.mark.root
@pytest.mark.parametrize("name", ["-", "/dev/stdout"])
def test_standard_output_by_name_is_the_descriptor_itself(tmp_path, name):
    """`-` and /dev/stdout are fd 1 as given, whatever /dev holds (in the
    virtme-ng guests /dev/stdout links to the console's virtio port: the
    output went there, and the pipe stayed empty): a log the shell opened to
    append to keeps what it had, and /dev gains no file."""
    had = Path("/dev/stdout").exists() or Path("/dev/stdout").is_symlink()
    log = tmp_path / "log"
    log.write_text("before\n")
    with open(log, "a") as out:
        p = subprocess.run([str(RSSTRACE), "-o", name, "--csv", str(tmp_path / "csv"), "--", "true"],
                           stdout=out, stderr=subprocess.PIPE, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    text = log.read_text()
    assert text.startswith("before\n") and "Traced:" in text, text
    assert (Path("/dev/stdout").exists() or Path("/dev/stdout").is_symlink()) == had


@pytest.mark.root
@pytest.mark.parametrize("args", [["--csv", "-"], ["-o", "-", "--folded", "/dev/stdout"],
                                  ["-o", "/dev/stderr", "--svg", "/dev/stderr"]])
def test_two_outputs_on_one_standard_stream_are_a_usage_error(args):
    p = rsstrace(*args, "--", "true")
    assert p.returncode == 2, p
    assert "name the same file" in p.stderr.splitlines()[0], p.stderr


def documented_json_fields():
    """The names docs/json-schema.md gives in backquotes, in its tables and
    its prose (`hook_<name>`: any hook_ key)."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "json-schema.md").read_text()
    return set(re.findall(r"`([a-z_<>]+)`", text))


@pytest.mark.root
@pytest.mark.parametrize("opts", [["--causes", "--stacks", "--sharing", "--csv", "{tmp}/t.csv"],
                                  ["--stacks=dwarf", "--stack-sample", "4K"]], ids=["fp", "dwarf"])
def test_every_json_field_is_documented(tmp_path, opts):
    """Each key of every object (with the optional sections on) is in
    docs/json-schema.md."""
    out = tmp_path / "out.json"
    p = rsstrace("--json", "-o", str(out), "-i", "0.05", *[o.format(tmp=tmp_path) for o in opts], "--",
                 "sh", "-c", "sleep 0.3; true")
    assert p.returncode == 0, p.stderr
    objs = [json.loads(line) for line in out.read_text().splitlines()]
    types = {o["type"] for o in objs}
    assert {"process", "interval", "summary"} < types, types
    documented = documented_json_fields()
    for obj in objs:
        missing = [k for k in obj if k not in documented and k != "type" and
                   not (k.startswith("hook_") and "hook_<name>" in documented)]
        assert not missing, f"{obj['type']} fields not in docs/json-schema.md: {missing}"
