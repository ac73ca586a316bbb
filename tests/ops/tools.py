"""What the ops tests need from outside Python: promtool, actionlint, the deploy/ scripts."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def required() -> bool:
    """Under TURNOUT_REQUIRE_LAB=1 a missing tool fails the test instead of skipping it."""
    return os.environ.get("TURNOUT_REQUIRE_LAB") == "1"


def tool(name: str, *extra: Path) -> str:
    """The tool's path; skips (or fails when required) if it is not installed."""
    found = shutil.which(name) or next((str(p) for p in extra if p.is_file()), None)
    if found is None:
        message = f"{name} is not installed (make system-deps / make tools)"
        if required():
            pytest.fail(message)
        pytest.skip(message)
    return found


def promtool() -> str:
    return tool("promtool")


def actionlint() -> str:
    return tool("actionlint", Path.home() / ".cache" / "turnout-tools" / "bin" / "actionlint")


def load_module(path: Path, name: str) -> ModuleType:
    """Import a script under deploy/ (not a package: it runs outside Turnout's install)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
