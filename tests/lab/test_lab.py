"""Acceptance tests of the lab itself: real API server, real controllers, kwok, Prometheus."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

pytestmark = pytest.mark.lab

SEEDED = {"shop": "checkout", "search": "search", "payments": "payments"}
"""Seeded namespace -> app."""

CRASHLOOP = "lab.turnout.dev/crashloop"
NOTREADY = "lab.turnout.dev/notready"


def eventually(check: Callable[[], Any], timeout: float, interval: float = 0.25) -> Any:
    """Poll ``check`` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s (last: {value!r})")


def is_ready(pod: client.V1Pod) -> bool:
    """Running with condition Ready=True."""
    conditions = pod.status.conditions or []
    return pod.status.phase == "Running" and any(
        c.type == "Ready" and c.status == "True" for c in conditions)


def make_pod(namespace: str, name: str, labels: dict[str, str] | None = None) -> client.V1Pod:
    """A one-container pod the scheduler places on a fake node."""
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, namespace=namespace, labels=labels or {}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="app",
                                                             image="registry.local/probe:1")]))


def running_ready_pod(core: client.CoreV1Api, namespace: str, name: str) -> client.V1Pod:
    """Create a pod and wait until kwok made it Running and Ready."""
    core.create_namespaced_pod(namespace, make_pod(namespace, name))
    return eventually(lambda: (p := core.read_namespaced_pod(name, namespace)) and is_ready(p)
                      and p, timeout=30)


def test_seeded_pods_are_running_and_ready_on_fake_nodes(lab, kube) -> None:
    core = client.CoreV1Api(kube)
    fake_nodes = {n.metadata.name for n in core.list_node(label_selector="type=kwok").items
                  if n.metadata.annotations.get("kwok.x-k8s.io/node") == "fake"}
    assert fake_nodes == set(lab.env["nodes"])
    for namespace, app in SEEDED.items():
        pods = core.list_namespaced_pod(namespace,
                                        label_selector=f"app.kubernetes.io/name={app}").items
        assert {p.metadata.labels["turnout.dev/color"] for p in pods} == {"blue", "green"}
        assert all(is_ready(p) and p.spec.node_name in fake_nodes for p in pods)
        for color in ("blue", "green"):
            # Replica counts are the seed's (3) unless someone scaled a reused lab.
            status = client.AppsV1Api(kube).read_namespaced_deployment(
                f"{app}-{color}", namespace).status
            assert status.replicas and status.ready_replicas == status.replicas


def test_seeded_routing_objects(kube) -> None:
    core = client.CoreV1Api(kube)
    live = core.read_namespaced_service("checkout", "shop")
    assert live.spec.selector["turnout.dev/color"] == "blue"
    assert live.metadata.annotations["turnout.dev/canary-plan"] == "10,50,100"
    assert "green" in live.metadata.annotations["turnout.dev/endpoints"]
    canary = client.NetworkingV1Api(kube).read_namespaced_ingress("search-canary", "search")
    assert canary.metadata.annotations["nginx.ingress.kubernetes.io/canary"] == "true"
    assert 0 <= int(canary.metadata.annotations["nginx.ingress.kubernetes.io/canary-weight"]) <= 100
    route = client.CustomObjectsApi(kube).get_namespaced_custom_object(
        "gateway.networking.k8s.io", "v1", "payments", "httproutes", "payments")
    weights = {b["name"]: b["weight"] for b in route["spec"]["rules"][0]["backendRefs"]}
    # 100/0 as seeded, unless an operator moved traffic on a reused lab.
    assert weights.keys() == {"payments-blue", "payments-green"}
    assert sum(weights.values()) == 100


def test_readonly_context_reads_everything_but_cannot_patch(lab) -> None:
    readonly = lab.api_client("lab-readonly")
    apps = client.AppsV1Api(readonly)
    assert apps.read_namespaced_deployment("checkout-blue", "shop").spec.replicas == 3
    client.CustomObjectsApi(readonly).list_namespaced_custom_object(
        "gateway.networking.k8s.io", "v1", "payments", "httproutes")
    with pytest.raises(ApiException) as denied:
        apps.patch_namespaced_deployment("checkout-blue", "shop", {"spec": {"replicas": 1}})
    assert denied.value.status == 403
    readonly.close()


def container(pod: client.V1Pod) -> client.V1ContainerStatus | None:
    """The pod's only container status, if reported yet."""
    return (pod.status.container_statuses or [None])[0]


def test_crashloop_label_raises_restart_count(kube, lab_namespace) -> None:
    core = client.CoreV1Api(kube)
    running_ready_pod(core, lab_namespace, "victim")
    core.patch_namespaced_pod("victim", lab_namespace, {"metadata": {"labels": {CRASHLOOP: "true"}}})
    seen: list[int] = []

    def restarts_rose_twice() -> bool:
        pod = core.read_namespaced_pod("victim", lab_namespace)
        status = container(pod)
        if status and status.state.waiting:
            assert status.state.waiting.reason == "CrashLoopBackOff"
            assert not is_ready(pod)
            if not seen or status.restart_count > seen[-1]:
                seen.append(status.restart_count)
        return len(seen) >= 3

    eventually(restarts_rose_twice, timeout=90)
    assert seen == sorted(seen) and seen[0] >= 1


