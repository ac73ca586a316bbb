"""`turnout deploy|history|dora` and the flow-aware abort/promote/resume, on the demo."""

from __future__ import annotations

import json
import re

import pytest

from turnout.backend.cli import main
from turnout.backend.cli.parser import build_parser
from turnout.backend.cli.release_cmd import deploy_request


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--demo", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


FAST = ("--analysis", "2s", "--interval", "1s", "--yes")


def test_deploy_prints_the_release_and_exits_0_when_promoted(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "deploy", "checkout", "--image", "registry.demo/checkout:1.5.0",
                         "--strategy", "canary", "--steps", "10,50,100", "--pause", "0", *FAST,
                         "-o", "json")
    release = json.loads(out)
    assert (code, release["outcome"], release["exit_code"], release["version"]) == (
        0, "promoted", 0, "1.5.0")
    assert "turnout: checkout: [4/10] shift 10 %" in err.splitlines()


def test_deploy_exits_20_with_the_reason_when_rolled_back(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "deploy", "checkout", "--image", "registry.demo/checkout:2.0-bad",
                       *FAST)
    assert code == 20
    assert out.startswith("checkout 2.0-bad rolled-back in ")
    assert re.search(r"(error-rate|restarts|log-errors) on green: [\d.]+%? .*> ", out)
    assert out.rstrip().endswith("blue live with all traffic")


def test_deploy_in_a_script_needs_yes(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "deploy", "checkout", "--image", "registry.demo/checkout:1.5.0")
    assert code == 2 and "without --yes" in err


@pytest.mark.parametrize(("option", "value"), [("--steps", "10,x"), ("--steps", "50,10,100"),
                                               ("--pause", "soon"), ("--analysis", "1 minute")])
def test_bad_options_exit_2(capsys: pytest.CaptureFixture[str], option: str, value: str) -> None:
    code, _, err = run(capsys, "deploy", "checkout", "--image", "r/checkout:9", option, value, "--yes")
    assert code == 2 and err.startswith("turnout: error: ")


def test_history_lists_releases_newest_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "history", "checkout", "-o", "json")
    data = json.loads(out)
    finished = [r["finished_at"] for r in data["releases"]]
    assert code == 0 and data["in_progress"] is None and len(finished) == 11
    assert finished == sorted(finished, reverse=True)
    assert data["releases"][0]["version"] == "1.4.2"
    code, out, _ = run(capsys, "history", "checkout", "--limit", "3")
    assert out.splitlines()[0].split() == ["FINISHED", "VERSION", "STRATEGY", "OUTCOME", "TOOK",
                                           "BY", "REASON"]
    assert len(out.splitlines()) == 4


def test_dora_figures_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "dora", "checkout", "--since", "30d", "-o", "json")
    figures = json.loads(out)
    assert code == 0 and figures["app"] == "checkout" and figures["releases"] == 11
    assert figures["outcomes"]["rolled-back"] == 2
    assert figures["change_failure_rate"] == pytest.approx(2 / 11)
    for key in ("deployment_frequency_per_day", "lead_time", "time_to_restore", "rollback_time",
                "success_rate"):
        assert key in figures
    code, out, _ = run(capsys, "dora")
    assert code == 0 and "change failure rate" in out


def test_without_a_deploy_in_flight_abort_and_resume_run_as_before(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "abort", "search", "--yes")
    assert code == 0 and "search abort" in out and "blue/green 90/10 -> 100/0" in out
    code, out, err = run(capsys, "resume", "search", "--yes")
    assert code in (0, 2) and "deploy" not in out + err  # the plain resume answered


def test_the_parser_declares_the_commands_and_wraps_the_steering_verbs() -> None:
    parser = build_parser()
    args = parser.parse_args(["deploy", "shop", "--image", "r/shop:2", "--pause", "manual",
                              "-n", "prod", "--commit-time", "2026-03-01T10:00:00Z"])
    request = deploy_request(args, "prod")
    assert (request.manual, request.pause, request.namespace, request.strategy) == (
        True, 0.0, "prod", "canary")
    assert request.commit_time is not None and request.commit_time.isoformat() == "2026-03-01T10:00:00+00:00"
    for verb in ("abort", "promote", "resume"):
        func = parser.parse_args([verb, "shop"]).func
        assert func.__doc__ is not None and "deploy in flight" in func.__doc__


def test_dry_run_checks_and_lists_the_stages_without_writing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--read-only", "deploy", "checkout", "--image", "r/checkout:2.0",
                       "--strategy", "instant", "--dry-run", "-o", "json")
    plan = json.loads(out)
    assert (code, plan["dry_run"], plan["from"], plan["to"]) == (0, True, "blue", "green")
    assert plan["next"][-3:] == ["promote (100 %)", "monitor", "scale the old color down"]
    code, _, err = run(capsys, "deploy", "search", "--image", "r/search:3", "--dry-run")
    assert code == 2 and "mid-canary" in err
