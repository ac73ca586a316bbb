"""Scaling a color that an HPA governs, pure: act through the HPA's bounds, never against it.

Writing a Deployment's replicas under a HorizontalPodAutoscaler starts a fight the
HPA wins at its next sync. So a scale of such a color moves the HPA's bounds:

- asked at or below the HPA's own minimum (the deploy flow's "old color to 1"): the
  color ends at that minimum and the HPA keeps, or gets back, its own bounds;
- asked above it: the minimum is raised to the count asked (the maximum too if it was
  lower), the HPA's own bounds kept in an annotation on it, and given back when the
  color is scaled to its minimum again or made live;
- a restore (a failed deploy putting a color back to its count before): the HPA gets its
  own bounds back whatever the count, which is kept within them.

Nothing here performs I/O; the Kubernetes adapter reads the HPA and writes the plan.
"""

from __future__ import annotations

import msgspec

BOUNDS_ANNOTATION = "turnout.dev/hpa-bounds"
"""On an HPA whose bounds Turnout moved: its own `min,max`, to give back."""


class Bounds(msgspec.Struct, frozen=True):
    """An HPA's minReplicas and maxReplicas."""

    min: int
    max: int

    def __str__(self) -> str:
        return f"{self.min}..{self.max}"


def parse_bounds(text: str) -> Bounds | None:
    """The annotation's `min,max`; None when absent or malformed (then the HPA's spec is its own)."""
    low, _, high = text.partition(",")
    try:
        bounds = Bounds(int(low), int(high))
    except ValueError:
        return None
    return bounds if 0 <= bounds.min <= bounds.max else None


class ScalePlan(msgspec.Struct, frozen=True, kw_only=True):
    """What a scale of one color will do: the replicas it ends at and, under an HPA, the
    bounds before and after."""

    app: str
    namespace: str
    color: str
    asked: int
    replicas: int
    """What the color ends at (the HPA's minimum when less was asked)."""
    before: int
    hpa: str = ""
    """The HPA governing the color's Deployment, if any."""
    bounds: Bounds | None = None
    """The HPA's bounds now."""
    target: Bounds | None = None
    """The HPA's bounds after the scale."""
    own: Bounds | None = None
    """The HPA's own bounds (kept in its annotation while Turnout has moved them)."""
    note: str = ""
    """Why the HPA could not be considered (e.g. it may not be read)."""
    pinned: bool = False
    """Whether the HPA carries Turnout's annotation now."""

    @property
    def moves_hpa(self) -> bool:
        """Whether the HPA is written (its bounds or its annotation change)."""
        return self.hpa != "" and (self.target != self.bounds or self.restores)

    @property
    def restores(self) -> bool:
        """Whether the HPA gets its own bounds back (and loses the annotation)."""
        return self.hpa != "" and self.own is not None and self.target == self.own and (
            self.bounds != self.own or self.pinned)

    def line(self, context: str) -> str:
        """The one line an operator confirms."""
        where = f"scale {self.namespace}/{self.app} {self.color} in context {context}"
        head = f"{where}: replicas {self.before} -> {self.replicas}"
        if not self.hpa:
            return head + (f" ({self.note})" if self.note else "")
        hpa = f"horizontalpodautoscaler/{self.hpa}"
        held = (f", held at the HPA's minimum {self.replicas} (asked {self.asked})"
                if self.asked < self.replicas else
                f", held at the HPA's maximum {self.replicas} (asked {self.asked})"
                if self.asked > self.replicas else "")
        if self.restores:
            return f"{head}{held}; {hpa} gets its own bounds {self.own} back (now {self.bounds})"
        if not self.moves_hpa:
            return f"{head}{held}; {hpa} keeps its bounds {self.bounds}"
        return (f"{head} through {hpa}: bounds {self.bounds} -> {self.target} (its own "
                f"{self.own} come back when {self.color} is made live or scaled to "
                f"{self.own.min if self.own else 0} or less)")


def plan(app: str, namespace: str, color: str, asked: int, before: int, *, hpa: str = "",
         bounds: Bounds | None = None, saved: Bounds | None = None, note: str = "",
         restore: bool = False) -> ScalePlan:
    """The plan for scaling `color` to `asked`, under the HPA `hpa` with `bounds` now and its
    own bounds `saved` in Turnout's annotation (None: the bounds now are its own); with
    `restore`, the HPA's own bounds come back and the count is kept within them."""
    if not hpa or bounds is None:
        return ScalePlan(app=app, namespace=namespace, color=color, asked=asked, replicas=asked,
                         before=before, note=note)
    own = saved or bounds
    if restore:
        target, replicas = own, min(max(asked, own.min), own.max)
    elif asked <= own.min:
        target, replicas = own, own.min
    else:
        target, replicas = Bounds(asked, max(own.max, asked)), asked
    return ScalePlan(app=app, namespace=namespace, color=color, asked=asked, replicas=replicas,
                     before=before, hpa=hpa, bounds=bounds, target=target, own=own,
                     pinned=saved is not None)


def restore_plan(app: str, namespace: str, color: str, replicas: int, hpa: str, bounds: Bounds,
                 saved: Bounds) -> ScalePlan:
    """Give an HPA its own bounds back (its color was made live), replicas unchanged."""
    return ScalePlan(app=app, namespace=namespace, color=color, asked=replicas,
                     replicas=replicas, before=replicas, hpa=hpa, bounds=bounds, target=saved,
                     own=saved, pinned=True)


def hpa_patch(p: ScalePlan, resource_version: str) -> dict[str, object]:
    """The HPA's conditional merge patch for `p` (bounds, and the annotation kept or removed)."""
    assert p.target is not None and p.own is not None
    note: str | None = None if p.target == p.own else f"{p.own.min},{p.own.max}"
    return {"metadata": {"resourceVersion": resource_version,
                         "annotations": {BOUNDS_ANNOTATION: note}},
            "spec": {"minReplicas": p.target.min, "maxReplicas": p.target.max}}
