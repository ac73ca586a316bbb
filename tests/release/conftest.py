"""Release-flow fixtures: a demo service whose world moves only when a flow waits, and the lab's."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.kube import conftest as kube_conftest
from turnout.backend.demo import build_demo_service
from turnout.backend.demo.cluster import DemoCluster
from turnout.backend.release import DeployConsole, DeployRequest, Flow
from turnout.backend.release.analysis import Trigger
from turnout.backend.service import ReleaseService

# The lab's fixtures, shared with this folder (pytest_plugins works only at the root).
lab = kube_conftest.lab
kube = kube_conftest.kube
lab_namespace = kube_conftest.lab_namespace


@dataclass
class Demo:
    """A seeded demo service; waiting in a flow advances its world instead of the wall clock."""

    service: ReleaseService
    said: list[str] = field(default_factory=list)

    @property
    def cluster(self) -> DemoCluster:
        assert isinstance(self.service.cluster, DemoCluster)
        return self.service.cluster

    async def tick(self, seconds: float) -> None:
        """The flow's sleep: one world tick of `seconds`, yielding so other tasks can run."""
        self.cluster.world.tick(seconds)
        await asyncio.sleep(0)

    def console(self, *, me: str = "", triggers: tuple[Trigger, ...] = ()) -> DeployConsole:
        """A console driving flows on this demo; `me` names its driver (default: this process)."""
        console = DeployConsole(self.service, sleep=self.tick, triggers=triggers,
                                say=lambda flow, message: self.said.append(message))
        console.me = me or console.me
        return console


def request(image: str = "registry.demo/checkout:1.5.0", **kw: object) -> DeployRequest:
    """A checkout deploy with short windows (seconds of demo time)."""
    options: dict[str, object] = {"app": "checkout", "analysis": 10.0, "interval": 1.0,
                                  "deadline": 120.0, **kw}
    return DeployRequest(image=image, **options)  # type: ignore[arg-type]


async def flow_of(demo: Demo, app: str = "checkout") -> Flow | None:
    """The app's flow record as stored."""
    return await demo.console().flow(app)


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    return Demo(build_demo_service(seed=7, audit_path=tmp_path / "audit.jsonl"))
