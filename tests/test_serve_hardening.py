# SPDX-License-Identifier: GPL-2.0
"""`rsstrace serve` hardened (issue 15, items 9-13): a 405 says what is
allowed, an absurd --max-procs is refused and a large one says what it costs,
and slow clients cannot stall a scrape."""

import http.client
import socket
import subprocess

import pytest

from harness import RSSTRACE
from test_serve import Serve

pytestmark = pytest.mark.root


def test_405_names_the_allowed_methods():
    s = Serve()
    try:
        c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
        c.request("POST", "/metrics", body=b"x")
        r = c.getresponse()
        r.read()
        c.close()
        assert r.status == 405
        assert r.getheader("Allow") == "GET, HEAD", r.getheaders()
    finally:
        code, err = s.stop()
    assert code == 0, err


def busy_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s, s.getsockname()[1]


def test_max_procs_refuses_more_than_any_kernel_and_warns_of_the_cost():
    """Checked on a busy port: the bind fails before anything is loaded, so
    what the options cost is said without paying it."""
    sock, port = busy_port()
    with sock:
        p = subprocess.run([str(RSSTRACE), "serve", "-l", f"127.0.0.1:{port}", "--max-procs", "16777216"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 2, p.stderr
        first = p.stderr.splitlines()[0]
        assert "4194304" in first and "G of kernel memory" in first, p.stderr
        p = subprocess.run([str(RSSTRACE), "serve", "-l", f"127.0.0.1:{port}", "--max-procs", "1048576"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 1, p.stderr
        lines = p.stderr.splitlines()
        assert lines[0].startswith("rsstrace: warning: serve: --max-procs 1048576: the maps take 472M of kernel "
                                   "memory"), p.stderr
        assert lines[1:] == [f"rsstrace: cannot listen on 127.0.0.1:{port}: Address already in use"], p.stderr
        # the default says nothing
        p = subprocess.run([str(RSSTRACE), "serve", "-l", f"127.0.0.1:{port}"], capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 1 and len(p.stderr.splitlines()) == 1, p.stderr
