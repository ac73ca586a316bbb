"""Smoke tests: a declarative YAML list of HTTP requests run against one color.

Run against the preview color before promotion (the release flow) and against
the watched color by the guard. Judging each response is `signals.smoke_problem`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import yaml

from turnout.backend import signals
from turnout.backend.errors import InvalidInput, TurnoutError
from turnout.backend.models import Color, Verdict
from turnout.backend.signals import SmokeRequest, SmokeResult

if TYPE_CHECKING:  # imported where used: the TUI's first frame need not pay for httpx
    import httpx


def load_smoke_tests(path: str) -> tuple[SmokeRequest, ...]:
    """The smoke requests in the YAML file at `path` (empty path: none)."""
    if not path:
        return ()
    try:
        raw = yaml.safe_load(Path(path).read_text()) or []
    except (OSError, yaml.YAMLError) as err:
        raise InvalidInput(f"smoke tests {path}: {str(err).splitlines()[0]}") from None
    return parse_smoke_tests(raw, path)


def parse_smoke_tests(raw: object, where: str = "smoke tests") -> tuple[SmokeRequest, ...]:
    """Validate a parsed YAML list of smoke requests; `InvalidInput` names what is wrong."""
    if not isinstance(raw, list):
        raise InvalidInput(f"{where}: expected a list of requests, got {type(raw).__name__}")
    try:
        return msgspec.convert(raw, tuple[SmokeRequest, ...])
    except msgspec.ValidationError as err:
        raise InvalidInput(f"{where}: {err}") from None


async def run_smoke(tests: Sequence[SmokeRequest], base_url: str, color: Color, at: datetime, *,
                    timeout: float = 2.0, client: httpx.AsyncClient | None = None,
                    label: str = "") -> Verdict:
    """Send every request to `base_url` and judge the responses.

    With `client` (the API server's, for a service-proxy endpoint) `base_url` is a path
    prefix on it and the client is left open for its owner.
    """
    import httpx

    source = f"smoke tests against {label or base_url}"
    if client is not None:
        results = [await _one(client, test, base_url, timeout) for test in tests]
        return signals.smoke(results, color, at, source)
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout) as own:
        results = [await _one(own, test, "", timeout) for test in tests]
    return signals.smoke(results, color, at, source)


async def _one(client: httpx.AsyncClient, test: SmokeRequest, prefix: str, timeout: float) -> SmokeResult:
    import httpx

    started = time.monotonic()
    try:
        response = await client.request(test.method, f"{prefix}{test.path}", timeout=timeout)
    except httpx.HTTPError as err:
        return SmokeResult(test.label, f"unreachable ({type(err).__name__})", time.monotonic() - started)
    except TurnoutError as err:  # through the API server: refused (read-only) or unavailable
        return SmokeResult(test.label, f"refused: {err}"[:200], time.monotonic() - started)
    seconds = time.monotonic() - started
    return SmokeResult(test.label, signals.smoke_problem(test, response.status_code, response.text,
                                                         seconds), seconds)
