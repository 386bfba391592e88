# SPDX-License-Identifier: GPL-2.0
"""Names chosen to attack whoever prints them (issue 15): processes that set
their comm (prctl PR_SET_NAME) and command line to every control byte, a
newline, quotes, backslashes, invalid and valid UTF-8, traced by trace, top -b
and serve. No text line may hold a raw control byte (a terminal would obey
it), every JSON line must parse, every exposition must pass promtool."""

import json
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import RSSTRACE, WORKLOADS, read_until, wl

pytestmark = pytest.mark.root

NAMES = ([b"c%02x" % c + bytes([c]) + b"z" for c in list(range(1, 0x20)) + [0x7f]] +
         [b"\x1b[H\x1b[2J\x1b[3J", b"two\nlines", b"q\"uo'te", b"back\\sl\\x41", b"bad\xff",
          b"cut\xe2\x82", b"caf\xc3\xa9\xe2\x82\xac", b"c1\xc2\x9b2J"])
# how each name must be shown in text (comm: its first 15 bytes; ASCII-only so that a
# table's column cut cannot hide it)
SHOWN = {b"two\nlines": "two\\x0alines", b"\x1b[H\x1b[2J\x1b[3J": "\\x1b[H\\x1b[2J", b"bad\xff": "bad\\xff",
         b"back\\sl\\x41": "back\\\\sl", b"c1\xc2\x9b2J": "c1\\xc2\\x9b2J"}


