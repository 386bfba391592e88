# SPDX-License-Identifier: GPL-2.0
"""--stacks reads, as root, the files a traced process mapped, by the paths
it gave them: the process can put a FIFO there once they are mapped (renamed
over its own executable, or named "PATH (deleted)" as /proc/PID/maps shows a
mapping whose file is gone). A plain open() of a FIFO waits for a writer:
rsstrace must neither hang nor read it, and still end with its summary."""

import os
import shutil
import subprocess

import pytest

from harness import RSSTRACE, wl
from test_serve import Reports

pytestmark = pytest.mark.root


@pytest.mark.parametrize("mode", ["--stacks", "--stacks=dwarf"])
def test_fifo_put_where_the_executable_was_is_not_opened(tmp_path, mode):
    victim = tmp_path / "victim"
    shutil.copy(wl("spike_hold"), victim)
    out = tmp_path / "out"
    p = subprocess.Popen([str(RSSTRACE), mode, "--json", "-o", str(out), "--", str(victim), "8", "8"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        reports = Reports(p)
        reports.next("hold", timeout=60)
        # the executable's path, and the one /proc now shows for it, are FIFOs
        os.mkfifo(tmp_path / "fifo")
        os.rename(tmp_path / "fifo", victim)
        os.mkfifo(tmp_path / "victim (deleted)")
        # new stacks after the swap: their maps name the FIFOs
        p.stdin.write(b"s")
        p.stdin.flush()
        reports.next("spike", timeout=60)
        p.stdin.write(b"q")
        p.stdin.close()
        # no writer ever opens the FIFOs: a blocking open() would wait forever
        p.wait(timeout=120)
        err = p.stderr.read().decode(errors="replace")
    finally:
        p.kill()
    assert p.returncode == 0, err
    text = out.read_text()
    assert '"type":"summary"' in text and '"type":"stacks"' in text, text[-2000:]
    assert '"folded":"victim;' in text, text[-2000:]
