"""The backend never loads the UI layer: checked in a fresh interpreter per entry point."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS = [
    "import turnout.backend.cli, turnout.backend.service, turnout.backend.demo",
    "from turnout.backend.cli import main; main(['--demo', 'status', '-o', 'json'])",
    "from turnout.backend.cli import main; main(['--demo', 'weight', 'search', '50', '--yes'])",
]


@pytest.mark.parametrize("code", HEADLESS)
def test_headless_entry_points_never_import_textual(code: str) -> None:
    probe = f"{code}\nimport sys\nprint(sorted(m for m in sys.modules if m.split('.')[0] in "\
            "('textual', 'rich') or m.startswith('turnout.tui')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
