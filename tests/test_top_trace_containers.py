# SPDX-License-Identifier: GPL-2.0
"""`rsstrace top -b` and `rsstrace --cgroup` name the container and pod a
cgroup path says, as serve's labels do (test_serve_containers.py): the same
hand-made cgroup directories in the layouts of the systemd and cgroupfs
drivers (kubelet, containerd, CRI-O, Docker, Podman), a workload moved into
each; the labels checked layout by layout, the values against the workload's
own /proc numbers, and top's filter by container id, pod UID and path."""

import json
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness import IN_VM, RSSTRACE, interrupt_holding_run, wl
from test_serve import Cgroup, Reports, stop_workload
from test_serve_containers import CONTAINER_LABELS, NestedCgroup, layouts, placed  # noqa: F401 (fixture)

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(IN_VM, reason="labels from cgroup paths: nothing here depends on the kernel; a host test")]


def described(labels):
    """What top's CGROUP cell and --cgroup's text say of a container and pod
    (src/proc/container_cgroup.h), built from the expected labels."""
    words = []
    if "container_id" in labels:
        words += [labels.get("container_runtime", "container"), labels["container_id"][:12]]
    if "pod_uid" in labels:
        words += ["pod", labels["pod_uid"], labels["qos_class"]]
    return " ".join(words)


