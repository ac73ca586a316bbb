"""The app checklist, pure: the production shape passes, each weakness fails where it is."""

from __future__ import annotations

import copy
import json
import string
from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_cli import turnout
from turnout.backend.checklist import (
    PSS_LABEL,
    RANK,
    CheckItem,
    Checklist,
    Manifests,
    audit,
    quantity,
    selects,
)
from turnout.backend.config import Conventions
from turnout.backend.demo.manifests import app_objects, manifests
from turnout.backend.sanitize import inert

CONV = Conventions()


def shaped(**change: Any) -> list[dict[str, Any]]:
    return app_objects("shop", {"blue": "1.4.2", "green": "1.5.0"}, CONV, **change)


def checked(objects: list[dict[str, Any]], labels: dict[str, str] | None = None) -> Checklist:
    return audit(manifests("shop", "shop", "blue", objects, labels), "lab")


def failing(checklist: Checklist) -> set[tuple[str, str]]:
    return {(i.item, i.object) for i in checklist.failed}


def test_the_production_shape_passes_every_item() -> None:
    checklist = checked(shaped())
    assert checklist.status == "pass"
    assert {i.status for i in checklist.items} == {"pass"}
    items = {i.item for i in checklist.items}
    assert {"replicas", "maxSurge", "maxUnavailable", "liveness probe", "readiness probe",
            "startup probe", "cpu request", "memory limit", "non-root user",
            "read-only root filesystem", "no privilege escalation", "capabilities dropped",
            "seccomp profile", "HPA minimum", "HPA cpu target", "PodDisruptionBudget",
            "NetworkPolicy", "Ingress TLS", "Pod Security Standards"} <= items


