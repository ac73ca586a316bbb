"""Terminal line charts of a signal per color, drawn by plotext as plain text.

plotext keeps one global figure, so every drawing happens inside `line_chart`
and starts from a cleared figure; output is stripped of escapes and shown as text.
Colors are told apart by marker and legend, not by colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from turnout.backend.sanitize import inert

MARKERS = {"blue": "dot", "green": "+"}


def line_chart(title: str, series: Mapping[str, Sequence[tuple[float, float]]], *,
               width: int, height: int, scale: float = 1.0) -> str:
    """A chart of (time, value) series keyed by color; x is minutes before the newest sample."""
    import plotext as plt  # on the first chart, not in the first frame

    plt.clf()
    plt.theme("clear")
    plt.plotsize(max(width, 20), max(height, 5))
    plt.title(title)
    newest = max((s[-1][0] for s in series.values() if s), default=0.0)
    drawn = False
    for color, points in series.items():
        finite = [(t, v) for t, v in points if v == v]  # NaN (no traffic) is a gap, not a zero
        if finite:
            plt.plot([(t - newest) / 60 for t, _ in finite], [v * scale for _, v in finite],
                     label=color, marker=MARKERS.get(color, "dot"))
            drawn = True
    if not drawn:
        return f"{title}: no samples yet"
    plt.xlabel("minutes")
    return inert(plt.build())