def top_batch(*args):
    p = subprocess.run([str(RSSTRACE), "top", "-b", "-n", "1", "-d", "0.2"] + list(args), capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def top_json_rows(*args):
    return {o["pid"]: o for o in map(json.loads, top_batch("--json", *args).splitlines()) if o["type"] == "process"}


def test_top_json_labels_each_layout_and_values_match_proc(placed):  # noqa: F811
    rows = top_json_rows()
    for name, (cg, labels, p, hold) in placed.items():
        row = rows[p.pid]
        assert row["cgroup"] == cg.path, (name, row)
        got = {k: row[k] for k in CONTAINER_LABELS if k in row}
        assert got == labels, f"{name}: {cg.path} gave {got}, expected {labels}"
        assert row["rss_anon_kb"] == hold["RssAnon"], f"{name}: anon {row['rss_anon_kb']} kB, /proc {hold}"
        assert row["vm_rss_kb"] == hold["VmRSS"], f"{name}: RSS {row['vm_rss_kb']} kB, /proc {hold}"


def test_top_text_cell_names_the_container_before_the_whole_path(placed):  # noqa: F811
    lines = {int(l.split()[0]): l for l in top_batch().splitlines() if l[:7].strip().isdigit()}
    for name, (cg, labels, p, _) in placed.items():
        line = lines[p.pid]
        cell = f"[{described(labels)}] {cg.path}" if labels else cg.path
        assert line.endswith(" " + cell), f"{name}: {line!r}, expected the cell {cell!r}"
        if not labels:
            assert "[" not in line, f"{name}: {line!r}"


def test_top_filter_by_container_id_pod_uid_and_path(placed):  # noqa: F811
    pids = {name: p.pid for name, (_, _, p, _) in placed.items()}

    def shown(text):
        return {name for name, pid in pids.items() if pid in top_json_rows("-c", text)}

    containerd = placed["systemd-containerd-burstable"][1]
    # the short id as `crictl ps` shows it, and the whole id
    assert shown(containerd["container_id"][:12]) == {"systemd-containerd-burstable"}
    assert shown(containerd["container_id"]) == {"systemd-containerd-burstable"}
    # the pod UID with dashes, which the systemd driver's path spells with '_'
    assert "-" in containerd["pod_uid"] and "_" not in containerd["pod_uid"]
    assert shown(containerd["pod_uid"]) == {"systemd-containerd-burstable"}
    assert shown(containerd["pod_uid"][:8]) == {"systemd-containerd-burstable"}
    docker = placed["cgroupfs-docker"][1]
    assert shown(docker["container_id"][:12]) == {"cgroupfs-docker"}
    # a part of the path, as before
    assert shown("/app.service") == {"not-a-container"}
    assert shown("kubepods") == {n for n, (rel, _) in layouts().items() if "kubepods" in rel}
    # a UID's middle (with a dash, which the systemd path spells '_') is
    # neither its beginning nor a part of any path here
    assert shown(containerd["pod_uid"][1:13]) == set()


def test_top_cgroup_filter_refuses_bad_input():
    for arg in ("", "x" * 512):
        p = subprocess.run([str(RSSTRACE), "top", "-b", "-c", arg], capture_output=True, text=True, timeout=30)
        assert p.returncode == 2, (p.returncode, p.stderr)
        assert p.stderr.startswith("rsstrace top: invalid cgroup filter '"), p.stderr
        assert p.stdout == ""


@pytest.fixture(params=["systemd-containerd-burstable", "cgroupfs-burstable", "systemd-docker", "not-a-container"])
def layout(request):
    """One layout's cgroup (levels made under a test cgroup) and its labels."""
    top = Cgroup()
    rel, labels = layouts()[request.param]
    cg = NestedCgroup(top, rel)
    try:
        yield cg, labels
    finally:
        cg.remove()
        top.remove()


def trace_holding(cg, json_out):
    """spike_hold in cg under `rsstrace --cgroup`, stopped by SIGINT while it
    holds its memory; returns (output, its /proc status then)."""
    with tempfile.NamedTemporaryFile("r", suffix=".out") as out:
        p = subprocess.Popen([str(RSSTRACE), "--cgroup", "-o", out.name] + (["--json"] if json_out else []) +
                             ["--"] + cg.enter_cmd([wl("spike_hold"), "8", "1"]),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            hold = Reports(p).next("hold", timeout=60)
            err = interrupt_holding_run(p, out.name, json_out)
        finally:
            p.kill()
        output = Path(out.name).read_text()
    assert p.returncode == 0, err
    return output, hold


def test_trace_cgroup_json_names_container_and_pod(layout):
    cg, labels = layout
    output, hold = trace_holding(cg, True)
    lines = [o for o in map(json.loads, output.splitlines()) if o["type"] == "cgroup" and o["path"] == cg.path]
    assert {o["when"] for o in lines} >= {"end"}, lines
    for o in lines:
        got = {k: o[k] for k in CONTAINER_LABELS if k in o}
        assert got == labels, f"{cg.path}: {got}, expected {labels}"
    end, = [o for o in lines if o["when"] == "end"]
    assert end["traced_processes"] == 1, end
    assert end["tree_anon_kb"] == hold["RssAnon"], (end, hold)


def test_trace_cgroup_text_names_container_and_pod(layout):
    cg, labels = layout
    output, _ = trace_holding(cg, False)
    lines = output.splitlines()
    head = [i for i, l in enumerate(lines) if l.startswith(f"Memory cgroup {cg.path} (")]
    assert len(head) == 1, output
    named = lines[head[0] + 1]
    if labels:
        assert named == f"  its path names: {described(labels)}", named
    else:
        assert "its path names" not in output, output


def test_top_filter_keeps_an_exited_container_process_marked(placed):  # noqa: F811
    """A process that ends stays a few seconds, marked; with its cgroup, so
    that a filter by container still shows it (its cgroup is remembered, as
    it cannot be read any more)."""
    cg, labels, p, _ = placed["systemd-crio-besteffort"]
    # 50 frames: 10 s, past the 5 s an ended row stays, so that a missing
    # row ends the test instead of waiting for ever
    top = subprocess.Popen([str(RSSTRACE), "top", "-b", "--json", "-d", "0.2", "-n", "50", "-c", labels["pod_uid"]],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def rows():
            for line in top.stdout:
                o = json.loads(line)
                if o["type"] == "process" and o["pid"] == p.pid:
                    yield o
        live = next(rows(), None)
        assert live and not live["exited"] and live["container_id"] == labels["container_id"], live
        stop_workload(p)
        ended = next((o for o in rows() if o["exited"]), None)
        assert ended and ended["cgroup"] == cg.path, ended
        assert {k: ended[k] for k in CONTAINER_LABELS if k in ended} == labels, ended
    finally:
        top.send_signal(signal.SIGINT)
        _, err = top.communicate(timeout=60)
    assert top.returncode == 0, err
