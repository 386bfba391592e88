# SPDX-License-Identifier: GPL-2.0
"""deploy/: the Kubernetes DaemonSet and the Grafana dashboard. The YAML and
JSON parse; the DaemonSet's capabilities are the documented set (the serve
unit's bounding set, named in rsstrace-serve(8)) and serve starts with
exactly them and the DaemonSet's own arguments; every metric and label the
dashboard uses is in a live scrape of workloads placed in pod cgroups, and
every panel's query returns data in a real Prometheus scraping it."""

import json
import re

import pytest
import yaml

from harness import IN_VM, ROOT, help_options, wait_until
from test_install import unit_capabilities
from test_serve import Prometheus, Serve, parse_exposition
from test_serve_containers import placed  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(IN_VM, reason="the manifest and the dashboard do not depend on the kernel: tested "
                                "on the host (a real Prometheus under emulation is slow)")

DAEMONSET = ROOT / "deploy/kubernetes/rsstrace-daemonset.yaml"
DOCKERFILE = ROOT / "deploy/kubernetes/Dockerfile"
DASHBOARD = ROOT / "deploy/grafana/rsstrace-pods.json"
UNIT = ROOT / "dist/systemd/rsstrace-serve.service.in"
# labels Prometheus adds to every series it scrapes, not serve
TARGET_LABELS = {"instance", "job"}


def daemonset():
    docs = [d for d in yaml.safe_load_all(DAEMONSET.read_text()) if d]
    found = [d for d in docs if d["kind"] == "DaemonSet"]
    assert len(found) == 1, [d["kind"] for d in docs]
    return found[0]


def container():
    (c,) = daemonset()["spec"]["template"]["spec"]["containers"]
    return c


def dashboard_queries():
    """Every PromQL expression of the dashboard (panels and variables)."""
    dash = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    exprs += [v["query"]["query"] for v in dash["templating"]["list"]]
    assert exprs
    return exprs


def metrics_and_labels(expr):
    """{metric: labels it is selected or grouped by} in one expression."""
    used = {}
    for m in re.finditer(r"\b(rsstrace_[a-z_]+)(\{[^}]*\})?", expr):
        used.setdefault(m.group(1), set()).update(re.findall(r"([a-z_]+)\s*[!=]~?", m.group(2) or ""))
    groups = set()
    for g in re.findall(r"\bby\s*\(([^)]*)\)", expr):
        groups |= {x.strip() for x in g.split(",")}
    groups |= set(re.findall(r"label_values\([^,]+,\s*([a-z_]+)\)", expr))
    for labels in used.values():
        labels |= groups
    return used


def test_daemonset_parses_and_mounts_what_serve_needs():
    ds = daemonset()
    spec = ds["spec"]["template"]["spec"]
    assert spec["hostPID"] is True
    mounts = {m["mountPath"]: m for m in container()["volumeMounts"]}
    for path in ("/sys/kernel/btf", "/sys/fs/cgroup"):
        assert mounts[path]["readOnly"] is True, mounts
        vol = next(v for v in spec["volumes"] if v["name"] == mounts[path]["name"])
        assert vol["hostPath"]["path"] == path
    assert ds["spec"]["selector"]["matchLabels"].items() <= ds["spec"]["template"]["metadata"]["labels"].items()


def test_daemonset_capabilities_are_the_documented_set():
    sc = container()["securityContext"]["capabilities"]
    assert sc["drop"] == ["ALL"]
    documented = {c.upper() for c in unit_capabilities(UNIT.read_text())}
    assert set(sc["add"]) == documented, (sc["add"], documented)
    manual = (ROOT / "docs/man/rsstrace-serve.8.md").read_text()
    service = manual[manual.index("## RUNNING AS A SERVICE"):]
    for cap in documented:
        assert f"CAP_{cap}" in service, f"CAP_{cap} not in rsstrace-serve(8) RUNNING AS A SERVICE"


def test_daemonset_arguments_port_and_image_agree():
    c = container()
    args = c["args"]
    assert args[0] == "serve"
    unknown = [a for a in args[1:] if a.startswith("-") and a not in help_options(["serve"])]
    assert not unknown, f"not options of rsstrace serve: {unknown}"
    port = int(args[args.index("--listen") + 1].rsplit(":", 1)[1])
    assert c["ports"][0]["containerPort"] == port
    annotations = daemonset()["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and int(annotations["prometheus.io/port"]) == port
    assert c["livenessProbe"]["tcpSocket"]["port"] == c["ports"][0]["name"]
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE.read_text(), re.M).group(1)
    assert json.loads(cmd) == args, "the image's default command differs from the DaemonSet's"


def serve_as_the_daemonset():
    """rsstrace serve with the DaemonSet's arguments (but a free loopback port)
    and a bounding set of exactly its capabilities."""
    args = list(container()["args"][1:])
    i = args.index("--listen")
    del args[i:i + 2]
    caps = ",".join("+" + c.lower() for c in container()["securityContext"]["capabilities"]["add"])
    return Serve(*args, wrapper=["setpriv", f"--bounding-set=-all,{caps}", "--inh-caps=-all"])


@pytest.mark.root
def test_dashboard_metrics_and_labels_are_in_a_live_scrape(placed):  # noqa: F811
    s = serve_as_the_daemonset()
    try:
        ctype, text = s.scrape()
        fams = parse_exposition(text, ctype.startswith("application/openmetrics-text"))
        have = {}
        for fam in fams.values():
            for name, labels, _ in fam["samples"]:
                have.setdefault(name, set()).update(labels)
        for expr in dashboard_queries():
            for metric, labels in metrics_and_labels(expr).items():
                assert metric in have, f"{metric} (in {expr!r}) is not exported; exported: {sorted(have)}"
                missing = labels - have[metric] - TARGET_LABELS
                assert not missing, f"{metric} has no label {missing} (in {expr!r}); it has {have[metric]}"
    finally:
        code, err = s.stop()
    assert code == 0, err


@pytest.mark.root
def test_every_dashboard_query_returns_data_in_prometheus(placed, tmp_path):  # noqa: F811
    s = serve_as_the_daemonset()
    prom = None
    try:
        prom = Prometheus(s.port, 1, tmp_path)
        for expr in dashboard_queries():
            if expr.startswith("label_values("):
                metric, label = re.match(r"label_values\((\w+), (\w+)\)", expr).groups()
                got = wait_until(lambda: prom.api(f"label/{label}/values", **{"match[]": metric}), expr, timeout=60)
            else:
                q = expr.replace('instance=~"$instance"', 'instance=~".*"')
                got = wait_until(lambda: prom.query(q), f"data for {q}", timeout=60)  # rate() needs two scrapes
            assert got, expr
    finally:
        if prom:
            prom.stop()
        code, err = s.stop()
    assert code == 0, err


def test_dashboard_json_is_a_grafana_dashboard():
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] and dash["title"] and isinstance(dash["schemaVersion"], int)
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for p in dash["panels"]:
        assert p["targets"] and all(t["refId"] and t["expr"] for t in p["targets"]), p["title"]
        assert set(p["gridPos"]) == {"x", "y", "w", "h"} and p["gridPos"]["x"] + p["gridPos"]["w"] <= 24
    titles = " ".join(p["title"] for p in dash["panels"]).lower()
    assert "per pod" in titles and "per container" in titles and "peak" in titles
