"""Configuration: env overrides, and read-only precedence flag > env > context > global."""

from __future__ import annotations

from pathlib import Path

import pytest

from turnout.backend.config import Config, ContextSettings, load_config, resolve_gate
from turnout.backend.errors import ConfigError


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path / "absent.yaml") == Config()


def test_env_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("theme: turnout-light\nrequest_timeout: 3\n")
    monkeypatch.setenv("TURNOUT_THEME", "turnout-ansi")
    config = load_config(path)
    assert (config.theme, config.request_timeout) == ("turnout-ansi", 3.0)


def test_unknown_field_is_a_clear_config_error(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("raed_only: true\n")
    with pytest.raises(ConfigError, match="raed_only"):
        load_config(path)


PROD = Config(contexts={"prod": ContextSettings(production=True),
                        "dev": ContextSettings(read_only=False)}, read_only=True)


@pytest.mark.parametrize(("flag", "env", "context", "expected"), [
    (True, "0", "dev", True),       # flag beats env
    (None, "1", "dev", True),       # env beats context
    (None, "0", "prod", False),     # env beats production default
    (None, None, "prod", True),     # production defaults to read-only
    (None, None, "dev", False),     # context beats global
    (None, None, "other", True),    # global applies last
])
def test_read_only_precedence(flag: bool | None, env: str | None, context: str, expected: bool,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    if env is not None:
        monkeypatch.setenv("TURNOUT_READ_ONLY", env)
    assert resolve_gate(PROD, context, flag).read_only is expected


def test_bad_env_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURNOUT_READ_ONLY", "maybe")
    with pytest.raises(ConfigError, match="TURNOUT_READ_ONLY"):
        resolve_gate(Config(), "x", None)
