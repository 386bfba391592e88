# SPDX-License-Identifier: GPL-2.0
"""-p on redis (Debian's redis-server, a private instance on a loopback
port): BGSAVE forks a child that writes the dataset out while the parent
takes writes, so the child's pages turn private as the parent rewrites them
(copy-on-write). The child is traced from its fork, and its USS read by
--sharing when tracing stops (after the writes, during the save) equals
redis's own measure of it, rdb_last_cow_size (the child's Private_Dirty at
the end of the save)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import IN_VM, SCALE, end_server, free_port, start_attached, stop_attached, wait_until

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(IN_VM, reason="a real server under emulation is slow: the guests test the attach path in test_attach_tree.py and test_attach_cgroup.py")]

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
KEYS = max(int(40_000 * SCALE), 2000)
# below a page: redis 7 gives back (MADV_DONTNEED) the pages of larger values its
# fork child has saved, which its rdb_last_cow_size then no longer counts
VALUE_BYTES = 1000
WRITES = KEYS // 5
SAVE_S = 3  # how long the save is made to last (rdb-key-save-delay), so the writes end first


class Redis:
    def __init__(self, tmp_path):
        if not Path(REDIS).exists():
            pytest.skip("redis-server is not installed (scripts/install-deps test installs it)")
        self.port = free_port()
        self.dir = tmp_path / "redis"
        self.dir.mkdir()
        self.proc = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--enable-debug-command", "local",
             "--rdb-key-save-delay", str(SAVE_S * 1_000_000 // KEYS), "--logfile", str(self.dir / "log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.ping(), "redis answers PING")

    def cli(self, *args, stdin=None):
        p = subprocess.run(["redis-cli", "-p", str(self.port)] + list(args), input=stdin,
                           capture_output=True, text=True, timeout=120)
        return p.stdout

    def ping(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"redis-server exited: {(self.dir / 'log').read_text()}")
        return self.cli("PING").strip() == "PONG"

    def info(self, section):
        return dict(l.strip().split(":", 1) for l in self.cli("INFO", section).splitlines() if ":" in l)

    def close(self):
        end_server(self.proc, lambda: self.cli("SHUTDOWN", "NOSAVE"))


@pytest.fixture
def redis(tmp_path):
    server = Redis(tmp_path)
    yield server
    server.close()


def resp(*args):
    return f"*{len(args)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in args)


def test_bgsave_child_uss_equals_rdb_last_cow_size(redis, tmp_path):
    assert redis.cli("DEBUG", "POPULATE", str(KEYS), "key", str(VALUE_BYTES)).strip() == "OK"
    out = tmp_path / "out.json"
    tracer = start_attached(["--sharing", "-p", str(redis.proc.pid)], out)
    try:
        assert "started" in redis.cli("BGSAVE")
        # rewrite every fifth key while the child saves: those pages turn private to the child
        writes = "".join(resp("SET", f"key:{i}", "y" * VALUE_BYTES) for i in range(0, KEYS, 5))
        piped = subprocess.run(["redis-cli", "-p", str(redis.port), "--pipe"], input=writes,
                               capture_output=True, text=True, timeout=120)
        assert f"replies: {WRITES}" in piped.stdout, piped.stdout
    finally:
        # stopped while the child still saves: the reading at the end has it
        # with every page the writes made private
        rows, summary, _ = stop_attached(tracer, out)
    wait_until(lambda: redis.info("persistence")["rdb_bgsave_in_progress"] == "0", "BGSAVE ends", timeout=120)
    stats = redis.info("persistence")
    assert stats["rdb_last_bgsave_status"] == "ok", stats
    cow_kb = int(stats["rdb_last_cow_size"]) // 1024
    children = [r for r in rows if r["ppid"] == redis.proc.pid]
    assert len(children) == 1, f"the BGSAVE child is traced from its fork: {rows}"
    child = children[0]
    assert child["end_reason"] == "detach", \
        f"the save ended before tracing stopped (SAVE_S too short for this machine?): {child}"
    objs = [json.loads(l) for l in out.read_text().splitlines()]
    read = [o for o in objs if o["type"] == "sharing_process" and o["at"] == "end" and o["pid"] == child["pid"]]
    assert len(read) == 1, f"the reading at the end includes the child: {objs[-3:]}"
    # the same pages by two readers of the child's smaps: rsstrace when it
    # stopped, redis at the end of the save (no write came in between); the
    # child's own buffers may still move by a few pages
    assert abs(read[0]["uss_kb"] - cow_kb) <= max(cow_kb // 100, 64), (read[0], cow_kb)
    assert cow_kb >= WRITES * VALUE_BYTES // 1024 // 2, f"the writes made the child's pages private: {cow_kb} kB"
