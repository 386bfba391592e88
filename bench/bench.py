#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What tracing costs, measured side by side in one run (make bench).

This machine's speed drifts 15-30% over seconds, so whole-run timings cannot
resolve tens of nanoseconds per event. Instead: short blocks of a workload,
alternately traced and untraced (ABBA order), hundreds of pairs, the median
of the paired differences with a bootstrap 95% confidence interval; and an
A/A control (both blocks untraced) that shows the method's resolution.

Conditions: the floor (an empty tp_btf/rss_stat program: the cheapest way to
see every RSS change), an empty classic kmem:rss_stat program, rsstrace (its
defaults, then -i 1), a bpftrace one-liner keeping the max size per mm and
member, and a /proc poller at 100 Hz.
"""

import argparse
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "bench"
RSSTRACE = ROOT / "rsstrace"
BPFTRACE_PROG = "tracepoint:kmem:rss_stat /args->mm_id == %d || 1/ { @max[args->mm_id, args->member] = max(args->size); }"


def wait_for(stream, needle, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            raise RuntimeError(f"EOF before {needle!r}")
        if needle in line:
            return line
    raise RuntimeError(f"{needle!r} not seen")


class Storm:
    def __init__(self, kind, idle=0, threads=1):
        self.p = subprocess.Popen([str(BUILD / "storm"), kind, str(idle), str(threads)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.pid = int(wait_for(self.p.stdout, "ready").split()[1])

    def block(self, n):
        self.p.stdin.write(f"{n}\n")
        self.p.stdin.flush()
        return int(self.p.stdout.readline())

    def children(self):
        try:
            return [int(x) for x in Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()]
        except OSError:
            return []

    def hwm_reset(self):
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def status(self, key):
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    def close(self):
        self.p.stdin.close()
        self.p.wait(30)


class Nothing:
    name = "A/A control (untraced)"

    def on(self, storm):
        pass

    def off(self):
        return None


class Floor:
    def __init__(self, prog, name):
        self.name = name
        self.p = subprocess.Popen([str(BUILD / "floor"), prog], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)
        wait_for(self.p.stdout, "ready")

    def cmd(self, c):
        self.p.stdin.write(c + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def on(self, storm):
        self.cmd("a")

    def off(self):
        self.cmd("d")

    def close(self):
        self.p.stdin.close()
        self.p.wait(30)


def vmalloc_used_kb():
    """/proc/meminfo's VmallocUsed: where the kernel's BPF maps live."""
    for line in open("/proc/meminfo"):
        if line.startswith("VmallocUsed:"):
            return int(line.split()[1])
    return 0


def settle_vmalloc(before_kb, slack_kb=4096, timeout_s=10):
    """Wait until the kernel has freed a stopped tracer's maps (the BPF maps'
    vmalloc'd memory, freed by a deferred work item after the last fd closes:
    ~55 MB for rsstrace's defaults), so that the untraced block that follows
    does not pay for it. Without this wait, rsstrace measured -459 and -323 ns
    per event on the anon storm: faster than untraced (docs/performance.md)."""
    end = time.monotonic() + timeout_s
    while vmalloc_used_kb() > before_kb + slack_kb:
        if time.monotonic() > end:
            print(f"bench: the tracer's maps were not freed within {timeout_s} s; measuring on",
                  file=sys.stderr)
            return
        time.sleep(0.001)


class Rsstrace:
    def __init__(self, extra, name):
        self.extra, self.name, self.p = extra, name, None
        self.last = None

    def on(self, storm, pids=None):
        self.vmalloc_before = vmalloc_used_kb()
        self.out = tempfile.NamedTemporaryFile("r", suffix=".json")
        pid_list = ",".join(str(p) for p in (pids or [storm.pid]))
        self.p = subprocess.Popen([str(RSSTRACE), "-v", "--json", "-o", self.out.name, "-p", pid_list] + self.extra,
                                  stderr=subprocess.PIPE, text=True)
        wait_for(self.p.stderr, "tracing started")

    def off(self):
        self.p.send_signal(signal.SIGINT)
        self.p.communicate(timeout=120)
        settle_vmalloc(self.vmalloc_before)
        lines = [json.loads(l) for l in open(self.out.name) if l.strip()]
        self.out.close()
        self.last = lines
        return lines


class Serve:
    """rsstrace serve: every process on the machine, plus per-cgroup totals and
    window peaks in BPF, plus the fault hooks (its defaults)."""
    name = "rsstrace serve (all processes, per cgroup)"

    def on(self, storm):
        import socket
        with socket.socket() as so:
            so.bind(("127.0.0.1", 0))
            port = so.getsockname()[1]
        self.vmalloc_before = vmalloc_used_kb()
        self.p = subprocess.Popen([str(RSSTRACE), "serve", "-v", "-l", f"127.0.0.1:{port}"],
                                  stderr=subprocess.PIPE, text=True)
        wait_for(self.p.stderr, "serving http")

    def off(self):
        self.p.send_signal(signal.SIGTERM)
        self.p.communicate(timeout=120)
        settle_vmalloc(self.vmalloc_before)


class Bpftrace:
    name = "bpftrace kmem:rss_stat max per mm+member"

    def on(self, storm):
        self.p = subprocess.Popen(["bpftrace", "-e", BPFTRACE_PROG % storm.pid], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        wait_for(self.p.stdout, "Attaching")

    def off(self):
        # bpftrace 0.17 can lose a signal that comes outside its epoll_wait()
        # (tests/harness.py's stop_bpftrace() says how): ask again each second
        for _ in range(60):
            self.p.send_signal(signal.SIGTERM)
            try:
                return self.p.communicate(timeout=1)[0]
            except subprocess.TimeoutExpired:
                pass
        raise RuntimeError("bpftrace did not exit within 60 s of SIGTERM")


class Poller:
    name = "/proc poller at 100 Hz"

    def on(self, storm):
        self.stop = threading.Event()
        self.peak = 0
        path = f"/proc/{storm.pid}/status"

        def run():
            while not self.stop.is_set():
                try:
                    for line in open(path):
                        if line.startswith("VmRSS:"):
                            self.peak = max(self.peak, int(line.split()[1]))
                except OSError:
                    pass
                self.stop.wait(0.01)
        self.t = threading.Thread(target=run, daemon=True)
        self.t.start()

    def off(self):
        self.stop.set()
        self.t.join()
        return self.peak


def median_ci(xs, n=2000):
    """Median and a bootstrap 95% confidence interval of the median."""
    rnd = random.Random(1)
    meds = sorted(statistics.median(rnd.choices(xs, k=len(xs))) for _ in range(n))
    return statistics.median(xs), meds[int(0.025 * n)], meds[int(0.975 * n)]


def paired(storm, cond, iters, cycles):
    diffs, ratios = [], []
    for c in range(cycles):
        times = {}
        for traced in ((True, False) if c % 2 == 0 else (False, True)):  # ABBA
            if traced:
                cond.on(storm)
            times[traced] = storm.block(iters)
            if traced:
                cond.off()
        diffs.append(times[True] - times[False])
        ratios.append(times[True] / times[False])
    return diffs, ratios


def calibrate(storm, target_ms):
    n = 1
    while True:
        t = min(storm.block(n) for _ in range(3))
        if t >= target_ms * 1e6 or n >= 1 << 16:
            return max(1, int(n * target_ms * 1e6 / t))
        n *= 2


def events_per_iter(storm, iters):
    f = Floor("count_btf", "count")
    before = int(f.cmd("c"))
    f.on(storm)
    storm.block(iters * 4)
    f.off()
    n = int(f.cmd("c")) - before
    f.close()
    return n / (iters * 4)


def peaks(storm, iters):
    """The peak each condition reports for one block, against the kernel's VmHWM."""
    res = {}
    r = Rsstrace([], "rsstrace")
    storm.hwm_reset()
    r.on(storm)
    storm.block(iters)
    rows = r.off()
    kernel = storm.status("VmHWM")
    row = [x for x in rows if x.get("type") == "process"]
    res["kernel VmHWM"] = kernel
    res["rsstrace"] = max((x["traced_peak_kb"] for x in row), default=0)
    res["rsstrace tracer max RSS kB"] = rows[-1].get("tracer_max_rss_kb")
    res["rsstrace tracer CPU ms"] = rows[-1].get("tracer_cpu_ms")
    p = Poller()
    storm.hwm_reset()
    p.on(storm)
    storm.block(iters)
    res["poller 100 Hz"] = p.off()
    res["kernel VmHWM (poller block)"] = storm.status("VmHWM")
    return res


