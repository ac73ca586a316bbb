"""PromQL templates and label escaping: no app or namespace name can change a query.

Templates are `string.Template`s over `$app`, `$namespace`, `$color` and
`$window`. Every value is escaped as the body of a double-quoted PromQL string
before substitution, so a value can only ever be a label value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from string import Template

from turnout.backend.errors import InvalidInput

SELECTOR = 'app="$app",color="$color"'
"""The demo service's labels (lab/demo_service.py); the lab scrape adds no namespace label."""

DEFAULT_QUERIES: dict[str, str] = {
    # `or vector(0)`: an app that never failed may not export a 5xx series at all, and an
    # empty numerator must read as 0 errors, not as "no data". The denominator still
    # decides: no series at all stays empty, no traffic is 0/0 = NaN.
    "error_rate": f'(sum(rate(http_requests_total{{{SELECTOR},code=~"5.."}}[$window])) or vector(0))'
                  f" / sum(rate(http_requests_total{{{SELECTOR}}}[$window]))",
    "requests": f"sum(increase(http_requests_total{{{SELECTOR}}}[$window]))",
    # The newest raw sample's time: an instant query stamps results with the evaluation
    # time, so freshness must be asked for separately.
    "freshness": f"max(timestamp(http_requests_total{{{SELECTOR}}}))",
    "p95_ms": f"1000 * histogram_quantile(0.95, sum by (le) "
              f"(rate(http_request_duration_seconds_bucket{{{SELECTOR}}}[$window])))",
    "rps": f"sum(rate(http_requests_total{{{SELECTOR}}}[$window]))",
}
"""Default templates, fitting the lab's demo service metrics."""

CHART_SIGNALS = ("error_rate", "p95_ms", "rps")
"""Signals `series()` serves for charts."""

_DURATION = re.compile(r"(\d+)(ms|[smhdwy])")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}

_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_label(value: str) -> str:
    """`value` as the body of a double-quoted PromQL string.

    Backslash, quote and the usual whitespace get their short escapes; every other
    character that is not printable ASCII becomes a \\u or \\U escape, which
    Prometheus (Go's strconv.Unquote) turns back into exactly the same character.
    """
    out = []
    for ch in value:
        if ch in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out)


def render_query(template: str, *, app: str, namespace: str, color: str, window: str = "10s") -> str:
    """Fill a query template with escaped label values."""
    values = {"app": app, "namespace": namespace, "color": color, "window": window}
    try:
        return Template(template).substitute({k: escape_label(v) for k, v in values.items()})
    except (KeyError, ValueError) as err:
        raise InvalidInput(f"PromQL template {template!r}: unknown or malformed {err}") from None


def queries_for(app: str, defaults: Mapping[str, str],
                per_app: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The templates of `app`: the defaults, overridden by the app's own entries."""
    return {**defaults, **per_app.get(app, {})}


def duration_seconds(window: str) -> float:
    """Seconds in a PromQL duration such as `10s` or `1m30s`; `InvalidInput` if it is not one."""
    parts = _DURATION.findall(window)
    if not window or "".join(n + unit for n, unit in parts) != window:
        raise InvalidInput(f"PromQL window {window!r}: expected a duration such as 10s or 1m")
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in parts)
