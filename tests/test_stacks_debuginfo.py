# SPDX-License-Identifier: GPL-2.0
"""--stacks' names from separate debug info: a workload whose symbols were
split off (objcopy --only-keep-debug, then stripped) is named through the
build-id tree (/usr/lib/debug/.build-id/, or --debug-dir's) and through a
debuginfod server (a real one, Debian's, serving the split-off file on a
private port); without them its frames are "file+0xOFFSET". A server that
never answers is asked once and the trace still ends."""

import errno
import os
import re
import shlex
import shutil
import socket
import subprocess
import threading
import urllib.request
from pathlib import Path

import pytest

from harness import IN_VM, end_server, free_port, run_rsstrace, trace, wait_until, wl, RSSTRACE
from test_stacks import EXACT, stack_objs as objs

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(IN_VM, reason="names are found in user space (libdwfl), the kernel plays no "
                                 "part; and the guests share the host's file system read-only")]

SITES = ("site_a", "site_b", "site_c")  # nofp_sites' named functions
SIZES = ["4", "4", "4"]                  # MiB each: naming needs no more
ROOT_CACHE = Path("/var/cache/rsstrace/debuginfod")  # rsstrace(8) FILES, as root


def build_id(path):
    out = subprocess.run(["readelf", "-n", str(path)], capture_output=True, text=True, check=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]+)", out)
    assert m, f"no build id in {path}: {out}"
    return m.group(1)


@pytest.fixture
def split(tmp_path):
    """nofp_sites stripped (same name, so same comm), and its debug file."""
    if not shutil.which("objcopy") or not shutil.which("readelf"):
        pytest.skip("objcopy/readelf not installed (scripts/install-deps installs binutils)")
    (tmp_path / "bin").mkdir()
    stripped, debug = tmp_path / "bin" / "nofp_sites", tmp_path / "nofp_sites.debug"
    subprocess.run(["objcopy", "--only-keep-debug", wl("nofp_sites"), str(debug)], check=True)
    subprocess.run(["objcopy", "--strip-all", wl("nofp_sites"), str(stripped)], check=True)
    bid = build_id(stripped)
    assert bid == build_id(debug)
    return stripped, debug, bid


def clean_env(**extra):
    """The environment without the caller's DEBUGINFOD_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGINFOD_")}
    env.update(extra)
    return env


def frames_of(run):
    return [f for s in objs(run) for f in s["folded"].split(";")[1:]]


def assert_named(run):
    assert run.code == 0, run.stderr
    named = set(frames_of(run))
    assert set(SITES) <= named, f"sites not named: {sorted(named)[:40]}"


def assert_not_named(run):
    """The control: the same run without the debug file names no site, and
    shows the workload's frames as file+0xOFFSET."""
    assert run.code == 0, run.stderr
    frames = frames_of(run)
    assert not set(SITES) & set(frames), frames
    assert any(re.fullmatch(r"nofp_sites\+0x[0-9a-f]+", f) for f in frames), frames


def run_split(stripped, exe=RSSTRACE, env=None, json_out=True, twice=False):
    cmd = [str(stripped)] + SIZES
    if twice:  # two processes of one file: two libdwfl sessions unwind it
        cmd = ["/bin/sh", "-c", f"{shlex.join(cmd)}; {shlex.join(cmd)}"]
    return run_rsstrace(["--stacks=dwarf", *EXACT, "--"] + cmd, exe=exe, env=env, json_out=json_out)


def in_debug_tree(tmp_path, tree):
    """rsstrace with tree mounted over /usr/lib/debug, in a mount namespace
    of its own: the standard path, without writing into the real one."""
    exe = tmp_path / "rsstrace-with-debug-tree"
    exe.write_text("#!/bin/sh\n"
                   "exec unshare -m --propagation private sh -c "
                   "'mount --bind \"$0\" /usr/lib/debug && exec \"$@\"' "
                   f"{shlex.quote(str(tree))} {shlex.quote(str(RSSTRACE))} \"$@\"\n")
    exe.chmod(0o755)
    return exe


def test_named_through_the_build_id_tree(tmp_path, split):
    if not shutil.which("unshare") or not Path("/usr/lib/debug").is_dir():
        pytest.skip("needs unshare (util-linux) and a /usr/lib/debug to mount a temporary tree over")
    stripped, debug, bid = split
    tree = tmp_path / "debug"
    (tree / ".build-id" / bid[:2]).mkdir(parents=True)
    assert_not_named(run_split(stripped, exe=in_debug_tree(tmp_path, tree), env=clean_env()))
    shutil.copy(debug, tree / ".build-id" / bid[:2] / f"{bid[2:]}.debug")
    assert_named(run_split(stripped, exe=in_debug_tree(tmp_path, tree), env=clean_env()))


def test_named_through_debug_dir(tmp_path, split):
    """--debug-dir DIR: a tree laid out as /usr/lib/debug is, searched first."""
    stripped, debug, bid = split
    tree = tmp_path / "debug"
    (tree / ".build-id" / bid[:2]).mkdir(parents=True)
    run = lambda: run_rsstrace(["--stacks=dwarf", *EXACT, "--debug-dir", str(tree), "--", str(stripped)] + SIZES,
                               env=clean_env())
    assert_not_named(run())
    shutil.copy(debug, tree / ".build-id" / bid[:2] / f"{bid[2:]}.debug")
    assert_named(run())


