"""`turnout pod APP [POD]` against the lab: the app's pods, one described with its events and
log tail, everything from the cluster made inert, and nobody else's pod read through it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.kube.conftest import get, kubectl, seed_app, turnout
from tests.kube.test_lab_events import post_event
from tests.lab.conftest import Lab
from tests.lab.podlogs import arrange_logs

pytestmark = pytest.mark.lab
HOSTILE = "note \x1b]0;pwned\x07[@click=app.quit]\x1b[2J\u202eevil"


def green_pod(lab: Lab, ns: str, app: str = "shop") -> str:
    pods = get(lab, ns, "pods")["items"]
    return sorted(p["metadata"]["name"] for p in pods
                  if p["metadata"]["labels"].get("app.kubernetes.io/name") == app
                  and p["metadata"]["labels"].get("turnout.dev/color") == "green")[0]


def described(lab: Lab, ns: str, pod: str, *args: str, context: str = "lab") -> dict[str, Any]:
    run = turnout(lab, "--context", context, "-n", ns, "pod", "shop", pod, "-o", "json", *args)
    assert run.code == 0, run.err
    return json.loads(run.out)  # type: ignore[no-any-return]


def test_a_pod_described_with_its_events_and_log_tail_all_inert(
        lab: Lab, kube: object, lab_namespace: str, tmp_path: Path) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    pod = green_pod(lab, lab_namespace)
    kubectl(lab, "-n", lab_namespace, "annotate", "pod", pod, f"team.example/note={HOSTILE}")
    post_event(lab, lab_namespace, "probe", "Pod", pod, "Readiness probe failed: 503")
    arrange_logs(kube, lab_namespace, pod, ["INFO started", f"ERROR {HOSTILE}"], tmp_path)

    listed = turnout(lab, "-n", lab_namespace, "pod", "shop")
    assert listed.code == 0, listed.err
    assert len(listed.out.splitlines()) == 1 + 6 and pod in listed.out  # header and 3 + 3 pods

    deadline = time.monotonic() + 60  # kwok learns of the Logs object through its watch
    while (found := described(lab, lab_namespace, pod, "--logs", "5"))["logs"] != [
            "INFO started", "ERROR note [@click=app.quit]evil"]:
        assert time.monotonic() < deadline, found["logs"]
        time.sleep(0.25)
    assert found["pod"]["name"] == pod and found["pod"]["color"] == "green"
    assert ["turnout.dev/color", "green"] in found["labels"]
    assert ["team.example/note", "note [@click=app.quit]evil"] in found["annotations"]
    assert found["ip"] and found["pod"]["node"]
    [container] = found["containers"]
    assert container["state"] == "running" and container["image"]
    assert ["Ready", "True"] in found["conditions"]
    probe = [e for e in found["events"] if e["reason"] == "Unhealthy"]
    assert probe and probe[0]["message"] == "Readiness probe failed: 503"
    assert all(e["object"] == f"Pod/{pod}" for e in found["events"])

    text = turnout(lab, "-n", lab_namespace, "pod", "shop", pod)
    assert text.code == 0, text.err
    assert "team.example/note=note [@click=app.quit]evil" in text.out
    assert "\x1b" not in text.out and "\x07" not in text.out and "\u202e" not in text.out
    assert "Readiness probe failed: 503" in text.out and "ERROR note" in text.out

    readonly = described(lab, lab_namespace, pod, "--logs", "1", context="lab-readonly")
    assert readonly["logs"] == ["ERROR note [@click=app.quit]evil"]


def test_only_the_apps_own_pods_and_bad_input_is_one_line(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    seed_app(lab, lab_namespace, "cart", "service")
    other = green_pod(lab, lab_namespace, "cart")
    refused = turnout(lab, "-n", lab_namespace, "pod", "shop", other)
    assert refused.code == 4 and refused.err.count("\n") == 1
    assert f"no pod '{other}' in {lab_namespace}/shop" in refused.err
    bad = turnout(lab, "-n", lab_namespace, "pod", "shop", green_pod(lab, lab_namespace),
                  "--logs", "5000")
    assert bad.code == 2 and bad.err.count("\n") == 1 and "0..1000" in bad.err


def test_a_pod_with_a_sidecar_shows_its_default_containers_log(
        lab: Lab, kube: object, lab_namespace: str, tmp_path: Path) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    patch = {"spec": {"template": {
        "metadata": {"annotations": {"kubectl.kubernetes.io/default-container": "app"}},
        "spec": {"containers": [{"name": "proxy", "image": "registry.local/mesh-proxy:1"},
                                {"name": "app", "image": "registry.local/shop:1.0.0"}]}}}}
    kubectl(lab, "-n", lab_namespace, "patch", "deployment", "shop-green", "--type", "strategic",
            "-p", json.dumps(patch))
    deadline = time.monotonic() + 60  # the rollout replaces the pods with two-container ones
    while True:
        pods = [p for p in get(lab, lab_namespace, "pods")["items"]
                if p["metadata"]["labels"].get("turnout.dev/color") == "green"
                and len(p["spec"]["containers"]) == 2 and p["status"].get("phase") == "Running"
                and not p["metadata"].get("deletionTimestamp")]
        if pods:
            break
        assert time.monotonic() < deadline, "no two-container pod ran"
        time.sleep(0.5)
    pod = pods[0]["metadata"]["name"]
    arrange_logs(kube, lab_namespace, pod, ["INFO from the app"], tmp_path)
    deadline = time.monotonic() + 60  # kwok learns of the Logs object through its watch
    while (found := described(lab, lab_namespace, pod, "--logs", "5"))["logs"] != ["INFO from the app"]:
        assert time.monotonic() < deadline, (found["logs"], found["logs_note"])
        time.sleep(0.25)
    assert found["log_container"] == "app" and found["logs_note"] == ""
    assert [c["name"] for c in found["containers"]] == ["proxy", "app"]
