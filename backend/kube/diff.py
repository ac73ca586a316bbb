"""What differs between the app an operator read and the app now: for Conflict messages."""

from __future__ import annotations

from turnout.backend.models import COLORS, App, Traffic


def _weights(traffic: Traffic) -> str:
    return f"{traffic.weights.blue}/{traffic.weights.green}"


def traffic_differences(before: Traffic, after: Traffic) -> list[str]:
    """Changes of the live color, the weights and the router, one phrase each."""
    changes = []
    if before.live != after.live:
        changes.append(f"live color {before.live} -> {after.live}")
    if before.weights != after.weights:
        changes.append(f"weights blue/green {_weights(before)} -> {_weights(after)}")
    if before.router != after.router:
        changes.append(f"router {before.router} -> {after.router}")
    return changes


def differences(before: App, after: App) -> list[str]:
    """Operator-visible changes, one phrase each; empty when only bookkeeping moved."""
    changes = traffic_differences(before.traffic, after.traffic)
    for color in COLORS:
        old, new = before.slot(color), after.slot(color)
        if old.desired != new.desired:
            changes.append(f"{color} replicas {old.desired} -> {new.desired}")
        if old.image != new.image:
            changes.append(f"{color} image {old.image or '-'} -> {new.image or '-'}")
    return changes
