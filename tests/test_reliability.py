# SPDX-License-Identifier: GPL-2.0
"""Nothing lost under churn, load and bad input: process counts exact, maps
empty afterwards, the tracer's memory flat, losses counted and reported,
signals and closed pipes handled, nothing left attached."""

import json
import os
import signal
import subprocess

import pytest

from harness import (RSSTRACE, SCALE, TEST_BUILD, assert_row_matches_status, hooked_env, loaded_bpf_programs,
                     parse_json_lines, parse_reports, run_rsstrace, start_idle, trace, wait_for_line, wait_until, wl)

pytestmark = pytest.mark.root

OUR_PROGRAMS = ("rss_stat_btf", "rss_stat_lean", "rss_stat_leancg", "rss_stat_raw", "fork_btf", "exec_btf", "exit_btf",
                "seed_task")


def our_programs_loaded():
    return [x for x in loaded_bpf_programs() if x.get("name") in OUR_PROGRAMS]


def assert_nothing_attached(timeout=10):
    """The kernel frees programs asynchronously (RCU) after their last fd and
    link close: wait until they are gone, bounded."""
    wait_until(lambda: not our_programs_loaded(), lambda: f"still loaded: {our_programs_loaded()}", timeout)


def churn(n, par=4):
    run = trace([wl("churn"), str(n), str(par), "64"], timeout=600)
    assert run.code == 0, run.stderr
    return run


def test_churn_counts_exact_maps_empty_memory_flat():
    small, big = int(2000 * SCALE), int(100_000 * SCALE)
    r1 = churn(small)
    r2 = churn(big)
    for run, n in ((r1, small), (r2, big)):
        s = run.summary
        assert s["processes"] == n + 1 and s["address_spaces"] == n + 1, s
        assert len(run.rows) == n + 1
        assert s["lost_events"] == 0 and s["stale_address_spaces"] == 0, s
        assert s["live_address_spaces_at_end"] == 0 and s["live_processes_at_end"] == 0, s
    # the tracer's own memory does not grow with the number of processes seen
    grow = r2.summary["tracer_max_rss_kb"] - r1.summary["tracer_max_rss_kb"]
    assert grow < 4096, f"tracer grew by {grow} kB from {small} to {big} processes"
    # pids and mm pointers are reused: no child inherited anyone's numbers
    parent = [r for r in r2.rows if r["ppid"] == os.getpid() or r["exec_seq"] == 0 and r["comm"] == "churn"
              and r["fork_inherited_pages"] == 0]
    assert len(parent) == 1, parent
    parent = parent[0]
    kids = [r for r in r2.rows if r is not parent]
    assert all(r["ppid"] == parent["pid"] for r in kids)
    for r in kids:
        assert r["vm_hwm_kb"] <= parent["vm_hwm_kb"] + 256, (r, parent)
        assert r["rss_anon_kb"] >= 64, r


def test_ring_buffer_loss_is_counted_and_shown():
    env = hooked_env(RSSTRACE_TEST_STALL_MS="2000")
    run = run_rsstrace(["--ringbuf-size", "4096", "--", wl("burst"), "40", "1"], env=env, exe=TEST_BUILD)
    assert run.code == 0, run.stderr
    assert run.summary["lost_ringbuf"] > 0 and run.summary["lost_events"] >= run.summary["lost_ringbuf"]
    assert len(run.rows) < 41
    human = run_rsstrace(["--ringbuf-size", "4096", "--", wl("burst"), "40", "1"], json_out=False, env=env,
                         exe=TEST_BUILD)
    assert "WARNING: data lost:" in human.output and "ring buffer full" in human.output, human.output


def test_map_full_is_counted_and_shown():
    run = trace([wl("burst"), "20", "1"], "--max-procs", "8")
    assert run.code == 0, run.stderr
    s = run.summary
    assert s["lost_map_full"] >= 20 + 1 - 8, s
    assert s["processes"] <= 8
    human = run_rsstrace(["--max-procs", "8", "--", wl("burst"), "20", "1"], json_out=False)
    assert "processes not traced (maps full" in human.output


def test_state_slots_are_reused_and_rows_stay_exact():
    """--max-procs 6: 40 processes one after another, each a fork and an exec
    (80 address spaces), take and give back mm_states' 6 slots. Every row
    still equals what its process read in /proc: a slot handed on with
    another address space's numbers, or a CPU's cache still naming a slot
    given back, would not."""
    n = 40
    run = trace(["sh", "-c", f"for i in $(seq {n}); do {wl('spike')} 4 1; done"], "--max-procs", "6")
    assert run.code == 0, run.stderr
    assert run.summary["lost_map_full"] == 0, run.summary
    reports = [r for r in run.reports if r["tag"] == "spike"]
    assert len(reports) == n, run.stdout
    for rep in reports:
        assert_row_matches_status(run.row(rep["pid"], exec_seq=1), rep["status"], "spike")


