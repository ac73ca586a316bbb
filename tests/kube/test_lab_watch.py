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
