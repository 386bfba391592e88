#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What the live sharing view costs (top --sharing, serve --footprint-interval):
one /proc/PID/smaps_rollup read, by the size of the process, and one serve
footprint pass, by the number of processes. Reads are timed in blocks,
alternating sizes (ABAB), and the median per read reported; the pass cost is
serve's own rsstrace_footprint_pass_seconds, read with and without N extra
small processes (a prefork tree), side by side in one run.

usage: bench/smaps_cost.py [--mib 1024] [--procs 100] [--rounds 10]  (prefork takes at most ~100)
"""

import argparse
import mmap
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RSSTRACE = ROOT / "rsstrace"
PREFORK = ROOT / "build" / "workloads" / "prefork"


def read_cost(pid, n):
    t0 = time.perf_counter()
    for _ in range(n):
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            f.read()
    return (time.perf_counter() - t0) / n


def holder(mib, huge):
    """A child holding mib MiB of touched anonymous memory, 4 kB pages or THP."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        m = mmap.mmap(-1, mib << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        m.madvise(mmap.MADV_HUGEPAGE if huge else mmap.MADV_NOHUGEPAGE)
        for off in range(0, mib << 20, 4096):
            m[off] = 1
        os.write(w, b"r")
        signal.pause()
        os._exit(0)
    os.read(r, 1)
    return pid


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pass_seconds(url):
    text = urllib.request.urlopen(url, timeout=30).read().decode()
    return float(re.search(r"^rsstrace_footprint_pass_seconds (\S+)$", text, re.M).group(1)), \
        int(re.search(r"^rsstrace_address_spaces (\S+)$", text, re.M).group(1))


def serve_pass(extra, rounds):
    """Median footprint pass of a fresh serve, with `extra` small processes more."""
    tree = None
    if extra:
        tree = subprocess.Popen([str(PREFORK), str(extra), "1", "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = b""
        while b"@@ready" not in line:
            line = tree.stdout.readline()
        pids = [int(x) for x in line.split(b"pids=")[1].split()[0].split(b",")]
        per = [sum(read_cost(pid, 5) for pid in pids) / len(pids) for _ in range(rounds)]
        print(f"smaps_rollup read, each of {len(pids)} small processes (a prefork tree): "
              f"median {statistics.median(per) * 1e6:.1f} us [{min(per) * 1e6:.1f}, {max(per) * 1e6:.1f}]")
    port = free_port()
    srv = subprocess.Popen([str(RSSTRACE), "serve", "-l", f"127.0.0.1:{port}", "--footprint-interval", "1"],
                           stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        while True:
            try:
                pass_seconds(url)
                break
            except OSError:
                time.sleep(0.1)
        samples, procs = [], 0
        for _ in range(rounds):
            time.sleep(1.05)  # one pass per second: a new one each time
            s, procs = pass_seconds(url)
            samples.append(s)
        return statistics.median(samples), procs
    finally:
        srv.send_signal(signal.SIGINT)
        srv.wait(30)
        if tree:
            tree.communicate(timeout=60)  # its processes report on stdout as they exit


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--procs", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args()
    small = os.getpid()
    pages, huge = holder(a.mib, False), holder(a.mib, True)
    try:
        cost = {"small (this python)": [], f"{a.mib} MiB of 4 kB pages": [], f"{a.mib} MiB with THP": []}
        for _ in range(a.rounds):
            for (k, v), pid in zip(cost.items(), (small, pages, huge)):
                v.append(read_cost(pid, 20))
        for k, v in cost.items():
            print(f"smaps_rollup read, {k}: median {statistics.median(v) * 1e3:.3f} ms "
                  f"[{min(v) * 1e3:.3f}, {max(v) * 1e3:.3f}] over {a.rounds} blocks of 20")
    finally:
        for pid in (pages, huge):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    base, n0 = serve_pass(0, a.rounds)
    more, n1 = serve_pass(a.procs, a.rounds)
    print(f"serve footprint pass: {base * 1e3:.1f} ms for {n0} address spaces; "
          f"{more * 1e3:.1f} ms for {n1}: {(more - base) / max(n1 - n0, 1) * 1e6:.1f} us per added process")


if __name__ == "__main__":
    sys.exit(main())
