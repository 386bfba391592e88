# SPDX-License-Identifier: GPL-2.0
"""Memory cgroups made by the tests: cgroup v2 where its memory controller can
be enabled, else the v1 memory hierarchy. Never the host's own memory: OOM
tests run inside one of these, with a small limit and no swap."""

import os
import time
from pathlib import Path

import pytest

V2 = Path("/sys/fs/cgroup")
# memory.stat is read from per-CPU statistics that the kernel folds in only
# once more than MEMCG_CHARGE_BATCH (64) pages per online CPU are pending
# (mm/memcontrol.c, memcg_vmstats_needs_flush): a reading may lag by that.
STAT_LAG_BYTES = 64 * os.cpu_count() * os.sysconf("SC_PAGE_SIZE")


def _v1_root():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            fs = post.split()
            if fs and fs[0] == "cgroup" and "memory" in fs[2].split(","):
                return Path(pre.split()[4])
    return None


def _v2_root():
    """Where cgroup v2 is mounted (with or without its memory controller)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            if post.split()[:1] == ["cgroup2"]:
                return Path(pre.split()[4])
    return None


def _v2_memory():
    try:
        if "memory" not in (V2 / "cgroup.controllers").read_text().split():
            return False
        if "memory" not in (V2 / "cgroup.subtree_control").read_text().split():
            (V2 / "cgroup.subtree_control").write_text("+memory")
        return True
    except OSError:
        return False


class MemoryCgroup:
    """A fresh memory cgroup: .path (relative to its hierarchy), .dir, .v1."""

    def __init__(self, name, limit_bytes=None, any_v2=False):
        """any_v2: a cgroup of the v2 hierarchy, with the memory controller
        or not (for --cgroup-path, which needs none)."""
        if any_v2:
            root = _v2_root()
            if root is None:
                pytest.skip("no cgroup v2 hierarchy mounted")
            self.v1 = False
        elif _v2_memory():
            self.v1, root = False, V2
        else:
            root = _v1_root()
            if root is None:
                pytest.skip("no memory cgroup controller (v1 or v2) on this machine")
            self.v1 = True
        self.dir = root / f"{name}-{os.getpid()}"
        self.path = "/" + str(self.dir.relative_to(root))
        if self.dir.exists():
            self.dir.rmdir()
        self.dir.mkdir()
        if limit_bytes:
            if self.v1:
                self.write("memory.limit_in_bytes", str(limit_bytes))
            else:
                self.write("memory.max", str(limit_bytes))
                if (self.dir / "memory.swap.max").exists():
                    self.write("memory.swap.max", "0")  # OOM, not swap
        self.procs = str(self.dir / "cgroup.procs")

    def write(self, name, value):
        (self.dir / name).write_text(value)

    def read(self, name):
        return (self.dir / name).read_text()

    def stat(self):
        return {k: int(v) for k, v in (l.split() for l in self.read("memory.stat").splitlines())}

    def anon_bytes(self):
        """The cgroup's anonymous memory by its own memory.stat ("anon" in v2,
        "rss" in v1: both count anon pages, huge ones included)."""
        return self.stat()["rss" if self.v1 else "anon"]

    def enter(self):
        """A preexec_fn: the child joins this cgroup before it execs (so its
        address space begins there)."""
        with open(self.procs, "w") as f:
            f.write(str(os.getpid()))

    def enter_cmd(self, cmd):
        """cmd, run after moving itself into this cgroup."""
        return ["/bin/sh", "-c", f'echo $$ > {self.procs} && exec "$@"', "sh"] + list(cmd)

    def remove(self):
        deadline = time.monotonic() + 10
        while True:
            try:
                self.dir.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # the last member is still being torn down


@pytest.fixture
def memory_cgroup():
    made = []

    def make(name, limit_bytes=None, any_v2=False):
        cg = MemoryCgroup(name, limit_bytes, any_v2)
        made.append(cg)
        return cg

    yield make
    for cg in made:
        cg.remove()
