# SPDX-License-Identifier: GPL-2.0
"""The command line: modes, exit statuses, options and every documented error."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from harness import (FILE_TOLERANCE_KB, IN_VM, RSSTRACE, TEST_BUILD, assert_row_matches_status, hooked_env, parse_json_lines,
                     parse_reports, proc_status, run_rsstrace, start_idle, trace, wait_for_line, wl)


def rsstrace(*args, **kw):
    return subprocess.run([str(RSSTRACE)] + list(args), capture_output=True, text=True,
                          timeout=60, **kw)


def one_line_error(p):
    first = p.stderr.splitlines()[0] if p.stderr else ""
    assert first.startswith("rsstrace: "), f"expected an rsstrace: error line, got {p.stderr!r}"
    return first


# ---- usage errors (no root needed) ----------------------------------------------

@pytest.mark.parametrize("args", [
    ["-p", "abc"], ["-p", "0"], ["-p", "-5"], ["-p", "1,"], ["-p", ""],
    ["-d", "-1", "--", "true"], ["-d", "abc", "--", "true"], ["-d", "0", "--", "true"],
    ["-i", "0", "--", "true"], ["--max-rss", "12Q", "--", "true"], ["--max-rss", "-1G", "--", "true"],
    ["--rows", "x", "--", "true"], ["--bogus"], [], ["-p", "1", "--", "true"], ["-d"],
    ["--stacks", "--debug-dir", "/nonexistent", "--", "true"], ["--stacks", "--debug-dir", "/dev/null", "--", "true"],
    ["--debug-dir", "/", "--", "true"],
])
def test_usage_errors_exit_2_with_one_clear_line(args):
    p = rsstrace(*args)
    assert p.returncode == 2, (args, p.returncode, p.stderr)
    line = one_line_error(p)
    assert "Usage:" in p.stderr and "--help" in p.stderr, p.stderr
    assert len(line) < 120, line


def test_a_pid_list_error_says_what_a_pid_can_be():
    """A PID above the kernel's limit was refused with "PIDs > 0" only."""
    line = one_line_error(rsstrace("-p", "99999999"))
    assert "'99999999'" in line and "from 1 to 4194304" in line, line
    # several -p add up; one word cannot hold more (128 KiB per argument)
    many = ",".join(str(pid) for pid in range(1, 20001))
    p = rsstrace("-p", many, "-p", many, "-p", many, "-p", many)
    assert p.returncode == 2 and "more than 65536 PIDs" in one_line_error(p), p.stderr


@pytest.mark.parametrize("opt", ["-o", "--csv", "--svg", "--folded", "--cow-folded", "--pprof"])
def test_a_file_option_without_its_file_is_an_error(opt, tmp_path):
    """getopt takes the next word as the file: `--csv -- make` once wrote a
    file named "--" and ran make without a word."""
    for word in ("--", "-p"):
        p = rsstrace(opt, word, "--", "true", cwd=tmp_path)
        assert p.returncode == 2, (opt, word, p.stderr)
        assert f"{opt} needs a file name, not '{word}'" in one_line_error(p)
    assert not list(tmp_path.iterdir()), "no file was written"
    # "-" is standard output, a name
    p = rsstrace("-o", "-", "--", "true", cwd=tmp_path)
    assert p.returncode == 0 and "Values are" in p.stdout, p


def test_output_file_in_missing_directory_exits_2():
    p = rsstrace("-o", "/nonexistent/x", "--", "true")
    assert p.returncode == 2
    assert "cannot open output file /nonexistent/x" in one_line_error(p)


def test_help_teaches():
    p = rsstrace("--help")
    assert p.returncode == 0
    for needle in ("-- CMD", "-p, --pid", "--json", "--max-rss", "Exit status", "Examples", "VmHWM"):
        assert needle in p.stdout, needle
    assert max(len(l) for l in p.stdout.splitlines()) <= 80


def test_not_root_says_how_to_run_it():
    if os.geteuid() != 0:
        p = rsstrace("--", "true")
    else:
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "--inh-caps=-all", str(RSSTRACE), "--", "true"],
                           capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p
    assert "needs root" in one_line_error(p) and "sudo" in p.stderr


# ---- errors that need root ----------------------------------------------------------

