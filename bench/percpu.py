#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What one rss_stat event costs as the number of possible CPUs grows
(make bench-percpu; issue 18).

Since 6.2 an mm counter is a percpu_counter, and the rss_stat handler's exact
read is a sum over CPUs. This boots the 6.12 guest (tests/vm/run) with
`-smp N` and `maxcpus=2` on its command line: N possible CPUs, 2 online. In
each boot, the floor (an empty tp_btf/rss_stat program) and rsstrace are
attached together to an anon fault storm, 1 thread and then 2 threads (pinned
to different CPUs) of one address space, and the kernel's own per-program
statistics (kernel.bpf_stats_enabled: run_time_ns, run_cnt) give each one's
ns per run over the storm. A third program, of fixed work (bench/floor.bpf.c
fixed_btf, about as long as the lean path), runs beside them: its instructions
are the same at any CPU count, so what its cost per run does as the CPUs grow
is the guest's (interrupts that land in a run are counted in it), not a
program's.

Two clocks: QEMU's instruction counting (`-icount shift=0`: one ns of guest
time per guest instruction; deterministic, no cache or TLB cost) and real
time (noisy; QEMU's software TLB inflates far-apart loads).

  bench/percpu.py [--cpus 2,16,64,128] [--clocks icount,real] [--iters N]
                  [--online 2] [--threads 1,2] [--against EXE] [--pin] [--rounds N]
  bench/percpu.py --guest ...   (what runs inside each guest)

--against EXE measures another rsstrace binary too (a worktree's build of an
earlier commit), in the same boots, after this one: a change's cost side by
side. --pin starts the storm on CPU 0, so that a 1-thread storm's address
space runs on one CPU only (unpinned, its main thread may have run on
another CPU first). --rounds N measures each (threads, binary) N times in
each boot, the binaries taking turns, and adds a row of each one's medians:
two-thread storms moved one boot's figures by up to ~11 instructions per
run, the fixed program's too (interrupts that land in a run, such as the
TLB-flush IPIs of the other thread's frees).

With --online N (N > 2) and --threads up to N, an address space runs on more
CPUs than its list holds (32, include/rsstrace.h RSS_MM_CPUS): the cost of the
read past it, on the CPUs of its bitmap (e.g. --cpus 64 --online 40
--threads 1,2,40).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import bench  # noqa: E402
from bench import Floor, Rsstrace, Storm  # noqa: E402

VM_LOCK = "/tmp/rsstrace-vm.lock"
CLOCKS = {"icount": "-icount shift=0", "real": ""}
FLOOR_PROG, FIXED_PROG = "empty_btf", "fixed_btf"
RSSTRACE_PROGS = ("rss_stat_btf", "rss_stat_lean", "rss_stat_leancg", "rss_stat_raw")


def prog_stats():
    """{program name: (run_time_ns, run_cnt)} summed over programs of that name."""
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True, check=True).stdout
    stats = {}
    for p in json.loads(out):
        t, c = stats.get(p.get("name"), (0, 0))
        stats[p.get("name")] = (t + p.get("run_time_ns", 0), c + p.get("run_cnt", 0))
    return stats


def per_run(before, after, names):
    t = sum(after.get(n, (0, 0))[0] - before.get(n, (0, 0))[0] for n in names)
    c = sum(after.get(n, (0, 0))[1] - before.get(n, (0, 0))[1] for n in names)
    return t / c if c else None, c


def medians(runs):
    """A row per (threads, binary) of --rounds' runs: each figure's median
    (runs: the fewest)."""
    out = []
    for key in dict.fromkeys((r["threads"], r["exe"]) for r in runs):
        same = [r for r in runs if (r["threads"], r["exe"]) == key]
        row = {"threads": key[0], "exe": key[1], "median": True,
               "rsstrace_runs": min(r["rsstrace_runs"] for r in same)}
        for col in ("floor_ns", "fixed_ns", "rsstrace_ns"):
            row[col] = statistics.median(r[col] for r in same)
        out.append(row)
    return out


