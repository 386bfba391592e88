# SPDX-License-Identifier: GPL-2.0
"""`rsstrace serve`: the exposition format parsed line by line, per-cgroup and
per-process series against /proc, a real Prometheus (Debian's) scraping it and
seeing a spike between two scrapes, and 50 concurrent scrapes during a fork
storm under AddressSanitizer."""

import concurrent.futures
import json
import math
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from cgroups import STAT_LAG_BYTES, MemoryCgroup
from harness import (FILE_TOLERANCE_KB, IN_VM, PAGE_KB, RSSTRACE, SAN_ENV, TEST_BUILD, Prefork, built, exact_counters,
                     free_port, parse_reports, program_names_of, read_rollup, valgrind_errors, VALGRIND, wait_until, wl)

pytestmark = pytest.mark.root

OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"


def assert_peak_is_spike(peak, spike, what=""):
    """The peak against the workload's /proc reading at the top of its spike.
    Up to 6.1 /proc lags by the task's cache of RSS changes (up to 64 pages per
    counter), which the kernel folds in, and rsstrace sees, after that reading."""
    lag = 0 if exact_counters() else 64 * PAGE_KB * 1024
    tol = FILE_TOLERANCE_KB * 1024
    assert -tol <= peak - spike["VmRSS"] * 1024 <= tol + lag, f"{what} peak={peak} spike VmRSS={spike['VmRSS']} kB"


def http_get(url, accept=None, timeout=30, agent=None):
    headers = {"Accept": accept} if accept else {}
    if agent:
        headers["User-Agent"] = agent
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


