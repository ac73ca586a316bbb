"""The release pipeline's deploy step (deploy/pipeline/deploy.sh) run for real on the demo backend:
Turnout's exit code becomes the step's, and the summary says what happened."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ops.tools import REPO

SCRIPT = REPO / "deploy" / "pipeline" / "deploy.sh"
FAST = ("--pause", "0", "--interval", "0.5s")


@dataclass(frozen=True)
class Step:
    code: int
    summary: str
    outputs: dict[str, str]
    log: str


@pytest.fixture
def run_step(tmp_path: Path):  # type: ignore[no-untyped-def]
    def run(app: str, image: str, *extra: str) -> Step:
        summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
        env = dict(os.environ, GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(outputs),
                   TURNOUT=f"{Path(sys.executable).parent / 'turnout'} --demo",
                   TURNOUT_STEPS="10,50,100", TURNOUT_ANALYSIS="2s", GITHUB_RUN_ID="42",
                   GITHUB_REPOSITORY="shop/checkout")
        done = subprocess.run(["bash", str(SCRIPT), app, image, *extra], env=env, capture_output=True,
                              text=True, timeout=300)
        lines = outputs.read_text().splitlines() if outputs.exists() else []
        return Step(done.returncode, summary.read_text() if summary.exists() else "",
                    dict(line.split("=", 1) for line in lines), done.stdout + done.stderr)
    return run


def test_a_good_image_is_promoted_and_the_summary_says_so(run_step) -> None:  # type: ignore[no-untyped-def]
    step = run_step("checkout", "registry.demo/checkout:1.5.0", *FAST)
    assert step.code == 0, step.log
    assert "Deploy of checkout: promoted (exit 0)" in step.summary
    assert "| Version | 1.4.2 → 1.5.0 |" in step.summary
    assert "Failing triggers" not in step.summary
    assert step.outputs == {"exit-code": "0", "outcome": "promoted"}
    assert "[1/10] deploy into the idle color" in step.log  # progress reaches the job's log


def test_a_bad_image_is_rolled_back_with_exit_20_and_the_summary_names_the_trigger(run_step) -> None:  # type: ignore[no-untyped-def]
    step = run_step("checkout", "registry.demo/checkout:1.5.0-bad", *FAST)
    assert step.code == 20, step.log
    assert "Deploy of checkout: rolled back (exit 20)" in step.summary
    # The failing trigger with its measured value and threshold, as Turnout recorded them.
    assert "| log-errors | green | 41.0 | 10.0 | logs of shop/checkout green pods |" in step.summary
    assert step.outputs == {"exit-code": "20", "outcome": "rolled-back"}
    assert "::error title=Rolled back::checkout" in step.log


def test_a_refused_deploy_keeps_turnouts_code_and_says_nothing_changed(run_step) -> None:  # type: ignore[no-untyped-def]
    step = run_step("no|such", "registry.demo/x:1", *FAST)
    assert step.code not in (0, 20, 21, 22), step.log
    assert f"(exit {step.code})" in step.summary
    assert "the cluster is unchanged" in step.summary
    assert "no\\|such" in step.summary  # outside text cannot break the summary's markup
    assert step.outputs == {"exit-code": str(step.code), "outcome": "refused"}


def test_missing_arguments_are_a_usage_error() -> None:
    done = subprocess.run(["bash", str(SCRIPT), "checkout"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: deploy.sh APP IMAGE")
