"""Issue 8's acceptance against the lab: the real CLI deploying into a real API server.

kwok runs any image, so a bad version is simulated with the lab's crash-loop
label on the new color's pods (or on its pod template).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.kube.conftest import REPO, get, kubectl, seed_app, turnout
from tests.lab.conftest import Lab
from tests.release.conftest import real_checkout

pytestmark = pytest.mark.lab
WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"
CRASHLOOP = "lab.turnout.dev/crashloop=true"
FAST = ("--steps", "10,50,100", "--pause", "0", "--interval", "0.5s", "--yes", "-o", "json")


def settled_shop(lab: Lab, ns: str) -> None:
    """The lab's nginx app, blue live with all traffic (the seed starts at a 10 % canary)."""
    seed_app(lab, ns, "shop", "nginx")
    kubectl(lab, "-n", ns, "annotate", "--overwrite", "ingress/shop-canary", f"{WEIGHT}=0")


def deploy(lab: Lab, ns: str, image: str, *extra: str) -> list[str]:
    return [str(REPO / ".venv/bin/turnout"), "--kubeconfig", lab.kubeconfig, "-n", ns, "deploy",
            "shop", "--image", image, *FAST, *extra]


def started(lab: Lab, ns: str, image: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(deploy(lab, ns, image, *extra), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ))


def wait_for(check: Callable[[], bool], proc: subprocess.Popen[str] | None = None,
             timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"deploy ended early ({proc.returncode}): {proc.communicate()}")
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.2)


def canary_weight(lab: Lab, ns: str) -> str:
    return str(get(lab, ns, "ingress/shop-canary")["metadata"]["annotations"][WEIGHT])


def selector(lab: Lab, ns: str, service: str) -> str:
    return str(get(lab, ns, f"service/{service}")["spec"]["selector"]["turnout.dev/color"])


def replicas(lab: Lab, ns: str, color: str) -> int:
    return int(get(lab, ns, f"deployment/shop-{color}")["spec"]["replicas"])


def history(lab: Lab, ns: str) -> dict[str, Any]:
    run = turnout(lab, "-n", ns, "history", "shop", "-o", "json")
    assert run.code == 0, run.err
    return json.loads(run.out)  # type: ignore[no-any-return]


def configmaps(lab: Lab, ns: str) -> set[str]:
    return {item["metadata"]["name"] for item in get(lab, ns, "configmaps")["items"]}


