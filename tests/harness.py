# SPDX-License-Identifier: GPL-2.0
"""Running rsstrace and the test workloads, and reading what they report.

Workloads print their own /proc/self/status just before exiting (see
tests/workloads/workload.h); rsstrace writes JSON Lines to a file (-o). The
tests compare the two: the kernel's numbers are the ground truth."""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import time
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RSSTRACE = ROOT / "rsstrace"
# The test build: AddressSanitizer + UndefinedBehaviorSanitizer, and the only
# build compiled with -DRSSTRACE_TEST_HOOKS, which reads the RSSTRACE_TEST_*
# variables (the production ./rsstrace ignores them). `make sanitize` builds it.
TEST_BUILD = ROOT / "build" / "san" / "rsstrace"
# Sanitizer findings exit with a status of their own (86, 87), not the tool's.
SAN_ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=86",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87")
# valgrind memcheck as a wrapper: definite and indirect leaks are errors (99).
VALGRIND = ["valgrind", f"--suppressions={ROOT}/tests/valgrind.supp", "--leak-check=full",
            "--show-leak-kinds=definite,indirect", "--errors-for-leak-kinds=definite,indirect",
            "--error-exitcode=99", "-q"]
WORKLOADS = ROOT / "build" / "workloads"
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
MIB_KB = 1024
# tests/vm/in-guest sets these: inside the software-emulated VM guests
# everything is ~20x slower, so the churn tests scale down.
IN_VM = os.environ.get("RSSTRACE_IN_VM") == "1"
SCALE = float(os.environ.get("RSSTRACE_TEST_SCALE", "1"))
# The exit path itself may fault in a few file pages after the workload's last
# reading (the issue allows "within a few pages for file").
FILE_TOLERANCE_KB = 8 * PAGE_KB
# Up to 6.1 (SPLIT_RSS_COUNTING) a task caches the pages its faults add and
# folds them into its mm every 64 faults: rss_stat, and --stacks' charges,
# come then, with the stack and fault of the 65th (docs/how-it-works.md).
TASK_RSS_CACHES = tuple(int(x) for x in re.findall(r"\d+", os.uname().release)[:2]) < (6, 2)


def built(path, how="`make sanitize fuzzers`"):
    """path, or the test fails saying how to build it (make check does)."""
    if not path.exists():
        pytest.fail(f"{path} not built: {how} (make check does it)")
    return path


def hooked_env(**hooks):
    """The environment for TEST_BUILD: the sanitizers' options plus the given
    test hooks (RSSTRACE_TEST_ATTACH_DELAY_MS="1500", ...)."""
    built(TEST_BUILD, "`make sanitize`")
    return dict(SAN_ENV, **hooks)


def valgrind_errors(stderr):
    """valgrind's complaints, without its notes about the bpf() calls it
    cannot follow (for an assertion message)."""
    return "\n".join(l for l in stderr.splitlines() if "unhandled eBPF" not in l)[-4000:]


def file_dir():
    """Where workloads create the files they map: a real file system (in the VM
    guests a small ext4 one, tests/vm/in-guest; the repository is on 9p there)."""
    return Path(os.environ.get("RSSTRACE_TEST_FILEDIR", ROOT / "build"))


@lru_cache(maxsize=None)
def run_tap(exe, env=None, timeout=60):
    """Runs a test binary that prints TAP (cmocka's with CMOCKA_MESSAGE_OUTPUT=TAP,
    tests/bpf/bpftest.h's) once per session; returns ({case: ok}, its output),
    or (None, why) if it is not built. env: a tuple of (name, value) pairs."""
    if not exe.exists():
        return None, f"{exe} not built (make check builds it)"
    p = subprocess.run([str(exe)], capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, **dict(env or ())))
    results = {}
    for m in re.finditer(r"^(not ok|ok) \d+ - (\S+)", p.stdout, re.M):
        results[m.group(2)] = m.group(1) == "ok"
    return results, p.stdout + p.stderr


def tap_cases(sources, pattern):
    """One pytest parameter (binary, case) per case a C source lists: pattern
    is a regular expression whose group is a case's name."""
    return [pytest.param(src.stem, name, id=f"{src.stem}.{name}")
            for src in sources for name in re.findall(pattern, src.read_text())]


def assert_tap_case(run, binary, case):
    """The outcome of one case in run_tap()'s result."""
    results, log = run
    assert results is not None, log
    assert case in results, f"{binary} did not report {case} (crash?):\n{log}"
    assert results[case], f"{binary}: {case} failed:\n{log}"


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


def parse_status(text):
    """/proc/PID/status text as {field: int (the leading number) or str}."""
    fields = {}
    for line in text.splitlines():
        k, _, v = line.partition(":")
        v = v.strip()
        num = re.match(r"^(-?\d+)", v)
        fields[k] = int(num.group(1)) if num else v
    return fields


def proc_status(pid):
    """The kernel's numbers for pid now, read by the test itself."""
    return parse_status(Path(f"/proc/{pid}/status").read_text())


