"""The watch cache's first list against a real API server: apps before their pods, and a
paged list whose continue token expires mid-way restarts instead of failing."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tests.kube.conftest import kubectl, restart_apiserver, seed_app
from tests.kube.test_lab_watch import cluster_for, compact_etcd
from tests.lab.conftest import Lab
from turnout.backend.kube import resources
from turnout.backend.kube.resources import RESOURCES, list_items
from turnout.backend.signals import crash_loop

pytestmark = pytest.mark.lab
PODS = next(r for r in RESOURCES if r.field == "pods")


def hold_pages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, page: int) -> Path:
    """Lists read `page` items a request and wait at `list-page` after each page but the
    last until the returned gate file exists."""
    gate = tmp_path / "gate"
    monkeypatch.setattr(resources, "PAGE", page)
    monkeypatch.setenv("TURNOUT_TEST_PAUSE", f"list-page={gate}")
    return gate


async def reached(gate: Path) -> None:
    """Wait until a list is held at the gate."""
    async with asyncio.timeout(60):
        while not list(gate.parent.glob(f"{gate.name}.reached.*")):
            await asyncio.sleep(0.05)


async def test_apps_are_read_before_their_pods_are_listed(
        lab: Lab, lab_namespace: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seed_app(lab, lab_namespace, "shop", "none")  # 3 pods a color, 2 Deployments, 2 Services
    gate = hold_pages(monkeypatch, tmp_path, page=4)
    cluster = cluster_for(lab, lab_namespace)
    changes = cluster.changes()  # starts the watch cache: its first lists begin
    try:
        await reached(gate)
        # The pods' list is held after its first page (4 of 6 pods), as long as the gate is
        # shut: the app is read all the same, its live color and weights there, its pods
        # those listed so far and said to be loading.
        async with asyncio.timeout(60):
            while True:
                (app,) = await cluster.list_apps(lab_namespace)
                if len(app.blue.pods) + len(app.green.pods) == 4:
                    break
                await asyncio.sleep(0.05)
        assert (app.name, app.traffic.live) == ("shop", "blue")
        assert app.blue.pods_loading and app.green.pods_loading
        assert len(app.blue.pods) + len(app.green.pods) == 4
        assert crash_loop(app.blue, cluster.clock()).outcome == "inconclusive"

        gate.touch()
        async with asyncio.timeout(60):
            async for _ in changes:
                (app,) = await cluster.list_apps(lab_namespace)
                if not app.blue.pods_loading:
                    break
        assert not app.green.pods_loading
        assert len(app.blue.pods) == len(app.green.pods) == 3
        assert crash_loop(app.blue, cluster.clock()).outcome == "pass"
    finally:
        await changes.aclose()  # type: ignore[attr-defined]
        await cluster.close()


@pytest.mark.skipif(os.environ.get("TURNOUT_LAB_DISRUPTIVE") != "1",
                    reason="restarts the lab's API server: set TURNOUT_LAB_DISRUPTIVE=1 "
                           "(use a private lab: TURNOUT_LAB_DIR=/tmp/x labctl up)")
async def test_an_expired_continue_token_restarts_the_list(
        lab: Lab, lab_namespace: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seed_app(lab, lab_namespace, "shop", "none")
    gate = hold_pages(monkeypatch, tmp_path, page=4)
    cluster = cluster_for(lab, lab_namespace)
    pages: list[int] = []
    try:
        # Without the watch cache, lists are read from etcd, whose compaction expires them.
        await asyncio.to_thread(restart_apiserver, lab, watch_cache=False)
        listing = asyncio.ensure_future(list_items(cluster.http, PODS, lab_namespace,
                                                   on_page=lambda p: pages.append(len(p))))
        await reached(gate)
        # Two writes, so the compaction passes the list's revision.
        for value in ("1", "2"):
            await asyncio.to_thread(kubectl, lab, "-n", lab_namespace, "annotate",
                                    "--overwrite", "service/shop", f"moved={value}")
        await asyncio.to_thread(compact_etcd, lab)
        gate.touch()
        items, version = await listing
        # The first page, then 410 on its continue token, then the whole list again.
        assert pages == [4, 4, 2]
        assert sorted(i.metadata.name for i in items) == sorted(
            kubectl(lab, "-n", lab_namespace, "get", "pods", "-o", "name").replace(
                "pod/", "").split())
        assert version
    finally:
        await cluster.close()
        await asyncio.to_thread(restart_apiserver, lab)
