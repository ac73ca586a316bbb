"""The release pipeline's deploy step run for real against the lab's API server.

kwok runs any image, so a bad version is the lab's crash-loop label on the new color's pod
template (as in tests/release/test_lab_release.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.kube.conftest import REPO, get, kubectl, seed_app
from tests.lab.conftest import Lab

pytestmark = pytest.mark.lab
SCRIPT = REPO / "deploy" / "pipeline" / "deploy.sh"
WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"


def settled_shop(lab: Lab, ns: str) -> None:
    """The lab's nginx app, blue live with all traffic (the seed starts at a 10 % canary)."""
    seed_app(lab, ns, "shop", "nginx")
    kubectl(lab, "-n", ns, "annotate", "--overwrite", "ingress/shop-canary", f"{WEIGHT}=0")


def run_step(lab: Lab, ns: str, image: str, tmp: Path, *extra: str) -> tuple[int, str, str]:
    summary = tmp / "summary.md"
    env = dict(os.environ, GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(tmp / "outputs"),
               TURNOUT=f"{REPO / '.venv' / 'bin' / 'turnout'} --kubeconfig {lab.kubeconfig}",
               TURNOUT_NAMESPACE=ns, TURNOUT_STEPS="10,50,100", TURNOUT_ANALYSIS="2s")
    done = subprocess.run(["bash", str(SCRIPT), "shop", image, "--pause", "0", "--interval", "0.5s",
                           "--monitor", "1s", *extra], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=240)
    return done.returncode, summary.read_text() if summary.exists() else "", done.stderr


def selector(lab: Lab, ns: str) -> str:
    return str(get(lab, ns, "service/shop")["spec"]["selector"]["turnout.dev/color"])


def test_a_good_image_is_promoted_and_the_summary_says_so(
        lab: Lab, lab_namespace: str, tmp_path: Path) -> None:
    ns = lab_namespace
    settled_shop(lab, ns)
    code, summary, log = run_step(lab, ns, "registry.local/shop:1.6.0", tmp_path)
    assert code == 0, log
    assert "Deploy of shop: promoted (exit 0)" in summary
    assert f"| App | {ns}/shop |" in summary and "| Colors | blue → green |" in summary
    assert selector(lab, ns) == "green"
    image = get(lab, ns, "deployment/shop-green")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.local/shop:1.6.0"


def test_a_bad_image_is_rolled_back_with_exit_20_and_the_summary_names_the_failure(
        lab: Lab, lab_namespace: str, tmp_path: Path) -> None:
    ns = lab_namespace
    settled_shop(lab, ns)
    patch = {"spec": {"template": {"metadata": {"labels": {"lab.turnout.dev/crashloop": "true"}}}}}
    kubectl(lab, "-n", ns, "patch", "deployment/shop-green", "--type=merge", "-p", json.dumps(patch))
    code, summary, log = run_step(lab, ns, "registry.local/shop:1.6.0", tmp_path,
                                  "--progress-deadline", "40s")
    assert code == 20, log
    assert "Deploy of shop: rolled back (exit 20)" in summary
    assert "| Outcome | rolled-back |" in summary and "| Reason | " in summary
    # The trigger that failed, with the value it measured and its threshold.
    row = r"^\| restarts \| green \| \d+\.0 \| 3\.0 \| pod/shop-green-\S+ \|$"
    assert re.search(row, summary, re.M), summary
    assert selector(lab, ns) == "blue"
