"""Token sources: an exec plugin is run again only when its token is about to expire."""

from __future__ import annotations

import stat
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from turnout.backend.errors import ConfigError
from turnout.backend.kube.credentials import ExecToken, FileToken


def _plugin(tmp_path: Path, expires_in: float | None) -> tuple[ExecToken, Path]:
    calls = tmp_path / "calls"
    expiry = "" if expires_in is None else (datetime.now(UTC) + timedelta(seconds=expires_in)).isoformat()
    script = tmp_path / "plugin"
    script.write_text(f"""#!{sys.executable}
import json, pathlib
calls = pathlib.Path({str(calls)!r})
n = len(calls.read_text()) if calls.exists() else 0
calls.write_text("x" * (n + 1))
status = {{"token": f"token-{{n}}"}}
if {expiry!r}:
    status["expirationTimestamp"] = {expiry!r}.replace("+00:00", "Z")
print(json.dumps({{"kind": "ExecCredential", "status": status}}))
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return ExecToken("c", {"command": str(script)}, "https://k"), calls


@pytest.mark.parametrize(("expires_in", "tokens", "runs"), [
    (3600, ["token-0", "token-0", "token-0"], 1),   # valid for an hour: cached
    (30, ["token-0", "token-1", "token-2"], 3),     # inside the refresh margin: run each time
    (None, ["token-0", "token-0", "token-0"], 1),   # no expiry: until the server says 401
])
async def test_exec_token_is_cached_until_near_expiry(tmp_path: Path, expires_in: float | None,
                                                      tokens: list[str], runs: int) -> None:
    source, calls = _plugin(tmp_path, expires_in)
    assert [await source.token() for _ in range(3)] == tokens
    assert len(calls.read_text()) == runs
    assert "token-" not in repr(source)


async def test_expire_forces_a_new_token(tmp_path: Path) -> None:
    source, _ = _plugin(tmp_path, 3600)
    assert await source.token() == "token-0"
    assert source.expire()
    assert await source.token() == "token-1"


async def test_a_rotated_token_file_is_read_again_after_expire(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("first\n")
    source = FileToken(path, "in-cluster")
    assert await source.token() == "first"
    path.write_text("second")
    assert await source.token() == "first"  # re-read on a timer, not per request
    source.expire()
    assert await source.token() == "second"
    path.write_text("")
    source.expire()
    with pytest.raises(ConfigError, match="is empty"):
        await source.token()
