"""A multi-object traffic change guarded as a whole, against the lab.

Each verb holds at its hold point before a chosen write while another client (the
kubernetes python client, as kubectl would) patches one of the objects that route the
app. The verb must stop with exit 5 and say what moved; `status` must then agree with a
routing computed here from the objects alone; `resume --back` must restore the state
from before the verb.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.kube.conftest import REPO, get, seed_app, turnout
from tests.lab.conftest import Lab

pytestmark = pytest.mark.lab
COLOR = "turnout.dev/color"
WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"
TOUCHED = "test.turnout.dev/touched"


def routing_state(lab: Lab, ns: str) -> dict[str, Any]:
    """What routes the app, straight from the objects: selectors and router weights."""
    services = {s["metadata"]["name"]: (s["spec"].get("selector") or {}).get(COLOR)
                for s in get(lab, ns, "services")["items"]}
    ingresses = {i["metadata"]["name"]: i["metadata"].get("annotations", {}).get(WEIGHT)
                 for i in get(lab, ns, "ingresses")["items"]}
    routes = {r["metadata"]["name"]: [(b["name"], b.get("weight", 1))
                                      for rule in r["spec"]["rules"]
                                      for b in rule.get("backendRefs", [])]
              for r in get(lab, ns, "httproutes")["items"]}
    return {"services": services, "ingresses": ingresses, "routes": routes}


def independent_traffic(state: dict[str, Any]) -> tuple[str, int, int]:
    """(live color, blue %, green %) computed from `routing_state` by this test's own rules."""
    services = state["services"]
    live = services["shop"]
    sent = {"blue": 0.0, "green": 0.0}
    if state["routes"]:
        for name, weight in state["routes"]["shop"]:
            sent[services[name]] += weight
    elif state["ingresses"]:
        canary = int(state["ingresses"]["shop-canary"])
        sent[live] += 100 - canary
        sent[services["shop-preview"]] += canary
    else:
        sent[live] = 100
    total = sum(sent.values())
    blue = round(100 * sent["blue"] / total)
    return live, blue, 100 - blue


def patch(lab: Lab, ns: str, obj: str) -> None:
    """Touch `obj` (kind/name) the way kubectl annotate would: its resourceVersion moves."""
    from kubernetes import client

    api = lab.api_client()
    try:
        kind, name = obj.split("/")
        body = {"metadata": {"annotations": {TOUCHED: str(time.monotonic_ns())}}}
        if kind == "service":
            client.CoreV1Api(api).patch_namespaced_service(name, ns, body)
        elif kind == "ingress":
            client.NetworkingV1Api(api).patch_namespaced_ingress(name, ns, body)
        else:
            client.CustomObjectsApi(api).patch_namespaced_custom_object(
                "gateway.networking.k8s.io", "v1", ns, "httproutes", name, body)
    finally:
        api.close()


def held(lab: Lab, ns: str, args: tuple[str, ...], point: str, gate: Path,
         between: Any) -> subprocess.CompletedProcess[str]:
    """Run the verb holding at `point`; run `between` there; let it go on; its outcome."""
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/turnout"), "--kubeconfig", lab.kubeconfig, "-n", ns, *args,
         "--yes"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL, env={**os.environ, "TURNOUT_TEST_PAUSE": f"{point}={gate}"})
    deadline = time.monotonic() + 60
    while not list(gate.parent.glob(f"{gate.name}.reached.*")):
        if proc.poll() is not None or time.monotonic() > deadline:
            out, err = proc.communicate()
            raise AssertionError(f"never reached {point}: exit {proc.returncode} {out} {err}")
        time.sleep(0.05)
    between()
    gate.touch()
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def status(lab: Lab, ns: str) -> dict[str, Any]:
    run = turnout(lab, "-n", ns, "status", "shop", "-o", "json")
    assert run.code == 0, run.err
    return json.loads(run.out)  # type: ignore[no-any-return]


def prepare(lab: Lab, ns: str, router: str, setup: tuple[str, ...]) -> None:
    seed_app(lab, ns, "shop", router)
    for step in setup:
        run = turnout(lab, "-n", ns, *step.split(), "--yes")
        assert run.code == 0, run.err


# (router, verb, setup commands, the objects it writes in order, objects only watched)
CASES = [
    ("nginx", ("switch", "shop", "--to", "green"), (),
     ["service/shop", "ingress/shop-canary", "service/shop-preview"], []),
    ("nginx", ("promote", "shop", "--full"), ("weight shop 50",),
     ["service/shop", "ingress/shop-canary", "service/shop-preview"], []),
    ("nginx", ("abort", "shop"), ("weight shop 30",), ["ingress/shop-canary"],
     ["service/shop", "service/shop-preview"]),
    ("nginx", ("rollback", "shop"), ("promote shop --full",),
     ["service/shop", "service/shop-preview"], ["ingress/shop-canary"]),
    ("gateway", ("switch", "shop", "--to", "green"), (),
     ["service/shop", "route/shop", "service/shop-preview"], ["service/shop-blue"]),
    ("gateway", ("promote", "shop", "--full"), ("weight shop 50",),
     ["service/shop", "route/shop", "service/shop-preview"], ["service/shop-green"]),
    ("gateway", ("abort", "shop"), ("weight shop 30",), ["route/shop"],
     ["service/shop", "service/shop-preview", "service/shop-green"]),
    ("gateway", ("rollback", "shop"), ("promote shop --full",),
     ["service/shop", "route/shop", "service/shop-preview"], ["service/shop-blue"]),
]