def test_crashlooping_rollout_exceeds_progress_deadline(kube, lab_namespace) -> None:
    labels = {"app.kubernetes.io/name": "doomed", "turnout.dev/color": "green"}
    template = client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels={**labels, CRASHLOOP: "true"}),
        spec=make_pod(lab_namespace, "x").spec)
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="doomed-green"),
        spec=client.V1DeploymentSpec(replicas=2, progress_deadline_seconds=5,
                                     selector=client.V1LabelSelector(match_labels=labels),
                                     template=template))
    apps = client.AppsV1Api(kube)
    apps.create_namespaced_deployment(lab_namespace, deployment)

    def deadline_exceeded() -> bool:
        status = apps.read_namespaced_deployment("doomed-green", lab_namespace).status
        return any(c.type == "Progressing" and c.reason == "ProgressDeadlineExceeded"
                   for c in status.conditions or [])

    eventually(deadline_exceeded, timeout=90, interval=0.5)


def test_notready_label_toggles_readiness(kube, lab_namespace) -> None:
    core = client.CoreV1Api(kube)
    running_ready_pod(core, lab_namespace, "flaky")
    core.patch_namespaced_pod("flaky", lab_namespace, {"metadata": {"labels": {NOTREADY: "true"}}})
    pod = eventually(lambda: (p := core.read_namespaced_pod("flaky", lab_namespace))
                     and not is_ready(p) and p, timeout=60)
    assert pod.status.phase == "Running" and container(pod).state.running
    core.patch_namespaced_pod("flaky", lab_namespace, {"metadata": {"labels": {NOTREADY: None}}})
    eventually(lambda: is_ready(core.read_namespaced_pod("flaky", lab_namespace)), timeout=60)


ERROR_RATIO = (
    'sum by (color) (rate(http_requests_total{app="checkout",code=~"5.."}[5s]))'
    ' / sum by (color) (rate(http_requests_total{app="checkout"}[5s]))'
)


def error_ratios(prometheus: str) -> dict[str, float]:
    """Per-color error ratio of checkout over the last 5 s, from the lab's Prometheus."""
    resp = httpx.get(f"{prometheus}/api/v1/query", params={"query": ERROR_RATIO}, timeout=5)
    resp.raise_for_status()
    return {r["metric"]["color"]: float(r["value"][1]) for r in resp.json()["data"]["result"]}


def test_promql_error_rate_follows_injected_fault(lab) -> None:
    prometheus, green = lab.env["prometheus_url"], lab.demo_url("checkout", "green")
    baseline = eventually(lambda: (r := error_ratios(prometheus)).keys() >= {"blue", "green"}
                          and r, timeout=60)
    assert baseline["green"] < 0.05
    httpx.post(f"{green}/admin/fault", json={"error_rate": 0.6}, timeout=5).raise_for_status()
    try:
        # How fast the ratio follows is a figure for `make bench`; here, that it does.
        ratios = eventually(lambda: (r := error_ratios(prometheus)).get("green", 0) > 0.15
                            and r, timeout=60, interval=0.25)
        assert ratios["blue"] < 0.05
    finally:
        httpx.post(f"{green}/admin/fault", json={"error_rate": 0}, timeout=5)


def test_demo_service_health_fault(lab) -> None:
    blue = lab.demo_url("search", "blue")
    assert httpx.get(f"{blue}/health", timeout=5).status_code == 200
    httpx.post(f"{blue}/admin/fault", json={"health": "fail"}, timeout=5).raise_for_status()
    try:
        assert httpx.get(f"{blue}/health", timeout=5).status_code == 503
        assert httpx.get(f"{blue}/admin/fault", timeout=5).json()["health"] == "fail"
    finally:
        httpx.post(f"{blue}/admin/fault", json={"health": "ok"}, timeout=5)
    assert httpx.get(f"{blue}/health", timeout=5).status_code == 200


def test_redis_answers(lab) -> None:
    import redis

    conn = redis.Redis.from_url(lab.env["redis_url"])
    assert conn.ping()
    conn.close()


def listening_addresses(pid: int) -> set[str]:
    """``ip:port`` of every TCP socket in LISTEN state that process ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                found.add(decode_address(fields[1]))
    return found


def decode_address(hex_address: str) -> str:
    """/proc/net/tcp[6] ``HEXIP:HEXPORT`` -> ``ip:port`` (IPv4 or IPv6)."""
    import ipaddress

    ip_hex, port_hex = hex_address.split(":")
    raw = bytes.fromhex(ip_hex)
    # The kernel prints each 32-bit word in host (little-endian) byte order.
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return f"{ipaddress.ip_address(words)}:{int(port_hex, 16)}"


def test_every_lab_process_listens_on_loopback_only(lab) -> None:
    listening = {name: listening_addresses(pid) for name, pid in lab.env["pids"].items()}
    exposed = {name: addrs for name, addrs in listening.items()
               if any(not a.startswith(("127.", "::1:")) for a in addrs)}
    assert exposed == {}
    assert str(lab.env["ports"]["apiserver"]) in " ".join(listening["apiserver"])
    assert str(lab.env["ports"]["kwok"]) in " ".join(listening["kwok"])
    assert all(listening.values())


def test_second_lab_starts_and_down_leaves_no_process(lab, tmp_path) -> None:
    """A lab in another state folder runs beside the shared one; `down` stops all of it."""
    import json
    import os
    import subprocess
    import sys

    from tests.lab.conftest import LABCTL

    env = {**os.environ, "TURNOUT_LAB_DIR": str(tmp_path / "lab")}

    def labctl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(LABCTL), *args], env=env, text=True,
                              capture_output=True, timeout=300)

    up = labctl("up", "--nodes", "1")
    try:
        assert up.returncode == 0, up.stderr
        pids = json.loads((tmp_path / "lab" / "env.json").read_text())["pids"]
        assert labctl("status").returncode == 0
    finally:
        down = labctl("down")
    assert down.returncode == 0, down.stderr
    assert [name for name, pid in pids.items() if alive(pid)] == []
    assert labctl("status").returncode != 0


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
