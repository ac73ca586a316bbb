"""Durations as operators type them: 90s, 5m, 2h, 30d, 1w (a bare number is seconds)."""

from __future__ import annotations

import re

from turnout.backend.errors import InvalidInput

UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PATTERN = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?")


def parse_duration(text: str) -> float:
    """Seconds in `text`; compound forms such as 1h30m are accepted."""
    cleaned = text.strip().lower()
    pos, total = 0, 0.0
    while pos < len(cleaned):
        match = _PATTERN.match(cleaned, pos)
        if match is None:
            raise InvalidInput(f"duration {text!r}: expected e.g. 30s, 5m, 2h, 30d")
        total += float(match.group(1)) * UNITS[match.group(2) or "s"]
        pos = match.end()
    if not cleaned:
        raise InvalidInput("empty duration: expected e.g. 30s, 5m, 2h, 30d")
    return total


def format_duration(seconds: float | None) -> str:
    """A short human form: 45s, 3m20s, 2h05m, 3d04h; '-' for None."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.1f}s" if seconds < 10 and seconds != whole else f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"
