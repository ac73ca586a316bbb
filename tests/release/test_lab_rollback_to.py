"""Issue 18's acceptance for `rollback --to VERSION` against the lab: the real CLI, a real
API server. A version no color runs comes back from the history through the deploy flow."""

from __future__ import annotations

import json

import pytest

from tests.kube.conftest import get, kubectl, turnout
from tests.lab.conftest import Lab
from tests.release.test_lab_release import FAST, configmaps, deploy, history, selector, settled_shop

pytestmark = pytest.mark.lab
QUICK = ("--analysis", "1s", "--monitor", "1s")


def settled(lab: Lab, ns: str) -> None:
    """Both colors rolled out: a deploy's conditional write must not race the controllers'
    own updates of the Deployment it writes into."""
    for color in ("blue", "green"):
        kubectl(lab, "-n", ns, "rollout", "status", f"deployment/shop-{color}", "--timeout=90s")


def released(lab: Lab, ns: str, *versions: str) -> None:
    """The shop app settled, then each version deployed in turn (each promoted)."""
    settled_shop(lab, ns)
    for version in versions:
        settled(lab, ns)
        run = turnout(lab, *deploy(lab, ns, f"registry.local/shop:{version}", *QUICK)[3:])
        assert run.code == 0, run.err
    settled(lab, ns)


def image(lab: Lab, ns: str, color: str) -> str:
    spec = get(lab, ns, f"deployment/shop-{color}")["spec"]["template"]["spec"]
    return str(spec["containers"][0]["image"])


def test_rollback_to_a_released_version_redeploys_it_through_the_flow(
        lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    released(lab, ns, "1.0", "1.1", "1.2")
    assert (selector(lab, ns, "shop"), image(lab, ns, "green"), image(lab, ns, "blue")) == (
        "green", "registry.local/shop:1.2", "registry.local/shop:1.1")

    run = turnout(lab, "-n", ns, "rollback", "shop", "--to", "1.0", *FAST, *QUICK)
    assert run.code == 0, run.err
    release = json.loads(run.out)
    assert (release["outcome"], release["version"], release["from_color"], release["to_color"]) == (
        "promoted", "1.0", "green", "blue")
    assert (selector(lab, ns, "shop"), image(lab, ns, "blue")) == ("blue", "registry.local/shop:1.0")
    for check in ("wait until ready", "check the preview color", "analyse at 10 %", "monitor"):
        assert check in run.err  # the deploy flow's own stages ran
    assert [r["version"] for r in history(lab, ns)["releases"]][:4] == ["1.0", "1.2", "1.1", "1.0"]
    assert "turnout-flow-shop" not in configmaps(lab, ns)


def test_rollback_to_an_unknown_version_exits_4_and_changes_nothing(
        lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    released(lab, ns, "1.1")
    before = (selector(lab, ns, "shop"), image(lab, ns, "blue"), image(lab, ns, "green"),
              history(lab, ns)["releases"])
    run = turnout(lab, "-n", ns, "rollback", "shop", "--to", "0.9", "--yes")
    assert run.code == 4 and run.out == ""
    assert "no version '0.9'" in run.err and "1.1" in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert (selector(lab, ns, "shop"), image(lab, ns, "blue"), image(lab, ns, "green"),
            history(lab, ns)["releases"]) == before


def test_rollback_to_a_version_a_color_runs_switches_traffic(lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    released(lab, ns, "1.1")
    old = image(lab, ns, "blue").rpartition(":")[2]
    run = turnout(lab, "-n", ns, "rollback", "shop", "--to", old, "--yes", "-o", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["after"]["live"] == "blue"
    assert selector(lab, ns, "shop") == "blue"
    assert len(history(lab, ns)["releases"]) == 1  # no deploy ran
