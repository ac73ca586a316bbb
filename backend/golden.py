"""An app record with its golden signals and the verdicts they give, as the front ends show
it: the restarts of each color taking traffic, and its error rate where metrics can be had.
No metrics source, an unreachable one or a color it does not measure is said so, never a
pass."""

from __future__ import annotations

import logging
from datetime import datetime

import msgspec

from turnout.backend import signals
from turnout.backend.errors import TurnoutError
from turnout.backend.models import COLORS, App
from turnout.backend.ports import MetricsPort

log = logging.getLogger(__name__)


async def observed(app: App, metrics: MetricsPort | None, now: datetime) -> App:
    """`app` with the verdicts of every color taking traffic (and the metrics read)."""
    flowing = [c for c in COLORS if app.traffic.weights.of(c) > 0]
    verdicts = [signals.crash_loop(app.slot(c), now) for c in flowing]
    if metrics is None:  # no error-rate signal by configuration: the restarts say
        return msgspec.structs.replace(app, verdicts=tuple(verdicts))
    try:
        measured = await metrics.golden_signals(app)
    except TurnoutError as err:
        log.warning("metrics of %s/%s unavailable: %s", app.namespace, app.name, err)
        verdicts += [signals.unreachable("error-rate", c, now, f"metrics/{app.name}/{c}", 1)
                     for c in flowing]
        return msgspec.structs.replace(app, verdicts=tuple(verdicts))
    colors = {m.color for m in measured}
    verdicts += [signals.error_rate(m, now, source=f"metrics/{app.name}/{m.color}")
                 for m in measured if m.color in flowing]
    verdicts += [signals.no_source("error-rate", c, now, "no metrics for this color")
                 for c in flowing if c not in colors]
    return msgspec.structs.replace(app, metrics=measured, verdicts=tuple(verdicts))
