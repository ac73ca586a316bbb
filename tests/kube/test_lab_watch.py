"""The watch cache against a real API server: follows kubectl, survives 410 and drops."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import os
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.kube.conftest import kubectl, restart_apiserver, seed_app
from tests.kube.proxy import Proxy
from tests.lab.conftest import Lab
from turnout.backend.config import Conventions
from turnout.backend.gate import WriteGate
from turnout.backend.kube import KubeCluster, KubeHttp, load_target
from turnout.backend.models import App

pytestmark = pytest.mark.lab
WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"


def cluster_for(lab: Lab, namespace: str, server: str | None = None) -> KubeCluster:
    target = load_target([Path(lab.kubeconfig)], "lab")
    if server:
        target = dataclasses.replace(target, server=server)
    return KubeCluster(KubeHttp(target, WriteGate(), 5.0), target.context, Conventions(),
                       namespace=namespace)


async def until(cluster: KubeCluster, changes: AsyncIterator[tuple[str, str]],
                check: Callable[[App], bool], timeout: float = 60.0) -> float:
    """Wait for a change after which the cached app passes `check`; return when (monotonic)."""
    async with asyncio.timeout(timeout):
        async for namespace, name in changes:
            # get_app reads the cache when it is in sync, else lists: either way, current.
            if name == "shop" and check(await cluster.get_app(name, namespace)):
                return time.monotonic()
    raise AssertionError("changes() ended")


async def annotate(lab: Lab, ns: str, value: int) -> float:
    """Set the canary weight with kubectl; return when kubectl finished."""
    await asyncio.to_thread(kubectl, lab, "-n", ns, "annotate", "--overwrite",
                            "ingress/shop-canary", f"{WEIGHT}={value}")
    return time.monotonic()


FOLLOWS = 30.0
"""Seconds within which a change must reach the cache. The change arrives through the watch's
own event stream (there is no periodic relist to fall back on), so the bound only catches a
stalled watch; how fast it follows is a figure for `make bench`, not a bet on a quiet machine."""


async def follows(lab: Lab, cluster: KubeCluster, changes: AsyncIterator[tuple[str, str]],
                  ns: str, value: int) -> float:
    """Seconds between kubectl finishing a change and the cache showing it."""
    waiter = asyncio.ensure_future(until(cluster, changes,
                                         lambda a: a.traffic.canary_weight == value))
    done = await annotate(lab, ns, value)
    return await waiter - done


async def started(lab: Lab, ns: str, server: str | None = None
                  ) -> tuple[KubeCluster, AsyncIterator[tuple[str, str]]]:
    cluster = cluster_for(lab, ns, server)
    changes = cluster.changes()
    await cluster.informer.wait_synced(30)
    return cluster, changes


async def test_watch_follows_kubectl(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    cluster, changes = await started(lab, lab_namespace)
    try:
        assert cluster.informer.serves(lab_namespace)
        assert await follows(lab, cluster, changes, lab_namespace, 35) < FOLLOWS
        assert (await cluster.get_app("shop", lab_namespace)).traffic.canary_weight == 35
    finally:
        await cluster.close()


def compact_etcd(lab: Lab) -> int:
    """Compact etcd at its current revision through its HTTP gateway."""
    def post(path: str, body: dict[str, object]) -> dict[str, object]:
        request = urllib.request.Request(f"{lab.env['etcd']}{path}", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    header = post("/v3/kv/range", {"key": base64.b64encode(b"/").decode()})["header"]
    revision = int(header["revision"])  # type: ignore[index]
    post("/v3/kv/compaction", {"revision": revision, "physical": True})
    return revision


@pytest.mark.skipif(os.environ.get("TURNOUT_LAB_DISRUPTIVE") != "1",
                    reason="restarts the lab's API server: set TURNOUT_LAB_DISRUPTIVE=1 "
                           "(use a private lab: TURNOUT_LAB_DIR=/tmp/x labctl up)")
async def test_watch_survives_an_api_server_restart_and_a_forced_410(
        lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    cluster, changes = await started(lab, lab_namespace)
    try:
        # Restart without the watch cache, so watches are served by etcd itself.
        await asyncio.to_thread(restart_apiserver, lab, watch_cache=False)
        await cluster.informer.wait_synced(30)
        assert await follows(lab, cluster, changes, lab_namespace, 20) < FOLLOWS
        old = cluster.informer._rv["ingresses"]
        for value in (30, 31):  # two changes, so the compaction passes the watch's start
            await annotate(lab, lab_namespace, value)
        await asyncio.to_thread(compact_etcd, lab)
        await cluster.informer.interrupt("ingresses", resource_version=old)
        async with asyncio.timeout(30):
            # The 410 is counted before the relist it leads to is made: wait for both.
            while cluster.informer.expired["ingresses"] < 1 or \
                    cluster.informer.relists["ingresses"] < 2:
                await asyncio.sleep(0.05)
        assert await follows(lab, cluster, changes, lab_namespace, 45) < FOLLOWS
    finally:
        await cluster.close()
        await asyncio.to_thread(restart_apiserver, lab)


async def test_watch_survives_a_dropped_connection(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    async with Proxy(lab.env["apiserver"]) as proxy:
        cluster, changes = await started(lab, lab_namespace, proxy.url)
        try:
            await proxy.cut()
            async with asyncio.timeout(30):
                while cluster.informer.serves(lab_namespace):
                    await asyncio.sleep(0.05)
            await annotate(lab, lab_namespace, 60)
            await asyncio.sleep(1.0)
            await proxy.resume()
            await until(cluster, changes, lambda a: a.traffic.canary_weight == 60)
            await cluster.informer.wait_synced(30)
            assert await follows(lab, cluster, changes, lab_namespace, 70) < FOLLOWS
        finally:
            await cluster.close()


async def test_the_first_direct_read_is_the_caches_first_list(
        lab: Lab, lab_namespace: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read before the watches start primes the cache: the watches resume from that read's
    resourceVersions (no second list of every pod), and what changed in between still
    arrives through them. Lists are read in pages (two items a page here)."""
    from turnout.backend.kube import resources

    monkeypatch.setattr(resources, "PAGE", 2)
    seed_app(lab, lab_namespace, "shop", "nginx")
    cluster = cluster_for(lab, lab_namespace)
    try:
        read = await cluster.list_apps(lab_namespace)
        pods = {p.name for a in read for p in (*a.blue.pods, *a.green.pods)}
        assert len(pods) > 2  # more than one page of pods, every one of them read
        assert {name for _, name in cluster.informer.stores["pods"]} == pods
        assert cluster.informer.relists["pods"] == 1 and not cluster.informer.serves(lab_namespace)
        await annotate(lab, lab_namespace, 45)  # after the read, before the watches
        changes = cluster.changes()
        await cluster.informer.wait_synced(10)
        assert cluster.informer.relists["pods"] == 1  # the watch resumed: no list of its own
        await until(cluster, changes, lambda a: a.traffic.canary_weight == 45)
        assert cluster.informer.relists["ingresses"] == 1
    finally:
        await cluster.close()


