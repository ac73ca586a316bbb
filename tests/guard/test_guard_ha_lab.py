"""Two guard replicas against the lab, each a real `turnout guard --leader-elect` process
with the in-cluster configuration (the ServiceAccount's own token, deploy/guard.yaml's
ClusterRole): the leader killed (SIGKILL) or hung (SIGSTOP) right before a fault, the
standby takes the Lease and restores traffic; never two guards writing (one actor per
rollback in the audit Events). Every wait is on a condition, never a fixed sleep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.guard.conftest import APP, Canary
from tests.kube.conftest import REPO, get, kubectl
from tests.kube.test_lab_deploy import _kubeconfig, guard_account
from tests.lab.conftest import Lab
from turnout.backend.config import GuardSettings

pytestmark = pytest.mark.lab
__all__ = ["guard_account"]  # the module fixture: deploy/guard.yaml applied, the account's token
LEASE = "turnout-guard"
DEFAULTS = GuardSettings()


def wait_for(condition: Callable[[], object], what: str, seconds: float = 90) -> float:
    """Poll until `condition` holds; the seconds it took (fails naming `what` after `seconds`)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"never: {what}")
        time.sleep(0.1)
    return time.monotonic() - start


@dataclass
class Replica:
    """One guard process."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def said(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")

    def ready(self) -> bool:
        ports = [line.rsplit("port ", 1)[1].split(":")[0] for line in
                 self.log.read_text(errors="replace").splitlines() if "endpoints on port" in line]
        if not ports:
            return False
        try:
            return httpx.get(f"http://127.0.0.1:{ports[0]}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


@pytest.fixture
def replicas(canary: Canary, guard_account: str, tmp_path: Path) -> Iterator[dict[str, Replica]]:
    """guard-a and guard-b, both guarding the canary's namespace, electing over one Lease."""
    (tmp_path / "token").write_text(guard_account + "\n")
    kubeconfig = _kubeconfig(canary.lab, tmp_path / "kubeconfig", {"tokenFile": "token"})
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"prometheus_url": canary.lab.env["prometheus_url"], "request_timeout": 2,
                                  "guard": {"interval": 1, "lease_namespace": canary.namespace}}))
    started: dict[str, Replica] = {}
    for name in ("guard-a", "guard-b"):
        log = tmp_path / f"{name}.log"
        env = {**os.environ, "POD_NAME": name, "TURNOUT_CONFIG": str(config),
               "TURNOUT_STATE_DIR": str(tmp_path / name)}
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [str(REPO / ".venv" / "bin" / "turnout"), "--kubeconfig", kubeconfig, "-n", canary.namespace,
                 "guard", "--leader-elect", "--listen", "127.0.0.1:0", "-o", "json"],
                stdout=subprocess.DEVNULL, stderr=sink, env=env)
        started[name] = Replica(name, process, log)
    yield started
    for replica in started.values():
        if replica.process.poll() is None:
            replica.process.send_signal(signal.SIGCONT)
            replica.process.kill()
        replica.process.wait(timeout=30)


def holder(lab: Lab, namespace: str) -> str:
    try:
        lease = get(lab, namespace, f"lease/{LEASE}")
    except AssertionError:
        return ""
    return str(lease["spec"].get("holderIdentity") or "")


def rollback_actors(lab: Lab, namespace: str) -> list[str]:
    """The guard replica named in each rollback's audit Event."""
    events = json.loads(kubectl(lab, "-n", namespace, "get", "events", "-o", "json"))["items"]
    return [e["message"].split("reason: guard ", 1)[1].split(":", 1)[0] for e in events
            if e["reason"] == "TurnoutAudit" and e["message"].startswith("rollback:")]


def _leader_then_fault(canary: Canary, replicas: dict[str, Replica], how: signal.Signals) -> tuple[str, str]:
    lab, ns = canary.lab, canary.namespace
    wait_for(lambda: holder(lab, ns).split("_")[0] in replicas, "a leader")
    leader = holder(lab, ns).split("_")[0]
    [standby] = [name for name in replicas if name != leader]
    wait_for(lambda: get(lab, ns, f"service/{APP}")["metadata"]["annotations"].get("turnout.dev/guard")
             == "armed", "the leader armed the app")
    wait_for(lambda: replicas[standby].said("standing by") and replicas[standby].ready(),
             "a ready standby")
    replicas[leader].process.send_signal(how)
    canary.fault("green", health="fail")
    took = wait_for(lambda: canary.canary_weight == "0", "traffic restored by the standby")
    # The audit Event is posted after the write it records: the weight can be seen first.
    wait_for(lambda: rollback_actors(lab, ns), "the rollback's audit Event")
    print(f"\n{how.name}: traffic restored {took:.1f} s after the leader stopped "
          f"(lease duration {DEFAULTS.lease_duration:g} s)")
    assert holder(lab, ns).startswith(f"{standby}_")
    return leader, standby


def test_the_standby_takes_over_when_the_leader_is_killed(
        canary: Canary, replicas: dict[str, Replica]) -> None:
    _, standby = _leader_then_fault(canary, replicas, signal.SIGKILL)
    [actor] = rollback_actors(canary.lab, canary.namespace)
    assert actor.startswith(f"{standby}_")


def test_the_standby_takes_over_when_the_leader_hangs_and_the_old_leader_never_acts(
        canary: Canary, replicas: dict[str, Replica]) -> None:
    leader, standby = _leader_then_fault(canary, replicas, signal.SIGSTOP)
    replicas[leader].process.send_signal(signal.SIGCONT)  # it wakes up with a stale view
    wait_for(lambda: replicas[leader].said("lost the lease"),
             "the old leader noticing it lost the lease")
    canary.set_canary_weight(10)  # the app is tripped now: neither replica may touch it
    wait_for(lambda: canary.canary_weight == "10", "the new canary weight")
    [actor] = rollback_actors(canary.lab, canary.namespace)
    assert actor.startswith(f"{standby}_")
    assert replicas[leader].process.poll() is None and not replicas[leader].said("Traceback")
