"""What differs between the app an operator read and the app now: for Conflict messages."""

from __future__ import annotations

from turnout.backend.models import COLORS, App, Traffic


def _weights(traffic: Traffic) -> str:
    return f"{traffic.weights.blue}/{traffic.weights.green}"


def differences(before: App, after: App) -> list[str]:
    """Operator-visible changes, one phrase each; empty when only bookkeeping moved."""
    changes = []
    if before.traffic.live != after.traffic.live:
        changes.append(f"live color {before.traffic.live} -> {after.traffic.live}")
    if before.traffic.weights != after.traffic.weights:
        changes.append(f"weights blue/green {_weights(before.traffic)} -> {_weights(after.traffic)}")
    if before.traffic.router != after.traffic.router:
        changes.append(f"router {before.traffic.router} -> {after.traffic.router}")
    for color in COLORS:
        old, new = before.slot(color), after.slot(color)
        if old.desired != new.desired:
            changes.append(f"{color} replicas {old.desired} -> {new.desired}")
        if old.image != new.image:
            changes.append(f"{color} image {old.image or '-'} -> {new.image or '-'}")
    return changes