def bench_real_program(pairs, mib=20):
    """A real program, whole runs: xz -9 on MIB of random data, untraced and
    under rsstrace --stacks (sampled, the default; every page; dwarf),
    alternated (ABBA), wall time of the whole command (rsstrace's start and
    its summary included)."""
    xz = shutil.which("xz")
    if not xz:
        print("xz -9: skipped (xz not installed)")
        return
    with tempfile.TemporaryDirectory() as d:
        data = Path(d) / "random.bin"
        data.write_bytes(os.urandom(mib << 20))
        cmd = [xz, "-9", "-c", str(data)]
        conds = [[], ["--stacks"], ["--stacks", "--stack-sample", "0"], ["--stacks=dwarf"]]
        print(f"xz -9 on {mib} MiB of random data, {pairs} ABBA pairs per condition, wall s of the whole run")
        print(f"{'condition':48} {'ratio':>7} {'added s':>8} {'95% CI':>17} {'untraced s':>10}")

        def wall(argv):
            t = time.monotonic()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            return time.monotonic() - t

        for opts in conds:
            traced = [str(RSSTRACE), "-o", "/dev/null"] + opts + ["--"] + cmd
            diffs, ratios, base = [], [], []
            for c in range(pairs):
                order = (True, False) if c % 2 == 0 else (False, True)
                t = {on: wall(traced if on else cmd) for on in order}
                diffs.append(t[True] - t[False])
                ratios.append(t[True] / t[False])
                base.append(t[False])
            med, lo, hi = median_ci(diffs)
            name = "rsstrace " + (" ".join(opts) or "(defaults)")
            print(f"{name:48} {statistics.median(ratios):7.3f} {med:8.3f} [{lo:7.3f},{hi:7.3f}] "
                  f"{statistics.median(base):10.2f}", flush=True)


