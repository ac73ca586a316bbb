"""Shared fixtures: an isolated state/config directory for every test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Audit logs and config go to a temporary folder, never the developer's."""
    monkeypatch.setenv("TURNOUT_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TURNOUT_CONFIG", str(tmp_path / "config.yaml"))
    for var in ("TURNOUT_READ_ONLY", "KUBECONFIG", "TURNOUT_THEME", "TURNOUT_FLAGS_URL"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path