def serves(url, bid):
    try:
        with urllib.request.urlopen(f"{url}/buildid/{bid}/debuginfo", timeout=10) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture
def debuginfod(tmp_path, split):
    """A debuginfod serving the split-off debug file: its URL, once it
    answers for that build id (it indexes its directory after starting)."""
    if not shutil.which("debuginfod"):
        pytest.skip("debuginfod not installed (scripts/install-deps installs it)")
    stripped, debug, bid = split
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(debug, served)
    port = free_port()
    with open(tmp_path / "debuginfod.log", "w") as log:
        proc = subprocess.Popen(["debuginfod", "-F", "-c", "1", "-g", "0", "-p", str(port),
                                 "-d", str(tmp_path / "debuginfod.sqlite"), str(served)],
                                stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: proc.poll() is not None or serves(url, bid),
                   lambda: f"debuginfod serving {bid}: {(tmp_path / 'debuginfod.log').read_text()}")
        assert proc.poll() is None, (tmp_path / "debuginfod.log").read_text()
        yield url
    finally:
        end_server(proc, proc.terminate)


def test_named_through_debuginfod(tmp_path, split, debuginfod):
    stripped, debug, bid = split
    cache = tmp_path / "cache"
    run = run_split(stripped, env=clean_env(DEBUGINFOD_URLS=debuginfod, DEBUGINFOD_CACHE_PATH=str(cache)))
    assert_named(run)
    summary = objs(run, "stacks")[0]
    # the server has the workload's file only: one found, and said so
    assert summary["debuginfod_urls"] == debuginfod and summary["debuginfod_found"] == 1, summary
    assert summary["debuginfod_asked"] >= 1 and "debuginfod_error" not in summary, summary
    assert (cache / bid / "debuginfo").is_file(), sorted(p.name for p in cache.iterdir())
    # the text summary names the file whose names came from it
    text = run_split(stripped, env=clean_env(DEBUGINFOD_URLS=debuginfod, DEBUGINFOD_CACHE_PATH=str(cache)),
                     json_out=False).output
    assert re.search(r"debuginfod \(" + re.escape(debuginfod) + r"\):\n  asked for \d+ debug files?, got 1; "
                     r"the names in these files came from them:\n +nofp_sites\n", text), text


def test_without_the_server_frames_are_offsets(tmp_path, split):
    """The same run against a port nobody listens on: the refused connection
    is reported and no further lookup asks."""
    stripped, debug, bid = split
    url = f"http://127.0.0.1:{free_port()}"
    run = run_split(stripped, env=clean_env(DEBUGINFOD_URLS=url, DEBUGINFOD_CACHE_PATH=str(tmp_path / "c")))
    assert_not_named(run)
    summary = objs(run, "stacks")[0]
    assert summary["debuginfod_found"] == 0 and summary["debuginfod_error"] == os.strerror(errno.ECONNREFUSED), summary


class SilentServer:
    """Accepts HTTP connections, records each request line, never answers."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.requests, self.conns = [], []
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            self.requests.append(c.recv(4096).split(b"\r\n")[0].decode(errors="replace"))

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def test_a_server_that_never_answers_is_asked_once(tmp_path, split):
    """Two processes of the stripped file under a shell: their debug files
    (the shell's, the workload's) would be asked for in each libdwfl session;
    after the first timeout nothing is asked again, and the trace ends with
    the frames as offsets and the failure in the summary."""
    stripped, debug, bid = split
    server = SilentServer()
    try:
        run = run_split(stripped, twice=True,
                        env=clean_env(DEBUGINFOD_URLS=server.url, DEBUGINFOD_TIMEOUT="1",
                                      DEBUGINFOD_RETRY_LIMIT="0", DEBUGINFOD_CACHE_PATH=str(tmp_path / "c")))
    finally:
        server.close()
    assert_not_named(run)
    assert len(server.requests) == 1 and server.requests[0].startswith("GET /buildid/"), server.requests
    summary = objs(run, "stacks")[0]
    assert summary["debuginfod_found"] == 0 and summary["debuginfod_error"] == os.strerror(errno.ETIME), summary


def test_root_cache_is_not_in_the_callers_home(tmp_path, split, debuginfod):
    """As root with DEBUGINFOD_CACHE_PATH unset (sudo keeps the caller's
    HOME on some systems), the downloads go to /var/cache/rsstrace, not
    into a root-owned ~/.cache of the caller."""
    stripped, debug, bid = split
    home = tmp_path / "home"
    home.mkdir()
    shutil.rmtree(ROOT_CACHE / bid, ignore_errors=True)
    try:
        env = clean_env(DEBUGINFOD_URLS=debuginfod, HOME=str(home))
        env.pop("XDG_CACHE_HOME", None)
        run = run_split(stripped, env=env)
        assert_named(run)
        assert (ROOT_CACHE / bid / "debuginfo").is_file()
        assert not any(home.iterdir()), sorted(home.rglob("*"))
    finally:
        shutil.rmtree(ROOT_CACHE / bid, ignore_errors=True)