class Serve:
    """rsstrace serve on a free loopback port; stop() checks a clean exit."""

    def __init__(self, *args, exe=RSSTRACE, env=None, wrapper=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/metrics"
        self.err = tempfile.TemporaryFile("w+")
        self.p = subprocess.Popen(list(wrapper) + [str(exe), "serve", "-l", f"127.0.0.1:{self.port}"] + list(args),
                                  stdout=subprocess.DEVNULL, stderr=self.err, env=env)
        wait_until(self._up, "rsstrace serve answering", timeout=120)

    def _up(self):
        if self.p.poll() is not None:
            raise AssertionError(f"rsstrace serve exited with {self.p.returncode}: {self.stderr()}")
        # the port is bound before the BPF programs load (a busy port fails
        # early), so a connection says nothing: ask, with a HEAD, which
        # closes no peak window and is answered once everything is attached
        try:
            with urllib.request.urlopen(urllib.request.Request(self.url, method="HEAD"), timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def scrape(self, accept=OPENMETRICS, agent=None):
        status, ctype, text = http_get(self.url, accept, agent=agent)
        assert status == 200, text
        return ctype, text

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def prog_ids(self):
        """The BPF programs this server holds (its fds' prog_id), so that their
        unloading can be checked without counting other tracers' programs."""
        ids = set()
        for fd in Path(f"/proc/{self.p.pid}/fdinfo").iterdir():
            try:
                ids |= {int(l.split()[1]) for l in fd.read_text().splitlines() if l.startswith("prog_id:")}
            except OSError:
                pass
        return ids

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Signals the server; returns (exit code, stderr) once it has exited and
        every program it held is unloaded."""
        progs = self.prog_ids() if self.p.poll() is None else set()
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            code = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise AssertionError("rsstrace serve did not stop on a signal")

        def loaded():  # the kernel frees programs asynchronously (RCU): wait, bounded
            return [i for i in progs if subprocess.run(["bpftool", "prog", "show", "id", str(i)],
                                                         capture_output=True).returncode == 0]
        left = loaded()
        deadline = time.monotonic() + 10
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = loaded()
        assert not left, f"BPF programs still loaded after rsstrace serve exited: {left}"
        return code, self.stderr()


# ---- a strict reader of the exposition format ---------------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?\}})? (\S+)$")


def parse_labels(text):
    out = {}
    for m in re.finditer(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', text or ""):
        out[m.group(1)] = m.group(2).replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
    return out


def parse_exposition(text, openmetrics):
    """Every line checked; returns {family: {type, help, unit, samples: [(name, labels, value)]}}."""
    assert text.endswith("\n"), "the response must end with a newline"
    lines = text.split("\n")[:-1]
    if openmetrics:
        assert lines[-1] == "# EOF", "an OpenMetrics response ends with # EOF"
        lines = lines[:-1]
    else:
        assert "# EOF" not in lines
    fams, cur = {}, None
    for line in lines:
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert re.fullmatch(NAME, name) and help_text, line
            assert name not in fams, f"family {name} declared twice"
            cur = fams[name] = {"help": help_text, "type": None, "unit": None, "samples": []}
        elif line.startswith("# TYPE "):
            name, typ = line[7:].split(" ")
            assert cur is not None and name in fams and fams[name] is cur, f"TYPE without its HELP: {line}"
            assert typ in ("gauge", "counter"), line
            cur["type"] = typ
        elif line.startswith("# UNIT "):
            assert openmetrics, "UNIT is OpenMetrics only"
            name, unit = line[7:].split(" ")
            assert fams.get(name) is cur and name.endswith("_" + unit), line
            cur["unit"] = unit
        else:
            m = SAMPLE.match(line)
            assert m, f"malformed sample line: {line!r}"
            assert cur is not None and cur["type"], f"sample before its family's TYPE: {line}"
            name, labels, value = m.group(1), parse_labels(m.group(2)), float(m.group(3))
            fam = next(f for f in fams if fams[f] is cur)
            if cur["type"] == "counter":
                assert name == (fam if fam.endswith("_total") else fam + "_total"), (fam, line)
                assert fam.endswith("_total") != openmetrics, f"counter family naming: {fam}"
            else:
                assert name == fam, (fam, line)
            assert math.isfinite(value) and value >= 0, line
            cur["samples"].append((name, labels, value))
    for name, f in fams.items():
        assert f["type"], f"{name} has no TYPE"
        base = name[:-6] if name.endswith("_total") else name
        if base.endswith("_bytes") or base.endswith("_seconds"):
            assert not openmetrics or f["unit"] == base.rsplit("_", 1)[1], f"{name}: unit missing"
    return fams


def family(fams, name):
    """A family by its sample name, in either format."""
    return fams.get(name) or fams.get(name[:-6] if name.endswith("_total") else name + "_total") or \
        fams[name[:-6]]


def samples(fams, name, **want):
    return [(lab, v) for n, lab, v in family(fams, name)["samples"]
            if n == name and all(lab.get(k) == str(x) for k, x in want.items())]


def value(fams, name, **want):
    found = samples(fams, name, **want)
    assert len(found) == 1, f"{name}{want}: expected one sample, got {found}"
    return found[0][1]


# ---- helpers: a cgroup of our own, a workload's reports -----------------------------------

def Cgroup():
    """A memory cgroup of the test's own (v2 where the memory controller can be
    enabled, else the v1 memory hierarchy: the cgroup serve names a process
    by), emptied and removed by .remove()."""
    return MemoryCgroup(f"rsstrace-test-{time.monotonic_ns()}")


class Reports:
    """Reads a workload's @@status reports from its stdout pipe as they come."""

    def __init__(self, proc):
        self.proc, self.buf = proc, b""

    def next(self, tag, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for r in parse_reports(self.buf.decode(errors="replace")):
                if r["tag"] == tag:
                    end = self.buf.index(b"@@end\n", self.buf.index(f"tag={tag}\n".encode())) + 6
                    self.buf = self.buf[end:]
                    return r["status"]
            left = deadline - time.monotonic()
            assert left > 0, f"report {tag} not seen; got {self.buf!r}"
            if select.select([self.proc.stdout], [], [], left)[0]:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                assert chunk, f"workload ended before report {tag}"
                self.buf += chunk


def start_spike_hold(cg, hold_mib, spike_mib):
    p = subprocess.Popen([wl("spike_hold"), str(hold_mib), str(spike_mib)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, preexec_fn=cg.enter)
    return p, Reports(p)


def stop_workload(p):
    if p.poll() is None:
        p.stdin.write(b"q")
        p.stdin.close()
        p.wait(timeout=30)


# ---- command line ---------------------------------------------------------------------------

def test_refuses_non_loopback_without_flag_and_bad_input():
    for args, needle in ((["-l", "0.0.0.0:9464"], "not a loopback address"),
                         (["-l", "[::]:9464"], "not a loopback address"),
                         (["-l", "localhost:9464"], "invalid listen address"),
                         (["-l", "127.0.0.1:0"], "invalid listen address"),
                         (["-n", "-1"], "invalid number of processes"),
                         (["--bogus"], "unknown option"),
                         (["extra"], "unexpected argument")):
        p = subprocess.run([str(RSSTRACE), "serve"] + args, capture_output=True, text=True, timeout=30)
        assert p.returncode == 2, (args, p.returncode, p.stderr)
        assert p.stderr.startswith("rsstrace serve: ") and needle in p.stderr.splitlines()[0], (args, p.stderr)
        assert p.stdout == ""


def test_help_teaches_and_busy_port_is_one_line():
    p = subprocess.run([str(RSSTRACE), "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and "EXAMPLES" in p.stdout and "--allow-remote" in p.stdout
    assert max(len(l) for l in p.stdout.splitlines()) <= 80
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = subprocess.run([str(RSSTRACE), "serve", "-l", f"127.0.0.1:{port}"], capture_output=True, text=True,
                           timeout=60)
    assert p.returncode == 1, p.stderr
    assert p.stderr == f"rsstrace: cannot listen on 127.0.0.1:{port}: Address already in use\n"


# ---- the format -------------------------------------------------------------------------------

def test_both_formats_parse_with_help_type_units_and_hooks():
    s = Serve()
    try:
        # some RSS changes to count (an idle VM guest may have none)
        subprocess.run([wl("spike"), "8", "1"], stdout=subprocess.DEVNULL, check=True, timeout=60)
        ctype, om = s.scrape(OPENMETRICS)
        assert ctype.startswith("application/openmetrics-text; version=1.0.0")
        ctype_p, prom = s.scrape(None)
        assert ctype_p.startswith("text/plain; version=0.0.4")
        status, _, index = http_get(f"http://127.0.0.1:{s.port}/")
        assert status == 200 and "/metrics" in index
        with pytest.raises(urllib.error.HTTPError) as e:
            http_get(f"http://127.0.0.1:{s.port}/nope")
        assert e.value.code == 404
        # a HEAD (health check) answers without closing anyone's peak window
        with urllib.request.urlopen(urllib.request.Request(s.url, method="HEAD"), timeout=30) as r:
            assert r.status == 200 and r.read() == b""
        assert value(parse_exposition(s.scrape()[1], True), "rsstrace_scrapes_total") == 3
        assert len(s.prog_ids()) >= 5, "rss_stat, fork, exec, exit and more: held while serving"
    finally:
        code, err = s.stop()
    assert code == 0, err
    # Prometheus' own linter (naming conventions, units, HELP), from the prometheus package
    lint = subprocess.run(["promtool", "check", "metrics"], input=prom, capture_output=True, text=True, timeout=60)
    assert lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(), lint.stdout + lint.stderr
    for text, is_om in ((om, True), (prom, False)):
        fams = parse_exposition(text, is_om)
        for name, typ in (("rsstrace_cgroup_rss_bytes", "gauge"), ("rsstrace_cgroup_swap_bytes", "gauge"),
                          ("rsstrace_cgroup_rss_peak_bytes", "gauge"), ("rsstrace_cgroup_processes", "gauge"),
                          ("rsstrace_cgroup_fork_inherited_bytes_total", "counter"),
                          ("rsstrace_cgroup_unmapped_bytes_total", "counter"),
                          ("rsstrace_cgroup_swapped_out_bytes_total", "counter"),
                          ("rsstrace_process_rss_bytes", "gauge"), ("rsstrace_process_rss_peak_bytes", "gauge"),
                          ("rsstrace_events_total", "counter"), ("rsstrace_lost_events_total", "counter"),
                          ("rsstrace_inexact_reads_total", "counter"),
                          ("rsstrace_hook_info", "gauge"), ("rsstrace_bpf_map_entries", "gauge"),
                          ("rsstrace_bpf_map_max_entries", "gauge"), ("rsstrace_peak_window_seconds", "gauge")):
            assert family(fams, name)["type"] == typ, name
        hooks = {lab["hook"]: lab["attach"] for lab, _ in samples(fams, "rsstrace_hook_info")}
        assert hooks.get("rss_change", "").endswith("rss_stat"), hooks
        # a cause counter exists exactly when its hook is in use: absent, never a fake 0
        for hook, metric in (("fault", "rsstrace_cgroup_page_faults_total"),
                             ("wp_fault", "rsstrace_cgroup_cow_faults_total"),
                             ("swap_in", "rsstrace_cgroup_swapin_faults_total")):
            present = any(metric in (n, n + "_total") for n in fams)
            assert present == (hook in hooks), (hook, metric, hooks)
        # the root cgroup holds this test's own processes
        assert samples(fams, "rsstrace_cgroup_processes"), "no cgroup series"
        assert value(fams, "rsstrace_events_total") > 0
        for lab, v in samples(fams, "rsstrace_lost_events_total"):
            assert v == 0, f"lost {lab}: {v}"
        assert {lab["reason"] for lab, _ in samples(fams, "rsstrace_inexact_reads_total")} == \
            {"approximate", "unsettled_sum"}, samples(fams, "rsstrace_inexact_reads_total")
        assert value(fams, "rsstrace_inexact_reads_total", reason="approximate") == 0
        n = len(samples(fams, "rsstrace_process_rss_bytes"))
        assert min(5, value(fams, "rsstrace_address_spaces")) <= n <= 10, \
            "default --top-processes 5: the 5 largest by RSS, and by peak those not among them"


# ---- against the kernel: a cgroup of our own ----------------------------------------------

def test_cgroup_and_process_series_match_proc():
    cg = Cgroup()
    s = None
    p, rep = start_spike_hold(cg, 48, 1)
    try:
        st = rep.next("hold")
        s = Serve("--top-processes", "50")
        if exact_counters():
            # 6.2+: the lean program that counts the cgroups (bpf/account.bpf.c)
            # takes the events whose totals this test checks
            loaded = sorted(n for n in program_names_of(s.p.pid) if n.startswith("rss_stat"))
            assert loaded == ["rss_stat_leancg"], loaded
        _, text = s.scrape()
        fams = parse_exposition(text, True)
        now = {t: value(fams, "rsstrace_cgroup_rss_bytes", cgroup=cg.path, type=t) for t in ("anon", "file", "shmem")}
        assert now["anon"] == st["RssAnon"] * 1024, (now, st)
        # the cgroup's own accounting: its one process's anon pages (on a v1
        # host this cgroup was "/", with every process, before issue 17 item 2)
        assert abs(cg.anon_bytes() - now["anon"]) <= STAT_LAG_BYTES, (cg.stat(), now)
        assert now["shmem"] == st["RssShmem"] * 1024, (now, st)
        assert 0 <= now["file"] - st["RssFile"] * 1024 <= FILE_TOLERANCE_KB * 1024, (now, st)
        assert value(fams, "rsstrace_cgroup_swap_bytes", cgroup=cg.path) == st["VmSwap"] * 1024
        assert value(fams, "rsstrace_cgroup_processes", cgroup=cg.path) == 1
        # 48 MiB: among the 50 largest processes of this test machine
        proc = value(fams, "rsstrace_process_rss_bytes", pid=p.pid, cgroup=cg.path, comm="spike_hold")
        assert 0 <= proc - st["VmRSS"] * 1024 <= FILE_TOLERANCE_KB * 1024, (proc, st)
        assert value(fams, "rsstrace_process_rss_peak_bytes", pid=p.pid) >= st["VmHWM"] * 1024
        # a second scrape: nothing happened, so the window's peak is the level
        _, text = s.scrape()
        fams = parse_exposition(text, True)
        total = sum(value(fams, "rsstrace_cgroup_rss_bytes", cgroup=cg.path, type=t) for t in ("anon", "file", "shmem"))
        assert value(fams, "rsstrace_cgroup_rss_peak_bytes", cgroup=cg.path) == total
    finally:
        stop_workload(p)
        if s:
            code, err = s.stop(signal.SIGINT)
            assert code == 0, err
        cg.remove()


def test_footprint_gauge_is_the_sum_of_pss_of_the_cgroups_processes():
    """Issue 17's per-cgroup footprint: --footprint-interval sums the PSS of
    a cgroup's processes. A prefork tree (32 MiB shared copy-on-write by 3
    children, 2 of which wrote half of it) in a cgroup of the test's own,
    held still: the gauge is the sum of the kernel's smaps_rollup Pss of its
    processes, read by the test at the same pause (the file part of PSS moves
    with every other process that maps libc: only it may differ), while the
    cgroup's RSS counts the shared pages 4 times. Off by default: no family."""
    cg = Cgroup()
    pf = Prefork(nchild=3, shared_mib=32, dirtiers=2, preexec_fn=cg.enter)
    plain = s = None
    try:
        plain = Serve()
        _, text = plain.scrape()
        assert "rsstrace_cgroup_footprint_bytes" not in text and "rsstrace_footprint_" not in text
        code, err = plain.stop(signal.SIGINT)
        assert code == 0, err
        # serve answers only after its first pass (serve.c): no waiting
        s = Serve("--footprint-interval", "3600")
        _, text = s.scrape()
        truth = [read_rollup(pid) for pid in pf.pids]
        fams = parse_exposition(text, True)
        gauge = value(fams, "rsstrace_cgroup_footprint_bytes", cgroup=cg.path)
        pss = sum(t["Pss"] for t in truth) * 1024
        pss_file = sum(t["Pss_File"] for t in truth) * 1024
        assert abs(gauge - pss) <= pss_file, (gauge, pss, pss_file)
        assert gauge >= pf.expected_footprint_kb * 1024, (gauge, pf.expected_footprint_kb)
        rss = sum(value(fams, "rsstrace_cgroup_rss_bytes", cgroup=cg.path, type=t) for t in ("anon", "file", "shmem"))
        assert rss >= 2 * gauge, (rss, gauge)
        assert value(fams, "rsstrace_cgroup_processes", cgroup=cg.path) == len(pf.pids)
        assert value(fams, "rsstrace_footprint_unreadable_processes") >= 0
        assert value(fams, "rsstrace_footprint_pass_seconds") > 0
        # a scrape never reads smaps_rollup: the next one has the same pass
        _, again = s.scrape()
        assert value(parse_exposition(again, True), "rsstrace_cgroup_footprint_bytes", cgroup=cg.path) == gauge
        # CAP_SYS_PTRACE, which reading other processes' smaps_rollup needs,
        # is held by the reader process alone, never by serve's threads
        CAP_SYS_PTRACE = 1 << 19
        # (before 6.5 serve keeps CAP_BPF where the map reads need it: privs.c)
        CAP_BPF = 1 << 39
        for tid in os.listdir(f"/proc/{s.p.pid}/task"):
            st = dict(l.split(":\t", 1) for l in
                      Path(f"/proc/{s.p.pid}/task/{tid}/status").read_text().splitlines() if ":\t" in l)
            for f in ("CapEff", "CapPrm"):
                assert int(st[f], 16) & ~CAP_BPF == 0, (tid, f, st[f])
        readers = Path(f"/proc/{s.p.pid}/task/{s.p.pid}/children").read_text().split()
        assert len(readers) == 1, readers
        st = dict(l.split(":\t", 1) for l in Path(f"/proc/{readers[0]}/status").read_text().splitlines())
        for f in ("CapEff", "CapPrm", "CapBnd"):
            assert int(st[f], 16) == CAP_SYS_PTRACE, (f, st[f])
        assert int(st["CapInh"], 16) == 0 and int(st["CapAmb"], 16) == 0 and st["NoNewPrivs"] == "1", st
        # nothing of serve's: no BPF object, no listening socket
        assert sorted(int(fd) for fd in os.listdir(f"/proc/{readers[0]}/fd")) == [0, 1, 2, 3]
    finally:
        pf.release()
        for srv in (plain, s):
            if srv and srv.p.poll() is None:
                code, err = srv.stop(signal.SIGINT)
                assert code == 0, err
        cg.remove()


def test_peak_since_previous_scrape_sees_a_spike_between_scrapes():
    cg = Cgroup()
    s = Serve()
    p, rep = start_spike_hold(cg, 16, 96)
    try:
        hold = rep.next("hold")
        s.scrape()  # opens a window
        p.stdin.write(b"s")
        p.stdin.flush()
        spike = rep.next("spike")
        after = rep.next("hold")
        # another scraper (a curl) comes first: it sees the spike, and does
        # not take it away from the first one, whose window is its own
        _, text = s.scrape(agent="curl/7.88.1")
        other = value(parse_exposition(text, True), "rsstrace_cgroup_rss_peak_bytes", cgroup=cg.path)
        assert_peak_is_spike(other, spike, "the other scraper's")
        _, text = s.scrape()
        fams = parse_exposition(text, True)
        peak = value(fams, "rsstrace_cgroup_rss_peak_bytes", cgroup=cg.path)
        rss = sum(value(fams, "rsstrace_cgroup_rss_bytes", cgroup=cg.path, type=t) for t in ("anon", "file", "shmem"))
        assert rss - after["VmRSS"] * 1024 <= FILE_TOLERANCE_KB * 1024, (rss, after)
        assert_peak_is_spike(peak, spike)
        assert peak >= rss + 90 * 2 ** 20, "the 96 MiB spike is gone by the scrape: only the peak shows it"
        # the window was reset by that scrape: the next one shows the level only
        _, text = s.scrape()
        fams = parse_exposition(text, True)
        assert value(fams, "rsstrace_cgroup_rss_peak_bytes", cgroup=cg.path) < peak - 90 * 2 ** 20
        assert hold["VmRSS"] > 0
    finally:
        stop_workload(p)
        code, err = s.stop()
        assert code == 0, err
        cg.remove()


# ---- a real Prometheus ------------------------------------------------------------------------

class Prometheus:
    def __init__(self, target_port, interval_s, tmp):
        exe = shutil.which("prometheus")
        if not exe:
            pytest.fail("prometheus not installed (scripts/install-deps test installs it)")
        self.port = free_port()
        cfg = tmp / "prometheus.yml"
        cfg.write_text(f"""global:
  scrape_interval: {interval_s}s
  scrape_timeout: {int(interval_s * 500)}ms
scrape_configs:
  - job_name: rsstrace
    static_configs:
      - targets: ['127.0.0.1:{target_port}']
""")
        self.log = open(tmp / "prometheus.log", "w+")
        # its own config, data directory and port: never the packaged service's
        self.p = subprocess.Popen([exe, f"--config.file={cfg}", f"--storage.tsdb.path={tmp / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
                                  stdout=self.log, stderr=self.log)
        wait_until(self._ready, "prometheus ready", timeout=120, step=0.3)

    def _ready(self):
        assert self.p.poll() is None, self.logs()
        try:
            return http_get(f"http://127.0.0.1:{self.port}/-/ready", timeout=2)[0] == 200
        except OSError:
            return False

    def logs(self):
        self.log.seek(0)
        return self.log.read()[-3000:]

    def api(self, path, **params):
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?" + urllib.parse.urlencode(params)
        body = json.loads(http_get(url)[2])
        assert body["status"] == "success", body
        return body["data"]

    def query(self, q):
        return self.api("query", query=q)["result"]

    def last_scrape(self):
        """When Prometheus last scraped rsstrace (its clock), or None."""
        t = self.api("targets")["activeTargets"]
        if not t or t[0]["health"] != "up":
            return None
        return t[0]["lastScrape"]

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()


def parse_time(rfc3339):
    """Prometheus' lastScrape ("2026-11-22T06:10:03.123456789Z") as Unix seconds."""
    m = re.match(r"(\d+-\d+-\d+T\d+:\d+:\d+)(?:\.(\d+))?(Z|[+-]\d+:\d+)$", rfc3339)
    base = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")) - time.timezone
    if m.group(3) != "Z":
        sign = 1 if m.group(3)[0] == "+" else -1
        h, mi = m.group(3)[1:].split(":")
        base -= sign * (int(h) * 3600 + int(mi) * 60)
    return base + (float("0." + m.group(2)) if m.group(2) else 0)


def test_prometheus_scrapes_the_spike_and_the_proc_rss(tmp_path):
    # the spike must fit in half of it: 128 MiB took 1.06 s on a host busy
    # with two guests besides the suite (2 s was the interval then)
    interval = 3
    cg = Cgroup()
    s = Serve()
    prom = p = None
    sel = f'{{cgroup="{cg.path}"}}'
    try:
        prom = Prometheus(s.port, interval, tmp_path)
        p, rep = start_spike_hold(cg, 24, 128)
        hold = rep.next("hold")
        # first, Prometheus has the workload's cgroup
        wait_until(lambda: prom.query(f"rsstrace_cgroup_rss_bytes{sel}"), "the cgroup in Prometheus", timeout=60)
        # spike just after a scrape, so that it is over long before the next one
        last = wait_until(prom.last_scrape, "a scrape")
        wait_until(lambda: prom.last_scrape() != last, "the next scrape", timeout=30, step=0.05)
        p.stdin.write(b"s")
        p.stdin.flush()
        t_spike = time.time()
        spike = rep.next("spike")
        after = rep.next("hold")
        t_after = time.time()
        assert t_after - t_spike < interval / 2, "the spike took too long to be between two scrapes"

        # the next scrape after the spike has the peak; the RSS matches /proc
        def scraped_after():
            r = prom.query(f"timestamp(rsstrace_cgroup_rss_peak_bytes{sel})")  # the sample's own time
            return r and float(r[0]["value"][1]) > t_after
        wait_until(scraped_after, "a scrape after the spike", timeout=30)
        peak = max(float(r["value"][1]) for r in prom.query(f"max_over_time(rsstrace_cgroup_rss_peak_bytes{sel}[1m])"))
        sampled = max(float(r["value"][1]) for r in
                      prom.query(f"max_over_time(sum by (cgroup) (rsstrace_cgroup_rss_bytes{sel})[1m:1s])"))
        rss = {r["metric"]["type"]: float(r["value"][1]) for r in prom.query(f"rsstrace_cgroup_rss_bytes{sel}")}
        proc = prom.query(f'rsstrace_process_rss_bytes{{pid="{p.pid}"}}')
        tol = FILE_TOLERANCE_KB * 1024
        msg = (f"prometheus: peak={peak:.0f} B, sampled RSS max={sampled:.0f} B, rss={rss}; "
               f"/proc: spike VmRSS={spike['VmRSS']} kB, after: VmRSS={after['VmRSS']} RssAnon={after['RssAnon']} "
               f"RssFile={after['RssFile']} RssShmem={after['RssShmem']} kB")
        assert_peak_is_spike(peak, spike, msg)
        assert sampled < peak - 100 * 2 ** 20, "the RSS gauge alone missed the spike (it was between scrapes): " + msg
        assert rss["anon"] == after["RssAnon"] * 1024 and rss["shmem"] == after["RssShmem"] * 1024, msg
        assert 0 <= rss["file"] - after["RssFile"] * 1024 <= tol, msg
        assert proc and 0 <= float(proc[0]["value"][1]) - after["VmRSS"] * 1024 <= tol, (proc, msg)
        assert hold["VmRSS"] > 0
        # Prometheus parsed every scrape (its own health metrics)
        assert prom.query('up{job="rsstrace"}')[0]["value"][1] == "1"
        print(msg)
    finally:
        if p:
            stop_workload(p)
        if prom:
            prom.stop()
        code, err = s.stop()
        assert code == 0, err
        cg.remove()


# ---- concurrency, under AddressSanitizer --------------------------------------------------

def check_consistent(text):
    """One response = one snapshot: its parts agree with each other."""
    fams = parse_exposition(text, True)
    procs = samples(fams, "rsstrace_cgroup_processes")
    cgroups = {lab["cgroup"] for lab, _ in procs}
    assert sum(v for _, v in procs) == value(fams, "rsstrace_address_spaces")
    assert value(fams, "rsstrace_bpf_map_entries", map="mms") == value(fams, "rsstrace_address_spaces")
    for c in cgroups:
        rss = sum(value(fams, "rsstrace_cgroup_rss_bytes", cgroup=c, type=t) for t in ("anon", "file", "shmem"))
        assert value(fams, "rsstrace_cgroup_rss_peak_bytes", cgroup=c) >= rss, c
    for lab, _ in samples(fams, "rsstrace_process_rss_bytes"):
        assert lab["cgroup"] in cgroups, lab
    return value(fams, "rsstrace_scrapes_total")


@pytest.mark.skipif(IN_VM, reason="user-space sanitizers run on the host suite (as in test_sanitizers.py)")
def test_fifty_concurrent_scrapes_during_a_fork_storm_under_asan():
    s = Serve(exe=built(TEST_BUILD, "`make sanitize`"), env=SAN_ENV)
    storm = subprocess.Popen([wl("churn"), "3000", "4", "256"], stdout=subprocess.PIPE, text=True)
    seen, idle = [], None
    try:
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            for _ in range(3):
                for text in pool.map(lambda _: s.scrape()[1], range(50)):
                    seen.append(check_consistent(text))
        # a connection that stays open must not hold up the exit
        idle = socket.create_connection(("127.0.0.1", s.port))
        storm_out = storm.communicate(timeout=300)[0]
    finally:
        if storm.poll() is None:
            storm.kill()
        code, err = s.stop()
        if idle:
            idle.close()
    assert "failed=0" in storm_out, storm_out
    for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert bad not in err, err[-3000:]
    assert code == 0, err[-3000:]
    # each response is its own snapshot: 150 distinct scrape numbers
    assert sorted(seen) == list(range(1, 151)), seen


@pytest.mark.skipif(IN_VM, reason="user-space memory checks run on the host suite (as in test_sanitizers.py)")
def test_valgrind_memcheck_serve_no_leak():
    """What each scrape and each ended process allocate must be freed: a leak
    there grows with time (checked: dropping one free() in scrape() fails this
    test and the ASan one). State kept for the server's lifetime is reachable
    from static storage, so it would not count as lost."""
    s = Serve(wrapper=VALGRIND)
    try:
        subprocess.run([wl("churn"), "200", "4", "64"], stdout=subprocess.DEVNULL, check=True, timeout=120)
        for agent in ("prometheus", "curl", "prometheus"):
            check_consistent(s.scrape(agent=agent)[1])
        assert s.scrape(accept=None)[1].startswith("# HELP")
    finally:
        code, err = s.stop()
    assert code == 0, valgrind_errors(err)
