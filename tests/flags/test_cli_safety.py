"""The flag commands keep the safety contract of every release write: a confirmation naming
the store, the flag, before and after; --yes in a script; --dry-run; --reason and the
operator's identity in the audit; read-only (by flag or by the context's settings) refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from turnout.backend.audit import os_user


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A machine with no cluster configured, a file flag store and its own audit trail."""
    return {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "/usr/bin"),
            "TURNOUT_STATE_DIR": str(tmp_path / "state"),
            "TURNOUT_CONFIG": str(tmp_path / "config.yaml"),
            "TURNOUT_FLAGS_URL": (tmp_path / "flags.json").as_uri()}


def turnout(env: dict[str, str], *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "turnout.backend", *argv], input=stdin,
                          capture_output=True, text=True, timeout=60, env=env,
                          stdin=None if stdin is not None else subprocess.DEVNULL)


def flags_file(env: dict[str, str]) -> bytes:
    return Path(env["TURNOUT_FLAGS_URL"].removeprefix("file://")).read_bytes()


def audit(env: dict[str, str]) -> list[dict[str, object]]:
    path = Path(env["TURNOUT_STATE_DIR"]) / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def flag_on(env: dict[str, str]) -> str:
    done = turnout(env, "flags", "create", "checkout-v2", "--on", "--app", "checkout", "--yes")
    assert done.returncode == 0, done.stderr
    return "checkout-v2"


def test_a_write_in_a_script_needs_yes_and_changes_nothing(env: dict[str, str], flag_on: str) -> None:
    before = flags_file(env)
    done = turnout(env, "flags", "off", flag_on)
    assert done.returncode == 2 and "--yes" in done.stderr
    assert "turn off flag checkout-v2 in file://" in done.stderr
    assert "in file://" in done.stderr and ": on (" in done.stderr and "version 1) -> OFF (" in done.stderr
    assert flags_file(env) == before


def test_yes_writes_and_audits_under_the_operators_identity(env: dict[str, str], flag_on: str) -> None:
    done = turnout(env, "flags", "off", flag_on, "--yes", "--reason", "errors up", "-o", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["on"] is False
    entry = audit(env)[-1]
    assert (entry["action"], entry["reason"], entry["who"], entry["app"]) == (
        "flag-off", "errors up", os_user(), "checkout")
    assert (entry["before"]["on"], entry["after"]["on"]) == (True, False)  # type: ignore[index]


def test_dry_run_prints_the_change_and_writes_nothing(env: dict[str, str], flag_on: str) -> None:
    before = flags_file(env)
    audited = len(audit(env))
    done = turnout(env, "flags", "off", flag_on, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "turn off flag checkout-v2" in done.stdout and "dry run" in done.stdout
    assert flags_file(env) == before and len(audit(env)) == audited


@pytest.mark.parametrize("where", ["before", "after"])
def test_read_only_is_refused_at_the_store_with_exit_7(env: dict[str, str], flag_on: str,
                                                       where: str) -> None:
    before = flags_file(env)
    argv = ["flags", "off", flag_on, "--yes"]
    argv = ["--read-only", *argv] if where == "before" else [*argv, "--read-only"]
    done = turnout(env, *argv)
    assert done.returncode == 7 and "read-only" in done.stderr
    assert flags_file(env) == before


def test_the_current_contexts_production_setting_refuses_flag_writes(
        env: dict[str, str], flag_on: str, tmp_path: Path) -> None:
    """As `turnout lock` is refused there: the flag gate resolves the kubeconfig's context."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: lab, context: {cluster: c, user: u}}]\n")
    Path(env["TURNOUT_CONFIG"]).write_text("contexts:\n  lab:\n    production: true\n")
    before = flags_file(env)
    done = turnout({**env, "KUBECONFIG": str(kubeconfig), "TURNOUT_REQUEST_TIMEOUT": "1"},
                   "flags", "off", flag_on, "--yes")
    assert done.returncode == 7 and "read-only" in done.stderr
    assert flags_file(env) == before
