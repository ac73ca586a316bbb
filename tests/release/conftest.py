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
CANARY_WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"


def real_checkout(lab: kube_conftest.Lab, namespace: str) -> None:
    """The lab's `checkout` in `namespace`, served by the lab's real demo services (Prometheus
    scrapes them; faults are injected through their admin endpoint): blue live with all
    traffic, both colors available, so a deploy's fault injection starts from a calm app."""
    import json

    from lablib.seed import DemoApp, app_objects

    objects = [o for o in app_objects(DemoApp("checkout", namespace, "nginx"),
                                      lab.env["demo_services"]["checkout"])
               if o["kind"] != "Namespace"]
    kube_conftest.kubectl(lab, "apply", "-f", "-", stdin=json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": objects}))
    kube_conftest.kubectl(lab, "-n", namespace, "annotate", "--overwrite",
                          "ingress/checkout-canary", f"{CANARY_WEIGHT}=0")
    kube_conftest.kubectl(lab, "-n", namespace, "wait", "--for=condition=Available",
                          "--timeout=60s", "deployment/checkout-blue", "deployment/checkout-green")


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