@pytest.mark.root
def test_no_btf_is_a_clear_error():
    p = subprocess.run(["unshare", "-m", "sh", "-c",
                        f"mount -t tmpfs none /sys/kernel/btf && exec {RSSTRACE} -- true"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1, p
    assert "no BTF" in one_line_error(p)


@pytest.mark.root
def test_works_without_tracefs_mounted():
    # rsstrace uses tp_btf and iter programs only: no tracefs needed
    p = subprocess.run(["unshare", "-m", "sh", "-c",
                        "umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug/tracing 2>/dev/null; "
                        f"grep -q tracefs /proc/self/mounts && exit 99; exec {RSSTRACE} --json -- true"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p
    _, summary, _ = parse_json_lines(p.stdout)
    assert summary["processes"] == 1


def free_pid():
    pid = 4_000_000
    while Path(f"/proc/{pid}").exists():
        pid -= 1
    return pid


@pytest.mark.root
def test_unknown_pid():
    pid = free_pid()
    p = rsstrace("-p", str(pid))
    assert p.returncode == 1
    assert f"no process with PID {pid}" in one_line_error(p)


@pytest.mark.root
def test_kernel_thread_pid():
    p = rsstrace("-p", "2")  # kthreadd
    assert p.returncode == 1
    assert "kernel thread" in one_line_error(p)


@pytest.mark.root
def test_command_not_found_is_127():
    run = trace(["/nonexistent/command-xyz"])
    assert run.code == 127
    assert "command not found" in run.stderr


@pytest.mark.root
def test_command_not_executable_is_126(tmp_path):
    f = tmp_path / "notexec.sh"
    f.write_text("#!/bin/sh\nexit 0\n")
    f.chmod(0o644)
    run = trace([str(f)])
    assert run.code == 126
    assert "cannot execute" in run.stderr


# ---- exit status passthrough and budget ----------------------------------------------

@pytest.mark.root
@pytest.mark.parametrize("script,code", [("exit 0", 0), ("exit 7", 7), ("kill -9 $$", 137), ("kill -15 $$", 143)])
def test_exit_status_passthrough(script, code):
    run = trace(["sh", "-c", script])
    assert run.code == code, run.stderr
    row = [r for r in run.rows if r["exec_seq"] == 0][0]
    assert row["exit_code"] == code
    if code >= 128:
        assert row["exit_signal"] == code - 128
    assert run.summary["exit_code"] == code


@pytest.mark.root
def test_max_rss_exceeded_exits_99():
    run = trace([wl("spike"), "96", "8"], "--max-rss", "64M")
    assert run.code == 99, run.stderr
    assert run.summary["over_budget"] is True and run.summary["max_rss_kb"] == 64 * 1024
    human = run_rsstrace(["--max-rss", "64M", "--", wl("spike"), "96", "8"], json_out=False)
    assert human.code == 99 and "EXCEEDED" in human.output


@pytest.mark.root
def test_max_rss_held_keeps_command_status():
    run = trace(["sh", "-c", "exit 3"], "--max-rss", "1G")
    assert run.code == 3
    assert run.summary["over_budget"] is False


# ---- options ----------------------------------------------------------------------------

@pytest.mark.root
def test_output_file_keeps_command_stdout_clean():
    run = run_rsstrace(["--", "echo", "hello"], json_out=False)
    assert run.code == 0
    assert run.stdout == "hello\n"
    assert "Tree peak RSS" in run.output and "VmHWM" in run.output


@pytest.mark.root
def test_human_summary_reads_well():
    run = run_rsstrace(["--", wl("fork_cow"), "2", "16"], json_out=False)
    assert run.code == 0
    lines = run.output.splitlines()
    assert max(len(l) for l in lines) < 80, "the summary must fit 80 columns"
    header = [l for l in lines if l.split()[:2] == ["PID", "COMMAND"]]
    assert header and all(c in header[0] for c in
                          ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmSwap", "VmPeak"))
    assert any(l.startswith("Tree peak RSS") for l in lines)
    reports = parse_reports(run.stdout)
    parent = [r for r in reports if r["tag"] == "parent"][0]
    row = [l for l in lines if l.split()[:1] == [str(parent["pid"])]]
    assert row, f"no row for the parent {parent['pid']}:\n{run.output}"


@pytest.mark.root
def test_no_children_traces_only_the_command():
    run = trace([wl("fork_cow"), "3", "8"], "--no-children")
    assert run.code == 0
    parent = run.report("parent")
    assert [r["pid"] for r in run.rows] == [parent["pid"]]
    assert_row_matches_status(run.rows[0], parent["status"])


@pytest.mark.root
def test_interval_lines():
    run = trace(["sleep", "1.2"], "-i", "0.2")
    assert run.code == 0
    assert len(run.intervals) >= 3, run.intervals
    # the last line may fall between the end of sleep's address space (exit_mm)
    # and the exit that ends the run: no process is resident then (seen once in
    # a 6.1 guest, where sched_process_exit fires after exit_mm)
    last = run.intervals[-1]
    if last["processes"] == 0:
        assert last["tree_rss_kb"] == 0, last
    lines = run.intervals[:-1] if last["processes"] == 0 else run.intervals
    assert len(lines) >= 2, run.intervals
    for line in lines:
        assert line["processes"] == 1 and line["largest_comm"] == "sleep"
        assert line["tree_rss_kb"] > 0
    human = run_rsstrace(["-i", "0.2", "--", "sleep", "0.7"], json_out=False)
    assert sum(1 for l in human.output.splitlines() if l.startswith("[")) >= 2, human.output


@pytest.mark.root
def test_duration_stops_tracing_and_waits_for_the_command():
    t = time.monotonic()
    run = trace(["sh", "-c", "sleep 1.5; exit 4"], "-d", "0.3")
    assert run.code == 4, "after -d, the command's status is still passed through"
    assert time.monotonic() - t >= 1.4
    assert 250 <= run.summary["duration_ms"] < 1400, run.summary
    assert any(r["end_reason"] == "detach" for r in run.rows), run.rows


@pytest.mark.root
def test_json_comm_escaping():
    # /proc/PID/comm may be set to any bytes: quotes, control characters, invalid UTF-8
    run = trace(["sh", "-c", r"printf 'a\042b\134\001\377z' > /proc/$$/comm; exit 0"])
    assert run.code == 0
    comms = [r["comm"] for r in run.rows]
    assert 'a"b\\\x01\ufffdz' in comms, comms


# ---- -p attach -------------------------------------------------------------------------

@pytest.mark.root
def test_attach_to_running_process_that_then_does_nothing(tmp_path):
    idle = start_idle(24)
    out = tmp_path / "out.json"
    tracer = subprocess.Popen([str(RSSTRACE), "-v", "--json", "-o", str(out), "-p", str(idle.pid)],
                              stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(tracer.stderr, "tracing started")
        idle.stdin.close()  # the process reports its status and exits
        rest = idle.stdout.read()
        idle.wait(10)
        tracer.wait(30)
    finally:
        idle.kill()
        tracer.kill()
    assert tracer.returncode == 0
    rows, summary, _ = parse_json_lines(out.read_text())
    rep = parse_reports(rest)[0]
    assert len(rows) == 1 and rows[0]["pid"] == idle.pid
    row = rows[0]
    assert row["attached"] is True and row["end_reason"] == "exit"
    assert_row_matches_status(row, rep["status"])
    assert row["vm_hwm_kb"] >= 24 * 1024
    assert summary["tree_peak_kb"] >= row["vm_rss_kb"] - 64


@pytest.mark.root
def test_attach_and_detach_with_duration():
    idle = start_idle(16)
    try:
        run = run_rsstrace(["-p", str(idle.pid), "-d", "0.3"])
        status = proc_status(idle.pid)
    finally:
        idle.kill()
        idle.wait()
    assert run.code == 0, run.stderr
    row = run.row(idle.pid)
    assert row["end_reason"] == "detach" and row["exit_code"] is None
    # nothing changed: the row (seeded at attach) equals /proc now
    assert_row_matches_status(row, status)
    assert run.summary["tree_peak_kb"] == row["vm_rss_kb"]


@pytest.mark.root
def test_pid_exits_while_attaching():
    gone = start_idle(4)
    stay = start_idle(4)
    env = hooked_env(RSSTRACE_TEST_ATTACH_DELAY_MS="1500")
    tracer = subprocess.Popen([str(TEST_BUILD), "-v", "--json", "-d", "0.2", "-p", f"{gone.pid},{stay.pid}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        wait_for_line(tracer.stderr, "PIDs checked")  # the widened window begins
        gone.kill()
        gone.wait()
        out, err = tracer.communicate(timeout=30)
    finally:
        stay.kill()
        stay.wait()
    assert tracer.returncode == 0, err
    assert f"PID {gone.pid} exited while rsstrace was attaching" in err
    rows, summary, _ = parse_json_lines(out)
    assert [r["pid"] for r in rows] == [stay.pid]
    # the one that never got traced is not counted ("Traced: N processes")
    assert summary["processes"] == 1, summary


@pytest.mark.root
def test_only_pid_exits_while_attaching_is_an_error():
    gone = start_idle(4)
    env = hooked_env(RSSTRACE_TEST_ATTACH_DELAY_MS="1500")
    tracer = subprocess.Popen([str(TEST_BUILD), "-v", "-p", str(gone.pid)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
    wait_for_line(tracer.stderr, "PIDs checked")
    gone.kill()
    gone.wait()
    out, err = tracer.communicate(timeout=30)
    assert tracer.returncode == 1
    assert "exited while rsstrace was attaching" in err


@pytest.mark.root
@pytest.mark.skipif(not IN_VM, reason="PID 1 here is the machine's own init (on the development host, its "
                    "sandbox's, which the kernel's task iterator does not list): traced in the VM guests")
def test_pid_1_is_traced_with_its_kernel_numbers():
    """Issue 15 item 14: `rsstrace -p 1` said "PID 1 exited while rsstrace was
    attaching". On a kernel whose task iterator lists PID 1 (the guests') it
    is traced like any process: its row holds /proc/1/status's numbers."""
    run = run_rsstrace(["-p", "1", "-d", "0.5"])
    st = proc_status(1)
    assert run.code == 0, run.stderr
    row = run.row(1)
    assert row["end_reason"] == "detach" and row["exit_code"] is None, row  # still running at the stop
    assert row["rss_anon_kb"] == st["RssAnon"] and row["rss_shmem_kb"] == st["RssShmem"], (row, st)
    assert abs(row["vm_rss_kb"] - st["VmRSS"]) <= FILE_TOLERANCE_KB, (row, st)


@pytest.mark.root
@pytest.mark.parametrize("args", [["-d", "0.5", "-p", "1"], ["-d", "0.5", "--", "true"], ["top", "-b", "-n", "1"],
                                  ["serve", "-l", "127.0.0.1:1"]])
def test_in_a_pid_namespace_tracing_is_refused_in_one_line(args):
    """Issue 15 item 14, "in a container PID 1 may differ": BPF sees the
    kernel's PIDs, so in a container's PID namespace `-p 1` marked the host's
    init, `-- true` traced no address space and waited for an exit it never
    saw, and top showed the host's PIDs with an empty cgroup. Refused, saying
    where to run it."""
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is not installed")
    p = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", str(RSSTRACE)] + args,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert len(p.stderr.splitlines()) == 1 and "PID namespace" in p.stderr and "--pid=host" in p.stderr, p.stderr


@pytest.mark.root
def test_bpf_load_failure_shows_verifier_log_with_v():
    # the unverifiable BPF flavour is only in the test build (make sanitize)
    env = hooked_env(RSSTRACE_TEST_BREAK_VERIFIER="1")

    def broken(*args):
        return subprocess.run([str(TEST_BUILD), *args], capture_output=True, text=True, timeout=60,
                              env=env)

    p = broken("--", "true")
    assert p.returncode == 1
    line = one_line_error(p)
    assert "refused to load the BPF programs" in line and "-v" in line, line
    assert len(p.stderr.splitlines()) == 1
    p = broken("-v", "--", "true")
    assert p.returncode == 1
    assert "BEGIN PROG LOAD LOG" in p.stderr and "fork_btf" in p.stderr, p.stderr[-2000:]
    assert p.stderr.splitlines()[-1].startswith("rsstrace: the kernel refused")


# ---- signals ---------------------------------------------------------------------------

@pytest.mark.root
def test_sigterm_prints_summary_once_and_ends_the_command(tmp_path):
    out = tmp_path / "out.json"
    tracer = subprocess.Popen([str(RSSTRACE), "-v", "--json", "-o", str(out), "--", "sleep", "30"],
                              stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(tracer.stderr, "tracing started")
        t = time.monotonic()
        tracer.terminate()
        tracer.wait(20)
    finally:
        tracer.kill()
    assert time.monotonic() - t < 10, "SIGTERM must end the command, not wait for it"
    assert tracer.returncode == 128 + 15, "the command got the SIGTERM and its status is passed through"
    rows, summary, _ = parse_json_lines(out.read_text())
    assert [(r["comm"], r["end_reason"], r["exit_code"]) for r in rows] == [("sleep", "exit", 143)]
    assert summary["exit_code"] == 143


@pytest.mark.root
def test_sigint_in_pid_mode_detaches_with_status_0():
    idle = start_idle(8)
    tracer = subprocess.Popen([str(RSSTRACE), "-v", "--json", "-p", str(idle.pid)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_line(tracer.stderr, "tracing started")
        tracer.send_signal(2)
        out, _ = tracer.communicate(timeout=20)
    finally:
        tracer.kill()
        idle.kill()
        idle.wait()
    assert tracer.returncode == 0
    rows, summary, _ = parse_json_lines(out)
    assert rows[0]["pid"] == idle.pid and rows[0]["end_reason"] == "detach"
    assert rows[0]["vm_rss_kb"] >= 8 * 1024
