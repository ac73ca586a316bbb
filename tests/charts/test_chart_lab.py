"""The app chart against the lab: every value set passes the API server's validation and
admission (dry run), Pod Security `restricted` admits its pods and refuses weakened ones,
an installed app is a Turnout app every verb works on, and the lab's apps come from it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.charts.charts import APP_CHART, VALUE_SETS, by_kind, render, run_helm, value_set, values_file
from tests.kube.conftest import get, turnout
from tests.lab.conftest import Lab

pytestmark = pytest.mark.lab


def dynamic(kube):  # -> kubernetes.dynamic.DynamicClient
    from kubernetes.dynamic import DynamicClient

    return DynamicClient(kube)


def dry_run_create(client, obj: dict[str, Any], namespace: str) -> None:
    """Create `obj` with dryRun=All: validation and every admission plugin, nothing stored."""
    api = client.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    kwargs = {"namespace": namespace} if api.namespaced else {}
    api.create(body=obj, dry_run="All", **kwargs)


def install(lab: Lab, namespace: str, values: dict[str, Any], home: Path, release: str = "shop") -> None:
    run_helm("install", release, str(APP_CHART), "--namespace", namespace, "--kubeconfig",
             lab.kubeconfig, "--kube-context", "lab", "--wait", "--timeout", "120s",
             "--values", str(values_file(values, home)), home=home)


def pod_of(deployment: dict[str, Any]) -> dict[str, Any]:
    """A Pod made from a Deployment's template: PodSecurity enforces on Pods only."""
    template = deployment["spec"]["template"]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "probe", "labels": template["metadata"]["labels"]},
            "spec": template["spec"]}


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_every_rendered_object_passes_a_server_side_dry_run(
        name: str, lab: Lab, kube, restricted_namespace: str, tmp_path: Path) -> None:
    client = dynamic(kube)
    objects = render(VALUE_SETS[name], tmp_path, namespace=restricted_namespace)
    for obj in objects:
        if obj["kind"] == "Gateway":  # the lab's GatewayClass is `lab`
            obj["spec"]["gatewayClassName"] = "lab"
        dry_run_create(client, obj, restricted_namespace)
    for deployment in by_kind(objects, "Deployment").values():
        dry_run_create(client, pod_of(deployment), restricted_namespace)


def test_restricted_admission_refuses_a_weakened_pod(lab: Lab, kube, restricted_namespace: str,
                                                     tmp_path: Path) -> None:
    from kubernetes.client.exceptions import ApiException

    deployment = by_kind(render(value_set("none", tls=False, hpa=False), tmp_path),
                         "Deployment")["shop-blue"]
    weak = copy.deepcopy(pod_of(deployment))
    container = weak["spec"]["containers"][0]
    container["securityContext"] = {"runAsUser": 0, "allowPrivilegeEscalation": True}
    weak["spec"]["securityContext"] = {}
    with pytest.raises(ApiException) as refused:
        dry_run_create(dynamic(kube), weak, restricted_namespace)
    assert refused.value.status == 403 and "PodSecurity" in refused.value.body


def test_an_installed_app_is_discovered_and_switched(lab: Lab, restricted_namespace: str,
                                                     tmp_path: Path) -> None:
    ns = restricted_namespace
    install(lab, ns, {**value_set("gateway", tls=True, hpa=False), "replicas": 2,
                      "gateway": {"name": "edge", "create": True, "className": "lab"}}, tmp_path)
    status = turnout(lab, "status", "shop", "-n", ns, "-o", "json")
    assert status.code == 0, status.err
    app = json.loads(status.out)
    assert (app["live"], app["router"], app["weights"]) == ("blue", "gateway", {"blue": 90, "green": 10})
    assert {c: (s["version"], s["desired"]) for c, s in app["colors"].items()} == {
        "blue": ("1.4.2", 2), "green": ("1.5.0", 2)}
    switched = turnout(lab, "switch", "shop", "-n", ns, "--to", "green", "--yes")
    assert switched.code == 0, switched.err
    assert get(lab, ns, "service/shop")["spec"]["selector"]["turnout.dev/color"] == "green"
    refs = get(lab, ns, "httproute/shop")["spec"]["rules"][0]["backendRefs"]
    assert {r["name"]: r["weight"] for r in refs} == {"shop-blue": 0, "shop-green": 100}


def test_an_app_with_hpa_installs_and_takes_canary_weights(lab: Lab, restricted_namespace: str,
                                                           tmp_path: Path) -> None:
    ns = restricted_namespace
    install(lab, ns, value_set("nginx", tls=True, hpa=True), tmp_path)
    assert sorted(h["metadata"]["name"] for h in get(lab, ns, "hpa")["items"]) == [
        "shop-blue", "shop-green"]
    moved = turnout(lab, "weight", "shop", "30", "-n", ns, "--yes")
    assert moved.code == 0, moved.err
    canary = get(lab, ns, "ingress/shop-canary")["metadata"]["annotations"]
    assert canary["nginx.ingress.kubernetes.io/canary-weight"] == "30"


def test_the_lab_apps_are_helm_releases_in_restricted_namespaces(lab: Lab, tmp_path: Path) -> None:
    for app in lab.env["apps"]:
        ns = app["namespace"]
        labels = get(lab, "default", f"namespace/{ns}")["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        listed = run_helm("list", "--namespace", ns, "--kubeconfig", lab.kubeconfig,
                          "--kube-context", "lab", "-o", "json", home=tmp_path).stdout
        (release,) = [r for r in json.loads(listed) if r["name"] == app["name"]]
        assert release["status"] == "deployed" and release["chart"].startswith("turnout-app-")


def test_the_turnout_chart_passes_a_server_side_dry_run(lab: Lab, kube, restricted_namespace: str,
                                                        tmp_path: Path) -> None:
    """The guard (its pod under PSS restricted too), both roles and example bindings.
    Cluster-wide objects get a unique name: a dry-run create of an existing name is a 409."""
    from tests.charts.charts import TURNOUT_CHART

    client = dynamic(kube)
    values = {"roles": {"operators": {"groups": ["sre"]}, "viewers": {"users": ["ann"]}}}
    objects = render(values, tmp_path, chart=TURNOUT_CHART, namespace=restricted_namespace,
                     release="turnout")
    suffix = restricted_namespace.rsplit("-", 1)[1]
    for obj in objects:
        if obj["kind"] in ("ClusterRole", "ClusterRoleBinding"):
            obj["metadata"]["name"] += f"-{suffix}"
        dry_run_create(client, obj, restricted_namespace)
    dry_run_create(client, pod_of(by_kind(objects, "Deployment")["turnout-guard"]),
                   restricted_namespace)
