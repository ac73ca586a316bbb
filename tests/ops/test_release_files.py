"""Turnout's own release: `--version`, the CHANGELOG, the image's build file, every workflow."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import yaml

from tests.ops.tools import REPO, actionlint

PROJECT_VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def turnout(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "turnout"
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=120)


def test_version_is_the_installed_distributions() -> None:
    done = turnout("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"turnout {version('turnout')}"
    assert version("turnout") == PROJECT_VERSION


def test_changelog_has_the_current_version_and_an_unreleased_section() -> None:
    headings = re.findall(r"^## \[([^\]]+)\]", (REPO / "CHANGELOG.md").read_text(), re.M)
    assert headings[0] == "Unreleased"
    assert PROJECT_VERSION in headings


def _stages(text: str) -> list[list[str]]:
    """Instructions (continuations joined, comments dropped) grouped per FROM."""
    joined = re.sub(r"\\\n\s*", " ", text)
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.startswith("#")]
    stages: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_containerfile_is_multi_stage_non_root_and_read_only_friendly() -> None:
    stages = _stages((REPO / "deploy" / "Containerfile").read_text())
    assert len(stages) >= 2
    build, runtime = stages[0], stages[-1]
    assert re.match(r"FROM \S+ AS build$", build[0])
    assert any("pip wheel" in line for line in build)
    # The runtime stage installs nothing: it copies the built virtualenv and runs as UID 1000.
    assert not any(line.startswith("RUN") for line in runtime)
    assert any(line.startswith("COPY --from=build") for line in runtime)
    users = [line for line in runtime if line.startswith("USER ")]
    assert users and users[-1] == "USER 1000:1000"
    env = " ".join(line for line in runtime if line.startswith("ENV "))
    assert "PYTHONDONTWRITEBYTECODE=1" in env and "HOME=/tmp" in env
    assert 'ENTRYPOINT ["turnout"]' in runtime


def test_the_guard_manifest_runs_the_image_read_only_with_its_state_mounted() -> None:
    docs = list(yaml.safe_load_all((REPO / "deploy" / "guard.yaml").read_text()))
    pod = next(d for d in docs if d and d["kind"] == "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["runAsUser"] == 1000
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    state = next(e["value"] for e in container["env"] if e["name"] == "TURNOUT_STATE_DIR")
    assert {state, "/tmp"} <= mounts


def workflows() -> list[Path]:
    return sorted([*(REPO / ".github" / "workflows").glob("*.yml"),
                   *(REPO / "deploy" / "pipeline").glob("*.yml")])


def test_every_workflow_passes_actionlint() -> None:
    assert workflows()
    done = subprocess.run([actionlint(), "-no-color", *map(str, workflows())], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_can_fail() -> None:
    """The check above is real: a workflow with an undefined step output is refused."""
    bad = REPO / ".github" / "workflows" / "ci.yml"
    broken = bad.read_text().replace("${{ github.token }}", "${{ steps.nope.outputs.token }}")
    done = subprocess.run([actionlint(), "-no-color", "-"], input=broken, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "nope" in done.stdout
