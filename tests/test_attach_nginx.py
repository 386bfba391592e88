# SPDX-License-Identifier: GPL-2.0
"""-p on a real prefork server: nginx (Debian's package) with 2 workers on a
loopback port, its own configuration and prefix in a temporary directory.
`rsstrace -p <master>` traces the master and its workers; each row equals
its /proc/PID/status; after `nginx -s reload` the old workers' exit rows are
there and the new workers are traced."""

import shutil
import subprocess
from pathlib import Path

import pytest

from cgroups import memory_cgroup  # noqa: F401 (fixture)
from harness import (IN_VM, assert_row_matches_status, children, end_server, free_port, parse_reports,
                     proc_status, start_attached, start_idle, stop_attached, wait_until)

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(IN_VM, reason="a real server under emulation is slow: the guests test the attach path in test_attach_tree.py and test_attach_cgroup.py")]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WORKERS = 2
REQUESTS = 200

CONF = """daemon off;
master_process on;
user root;
worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp;
    proxy_temp_path {prefix}/tmp;
    fastcgi_temp_path {prefix}/tmp;
    uwsgi_temp_path {prefix}/tmp;
    scgi_temp_path {prefix}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {prefix}/html;
    }}
}}
"""


class Nginx:
    """A private nginx: master in the foreground (its pid is ours to attach
    to), WORKERS workers; stopped (SIGQUIT, then killed) by close()."""

    def __init__(self, tmp_path, cgroup=None):
        """cgroup: a tests/cgroups.py cgroup to start the master in."""
        if not Path(NGINX).exists():
            pytest.skip("nginx is not installed (scripts/install-deps test installs it)")
        self.prefix = tmp_path / "nginx"
        (self.prefix / "html").mkdir(parents=True)
        (self.prefix / "tmp").mkdir()
        (self.prefix / "html" / "page.html").write_bytes(b"x" * 65536)
        self.port = free_port()
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text(CONF.format(workers=WORKERS, prefix=self.prefix, port=self.port))
        cmd = [NGINX, "-p", str(self.prefix), "-c", str(self.conf)]
        self.proc = subprocess.Popen(cgroup.enter_cmd(cmd) if cgroup else cmd,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.workers = self.wait_workers([])

    def wait_workers(self, old):
        """The master's WORKERS workers, once none of old is among them and
        the server answers."""
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited: {self.proc.stderr.read()}")
            now = children(self.proc.pid)
            return sorted(now) if len(now) == WORKERS and not set(now) & set(old) else None
        workers = wait_until(ready, lambda: f"nginx workers (now {children(self.proc.pid)}, old {old})")
        self.load()
        return workers

    def load(self):
        """A bounded load: REQUESTS requests in one curl, every one answered."""
        p = subprocess.run(["curl", "-sf", "-o", "/dev/null", "-w", "%{http_code}\\n",
                            f"http://127.0.0.1:{self.port}/page.html?[1-{REQUESTS}]"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and p.stdout.split() == ["200"] * REQUESTS, (p.returncode, p.stderr)

    def reload(self):
        subprocess.run([NGINX, "-p", str(self.prefix), "-c", str(self.conf), "-s", "reload"],
                       check=True, capture_output=True, timeout=30)

    def close(self):
        end_server(self.proc, lambda: self.proc.send_signal(3))  # SIGQUIT: graceful shutdown


@pytest.fixture
def nginx(tmp_path):
    server = Nginx(tmp_path)
    yield server
    server.close()


def assert_live_rows_match_proc(rows, pids):
    """Rows of processes still running when tracing stopped, against their
    /proc/PID/status read after the stop (the server is idle by then)."""
    for pid in pids:
        row = [r for r in rows if r["pid"] == pid]
        assert len(row) == 1, f"one row for pid {pid}: {rows}"
        assert row[0]["end_reason"] == "detach", row[0]
        assert_row_matches_status(row[0], proc_status(pid), "nginx")


def test_attach_to_nginx_master_traces_its_workers(nginx, tmp_path):
    out = tmp_path / "out.json"
    tracer = start_attached(["-p", str(nginx.proc.pid)], out)
    nginx.load()
    rows, summary, _ = stop_attached(tracer, out)
    assert summary["processes_at_attach"] == 1 + WORKERS, summary
    assert sorted(r["pid"] for r in rows) == sorted([nginx.proc.pid] + nginx.workers), rows
    assert all(r["attached"] for r in rows), rows
    assert_live_rows_match_proc(rows, [nginx.proc.pid] + nginx.workers)


def test_reload_old_workers_exit_rows_and_new_workers_traced(nginx, tmp_path):
    out = tmp_path / "out.json"
    old = nginx.workers
    tracer = start_attached(["-p", str(nginx.proc.pid)], out)
    nginx.reload()
    new = nginx.wait_workers(old)
    # the old workers are gone (a graceful exit), not just out of the list
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in old), f"old workers {old} exit")
    rows, summary, _ = stop_attached(tracer, out)
    for pid in old:
        row = [r for r in rows if r["pid"] == pid]
        assert len(row) == 1 and row[0]["end_reason"] == "exit" and row[0]["exit_code"] == 0, (pid, rows)
    for pid in new:
        row = [r for r in rows if r["pid"] == pid]
        assert len(row) == 1 and row[0]["attached"] is False, f"new worker {pid} traced from its fork: {rows}"
    assert_live_rows_match_proc(rows, [nginx.proc.pid] + new)
    assert summary["processes"] == 1 + 2 * WORKERS, summary


def test_cgroup_path_on_nginx_traces_it_and_a_newcomer(memory_cgroup, tmp_path):
    """--cgroup-path on a cgroup holding nginx: the master and its workers
    are traced from attach, a process moved in later from its move."""
    cg = memory_cgroup("rsstrace-nginx")
    server = Nginx(tmp_path, cgroup=cg)
    newcomer = None
    try:
        out = tmp_path / "out.json"
        tracer = start_attached(["--cgroup-path", str(cg.dir)], out)
        newcomer = start_idle(8)
        cg.write("cgroup.procs", str(newcomer.pid))  # traced once this write returns
        server.load()
        newcomer.stdin.close()
        report = parse_reports(newcomer.stdout.read())[0]
        assert newcomer.wait(30) == 0
        rows, summary, _ = stop_attached(tracer, out)
        assert_live_rows_match_proc(rows, [server.proc.pid] + server.workers)
    finally:
        if newcomer:
            newcomer.kill()
            newcomer.wait()
        server.close()
    row = [r for r in rows if r["pid"] == newcomer.pid]
    assert len(row) == 1 and row[0]["end_reason"] == "exit", rows
    assert_row_matches_status(row[0], report["status"], "moved in")
    assert summary["processes_at_attach"] == 1 + WORKERS and summary["processes"] == 2 + WORKERS, summary
