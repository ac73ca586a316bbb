"""One rule for unfinished operations, against the lab: after a promote or switch killed
between its writes, every traffic verb refuses and names the ways out; `rollback`,
`resume` and `resume --back` are those ways out and converge."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.kube.conftest import REPO, get, kubectl, seed_app, turnout
from tests.lab.conftest import Lab

pytestmark = pytest.mark.lab
WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"
COLOR = "turnout.dev/color"
INTERRUPTED = {"promote-full": ("promote", "shop", "--full"),
               "switch": ("switch", "shop", "--to", "green")}
REFUSING = [("weight", "shop", "40"), ("step", "shop"), ("promote", "shop"),
            ("promote", "shop", "--full"), ("abort", "shop"), ("switch", "shop", "--to", "blue"),
            ("switch", "shop", "--to", "green")]


def selector(lab: Lab, ns: str, service: str) -> str:
    return str(get(lab, ns, f"service/{service}")["spec"]["selector"][COLOR])


def killed_after_first_write(lab: Lab, ns: str, verb: tuple[str, ...]) -> None:
    """Start `verb`, SIGKILL it once its first write (the live Service) is made."""
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/turnout"), "--kubeconfig", lab.kubeconfig, "-n", ns, *verb,
         "--yes"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "TURNOUT_TEST_PAUSE": "between-writes=60"})
    deadline = time.monotonic() + 30
    while selector(lab, ns, "shop") != "green":
        assert time.monotonic() < deadline and proc.poll() is None, "first write never happened"
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def interrupted(lab: Lab, ns: str, kind: str) -> dict[str, object]:
    seed_app(lab, ns, "shop", "nginx")
    kubectl(lab, "-n", ns, "annotate", "--overwrite", "ingress/shop-canary", f"{WEIGHT}=50")
    killed_after_first_write(lab, ns, INTERRUPTED[kind])
    return objects(lab, ns)


def objects(lab: Lab, ns: str) -> dict[str, object]:
    return {"live": selector(lab, ns, "shop"), "preview": selector(lab, ns, "shop-preview"),
            "weight": get(lab, ns, "ingress/shop-canary")["metadata"]["annotations"][WEIGHT]}


@pytest.mark.parametrize("kind", sorted(INTERRUPTED))
def test_every_traffic_verb_refuses_and_names_the_ways_out(lab: Lab, lab_namespace: str,
                                                          kind: str) -> None:
    ns = lab_namespace
    half = interrupted(lab, ns, kind)
    shown = json.loads(turnout(lab, "-n", ns, "status", "shop", "-o", "json").out)
    op = shown["operation"]
    assert op is not None and shown["drift"] is not None
    for verb in REFUSING:
        run = turnout(lab, "-n", ns, *verb, "--yes")
        assert run.code == 5, (verb, run.out, run.err)
        assert op["id"] in run.err and "resume shop" in run.err and "--back" in run.err, run.err
        assert objects(lab, ns) == half, f"{verb} changed the objects"
    deploy = turnout(lab, "-n", ns, "deploy", "shop", "--image", "registry.local/shop:9", "--yes")
    assert deploy.code != 0 and "resume" in deploy.err, deploy.err
    assert objects(lab, ns) == half


@pytest.mark.parametrize("kind", sorted(INTERRUPTED))
def test_resume_finishes_it(lab: Lab, lab_namespace: str, kind: str) -> None:
    ns = lab_namespace
    interrupted(lab, ns, kind)
    assert turnout(lab, "-n", ns, "resume", "shop", "--yes").code == 0
    assert objects(lab, ns) == {"live": "green", "preview": "blue", "weight": "0"}
    shown = json.loads(turnout(lab, "-n", ns, "status", "shop", "-o", "json").out)
    assert shown["operation"] is None and shown["drift"] is None
    assert turnout(lab, "-n", ns, "weight", "shop", "10", "--yes").code == 0


@pytest.mark.parametrize("kind", sorted(INTERRUPTED))
def test_resume_back_undoes_it(lab: Lab, lab_namespace: str, kind: str) -> None:
    ns = lab_namespace
    interrupted(lab, ns, kind)
    run = turnout(lab, "-n", ns, "resume", "shop", "--back", "--yes")
    assert run.code == 0, run.err
    assert objects(lab, ns) == {"live": "blue", "preview": "green", "weight": "50"}
    shown = json.loads(turnout(lab, "-n", ns, "status", "shop", "-o", "json").out)
    assert shown["operation"] is None and shown["drift"] is None


def test_rollback_is_a_way_out(lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    interrupted(lab, ns, "promote-full")
    run = turnout(lab, "-n", ns, "rollback", "shop", "--yes")
    assert run.code == 0, run.err
    assert objects(lab, ns) == {"live": "blue", "preview": "green", "weight": "0"}
    shown = json.loads(turnout(lab, "-n", ns, "status", "shop", "-o", "json").out)
    assert shown["operation"] is None and shown["drift"] is None