def _weakened(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """No PDB, the blue color running as root, green without probes."""
    objects = [o for o in copy.deepcopy(objects) if o["kind"] != "PodDisruptionBudget"]
    blue, green = (o for o in objects if o["kind"] == "Deployment")
    pod = blue["spec"]["template"]["spec"]
    pod["securityContext"] = {"runAsUser": 0}
    pod["containers"][0]["securityContext"] = {}
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        del green["spec"]["template"]["spec"]["containers"][0][key]
    return objects


def test_a_weakened_app_fails_with_the_right_items_and_fields() -> None:
    checklist = checked(_weakened(shaped()))
    assert checklist.status == "fail"
    assert failing(checklist) == {
        ("PodDisruptionBudget", "deployment/shop-blue"),
        ("PodDisruptionBudget", "deployment/shop-green"),
        ("non-root user", "deployment/shop-blue"),
        ("read-only root filesystem", "deployment/shop-blue"),
        ("no privilege escalation", "deployment/shop-blue"),
        ("capabilities dropped", "deployment/shop-blue"),
        ("seccomp profile", "deployment/shop-blue"),
        ("liveness probe", "deployment/shop-green"),
        ("readiness probe", "deployment/shop-green"),
    }
    root = next(i for i in checklist.items if i.item == "non-root user" and i.status == "fail")
    assert root.field == "spec.template.spec.containers[app].securityContext.runAsUser"
    assert "runAsUser=0" in root.actual
    startup = next(i for i in checklist.items
                   if i.item == "startup probe" and i.object == "deployment/shop-green")
    assert startup.status == "warn"


def test_values_off_the_specification_warn_with_what_was_found() -> None:
    objects = shaped()
    dep = objects[0]
    dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] = "25%"
    dep["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "0.2"
    dep["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "1Gi"
    items = {(i.item, i.object): i for i in checked(objects).items}
    assert items[("maxUnavailable", "deployment/shop-blue")].status == "warn"
    assert items[("maxUnavailable", "deployment/shop-blue")].actual == "25%"
    assert items[("cpu request", "deployment/shop-blue")].status == "pass"  # 0.2 == 200m
    assert items[("memory limit", "deployment/shop-blue")].status == "warn"


def test_recreate_no_policy_no_tls_and_no_pss_label_fail() -> None:
    objects = [o for o in shaped() if o["kind"] != "NetworkPolicy"]
    objects[0]["spec"]["strategy"] = {"type": "Recreate"}
    next(o for o in objects if o["kind"] == "Ingress")["spec"].pop("tls")
    checklist = checked(objects, {PSS_LABEL: "baseline"})
    assert {"rollout strategy", "NetworkPolicy", "Ingress TLS",
            "Pod Security Standards"} <= {i.item for i in checklist.failed}


def test_an_ingress_only_policy_warns_egress_is_open() -> None:
    objects = shaped()
    next(o for o in objects if o["kind"] == "NetworkPolicy")["spec"]["policyTypes"] = ["Ingress"]
    policy = [i for i in checked(objects).items if i.item == "NetworkPolicy"]
    assert {i.status for i in policy} == {"warn"}


def test_what_could_not_be_read_is_unknown_and_fails() -> None:
    m = manifests("shop", "shop", "blue", shaped())
    blind = Manifests(**{**msgspec.structs.asdict(m), "pdbs": (), "namespace_labels": None,
                         "unreadable": {"poddisruptionbudgets": "forbidden",
                                        "namespaces": "forbidden"}})
    checklist = audit(blind)
    unknown = [i for i in checklist.items if i.actual.startswith("unknown")]
    assert {i.item for i in unknown} == {"PodDisruptionBudget", "Pod Security Standards"}
    assert all(i.status == "fail" for i in unknown)


def test_a_missing_color_fails_and_an_empty_checklist_cannot_pass() -> None:
    objects = [o for o in shaped() if o["metadata"]["name"] != "shop-green"]
    assert ("Deployment", "green color") in failing(checked(objects))
    assert Checklist(app="a", namespace="n", context="c", items=()).status == "fail"


@given(st.integers(min_value=0, max_value=10**6),
       st.sampled_from(["", "m", "k", "Ki", "Mi", "Gi"]))
def test_quantities_parse_as_kubernetes_spells_them(n: int, suffix: str) -> None:
    scale = {"": 1, "m": 1e-3, "k": 1e3, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}[suffix]
    assert quantity(f"{n}{suffix}") == n * scale


@given(st.text(max_size=12))
def test_anything_else_is_not_a_quantity_or_parses(text: str) -> None:
    value = quantity(text)
    assert value is None or value >= 0


LABELS = st.dictionaries(st.sampled_from(["app", "color", "tier"]),
                         st.sampled_from(["a", "b"]), max_size=3)


@given(LABELS, LABELS)
def test_match_labels_select_exactly_their_supersets(wanted: dict[str, str],
                                                    labels: dict[str, str]) -> None:
    expected = all(labels.get(k) == v for k, v in wanted.items())
    assert selects({"matchLabels": wanted}, labels) is expected
    exprs = [{"key": k, "operator": "In", "values": [v]} for k, v in wanted.items()]
    assert selects({"matchExpressions": exprs}, labels) is expected


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(string.printable + "\x1b\u202e", max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["spec", "template", "containers", "securityContext", "name",
                         "runAsUser", "resources", "limits", "cpu", "livenessProbe", "metadata"]),
        inner, max_size=4), max_leaves=20)


@given(JSONISH, JSONISH)
def test_any_object_yields_a_verdict_of_inert_text(blue: Any, green: Any) -> None:
    """Whatever the API server sends, every item is one of three statuses and its text is
    safe to print; the checklist's status is its worst item."""
    deployments = {c: d if isinstance(d, dict) else None for c, d in
                   (("blue", blue), ("green", green))}
    m = Manifests(app="shop", namespace="shop", live="blue", deployments=deployments,
                  namespace_labels={})
    checklist = audit(m)
    for item in checklist.items:
        assert item.status in RANK
        for text in (item.object, item.field, item.actual, item.expected):
            assert text == inert(text, single_line=True)
    assert RANK[checklist.status] == max(RANK[i.status] for i in checklist.items)


def test_cli_check_prints_items_and_exits_40_when_one_fails() -> None:
    done = turnout("--demo", "check", "checkout", "-o", "json")
    assert done.returncode == 40, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == "fail"
    failed = {(i["item"], i["object"]) for i in data["items"] if i["status"] == "fail"}
    assert failed == {("PodDisruptionBudget", "deployment/checkout-blue"),
                      ("PodDisruptionBudget", "deployment/checkout-green")}
    assert len(done.stderr.strip().splitlines()) == 1 and "PodDisruptionBudget" in done.stderr
    ok = turnout("--demo", "check", "search")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0].split()[:3] == ["STATUS", "ITEM", "OBJECT"]


def test_items_are_frozen_records() -> None:
    item = CheckItem(item="x", status="pass", object="o", field="f", expected="e", actual="a")
    assert json.loads(json.dumps({"s": item.status}))["s"] == "pass"
