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