def test_a_good_canary_is_promoted_and_recorded(lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    settled_shop(lab, ns)
    run = turnout(lab, *deploy(lab, ns, "registry.local/shop:1.6.0", "--analysis", "2s",
                               "--monitor", "1s")[3:])
    assert run.code == 0, run.err
    release = json.loads(run.out)
    assert (release["outcome"], release["from_color"], release["to_color"]) == ("promoted", "blue", "green")
    assert (selector(lab, ns, "shop"), selector(lab, ns, "shop-preview")) == ("green", "blue")
    assert canary_weight(lab, ns) == "0"
    assert (replicas(lab, ns, "blue"), replicas(lab, ns, "green")) == (1, 3)
    image = get(lab, ns, "deployment/shop-green")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.local/shop:1.6.0"
    assert ["shift 10 %" in run.err, "shift 50 %" in run.err] == [True, True]
    recorded = history(lab, ns)
    assert recorded["in_progress"] is None and recorded["releases"][0]["id"] == release["id"]
    assert "turnout-flow-shop" not in configmaps(lab, ns)
    assert get(lab, ns, "leases")["items"] == []  # the flow gave its release lock back


def test_a_crash_looping_canary_is_rolled_back_with_the_restart_counts(
        lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    settled_shop(lab, ns)
    proc = started(lab, ns, "registry.local/shop:1.6.0", "--analysis", "60s")
    wait_for(lambda: canary_weight(lab, ns) == "10", proc)
    kubectl(lab, "-n", ns, "label", "pods", "-l", "turnout.dev/color=green", CRASHLOOP)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 20, err
    release = json.loads(out)
    assert (release["outcome"], release["stage"], release["exit_code"]) == (
        "rolled-back", "analyse at 10 %", 20)
    assert "restarts on green" in release["reason"]
    [restarts] = [v for v in release["verdicts"] if v["signal"] == "restarts"]
    assert restarts["outcome"] == "fail" and restarts["value"] > restarts["threshold"] == 3
    assert (selector(lab, ns, "shop"), canary_weight(lab, ns)) == ("blue", "0")
    assert history(lab, ns)["releases"][0]["reason"] == release["reason"]


def test_a_version_that_never_gets_ready_is_rolled_back(lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    settled_shop(lab, ns)
    patch = {"spec": {"template": {"metadata": {"labels": {"lab.turnout.dev/crashloop": "true"}}}}}
    kubectl(lab, "-n", ns, "patch", "deployment/shop-green", "--type=merge", "-p", json.dumps(patch))
    run = turnout(lab, *deploy(lab, ns, "registry.local/shop:1.6.0", "--analysis", "2s",
                               "--progress-deadline", "40s")[3:])
    release = json.loads(run.out)
    assert (run.code, release["outcome"], release["stage"]) == (20, "rolled-back", "wait until ready")
    assert release["exposed_at"] is None  # no request ever reached the bad version
    assert (selector(lab, ns, "shop"), canary_weight(lab, ns)) == ("blue", "0")


def test_a_killed_deploy_is_finished_by_resume(lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    settled_shop(lab, ns)
    proc = started(lab, ns, "registry.local/shop:1.6.0", "--analysis", "3s", "--monitor", "1s")
    wait_for(lambda: canary_weight(lab, ns) == "50", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    flow = history(lab, ns)["in_progress"]
    assert flow is not None and flow["stage"] in ("shift 50 %", "analyse at 50 %")
    run = turnout(lab, "-n", ns, "resume", "shop", "--yes", "-o", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["outcome"] == "promoted"
    assert (selector(lab, ns, "shop"), canary_weight(lab, ns), replicas(lab, ns, "blue")) == (
        "green", "0", 1)
    again = turnout(lab, "-n", ns, "resume", "shop", "--yes")
    assert again.code == 0 and "nothing to do" in again.out
    assert [r["outcome"] for r in history(lab, ns)["releases"]] == ["promoted"]


def test_abort_mid_flow_restores_the_old_color(lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    settled_shop(lab, ns)
    proc = started(lab, ns, "registry.local/shop:1.6.0", "--analysis", "60s")
    wait_for(lambda: canary_weight(lab, ns) == "10", proc)
    run = turnout(lab, "-n", ns, "abort", "shop", "--yes", "-o", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["outcome"] == "aborted"
    proc.communicate(timeout=30)
    assert proc.returncode == 21
    assert (selector(lab, ns, "shop"), canary_weight(lab, ns)) == ("blue", "0")


def test_dora_figures_come_from_the_recorded_history(lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    settled_shop(lab, ns)
    committed = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    good = turnout(lab, *deploy(lab, ns, "registry.local/shop:1.6.0", "--analysis", "1s",
                                "--commit-time", committed)[3:])
    assert good.code == 0, good.err
    proc = started(lab, ns, "registry.local/shop:1.7.0", "--analysis", "60s")
    wait_for(lambda: canary_weight(lab, ns) == "10", proc)
    kubectl(lab, "-n", ns, "label", "pods", "-l", "turnout.dev/color=blue", CRASHLOOP)
    proc.communicate(timeout=60)
    assert proc.returncode == 20
    run = turnout(lab, "-n", ns, "dora", "shop", "--since", "1d", "-o", "json")
    figures = json.loads(run.out)
    assert (run.code, figures["releases"], figures["outcomes"]["promoted"],
            figures["outcomes"]["rolled-back"]) == (0, 2, 1, 1)
    assert figures["change_failure_rate"] == 0.5 and figures["success_rate"] == 0.5
    assert figures["lead_time"]["count"] == 1 and 3600 <= figures["lead_time"]["median"] < 3700
    assert figures["rollback_time"]["count"] == 1 and figures["rollback_time"]["median"] < 60  # inside 2 min
    assert figures["time_to_restore"]["count"] == 1
    assert figures["deployment_frequency_per_day"] == 1.0


def fault(lab: Lab, color: str, error_rate: float) -> None:
    """Set the injected error rate of the lab's checkout demo service of `color`."""
    import httpx

    httpx.post(f"{lab.demo_url('checkout', color)}/admin/fault", json={"error_rate": error_rate},
               timeout=5).raise_for_status()


def test_errors_injected_into_the_canary_roll_it_back(lab: Lab, lab_namespace: str) -> None:
    """Prometheus scrapes the lab's checkout demo services; the guard's error-rate trigger
    judges the canary's ratio during the flow's analysis."""
    ns = lab_namespace
    real_checkout(lab, ns)
    fault(lab, "green", 0.0)
    command = deploy(lab, ns, "registry.local/checkout:1.6.0", "--analysis", "60s")
    command[command.index("shop")] = "checkout"
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TURNOUT_PROMETHEUS_URL": lab.env["prometheus_url"]})
    try:
        wait_for(lambda: str(get(lab, ns, "ingress/checkout-canary")["metadata"]["annotations"][
            WEIGHT]) == "10", proc)
        injected = time.monotonic()
        fault(lab, "green", 0.5)
        out, err = proc.communicate(timeout=60)
    finally:
        fault(lab, "green", 0.0)
    assert proc.returncode == 20, err
    release = json.loads(out)
    [rate] = [v for v in release["verdicts"] if v["signal"] == "error-rate"]
    assert rate["outcome"] == "fail" and rate["value"] > rate["threshold"] == 0.05
    assert 'app="checkout",color="green"' in rate["source"]  # the PromQL query behind it
    assert release["stage"] == "analyse at 10 %" and "error-rate on green" in release["reason"]
    assert time.monotonic() - injected < 60  # restored well inside the 2 minutes
    assert selector(lab, ns, "checkout") == "blue"
