# SPDX-License-Identifier: GPL-2.0
"""`rsstrace serve` labels a cgroup with the container and pod its path names:
cgroup directories made by hand in the layouts of the systemd and cgroupfs
drivers (kubelet, containerd, CRI-O, Docker, Podman), a workload moved into
each, one scrape checked label by label and against the workload's own
/proc numbers, a real Prometheus querying by pod UID and container id, and
the series gone once the cgroups are."""

import secrets
import signal
import uuid

import pytest

from cgroups import MemoryCgroup
from harness import IN_VM, wait_until
from test_serve import (Cgroup, Prometheus, Serve, parse_exposition, samples, start_spike_hold, stop_workload,
                        value)

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(IN_VM, reason="labels from cgroup paths: nothing here depends on the kernel; a host test (a real Prometheus under emulation is slow)")]

CONTAINER_LABELS = ("container_runtime", "container_id", "pod_uid", "qos_class")


def layouts():
    """name -> (path under a test cgroup, the labels serve must add); each
    layout with ids of its own, so that a query by id finds one series."""
    def ids():
        uid = str(uuid.uuid4())
        return uid, uid.replace("-", "_"), secrets.token_hex(32)

    def pod(runtime, cid, uid, qos):
        return {**({"container_runtime": runtime} if runtime else {}), "container_id": cid, "pod_uid": uid,
                "qos_class": qos}

    out = {}
    uid, suid, cid = ids()
    out["systemd-containerd-burstable"] = (
        f"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{suid}.slice/cri-containerd-{cid}.scope",
        pod("containerd", cid, uid, "Burstable"))
    uid, suid, cid = ids()
    out["systemd-crio-besteffort"] = (
        f"kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{suid}.slice/crio-{cid}.scope",
        pod("cri-o", cid, uid, "BestEffort"))
    uid, suid, cid = ids()
    out["systemd-guaranteed-pod"] = (f"kubepods.slice/kubepods-pod{suid}.slice/cri-containerd-{cid}.scope",
                                     pod("containerd", cid, uid, "Guaranteed"))
    uid, suid, cid = ids()
    out["cgroupfs-burstable"] = (f"kubepods/burstable/pod{uid}/{cid}", pod(None, cid, uid, "Burstable"))
    uid, suid, cid = ids()
    out["cgroupfs-guaranteed"] = (f"kubepods/pod{uid}/{cid}", pod(None, cid, uid, "Guaranteed"))
    _, _, cid = ids()
    out["systemd-docker"] = (f"system.slice/docker-{cid}.scope", {"container_runtime": "docker", "container_id": cid})
    _, _, cid = ids()
    out["systemd-podman"] = (f"machine.slice/libpod-{cid}.scope", {"container_runtime": "podman", "container_id": cid})
    _, _, cid = ids()
    out["cgroupfs-docker"] = (f"docker/{cid}", {"container_runtime": "docker", "container_id": cid})
    out["not-a-container"] = ("system.slice/app.service", {})
    return out


class NestedCgroup(MemoryCgroup):
    """A cgroup at parent/rel (directories made level by level), in parent's
    hierarchy (v1 memory or v2), for start_spike_hold; remove() takes the
    levels down again."""

    def __init__(self, parent, rel):  # pylint: disable=super-init-not-called
        self.v1 = parent.v1
        self.levels = []
        d = parent.dir
        for part in rel.split("/"):
            d = d / part
            d.mkdir()
            self.levels.append(d)
        self.dir = d
        self.path = parent.path + "/" + rel
        self.procs = str(d / "cgroup.procs")

    def remove(self):
        super().remove()  # waits until the leaf is empty, removes it
        for d in reversed(self.levels[:-1]):
            d.rmdir()


@pytest.fixture
def placed():
    """One spike_hold workload in each layout, holding its memory."""
    top = Cgroup()
    placed = {}
    try:
        for name, (rel, labels) in layouts().items():
            cg = NestedCgroup(top, f"{name}/{rel}")  # its own levels: layouts share names
            p, rep = start_spike_hold(cg, 8, 1)
            placed[name] = (cg, labels, p, rep.next("hold"))
        yield placed
    finally:
        for cg, _, p, _ in placed.values():
            stop_workload(p)
            cg.remove()
        top.remove()


def test_scrape_labels_each_layout_and_values_match_proc(placed):
    s = Serve("--top-processes", "1000")  # the most: every process of a test machine
    try:
        _, text = s.scrape()
        fams = parse_exposition(text, True)
        every_process = value(fams, "rsstrace_address_spaces") <= 1000
        for name, (cg, labels, p, hold) in placed.items():
            anon = [(lab, v) for lab, v in samples(fams, "rsstrace_cgroup_rss_bytes", cgroup=cg.path, type="anon")]
            assert len(anon) == 1, f"{name}: {anon}"
            lab, v = anon[0]
            got = {k: lab[k] for k in CONTAINER_LABELS if k in lab}
            assert got == labels, f"{name}: {cg.path} labelled {got}, expected {labels}"
            assert v == hold["RssAnon"] * 1024, f"{name}: anon {v} B, /proc RssAnon {hold['RssAnon']} kB"
            # every family of the cgroup carries the same labels
            for lab, _ in samples(fams, "rsstrace_cgroup_processes", cgroup=cg.path):
                assert {k: lab[k] for k in CONTAINER_LABELS if k in lab} == labels, name
            # and so do the per-process series of the workload in it
            if every_process:
                (lab, _), = samples(fams, "rsstrace_process_rss_bytes", pid=p.pid)
                assert lab["cgroup"] == cg.path, (name, lab)
                assert {k: lab[k] for k in CONTAINER_LABELS if k in lab} == labels, (name, lab)
    finally:
        code, err = s.stop(signal.SIGINT)
    assert code == 0, err


def test_removed_container_cgroups_leave_the_output(placed):
    s = Serve()
    try:
        fams = parse_exposition(s.scrape()[1], True)
        ids = {labels["container_id"] for _, labels, _, _ in placed.values() if "container_id" in labels}
        seen = {lab.get("container_id") for lab, _ in samples(fams, "rsstrace_cgroup_processes")}
        assert ids <= seen
        for cg, _, p, _ in placed.values():
            stop_workload(p)
            cg.remove()
        placed.clear()
        fams = parse_exposition(s.scrape()[1], True)
        left = [lab for lab, _ in samples(fams, "rsstrace_cgroup_processes") if lab.get("container_id") in ids]
        assert not left, f"series of removed cgroups still served: {left}"
    finally:
        code, err = s.stop(signal.SIGINT)
    assert code == 0, err


def test_prometheus_queries_by_pod_uid_and_container_id(placed, tmp_path):
    cg, labels, p, hold = placed["systemd-containerd-burstable"]
    s = Serve()
    prom = None
    try:
        prom = Prometheus(s.port, 1, tmp_path)
        sel = f'{{pod_uid="{labels["pod_uid"]}",container_id="{labels["container_id"]}",type="anon"}}'
        result = wait_until(lambda: prom.query(f"rsstrace_cgroup_rss_bytes{sel}"), "the pod's series in Prometheus",
                            timeout=60)
        assert len(result) == 1, result
        assert result[0]["metric"]["qos_class"] == "Burstable"
        assert result[0]["metric"]["container_runtime"] == "containerd"
        assert float(result[0]["value"][1]) == hold["RssAnon"] * 1024, (result, hold)
        assert prom.query('up{job="rsstrace"}')[0]["value"][1] == "1"
    finally:
        if prom:
            prom.stop()
        code, err = s.stop()
    assert code == 0, err