def bench_top(n_idle, frames=10):
    """rsstrace top at 1 Hz over n_idle idle processes: CPU per refresh and its
    own max RSS (getrusage of a wrapper, so nothing else is counted)."""
    storm = Storm("anon", idle=n_idle)
    wrapper = ("import resource, subprocess, sys\n"
               "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
               "r = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
               "print(r.ru_utime + r.ru_stime, r.ru_maxrss)\n")

    def run(n):
        out = subprocess.run([sys.executable, "-c", wrapper, str(RSSTRACE), "top", "-b", "-d", "1", "-n", str(n)],
                             capture_output=True, text=True, timeout=600).stdout.split()
        return float(out[0]), int(out[1])
    try:
        cpu1, _ = run(1)
        cpun, rss = run(frames + 1)
    finally:
        storm.close()
    per = (cpun - cpu1) / frames
    print(f"top at 1 Hz over {n_idle} idle processes: {per * 1000:.1f} ms CPU per refresh "
          f"({per * 100:.2f}% of one core), start-up {cpu1 * 1000:.0f} ms CPU, max RSS {rss} kB", flush=True)


def cpu_seconds(pid):
    """CPU time of all a process's threads in ns resolution (schedstat; the
    10 ms ticks of /proc/PID/stat are too coarse for an idle server)."""
    return sum(int((t / "schedstat").read_text().split()[0]) for t in Path(f"/proc/{pid}/task").iterdir()) / 1e9