def assert_clean(data, what):
    """Every line of data (bytes) is valid UTF-8 without a control byte (but a
    tab) or a C1 control."""
    for n, line in enumerate(data.split(b"\n"), 1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as e:
            raise AssertionError(f"{what}, line {n}: not UTF-8 ({e}): {line!r}")
        bad = [c for c in text if (ord(c) < 0x20 and c != "\t") or 0x7f <= ord(c) < 0xa0]
        assert not bad, f"{what}, line {n}: raw control bytes {bad!r} in {line!r}"


def assert_json_lines(data, what):
    objs = []
    for n, line in enumerate(data.split(b"\n"), 1):
        if line.strip():
            try:
                objs.append(json.loads(line))
            except ValueError as e:
                raise AssertionError(f"{what}, line {n} does not parse ({e}): {line!r}")
    assert objs, f"{what}: no JSON at all"
    return objs


def comms(objs):
    return {o.get("comm") for o in objs}


class Holders:
    """hostile_names hold: one process per name, alive until closed."""

    def __init__(self):
        self.p = subprocess.Popen([wl("hostile_names"), "hold"] + NAMES, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        read_until(self.p.stdout, lambda s: s.count("ready\n") == len(NAMES), "every holder ready", 60)

    def close(self):
        self.p.stdin.close()
        assert self.p.wait(timeout=60) == 0


def run_trace(json_out, tmp):
    """rsstrace over the holders (alive during the run, so that --sharing reads
    them), to -o files; closes their stdin once all are ready."""
    # a file name can be hostile too (the summary names the files)
    out, folded, csv, svg = tmp / "out", tmp / "folded", tmp / "c\x1b[2J\nsv", tmp / "svg"
    # --stack-sample 0: every holder's stacks, so its name, reach the folded and
    # pprof files (sampled at 512K, a holder's ~2 MiB gets no sample ~1% of runs).
    # --sharing's /proc reads can hold a holder's address space past its exit:
    # it then ends in rsstrace, and its name came from task_rename (test_rename.py).
    cmd = [str(RSSTRACE), "-o", str(out), "--sharing", "--stacks", "--stack-sample", "0", "--causes", "--rows", "0",
           "-i", "0.01", "--folded", str(folded), "--pprof", str(tmp / "pprof"), "--csv", str(csv), "--svg", str(svg)] + \
        (["--json"] if json_out else [])
    with tempfile.TemporaryFile() as err:
        # run from its directory: the summary's "rsstrace:" line shows 66
        # columns of the command line, and a long checkout path would push the
        # first hostile name out of them
        p = subprocess.Popen(cmd + ["--", "./hostile_names", "hold"] + NAMES, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=err, cwd=WORKLOADS)
        try:
            read_until(p.stdout, lambda s: s.count("ready\n") == len(NAMES), "every traced holder ready", 60)
            p.stdin.close()
            p.wait(timeout=120)
        finally:
            p.kill()
            p.stdout.close()
        err.seek(0)
        err = err.read()
    assert p.returncode == 0, err
    ET.parse(svg)  # well-formed XML: no control byte in the legend's names
    return out.read_bytes(), folded.read_bytes(), csv.read_bytes(), err


def test_trace_text_and_files_escape_names(tmp_path):
    out, folded, csv, err = run_trace(False, tmp_path)
    for data, what in ((out, "summary"), (folded, "--folded"), (csv, "--csv"), (err, "stderr")):
        assert_clean(data, what)
    text = out.decode()
    assert any(l.startswith("[") for l in text.splitlines()), "the -i lines are checked too"
    for name, shown in SHOWN.items():
        assert shown[:12] in text, f"{name!r} not shown as {shown[:12]!r} in the summary:\n{text}"
    # the rsstrace: line echoes the command line, escaped
    assert "hold c01\\x01z" in text
    # one folded line per stack: "frames COUNT", every one ending in a number
    for line in folded.decode().splitlines():
        assert line.rsplit(" ", 1)[1].isdigit(), line
    assert "two\\x0alines" in folded.decode()
    # CSV: one row a line, every row as many fields as the header
    rows = csv.decode().splitlines()
    assert all(r.count(",") == rows[0].count(",") for r in rows if '"' not in r), rows[:3]


def test_pprof_names_and_labels_are_escaped(tmp_path):
    """pprof shows the profile's strings (functions, comm labels) as text."""
    if not shutil.which("go"):
        pytest.skip("go not installed (scripts/install-deps installs golang-go for go tool pprof)")
    run_trace(False, tmp_path)
    raw = subprocess.run(["go", "tool", "pprof", "-raw", str(tmp_path / "pprof")], capture_output=True,
                         timeout=300)
    assert raw.returncode == 0, raw.stderr
    assert_clean(raw.stdout, "--pprof (go tool pprof -raw)")
    assert b"comm:[two\\x0alines]" in raw.stdout, raw.stdout[-3000:]


def test_trace_json_round_trips_names(tmp_path):
    out, _, _, err = run_trace(True, tmp_path)
    assert_clean(err, "stderr")
    objs = assert_json_lines(out, "--json")
    got = comms(objs)
    for name in (b"two\nlines", b"\x1b[H\x1b[2J\x1b[3J", b"q\"uo'te", b"caf\xc3\xa9\xe2\x82\xac"):
        assert name[:15].decode() in got, f"{name!r} not a comm in the JSON rows: {sorted(map(str, got))}"


@pytest.mark.parametrize("json_out", [False, True], ids=["text", "json"])
def test_top_batch_escapes_names(json_out):
    h = Holders()
    try:
        p = subprocess.run([str(RSSTRACE), "top", "-b", "-n", "2", "-d", "0.3"] + (["--json"] if json_out else []),
                           capture_output=True, timeout=120)
    finally:
        h.close()
    assert p.returncode == 0, p.stderr
    assert_clean(p.stderr, "top stderr")
    if json_out:
        got = comms(o for o in assert_json_lines(p.stdout, "top --json") if o.get("type") == "process")
        assert "two\nlines" in got and "\x1b[H\x1b[2J\x1b[3J" in got
        return
    assert_clean(p.stdout, "top -b")
    text = p.stdout.decode()
    for name, shown in SHOWN.items():
        assert shown[:13] in text, f"{name!r} not shown as {shown[:13]!r} by top -b:\n{text}"


def test_serve_exposition_passes_promtool():
    if not shutil.which("promtool"):
        pytest.skip("promtool not installed (the prometheus package ships it; make check installs it)")
    from test_serve import OPENMETRICS, Serve
    h = Holders()
    try:
        s = Serve("--top-processes", "200")
        try:
            texts = [s.scrape(OPENMETRICS)[1], s.scrape(None)[1]]
        finally:
            code, err = s.stop()
    finally:
        h.close()
    assert code == 0, err
    for text in texts:
        assert_clean(text.encode(), "exposition")
    assert "two" in texts[1], "the holders are among the per-process series"
    lint = subprocess.run(["promtool", "check", "metrics"], input=texts[1], capture_output=True, text=True,
                          timeout=60)
    assert lint.returncode == 0 and not lint.stderr.strip(), lint.stdout + lint.stderr


def test_errors_that_echo_input_escape_it():
    bad = b"\x1b[2Jnope\n"
    for args in ([b"--", bad], [b"top", b"-d", bad], [b"--rows", bad], [b"--bogus" + bad]):
        p = subprocess.run([bytes(RSSTRACE)] + args, capture_output=True, timeout=60)
        assert p.returncode != 0
        assert_clean(p.stderr, f"stderr of {args!r}")
        assert b"\\x1b[2Jnope" in p.stderr, p.stderr
