"""The intent journal: a CLI killed between two writes leaves an operation that resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.kube.conftest import REPO, get, kubectl, seed_app, turnout
from tests.lab.conftest import Lab
from turnout.backend.config import Conventions
from turnout.backend.gate import WriteGate
from turnout.backend.kube import KubeCluster, KubeHttp, load_target
from turnout.backend.kube.journal import KEY, journal_name

pytestmark = pytest.mark.lab
WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"
COLOR = "turnout.dev/color"


def cluster_for(lab: Lab) -> KubeCluster:
    target = load_target([Path(lab.kubeconfig)], "lab")
    return KubeCluster(KubeHttp(target, WriteGate(), 5.0), target.context, Conventions())


def selector(lab: Lab, ns: str, service: str) -> str:
    return str(get(lab, ns, f"service/{service}")["spec"]["selector"][COLOR])


def journaled_step(lab: Lab, ns: str, app: str) -> int | None:
    """The step the app's intent journal records as done, None without an entry."""
    found = json.loads(kubectl(lab, "-n", ns, "get", "configmap", "-o", "json",
                               "--field-selector", f"metadata.name={journal_name(app)}"))
    entries = [json.loads(item["data"][KEY]) for item in found["items"]
               if item.get("data", {}).get(KEY)]
    return int(entries[0]["step"]) if entries else None


def killed_mid_promote(lab: Lab, ns: str) -> None:
    """Start `promote --full` on a 50 % canary, SIGKILL it after its first write."""
    kubectl(lab, "-n", ns, "annotate", "--overwrite", "ingress/shop-canary", f"{WEIGHT}=50")
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/turnout"), "--kubeconfig", lab.kubeconfig, "-n", ns, "promote",
         "shop", "--full", "--yes"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, env={**os.environ, "TURNOUT_TEST_PAUSE": "between-writes=30"})
    deadline = time.monotonic() + 60  # the CLI starts slowly on a loaded machine
    # Killed at the hold point between the writes: the first write made and journaled as done
    # (the selector alone can be seen switched before its journal step is written).
    while selector(lab, ns, "shop") != "green" or journaled_step(lab, ns, "shop") != 1:
        assert time.monotonic() < deadline and proc.poll() is None, "first write never journaled"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


async def test_status_shows_the_unfinished_operation_and_resume_converges(
        lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    killed_mid_promote(lab, lab_namespace)
    shown = json.loads(turnout(lab, "-n", lab_namespace, "status", "shop", "-o", "json").out)
    assert shown["operation"]["kind"] == "traffic" and shown["operation"]["step"] == 1
    cluster = cluster_for(lab)
    try:
        after = await cluster.resume("shop", lab_namespace)
        assert after is not None and (after.live, after.weights.green) == ("green", 100)
        assert await cluster.resume("shop", lab_namespace) is None
    finally:
        await cluster.close()
    assert selector(lab, lab_namespace, "shop-preview") == "blue"
    assert get(lab, lab_namespace, "ingress/shop-canary")["metadata"]["annotations"][
        WEIGHT] == "0"
    assert json.loads(turnout(lab, "-n", lab_namespace, "status", "shop", "-o", "json").out)[
        "operation"] is None


async def test_resume_back_returns_to_where_it_started(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    killed_mid_promote(lab, lab_namespace)
    cluster = cluster_for(lab)
    try:
        after = await cluster.resume("shop", lab_namespace, back=True)
        assert after is not None and (after.live, after.weights.green) == ("blue", 50)
        assert await cluster.resume("shop", lab_namespace, back=True) is None
    finally:
        await cluster.close()
    assert selector(lab, lab_namespace, "shop") == "blue"
    assert selector(lab, lab_namespace, "shop-preview") == "green"