def test_state_slots_given_back_under_churn():
    """4 children at a time through 8 slots: nothing lost, every process a
    row (each child's mm ends before its exit completes, so at most 5 are
    live)."""
    n = int(2000 * SCALE)
    run = trace([wl("churn"), str(n), "4", "64"], "--max-procs", "8", timeout=600)
    assert run.code == 0, run.stderr
    assert run.summary["lost_map_full"] == 0 and run.summary["processes"] == n + 1, run.summary
    pids = {r["pid"] for r in run.rows}
    children = [r for r in run.rows if r["ppid"] in pids]
    assert len(children) == n, len(children)
    assert all(r["hwm_anon_kb"] >= 64 for r in children), [r for r in children if r["hwm_anon_kb"] < 64][:3]


def test_sigint_before_attach_finished_leaves_nothing_attached():
    idle = start_idle(4)
    try:
        env = hooked_env(RSSTRACE_TEST_ATTACH_DELAY_MS="1500")
        tracer = subprocess.Popen([str(TEST_BUILD), "-v", "--json", "-p", str(idle.pid)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        wait_for_line(tracer.stderr, "PIDs checked")  # programs loaded, attach not finished
        tracer.send_signal(signal.SIGINT)
        out, err = tracer.communicate(timeout=30)
    finally:
        idle.kill()
        idle.wait()
    assert tracer.returncode == 0, err
    assert sum(1 for l in out.splitlines() if '"summary"' in l) == 1
    assert_nothing_attached()


def test_closed_output_pipe_ends_cleanly():
    p = subprocess.run(f"{RSSTRACE} --json -i 0.05 -- sleep 5 | head -1; echo status=${{PIPESTATUS[0]}}",
                       shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=30)
    assert '"type":"interval"' in p.stdout
    assert "status=141" in p.stdout, p
    assert_nothing_attached()


def test_two_tracers_at_once_both_exact():
    cmd = [str(RSSTRACE), "--json", "--", wl("spike"), "48", "4"]
    a = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    b = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    outs = [a.communicate(timeout=60)[0], b.communicate(timeout=60)[0]]
    for out in outs:
        rep = parse_reports(out)[0]
        rows, summary, _ = parse_json_lines("\n".join(l for l in out.splitlines() if l.startswith("{")))
        assert_row_matches_status(rows[0], rep["status"])
        assert rows[0]["traced_peak_kb"] >= 52 * 1024


def test_nothing_left_attached_after_the_suite_so_far():
    assert_nothing_attached()


def has_mm(pid):
    try:
        return "VmRSS" in open(f"/proc/{pid}/status").read()
    except OSError:
        return False


def test_churn_traced_system_wide_leaves_no_dead_entries():
    """rsstrace top traces every process: after a churn of short-lived
    processes, its map holds one entry per live address space, no more."""
    import threading
    n = int(20000 * SCALE)
    top = subprocess.Popen([str(RSSTRACE), "top", "-b", "-d", "0.5", "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    lines, frames = [], []
    new_frame = threading.Condition()

    def reader():
        for line in top.stdout:
            with new_frame:
                lines.append(line)
                if line.startswith('{"type":"frame"'):
                    frames.append(json.loads(line))
                    new_frame.notify_all()
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        with new_frame:
            assert new_frame.wait_for(lambda: frames, timeout=60), "no first frame"
        assert subprocess.run([wl("churn"), str(n), "4", "64"], capture_output=True, timeout=600).returncode == 0
        with new_frame:
            seen = len(frames)
            # two whole frames after the churn ended
            assert new_frame.wait_for(lambda: len(frames) >= seen + 2, timeout=60), "frames stopped"
            have = sum(1 for p in os.listdir("/proc") if p.isdigit() and has_mm(p))
            last = frames[-1]
        top.send_signal(signal.SIGINT)
        top.wait(60)
        t.join(30)
    finally:
        top.kill()
    assert top.returncode == 0, top.stderr.read()
    assert last["lost_events"] == 0, last
    rows = [json.loads(l) for l in lines if l.startswith('{"type":"process"')]
    live = [r for r in rows if r["at_ms"] == last["at_ms"] and not r["exited"]]
    # live rows == processes with an address space now (give or take a few
    # that the test harness itself starts or ends meanwhile)
    assert abs(len(live) - have) <= 5, (len(live), have)
