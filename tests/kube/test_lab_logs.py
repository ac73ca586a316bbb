"""`KubeCluster.log_lines` against the lab: pods' logs through the API server, made inert."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.kube.conftest import seed_app
from tests.lab.conftest import Lab
from tests.lab.podlogs import arrange_logs
from turnout.backend.config import Conventions
from turnout.backend.errors import Unavailable
from turnout.backend.gate import WriteGate
from turnout.backend.guard.ports import PodLogs
from turnout.backend.kube import KubeCluster, KubeHttp, load_target
from turnout.backend.models import App

pytestmark = pytest.mark.lab
APP = "shop"


@pytest.fixture
async def clusters(lab: Lab) -> AsyncIterator[Callable[..., KubeCluster]]:
    """Build KubeClusters on the lab (closed afterwards)."""
    built: list[KubeCluster] = []

    def build(context: str = "lab", read_only: bool = False, server: str = "") -> KubeCluster:
        target = load_target([Path(lab.kubeconfig)], context)
        if server:
            target = dataclasses.replace(target, server=server)
        http = KubeHttp(target, WriteGate(read_only=read_only), 5.0 if not server else 1.0)
        built.append(KubeCluster(http, context, Conventions()))
        return built[-1]

    yield build
    for cluster in built:
        await cluster.close()


async def eventually_lines(cluster: KubeCluster, app: App, color: str, check: Callable[[list[str]], bool],
                           limit: int = 100) -> list[str]:
    """log_lines until `check` passes: kwok learns of new Logs objects through a watch."""
    lines: list[str] = []
    for _ in range(240):  # 60 s: the watch is late on a loaded machine
        lines = await cluster.log_lines(app, color, limit)  # type: ignore[arg-type]
        if check(lines):
            return lines
        await asyncio.sleep(0.25)
    raise AssertionError(f"log lines never as expected; last: {lines[-5:]}")


async def seeded(lab: Lab, namespace: str, cluster: KubeCluster) -> App:
    seed_app(lab, namespace, APP, "nginx")
    return await cluster.get_app(APP, namespace)


async def test_recent_lines_come_equally_from_each_pod_of_the_color(
        lab: Lab, kube: object, lab_namespace: str, tmp_path: Path,
        clusters: Callable[..., KubeCluster]) -> None:
    cluster = clusters()
    assert isinstance(cluster, PodLogs)
    app = await seeded(lab, lab_namespace, cluster)
    pods = sorted(p.name for p in app.green.pods)
    assert len(pods) == 3
    for i, pod in enumerate(pods):
        arrange_logs(kube, lab_namespace, pod, [f"green-{i} line {j}" for j in range(60)], tmp_path)
    lines = await eventually_lines(cluster, app, "green",
                                   lambda got: all(line.startswith("green-") for line in got))
    assert len(lines) == 100
    shares = [sum(line.startswith(f"green-{i} ") for line in lines) for i in range(3)]
    assert sorted(shares) == [33, 33, 34]
    assert lines[-1] in {f"green-{i} line 59" for i in range(3)}
    for i, share in enumerate(shares):  # each pod's newest lines, none older
        assert f"green-{i} line {60 - share}" in lines and f"green-{i} line {59 - share}" not in lines
    # Blue's pods log the lab's ordinary default lines; the limit also bounds them.
    blue = await cluster.log_lines(app, "blue", 100)
    assert len(blue) == 60 and all("INFO" in line for line in blue)
    assert len(await cluster.log_lines(app, "blue", 7)) == 7


async def test_log_text_is_made_inert(lab: Lab, kube: object, lab_namespace: str, tmp_path: Path,
                                      clusters: Callable[..., KubeCluster]) -> None:
    cluster = clusters()
    app = await seeded(lab, lab_namespace, cluster)
    hostile = "\x1b]0;owned\x07ERROR \x1b[31mred\x1b[0m \u202eevil\x07"
    for pod in app.green.pods:
        arrange_logs(kube, lab_namespace, pod.name, [hostile], tmp_path)
    lines = await eventually_lines(cluster, app, "green", lambda got: len(got) == 3)
    assert lines == ["ERROR red evil"] * 3


async def test_read_only_user_and_mode_read_logs(lab: Lab, lab_namespace: str,
                                                 clusters: Callable[..., KubeCluster]) -> None:
    admin = clusters()
    app = await seeded(lab, lab_namespace, admin)
    readonly = clusters("lab-readonly", read_only=True)
    assert len(await readonly.log_lines(app, "green", 100)) == 60


async def test_an_unreachable_api_server_is_unavailable(lab: Lab, lab_namespace: str,
                                                        clusters: Callable[..., KubeCluster]) -> None:
    app = await seeded(lab, lab_namespace, clusters())
    with pytest.raises(Unavailable):
        await clusters(server="https://127.0.0.1:9").log_lines(app, "green", 100)