def _runs() -> list[Any]:
    """Each object of each case, patched before one write (cycling through the writes)."""
    runs = []
    for router, verb, setup, writes, watched in CASES:
        for i, obj in enumerate(writes + watched):
            point = i % len(writes) + 1
            runs.append(pytest.param(router, verb, setup, point, obj,
                                     id=f"{router}-{verb[0]}{'-full' if '--full' in verb else ''}"
                                        f"-{obj}-before-write-{point}"))
    return runs


@pytest.mark.parametrize(("router", "verb", "setup", "point", "obj"), _runs())
def test_a_patch_at_the_hold_point_stops_the_change(
        lab: Lab, lab_namespace: str, tmp_path: Path, router: str, verb: tuple[str, ...],
        setup: tuple[str, ...], point: int, obj: str) -> None:
    ns = lab_namespace
    prepare(lab, ns, router, setup)
    before = routing_state(lab, ns)
    done = held(lab, ns, verb, f"write-{point}", tmp_path / "gate", lambda: patch(lab, ns, obj))
    assert done.returncode == 5, (done.stdout, done.stderr)
    assert "changed by someone else" in done.stderr and f"{obj} was changed" in done.stderr
    assert f"Stopped before write {point} of" in done.stderr
    shown = status(lab, ns)
    live, blue, green = independent_traffic(routing_state(lab, ns))
    assert (shown["live"], shown["weights"]["blue"], shown["weights"]["green"]) == (
        live, blue, green)
    if point == 1:
        assert shown["operation"] is None, "nothing was written: nothing to resume"
    else:
        assert shown["operation"] is not None and shown["drift"] is not None
        assert "resume" in done.stderr and "--back" in done.stderr
    back = turnout(lab, "-n", ns, "resume", "shop", "--back", "--yes")
    assert back.code == 0, back.err
    after = routing_state(lab, ns)
    assert independent_traffic(after) == independent_traffic(before)
    assert after["services"] == before["services"]
    assert status(lab, ns)["operation"] is None and status(lab, ns)["drift"] is None


def test_a_selector_flip_mid_switch_is_named_in_the_diff(lab: Lab, lab_namespace: str,
                                                          tmp_path: Path) -> None:
    """The issue's case: preview patched while a switch holds; status is never 60/40."""
    from kubernetes import client

    ns = lab_namespace
    prepare(lab, ns, "nginx", ())

    def flip() -> None:
        api = lab.api_client()
        try:
            client.CoreV1Api(api).patch_namespaced_service(
                "shop", ns, {"spec": {"selector": {COLOR: "green"}}})
        finally:
            api.close()

    done = held(lab, ns, ("weight", "shop", "40"), "write-1", tmp_path / "gate", flip)
    assert done.returncode == 5, done.stderr
    assert "was: service/shop selects blue" in done.stderr
    assert "now: service/shop selects green" in done.stderr
    shown = status(lab, ns)
    assert (shown["live"], shown["weights"]) == ("green", {"blue": 0, "green": 100})
    assert shown["drift"] is not None
    assert any("both select green" in r for r in shown["drift"]["reasons"])
    assert get(lab, ns, "ingress/shop-canary")["metadata"]["annotations"][WEIGHT] == "10"


def test_a_deploys_switch_stopped_half_way_is_undone_and_reported(
        lab: Lab, lab_namespace: str, tmp_path: Path) -> None:
    """Deploy's traffic step is the same guarded change: patched between its writes, the
    promotion stops, the flow fails, and its restore undoes the half-done switch."""
    ns = lab_namespace
    prepare(lab, ns, "nginx", ("weight shop 0",))
    before = routing_state(lab, ns)
    done = held(lab, ns, ("deploy", "shop", "--image", "registry.local/shop:1.6.0",
                          "--strategy", "instant", "--analysis", "1s", "--interval", "0.5s"),
                "traffic-write-2", tmp_path / "gate",
                lambda: patch(lab, ns, "ingress/shop-canary"))
    assert done.returncode == 22, (done.stdout, done.stderr)
    assert "ingress/shop-canary was changed" in done.stdout + done.stderr
    after = routing_state(lab, ns)
    assert after["services"] == before["services"]
    assert independent_traffic(after) == independent_traffic(before) == ("blue", 100, 0)
    shown = status(lab, ns)
    assert shown["operation"] is None and shown["drift"] is None