def thread_counts(text):
    """--threads' list, or None if it is not numbers from 1 to 64."""
    words = text.split(",")
    if not all(w.isdigit() and 1 <= int(w) <= 64 for w in words):
        return None
    return [int(w) for w in words]


def executables(a):
    """This tree's rsstrace, then --against's."""
    return [str(bench.RSSTRACE)] + ([a.against] if a.against else [])


def guest(a):
    if a.pin:
        os.sched_setaffinity(0, {0})  # the storm and its threads start here (each thread then pins itself)
    possible = Path("/sys/devices/system/cpu/possible").read_text().strip()
    online = Path("/sys/devices/system/cpu/online").read_text().strip()
    stats_knob = Path("/proc/sys/kernel/bpf_stats_enabled")
    stats_was = stats_knob.read_text()
    stats_knob.write_text("1")
    res = {"kernel": os.uname().release, "possible": possible, "online": online, "runs": []}
    floor, fixed = Floor(FLOOR_PROG, "floor"), Floor(FIXED_PROG, "fixed")
    exes = executables(a)
    try:
        for threads, exe in ((t, e) for _ in range(a.rounds) for t in thread_counts(a.threads) for e in exes):
            bench.RSSTRACE = Path(exe)
            storm = Storm("anon", 0, threads)
            r = Rsstrace([], "rsstrace")
            r.on(storm)
            floor.on(storm)
            fixed.on(storm)
            storm.block(max(1, a.iters // 10))  # warm: maps, caches, the mm's first events
            before = prog_stats()
            storm.block(a.iters)
            after = prog_stats()
            fixed.off()
            floor.off()
            r.off()
            storm.close()
            f_ns, f_cnt = per_run(before, after, (FLOOR_PROG,))
            x_ns, _ = per_run(before, after, (FIXED_PROG,))
            r_ns, r_cnt = per_run(before, after, RSSTRACE_PROGS)
            res["runs"].append({"threads": threads, "exe": exe, "floor_ns": f_ns, "floor_runs": f_cnt,
                                "fixed_ns": x_ns,
                                "rsstrace_ns": r_ns, "rsstrace_runs": r_cnt})
    finally:
        fixed.close()
        floor.close()
        stats_knob.write_text(stats_was)
    print("@@percpu " + json.dumps(res), flush=True)


# A boot takes 1-3 minutes; emulation trouble seen once each (a 16-CPU boot
# idle for 10 minutes, a 128-CPU guest that powered off without a result)
# costs one more boot, not the run.
BOOT_TIMEOUT_S, BOOT_TRIES = 600, 2


def boot(cpus, clock, a):
    # many vCPUs on a thread each (QEMU's multi-threaded emulation) on 2 real
    # cores: one such 40-CPU boot in four died (tests/vm/suite 6.12@64:40)
    opts = CLOCKS[clock] if a.online <= 2 else f"{CLOCKS[clock]} -accel tcg,thread=single".strip()
    env = dict(os.environ, RSSTRACE_VM_CPUS=str(a.online), RSSTRACE_VM_POSSIBLE_CPUS=str(cpus),
               RSSTRACE_VM_QEMU_OPTS=opts)
    env.setdefault("RSSTRACE_VM_TIMEOUT", str(BOOT_TIMEOUT_S))
    cmd = ["flock", VM_LOCK, str(ROOT / "tests/vm/run"), "6.12", "--", "/usr/bin/python3",
           str(Path(__file__).resolve()), "--guest", "--iters", str(a.iters), "--threads", a.threads,
           "--rounds", str(a.rounds)]
    cmd += (["--against", a.against] if a.against else []) + (["--pin"] if a.pin else [])
    for attempt in range(1, BOOT_TRIES + 1):
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
        for line in p.stdout.splitlines():
            if line.startswith("@@percpu "):
                return json.loads(line[len("@@percpu "):])
        print(f"percpu: {cpus} CPUs, {clock}: boot {attempt} of {BOOT_TRIES} gave no result "
              f"(exit {p.returncode})", file=sys.stderr, flush=True)
    raise RuntimeError(f"{cpus} CPUs, {clock}: no result (exit {p.returncode}): {p.stderr[-2000:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cpus", default="2,16,64,128", help="possible CPUs per boot")
    ap.add_argument("--clocks", default="icount,real", help="icount, real or both")
    ap.add_argument("--iters", type=int, default=200, help="storm iterations (4 MiB each) per measurement")
    ap.add_argument("--online", type=int, default=2, help="online CPUs per boot")
    ap.add_argument("--threads", default="1,2", help="threads of one address space, one measurement each "
                    "(pinned to CPUs 0, 1, ...; at most 64)")
    ap.add_argument("--against", help="another rsstrace binary, measured in the same boots (e.g. a worktree's)")
    ap.add_argument("--pin", action="store_true", help="start the storm on CPU 0 (a 1-thread storm on one CPU)")
    ap.add_argument("--rounds", type=int, default=1, help="measurements of each (threads, binary) per boot, "
                    "taken in turns, with a row of their medians (1 to 9)")
    ap.add_argument("--guest", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.against:
        a.against = str(Path(a.against).resolve())
        if not os.access(a.against, os.X_OK):
            print(f"percpu: --against {a.against}: not an executable", file=sys.stderr)
            return 2
    if a.guest:
        return guest(a)
    if not 1 <= a.rounds <= 9:
        print(f"percpu: --rounds {a.rounds}: from 1 to 9", file=sys.stderr)
        return 2
    if not thread_counts(a.threads):
        print(f"percpu: --threads {a.threads!r}: a list of numbers from 1 to 64", file=sys.stderr)
        return 2
    if a.online < 1 or any(int(c) < a.online for c in a.cpus.split(",") if c.isdigit()):
        print(f"percpu: --online {a.online}: from 1 to the fewest possible CPUs of --cpus", file=sys.stderr)
        return 2
    for clock in a.clocks.split(","):
        if clock not in CLOCKS:
            print(f"percpu: unknown clock {clock!r} (icount or real)", file=sys.stderr)
            return 2
    unit = {"icount": "guest instructions per run (-icount shift=0)", "real": "ns per run (real time)"}
    for clock in a.clocks.split(","):
        print(f"{clock}: {unit[clock]}, 6.12 guest, {a.online} online CPUs, {a.iters} iterations of 4 MiB per thread")
        # each row against the first boot's (--cpus' first count), same threads
        first = f"x {a.cpus.split(',')[0]}-CPU"
        print(f"{'possible':>8} {'threads':>7} {'floor':>8} {'rsstrace':>9} {'x floor':>8} {first:>8} {'runs':>9}"
              f" {'fixed':>6} {first:>8}" + ("  binary" if a.against else ""))
        base, fixed_base = {}, {}
        for cpus in (int(x) for x in a.cpus.split(",")):
            res = boot(cpus, clock, a)
            for r in res["runs"] + (medians(res["runs"]) if a.rounds > 1 else []):
                # a median row compares with the first boot's median row
                key = (r["threads"], r["exe"], "median" in r)
                base.setdefault(key, r["rsstrace_ns"])
                fixed_base.setdefault(key, r["fixed_ns"])
                print(f"{res['possible']:>8} {r['threads']:>7} {r['floor_ns']:8.0f} {r['rsstrace_ns']:9.0f} "
                      f"{r['rsstrace_ns'] / r['floor_ns']:8.2f} {r['rsstrace_ns'] / base[key]:8.2f} "
                      f"{r['rsstrace_runs']:>9} {r['fixed_ns']:6.0f} {r['fixed_ns'] / fixed_base[key]:8.2f}"
                      + (f"  {r['exe']}" if a.against else "") + ("  (median)" if "median" in r else ""),
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
