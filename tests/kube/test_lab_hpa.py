"""HPA-aware scaling against the lab: Turnout acts through an HPA's bounds, never against it.

The lab has no metrics-server; kube-controller-manager's HPA controller still runs and
enforces each HPA's bounds, so bounds are what decide a governed color's replicas here.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.kube.conftest import get, kubectl, seed_app, turnout
from tests.kube.test_lab_unfinished import killed_after_first_write
from tests.lab.conftest import Lab
from tests.release.test_lab_release import deploy, replicas, settled_shop
from turnout.backend.demo.manifests import autoscaler
from turnout.backend.scaling import BOUNDS_ANNOTATION

pytestmark = pytest.mark.lab


def with_hpas(lab: Lab, ns: str) -> None:
    items = [autoscaler("shop", c, minimum=2, maximum=10) for c in ("blue", "green")]
    kubectl(lab, "-n", ns, "apply", "-f", "-",
            stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))


def hpa(lab: Lab, ns: str, color: str) -> tuple[int, int, str | None]:
    found: dict[str, Any] = get(lab, ns, f"hpa/shop-{color}")
    notes = found["metadata"].get("annotations") or {}
    return (found["spec"]["minReplicas"], found["spec"]["maxReplicas"],
            notes.get(BOUNDS_ANNOTATION))


def hpa_specs(lab: Lab, ns: str) -> dict[str, Any]:
    """Each color's HPA spec, as the API server has it."""
    return {c: get(lab, ns, f"hpa/shop-{c}")["spec"] for c in ("blue", "green")}


def assert_hpas_as_before(lab: Lab, ns: str, before: dict[str, Any]) -> None:
    for color in ("blue", "green"):
        assert get(lab, ns, f"hpa/shop-{color}")["spec"] == before[color]
        assert hpa(lab, ns, color)[2] is None


def green_raised_to_five(lab: Lab, ns: str) -> None:
    """The settled shop under HPAs (2..10), green scaled to 5 through its HPA's bounds."""
    settled_shop(lab, ns)
    with_hpas(lab, ns)
    assert turnout(lab, "-n", ns, "scale", "shop", "green", "5", "--yes").code == 0
    assert hpa(lab, ns, "green") == (5, 10, "2,10")


def test_scale_under_an_hpa_moves_its_bounds_says_so_and_gives_them_back(
        lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    seed_app(lab, ns, "shop", "nginx")
    with_hpas(lab, ns)
    refused = turnout(lab, "-n", ns, "scale", "shop", "green", "4")
    assert refused.code == 2
    assert "through horizontalpodautoscaler/shop-green: bounds 2..10 -> 4..10" in refused.err
    assert hpa(lab, ns, "green") == (2, 10, None)  # nothing changed without --yes

    up = turnout(lab, "-n", ns, "scale", "shop", "green", "4", "--yes")
    assert up.code == 0, up.err
    assert "bounds 2..10 -> 4..10" in up.err
    assert hpa(lab, ns, "green") == (4, 10, "2,10")
    assert replicas(lab, ns, "green") == 4

    down = turnout(lab, "-n", ns, "scale", "shop", "green", "1", "--yes")
    assert down.code == 0, down.err
    assert "held at the HPA's minimum 2 (asked 1)" in down.err
    assert "gets its own bounds 2..10 back" in down.err
    assert hpa(lab, ns, "green") == (2, 10, None)
    assert replicas(lab, ns, "green") == 2
    assert hpa(lab, ns, "blue") == (2, 10, None)  # the other color's HPA was never touched


def test_made_live_the_color_gets_its_hpa_bounds_back(lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    green_raised_to_five(lab, ns)
    switched = turnout(lab, "-n", ns, "switch", "shop", "--to", "green", "--yes")
    assert switched.code == 0, switched.err
    assert hpa(lab, ns, "green") == (2, 10, None)
    assert replicas(lab, ns, "green") == 5  # the HPA decides from here on


def test_a_deploy_leaves_the_old_color_at_the_hpa_minimum_and_the_hpas_as_they_were(
        lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    settled_shop(lab, ns)
    with_hpas(lab, ns)
    before = hpa_specs(lab, ns)
    # The confirmation says the old color's scale-down is held by its HPA.
    asked = turnout(lab, "-n", ns, "deploy", "shop", "--image", "registry.local/shop:1.6.0")
    assert asked.code == 2
    assert ("then scale " + ns + "/shop blue in context lab: replicas 3 -> 2, held at the "
            "HPA's minimum 2 (asked 1); horizontalpodautoscaler/shop-blue keeps its bounds "
            "2..10") in asked.err, asked.err
    run = turnout(lab, *deploy(lab, ns, "registry.local/shop:1.6.0", "--analysis", "1s",
                               "--monitor", "1s")[3:])
    assert run.code == 0, run.err
    assert json.loads(run.out)["outcome"] == "promoted"
    assert "held at the HPA's minimum 2 (asked 1)" in run.err
    assert replicas(lab, ns, "blue") == 2  # asked 1: the HPA's minimum holds it at 2
    assert replicas(lab, ns, "green") == 3
    assert_hpas_as_before(lab, ns, before)


def test_a_failed_deploys_restore_gives_the_new_colors_hpa_its_own_bounds_back(
        lab: Lab, lab_namespace: str) -> None:
    # blue live at 4, green idle at 3: the deploy raises green's HPA to 4..10, and the
    # restore puts green back to 3, above the HPA's minimum 2.
    ns = lab_namespace
    settled_shop(lab, ns)
    kubectl(lab, "-n", ns, "scale", "deployment/shop-blue", "--replicas=4")
    kubectl(lab, "-n", ns, "wait", "--for=jsonpath={.status.readyReplicas}=4", "--timeout=90s",
            "deployment/shop-blue")
    with_hpas(lab, ns)
    before = hpa_specs(lab, ns)
    crash = {"spec": {"template": {"metadata": {"labels": {"lab.turnout.dev/crashloop": "true"}}}}}
    kubectl(lab, "-n", ns, "patch", "deployment/shop-green", "--type=merge", "-p",
            json.dumps(crash))
    run = turnout(lab, *deploy(lab, ns, "registry.local/shop:1.6.0", "--analysis", "2s",
                               "--progress-deadline", "40s")[3:])
    assert run.code in (20, 22), run.err
    assert json.loads(run.out)["outcome"] == "rolled-back"
    said = [e["message"] for e in get(lab, ns, "events")["items"]
            if e["reason"] == "TurnoutSlot"]
    assert any("shop-green: bounds 2..10 -> 4..10" in m for m in said), said  # raised, then
    assert (replicas(lab, ns, "blue"), replicas(lab, ns, "green")) == (4, 3)
    assert_hpas_as_before(lab, ns, before)


def test_a_color_made_live_by_resume_gets_its_hpa_bounds_back(
        lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    green_raised_to_five(lab, ns)
    killed_after_first_write(lab, ns, ("switch", "shop", "--to", "green"))
    assert hpa(lab, ns, "green") == (5, 10, "2,10")  # killed before it could give them back
    resumed = turnout(lab, "-n", ns, "resume", "shop", "--yes")
    assert resumed.code == 0, resumed.err
    assert hpa(lab, ns, "green") == (2, 10, None)
    assert hpa(lab, ns, "blue") == (2, 10, None)
