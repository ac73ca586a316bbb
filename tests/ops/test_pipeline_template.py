"""The app release pipeline template holds every stage of the seed's pipeline, in order."""

from __future__ import annotations

from typing import Any

import yaml

from tests.ops.tools import REPO

TEMPLATE = REPO / "deploy" / "pipeline" / "app-release.yml"


def jobs() -> dict[str, Any]:
    return yaml.safe_load(TEMPLATE.read_text())["jobs"]  # type: ignore[no-any-return]


def steps(job: str) -> list[dict[str, Any]]:
    return jobs()[job]["steps"]  # type: ignore[no-any-return]


def needs(job: str) -> set[str]:
    value = jobs()[job].get("needs", [])
    return {value} if isinstance(value, str) else set(value)


def test_stages_run_in_the_pipelines_order() -> None:
    assert {"version", "test"} <= needs("image")
    assert "image" in needs("scan")
    assert "scan" in needs("release")
    assert "release" in needs("deploy")


def test_lint_typecheck_and_tests_gate_the_image() -> None:
    commands = [step.get("run") for step in steps("test")]
    assert commands == [None, "make lint", "make typecheck", "make test"]


def test_the_image_is_multi_platform_and_cached() -> None:
    build = next(s for s in steps("image") if str(s.get("uses", "")).startswith("docker/build-push-action"))
    assert set(build["with"]["platforms"].split(",")) >= {"linux/amd64", "linux/arm64"}
    assert build["with"]["cache-from"] == "type=gha"
    assert build["with"]["cache-to"].startswith("type=gha")


def test_the_scan_uploads_sarif_even_when_it_fails_and_critical_findings_fail() -> None:
    scan = steps("scan")
    trivy = [s for s in scan if str(s.get("uses", "")).startswith("aquasecurity/trivy-action")]
    upload = next(s for s in scan if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif"))
    assert trivy[0]["with"]["format"] == "sarif"
    assert upload["if"] == "always()" and upload["with"]["sarif_file"] == trivy[0]["with"]["output"]
    assert trivy[-1]["with"]["severity"] == "CRITICAL" and trivy[-1]["with"]["exit-code"] == "1"
    assert scan.index(upload) < scan.index(trivy[-1])
    assert jobs()["scan"]["permissions"]["security-events"] == "write"


def test_the_deploy_runs_the_repositorys_script_with_the_guards_config() -> None:
    deploy = next(s for s in steps("deploy") if s.get("id") == "deploy")
    assert "./deploy/pipeline/deploy.sh" in deploy["run"]
    assert (REPO / "deploy" / "pipeline" / "deploy.sh").stat().st_mode & 0o111
    assert {"KUBECONFIG", "TURNOUT_CONFIG", "TURNOUT_NAMESPACE"} <= set(deploy["env"])
    # Secrets reach the job through files written with a private umask, never on a command line.
    creds = next(s for s in steps("deploy") if s.get("name") == "Credentials and config")
    assert "umask 077" in creds["run"] and "secrets." not in creds["run"]