def bench_serve(seconds):
    """rsstrace serve scraped at 1 Hz, side by side: its own CPU with the machine
    quiet and under a fork storm (the procs storm back to back: every fork and
    exit is an address space begun and ended, a record to drain); scrape
    latency; its max RSS. The BPF programs' own cost is charged to the forking
    processes (the rows above), not to serve."""
    import socket
    import urllib.request
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    url = f"http://127.0.0.1:{port}/metrics"
    srv = subprocess.Popen([str(RSSTRACE), "serve", "-l", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=5).read()
            break
        except OSError:
            if time.monotonic() > deadline or srv.poll() is not None:
                raise RuntimeError("rsstrace serve did not come up")
            time.sleep(0.2)

    def phase(kind):
        storm = Storm(kind) if kind else None
        stop, forks = threading.Event(), [0]

        def run():
            while not stop.is_set():
                storm.block(100)
                forks[0] += 100
        t = threading.Thread(target=run) if storm else None
        if t:
            t.start()
        lat, size = [], 0
        c0, t0 = cpu_seconds(srv.pid), time.monotonic()
        for i in range(seconds):
            time.sleep(max(0.0, t0 + i + 1 - time.monotonic()))
            a = time.monotonic()
            size = len(urllib.request.urlopen(url, timeout=30).read())
            lat.append(time.monotonic() - a)
        used, elapsed = cpu_seconds(srv.pid) - c0, time.monotonic() - t0
        if t:
            stop.set()
            t.join()
            storm.close()
        return used / elapsed, statistics.median(lat), max(lat), forks[0] / elapsed, size
    try:
        quiet = phase(None)
        busy = phase("procs")
        hwm = next(int(l.split()[1]) for l in Path(f"/proc/{srv.pid}/status").read_text().splitlines()
                   if l.startswith("VmHWM:"))
    finally:
        srv.terminate()
        srv.wait(60)
    print(f"serve scraped at 1 Hz for {seconds} s: {quiet[0] * 100:.2f}% of a core quiet, "
          f"{busy[0] * 100:.2f}% under a fork storm of {busy[3]:.0f} forks/s (ratio {busy[0] / max(quiet[0], 1e-9):.1f}); "
          f"scrape median {quiet[1] * 1000:.1f} / {busy[1] * 1000:.1f} ms, max {quiet[2] * 1000:.1f} / "
          f"{busy[2] * 1000:.1f} ms; response {busy[4]} bytes; max RSS {hwm} kB", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default="anon,file,cow,procs")
    ap.add_argument("--cycles", type=int, default=200, help="ABBA pairs per condition")
    ap.add_argument("--slow-cycles", type=int, default=40, help="pairs for tracers that start slowly")
    ap.add_argument("--block-ms", type=float, default=30)
    ap.add_argument("--scaling", default="1,100,10000", help="idle traced processes for the scaling rows")
    ap.add_argument("--no-bpftrace", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated condition names to run (default: all)")
    ap.add_argument("--top-procs", type=int, default=10000, help="idle processes for the top row (0: skip)")
    ap.add_argument("--serve-seconds", type=int, default=20, help="seconds per serve row (0: skip)")
    ap.add_argument("--xz-pairs", type=int, default=6, help="ABBA pairs per xz -9 row (0: skip)")
    a = ap.parse_args()
    have_bpftrace = not a.no_bpftrace and subprocess.run(["which", "bpftrace"], capture_output=True).returncode == 0

    print(f"machine: {platform.node()} {platform.release()} {os.cpu_count()} CPUs; "
          f"{time.strftime('%Y-%m-%d %H:%M')}; ABBA pairs {a.cycles} ({a.slow_cycles} for slow starters), "
          f"blocks ~{a.block_ms:.0f} ms")
    print(f"{'workload':8} {'condition':40} {'ratio':>7} {'ns/event':>9} {'95% CI':>17} {'x floor':>8} {'x bpft':>7}")
    for kind in [k for k in a.workloads.split(",") if k]:
        storm = Storm(kind)
        iters = calibrate(storm, a.block_ms)
        epi = events_per_iter(storm, iters)
        ev_block = epi * iters
        print(f"{kind:8} {iters} iterations/block, {epi:.1f} rss_stat events/iteration "
              f"({ev_block / (storm.block(iters) / 1e9) / 1e3:.0f}k events/s untraced)")
        results = {}
        conds = [(Nothing(), a.cycles), (Floor("empty_btf", "floor: empty tp_btf/rss_stat"), a.cycles),
                 (Floor("empty_tp", "empty classic tracepoint kmem:rss_stat"), a.cycles),
                 (Rsstrace([], "rsstrace (defaults)"), a.slow_cycles),
                 (Rsstrace(["-i", "1"], "rsstrace -i 1"), a.slow_cycles),
                 (Rsstrace(["--causes"], "rsstrace --causes"), a.slow_cycles),
                 (Rsstrace(["--stacks"], "rsstrace --stacks"), a.slow_cycles),
                 (Rsstrace(["--stacks=dwarf"], "rsstrace --stacks=dwarf"), a.slow_cycles),
                 (Rsstrace(["--stack-sample", "0"], "rsstrace --stack-sample 0"), a.slow_cycles),
                 (Rsstrace(["--stacks=dwarf", "--stack-sample", "0"], "rsstrace --stacks=dwarf --stack-sample 0"),
                  a.slow_cycles),
                 (Rsstrace(["--sharing", "--csv", "/dev/null"], "rsstrace --sharing --csv"), a.slow_cycles),
                 (Serve(), a.slow_cycles),
                 (Poller(), a.cycles)]
        if have_bpftrace:
            conds.append((Bpftrace(), a.slow_cycles))
        if a.only:
            for c, _ in conds:
                if c.name not in a.only.split(",") and hasattr(c, "close"):
                    c.close()
            conds = [c for c in conds if c[0].name in a.only.split(",")]
        for cond, cycles in conds:
            diffs, ratios = paired(storm, cond, iters, cycles)
            med, lo, hi = median_ci(diffs)
            results[cond.name] = med / ev_block
            floor = results.get("floor: empty tp_btf/rss_stat")
            bpft = results.get(Bpftrace.name)
            xf = f"{(med / ev_block) / floor:.2f}" if floor and "rsstrace" in cond.name else ""
            xb = f"{(med / ev_block) / bpft:.2f}" if bpft and "rsstrace" in cond.name else ""
            print(f"{'':8} {cond.name:40} {statistics.median(ratios):7.3f} {med / ev_block:9.1f} "
                  f"[{lo / ev_block:7.1f},{hi / ev_block:7.1f}] {xf:>8} {xb:>7}", flush=True)
            if hasattr(cond, "close"):
                cond.close()
        if have_bpftrace and Bpftrace.name in results:
            # bpftrace ran after rsstrace: print the ratio to it now
            b = results[Bpftrace.name]
            for name in ("rsstrace (defaults)", "rsstrace -i 1", "rsstrace --causes", "rsstrace --stacks",
                         "rsstrace --sharing --csv"):
                if name not in results:  # left out by --only
                    continue
                print(f"{'':8} {name + ' / bpftrace':40} {'':7} {'':9} {'':17} {'':8} {results[name] / b:7.2f}")
        print(f"{'':8} peaks (kB): {json.dumps(peaks(storm, iters))}")
        storm.close()
    if a.xz_pairs:
        bench_real_program(a.xz_pairs)
    if a.top_procs:
        bench_top(a.top_procs)
    if a.serve_seconds:
        bench_serve(a.serve_seconds)
    if a.scaling:
        print("scaling: rsstrace's added ns/event on the anon storm with N idle traced processes")
        for n in (int(x) for x in a.scaling.split(",")):
            storm = Storm("anon", idle=n)
            iters = calibrate(storm, a.block_ms)
            ev_block = events_per_iter(storm, iters) * iters
            r = Rsstrace([], f"rsstrace, {n} idle traced")
            pids = [storm.pid] + storm.children()

            class Many:
                name = r.name

                def on(self, s):
                    r.on(s, pids)

                def off(self):
                    return r.off()
            diffs, ratios = paired(storm, Many(), iters, max(10, a.slow_cycles // 2))
            med, lo, hi = median_ci(diffs)
            summ = r.last[-1]
            print(f"  {n:>6} traced: {med / ev_block:7.1f} ns/event [{lo / ev_block:.1f},{hi / ev_block:.1f}], "
                  f"ratio {statistics.median(ratios):.3f}, tracer max RSS {summ.get('tracer_max_rss_kb')} kB, "
                  f"processes in the summary {summ.get('processes')}", flush=True)
            storm.close()


if __name__ == "__main__":
    sys.exit(main())