def server_pods(lab: Lab, namespace: str) -> dict[str, str]:
    """The namespace's pods on the server: name → resourceVersion."""
    listed = json.loads(kubectl(lab, "-n", namespace, "get", "pods", "-o", "json"))
    return {p["metadata"]["name"]: p["metadata"]["resourceVersion"] for p in listed["items"]}


def cached_pods(cluster: KubeCluster, namespace: str) -> dict[str, str]:
    return {name: pod.metadata.resource_version
            for (ns, name), pod in cluster.informer.stores["pods"].items() if ns == namespace}


async def churn(lab: Lab, namespace: str, pods: list[str], tick: str) -> None:
    """Change every one of `pods` (an annotation) in one kubectl call."""
    await asyncio.to_thread(kubectl, lab, "-n", namespace, "annotate", "--overwrite", "pod",
                            *pods, f"bench.turnout.dev/tick={tick}")


async def test_a_relist_under_churn_ends_in_sync(lab: Lab, lab_namespace: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The pod watch relists while the pods keep changing, as after a 410: the relist is held
    after its first page (a hold point) while pods of every page are changed and one is
    deleted (its Deployment makes another), then let go. The cache ends holding exactly the
    server's pods at the server's versions: nothing changed before, during or after the
    relist is lost, and the relist does end.

    The relist is asked for by resuming with no resourceVersion, the state a 410 leaves the
    watch in. Resuming from "1" does not reliably get a 410: a young API server's watch cache
    still holds every event since it started, and replays them instead."""
    from turnout.backend.kube import resources

    seed_app(lab, lab_namespace, "shop", "nginx")
    cluster, _ = await started(lab, lab_namespace)
    informer, gate = cluster.informer, tmp_path / "relist"
    try:
        pods = sorted(cached_pods(cluster, lab_namespace))
        assert len(pods) > 2
        monkeypatch.setattr(resources, "PAGE", 2)  # several pages, so a change falls between
        monkeypatch.setenv("TURNOUT_TEST_PAUSE", f"list-page={gate}")
        relists = informer.relists["pods"]
        await churn(lab, lab_namespace, pods, "before")
        await informer.interrupt("pods", resource_version="")
        held = Path(f"{gate}.reached.{os.getpid()}")
        async with asyncio.timeout(60):
            while not held.exists():
                await asyncio.sleep(0.05)
        assert informer.relists["pods"] == relists  # the relist is under way, not done
        await churn(lab, lab_namespace, pods, "during")
        await asyncio.to_thread(kubectl, lab, "-n", lab_namespace, "delete", "pod", pods[-1],
                                "--wait=false")
        gate.touch()
        async with asyncio.timeout(60):
            while informer.relists["pods"] == relists or not informer.synced["pods"]:
                await asyncio.sleep(0.05)
        await churn(lab, lab_namespace, [p for p in pods if p != pods[-1]], "after")
        async with asyncio.timeout(60):
            while True:
                server = await asyncio.to_thread(server_pods, lab, lab_namespace)
                if pods[-1] not in server and cached_pods(cluster, lab_namespace) == server:
                    break
                await asyncio.sleep(0.2)
        assert informer.serves(lab_namespace)
    finally:
        await cluster.close()


async def test_a_watch_that_fails_unexpectedly_relists_rather_than_dies(
        lab: Lab, lab_namespace: str, caplog: pytest.LogCaptureFixture) -> None:
    """A failure the watch does not expect (here a handler that raises once, standing in for
    an undecodable line or a bug) is logged, and the pods are listed again and followed: the
    watch's task does not end while the cache still says it is in sync."""
    seed_app(lab, lab_namespace, "shop", "nginx")
    cluster, _ = await started(lab, lab_namespace)
    informer = cluster.informer
    handle, failed = informer._on_event, asyncio.Event()

    def failing_once(resource: Any, event: Any, decoder: Any) -> None:
        if resource.field == "pods" and not failed.is_set():
            failed.set()
            raise RuntimeError("a handler's bug")
        handle(resource, event, decoder)

    try:
        relists = informer.relists["pods"]
        informer._on_event = failing_once  # type: ignore[method-assign]
        pods = sorted(cached_pods(cluster, lab_namespace))
        await churn(lab, lab_namespace, pods, "fails")
        async with asyncio.timeout(60):
            await failed.wait()
            while informer.relists["pods"] == relists or not informer.synced["pods"]:
                await asyncio.sleep(0.05)
        assert "watch pods: unexpected failure" in caplog.text
        await churn(lab, lab_namespace, pods, "after")
        async with asyncio.timeout(60):
            while cached_pods(cluster, lab_namespace) != \
                    await asyncio.to_thread(server_pods, lab, lab_namespace):
                await asyncio.sleep(0.2)
    finally:
        await cluster.close()