def parse_reports(text):
    out = []
    for m in re.finditer(r"@@status pid=(\d+) tag=(\S+)\n(.*?)@@end\n", text, re.S):
        out.append({"pid": int(m.group(1)), "tag": m.group(2), "status": parse_status(m.group(3))})
    return out


def parse_json_lines(text):
    objs = [json.loads(line) for line in text.splitlines() if line.strip()]
    rows = [o for o in objs if o["type"] == "process"]
    summaries = [o for o in objs if o["type"] == "summary"]
    intervals = [o for o in objs if o["type"] == "interval"]
    assert len(summaries) == 1, f"expected exactly one summary object, got {len(summaries)}: {text}"
    assert objs[-1]["type"] == "summary", "the summary must be the last object"
    return rows, summaries[0], intervals


def run_rsstrace(args, json_out=True, timeout=120, stdin=None, env=None, exe=RSSTRACE):
    """Runs rsstrace (exe: TEST_BUILD for the test hooks) with -o to a temp
    file; parses it if json_out."""
    with tempfile.NamedTemporaryFile("r", suffix=".out") as f:
        cmd = [str(exe), "-o", f.name] + (["--json"] if json_out else []) + list(args)
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


def start_idle(mib, preexec_fn=None):
    """tests/workloads/idle holding mib MiB, once it says it is ready; it
    reports its status and exits when its stdin closes."""
    p = subprocess.Popen([wl("idle"), str(mib)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         preexec_fn=preexec_fn)
    assert p.stdout.readline() == "ready\n"
    return p


def loaded_bpf_programs():
    """The BPF programs loaded now, as bpftool lists them (dicts with id, name, ...)."""
    p = subprocess.run(["bpftool", "prog", "show", "--json"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def program_names_of(pid):
    """The names of the BPF programs whose fds process pid holds (its fdinfo
    says their ids: this bpftool does not list a program's pids)."""
    ids = set()
    for fd in Path(f"/proc/{pid}/fdinfo").iterdir():
        m = re.search(r"^prog_id:\s+(\d+)", fd.read_text(), re.M)
        if m:
            ids.add(int(m.group(1)))
    return {x.get("name", "") for x in loaded_bpf_programs() if x["id"] in ids}


def wait_until(pred, what, timeout=60, step=0.1):
    """pred()'s first true value, polled every step seconds; fails after
    timeout, saying what (a string, or a function that tells the state then)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"{what() if callable(what) else what}: not within {timeout} s")
        time.sleep(step)


def wait_for_file(path, needle, timeout=60):
    """Until rsstrace has written needle to its output file (bounded)."""
    wait_until(lambda: needle in path.read_text(errors="replace"), f"{needle} in {path}", timeout, step=0.02)


def interrupt_holding_run(p, out_path, json_out):
    """SIGINT to rsstrace (Popen p, output file out_path) whose CMD holds its
    memory until its stdin closes: the end sample is taken and the summary
    written while CMD still holds; only then is CMD let go. Returns rsstrace's
    stderr."""
    p.send_signal(signal.SIGINT)
    wait_for_file(Path(out_path), '"type":"summary"' if json_out else "Events lost")
    p.stdin.close()
    p.wait(timeout=60)
    return p.stderr.read().decode(errors="replace")


def read_until(stream, done, what, timeout=30):
    """Reads the raw pipe (no Python buffering, so select() tells the truth)
    until done(all text read so far) is true; bounded by timeout. Returns that
    text."""
    fd, seen = stream.fileno(), b""
    deadline = time.monotonic() + timeout
    while not done(seen.decode(errors="replace")):
        r, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        if not r:
            raise AssertionError(f"{what} not seen in {timeout} s; got {seen!r}")
        chunk = os.read(fd, 4096)
        if not chunk:
            raise AssertionError(f"{what} not seen before EOF; got {seen!r}")
        seen += chunk
    return seen.decode(errors="replace")


def start_bpftrace(program, timeout=60):
    """bpftrace running program, returned once every probe is attached: its
    BEGIN runs after the last attach ("Attaching N probes" comes before)."""
    p = subprocess.Popen(["bpftrace", "-B", "line", "-e", 'BEGIN { printf("attached\\n"); } ' + program],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        read_until(p.stdout, lambda out: "attached\n" in out, "bpftrace's BEGIN", timeout)
    except BaseException:
        p.kill()
        p.communicate()
        raise
    return p


def stop_bpftrace(p, timeout=120):
    """Ends bpftrace as Ctrl-C would and returns (its stdout, its stderr), the
    maps it prints at exit. SIGTERM again every second: bpftrace 0.17 (Debian
    12) loses a signal that comes while it is not inside epoll_wait() (its
    poll loop looks at the flag the handler sets only when epoll_wait() fails
    with EINTR), and then waits forever: it did in 2 of 6 guest runs of
    test_exit_growth. SIGTERM, not SIGINT: a second SIGINT while it prints its
    maps would kill it (it restores SIGINT's default then)."""
    deadline, signals = time.monotonic() + timeout, 0
    while True:
        p.send_signal(signal.SIGTERM)
        signals += 1
        try:
            out, err = p.communicate(timeout=1)
            break
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                where = process_whereabouts(p.pid)
                p.kill()
                p.communicate()
                raise AssertionError(f"bpftrace did not exit within {timeout} s of {signals} SIGTERMs: {where}")
    if signals > 1:
        warnings.warn(f"bpftrace exited after {signals} SIGTERMs, a second apart")
    assert p.returncode == 0, f"bpftrace exited {p.returncode}: {err}"
    return out, err


def process_whereabouts(pid):
    """Where a process that does not exit is: its state, and its kernel
    stack (a hang in the kernel) or wait channel."""
    found = []
    for name in ("stat", "wchan", "stack"):
        try:
            found.append(f"{name}: " + Path(f"/proc/{pid}/{name}").read_text().strip())
        except OSError as e:
            found.append(f"{name}: {e.strerror}")
    return "; ".join(found)


def wait_for_line(stream, needle, timeout=30):
    """Reads the pipe until a whole line holds needle. Returns what was read
    from that line on (text)."""
    text = read_until(stream, lambda s: re.search(re.escape(needle) + r"[^\n]*\n", s), repr(needle), timeout)
    start = text.rfind("\n", 0, text.find(needle)) + 1
    return text[start:]


def help_options(args):
    """Every option --help lists: the long and short names at the start of its
    option lines (`  -p, --pid PID`, `      --no-children`)."""
    p = subprocess.run([str(RSSTRACE)] + args + ["--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    opts = set()
    for m in re.finditer(r"^ {2,}(?:(-[A-Za-z]), )?(--[a-z][a-z-]*)", p.stdout, re.M):
        opts.update(o for o in m.groups() if o)
    assert opts, f"no option parsed from rsstrace {' '.join(args)} --help: {p.stdout}"
    return opts


def start_attached(args, out, exe=RSSTRACE, json_out=True):
    """rsstrace -v [--json] -o out ARGS (-p PID, ...) in the background,
    returned once it says tracing started; stop it with stop_attached()."""
    tracer = subprocess.Popen([str(exe), "-v", "-o", str(out)] + (["--json"] if json_out else []) + list(args),
                              stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(tracer.stderr, "tracing started")
    except BaseException:
        tracer.kill()
        tracer.wait()
        raise
    return tracer


def stop_attached(tracer, out, timeout=60, json_out=True):
    """SIGINT to a start_attached() rsstrace (unless it already ended); its
    rows, summary and intervals (its text if not json_out)."""
    if tracer.poll() is None:
        tracer.send_signal(2)
    try:
        tracer.wait(timeout)
    finally:
        tracer.kill()
    assert tracer.returncode == 0, tracer.stderr.read()
    return parse_json_lines(out.read_text()) if json_out else out.read_text()


def free_port():
    """A loopback TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid):
    """pid's child processes now (/proc/PID/task/PID/children)."""
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def end_server(proc, ask, timeout=30):
    """Asks a server process to end (ask(): sends its signal or shutdown
    command), waits up to timeout seconds for it, then kills it."""
    if proc.poll() is not None:
        return
    ask()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


NOBODY = 65534  # the unprivileged user the tests become (setpriv)


@contextmanager
def temp_dir_with_mode(prefix, mode):
    """A fresh directory with mode (0o777: nobody may write there; 0o1777:
    sticky, like /tmp), removed with what it holds afterwards."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        d.chmod(mode)
        yield d
    finally:
        shutil.rmtree(d)


def read_rollup(pid):
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        k, _, v = line.partition(":")
        out[k] = int(v.split()[0])
    return out


class Prefork:
    """tests/workloads/prefork: SHARED MiB shared copy-on-write by NCHILD
    children, DIRTIERS of which write half of it; held until stdin closes."""

    def __init__(self, nchild=6, shared_mib=128, dirtiers=3, under_rsstrace=None, last_mib=0, preexec_fn=None):
        self.shared_kb = shared_mib * MIB_KB
        self.expected_footprint_kb = self.shared_kb + dirtiers * self.shared_kb // 2 + last_mib * MIB_KB
        cmd = [wl("prefork"), str(nchild), str(shared_mib), str(dirtiers), "", "0", str(last_mib)]
        if under_rsstrace:
            cmd = [str(RSSTRACE)] + under_rsstrace + ["--"] + cmd
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, preexec_fn=preexec_fn)
        line = wait_for_line(self.p.stdout, "@@ready pids=")
        self.pids = [int(x) for x in line.split("pids=")[1].split()[0].split(",")]
        assert len(self.pids) == nchild + 1, line

    def release(self):
        out, err = self.p.communicate(timeout=60)
        return self.p.returncode, out.decode(errors="replace"), err.decode(errors="replace")
