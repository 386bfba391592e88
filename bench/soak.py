#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Soak: trace a fork-heavy load for N minutes (not part of CI) and report,
every interval, the tracer's own RSS, how full its maps are, and lost events.
A healthy run shows all three flat.

    sudo bench/soak.py [--minutes 10] [--interval 10] [--parallel 4]
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--interval", type=float, default=10)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--max-procs", type=int, default=65536)
    a = ap.parse_args()
    # churn forever; rsstrace stops it after the duration (-d), then waits for it
    load = ["sh", "-c", f"while :; do {ROOT}/build/workloads/churn 100000 {a.parallel} 64 >/dev/null; done"]
    p = subprocess.Popen([str(ROOT / "rsstrace"), "--json", "-i", str(a.interval), "-d", str(a.minutes * 60),
                          "--max-procs", str(a.max_procs), "--"] + load, stdout=subprocess.PIPE, text=True)
    print(f"{'t (s)':>8} {'tracer RSS kB':>14} {'live mms':>9} {'map fill':>9} {'processes':>10} {'lost':>6}")
    t0 = time.monotonic()
    procs = 0
    for line in p.stdout:
        if not line.startswith("{"):
            continue
        o = json.loads(line)
        if o["type"] == "process":
            procs += 1
        elif o["type"] == "interval":
            print(f"{o['at_ms'] / 1000:8.0f} {o['tracer_rss_kb']:14} {o['processes']:9} "
                  f"{o['processes'] / a.max_procs:9.2%} {procs:10} {o['lost_events']:6}", flush=True)
        elif o["type"] == "summary":
            print(f"summary: {o['processes']} processes, lost {o['lost_events']}, tracer max RSS "
                  f"{o['tracer_max_rss_kb']} kB, CPU {o['tracer_cpu_ms']} ms over {time.monotonic() - t0:.0f} s")
            p.terminate()
            return 0 if o["lost_events"] == 0 else 1
    return 1


if __name__ == "__main__":
    sys.exit(main())
