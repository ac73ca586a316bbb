"""UI preferences that persist between sessions (the chosen theme), in the XDG state dir."""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs


def preferences_path() -> Path:
    root = os.environ.get("TURNOUT_STATE_DIR") or platformdirs.user_state_dir("turnout")
    return Path(root) / "ui.json"


def load_theme() -> str | None:
    """The theme chosen last time, if any."""
    try:
        theme = json.loads(preferences_path().read_text()).get("theme")
    except (OSError, ValueError, AttributeError):
        return None
    return theme if isinstance(theme, str) else None


def save_theme(theme: str) -> None:
    """Remember `theme`; a read-only home directory only costs the memory of it."""
    path = preferences_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"theme": theme}))
    except OSError:
        pass
