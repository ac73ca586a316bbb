"""Pure traffic planning: from the traffic read to the absolute target to write.

Every verb computes a complete target (live color and both weights) from the
state that was read, never an increment, so a retried or replayed write lands
on the same state. Adapters write the target conditionally on the revision read.
"""

from __future__ import annotations

from itertools import pairwise

from turnout.backend.errors import InvalidInput
from turnout.backend.models import COLORS, Color, Traffic, Weights, other


def parse_plan(text: str) -> tuple[int, ...]:
    """Parse a canary plan such as "10,50,100": strictly rising percents ending at 100."""
    try:
        steps = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise InvalidInput(f"canary plan {text!r}: expected percents like 10,50,100") from None
    if not steps or steps[-1] != 100 or any(not 0 < s <= 100 for s in steps):
        raise InvalidInput(f"canary plan {text!r}: percents in 1..100 ending at 100")
    if any(a >= b for a, b in pairwise(steps)):
        raise InvalidInput(f"canary plan {text!r}: percents must rise")
    return steps


def check_percent(percent: int) -> int:
    """A canary weight must be a whole percent in 0..100."""
    if not 0 <= percent <= 100:
        raise InvalidInput(f"weight {percent}: expected a percent in 0..100")
    return percent


def check_color(color: str) -> Color:
    """Validate a color given by the operator."""
    if color not in COLORS:
        raise InvalidInput(f"color {color!r}: expected blue or green")
    return "blue" if color == "blue" else "green"


def with_weight(traffic: Traffic, percent: int) -> Traffic:
    """Send `percent` to the canary color, the rest to the live color."""
    weights = Weights.split(traffic.live, check_percent(percent))
    return Traffic(live=traffic.live, weights=weights, router=traffic.router, plan=traffic.plan)


def next_step(traffic: Traffic) -> Traffic:
    """The next weight of the plan above the current canary weight."""
    if not traffic.plan:
        raise InvalidInput("no canary plan: set one with the turnout.dev/canary-plan annotation")
    current = traffic.canary_weight
    upcoming = [step for step in traffic.plan if step > current]
    if not upcoming:
        raise InvalidInput(f"already at the final step ({current}%): promote instead")
    return with_weight(traffic, upcoming[0])


def switched(traffic: Traffic, to: Color) -> Traffic:
    """All traffic to `to`, which becomes the live color."""
    return Traffic(live=to, weights=Weights.all_to(to), router=traffic.router, plan=traffic.plan)


def promoted(traffic: Traffic) -> Traffic:
    """Full promotion: the canary color becomes live at 100 %."""
    return switched(traffic, traffic.canary)


def aborted(traffic: Traffic) -> Traffic:
    """Back to the stable (live) color at 100 %, canary at 0."""
    return switched(traffic, traffic.live)


def rolled_back(traffic: Traffic, previous: Color | None = None) -> Traffic:
    """Restore the previous color.

    Mid-canary the stable color is still live, so rollback is an abort. After a
    full switch the previous color is the other one (or `previous` if the
    journal recorded it).
    """
    if traffic.canary_weight > 0:
        return aborted(traffic)
    return switched(traffic, previous or other(traffic.live))
