"""`--request-timeout` as kubectl spells it: `3s`, `1m`, `500ms`, `1m30s`, or a bare
number of seconds. Zero and negative values are refused: a call must end."""

from __future__ import annotations

import re

from turnout.backend.errors import InvalidInput

UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_BARE = re.compile(r"[+-]?(\d+(?:\.\d*)?|\.\d+)")


def request_timeout(text: str) -> float:
    """Seconds in `text`; `InvalidInput` for anything that is not a positive duration."""
    cleaned = text.strip()
    if _BARE.fullmatch(cleaned):
        seconds = float(cleaned)
    else:
        body = cleaned.removeprefix("-").removeprefix("+")
        parts = _PART.findall(body)
        if not body or "".join(n + u for n, u in parts) != body:
            raise InvalidInput(f"--request-timeout {text!r}: expected a duration such as 3s, "
                               "1m, 500ms or a number of seconds")
        seconds = sum(float(n) * UNITS[u] for n, u in parts)
        seconds = -seconds if cleaned.startswith("-") else seconds
    if not seconds > 0:
        raise InvalidInput(f"--request-timeout {text!r}: must be more than 0")
    return seconds
