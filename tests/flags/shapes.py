"""Flag shapes shared by the cross-check, the property tests and the bench."""

from __future__ import annotations

from typing import Any

SEGMENTS: dict[str, Any] = {
    "beta-testers": {"key": "beta-testers", "users": ["user-7", "user-42", "user-99"]},
    "internal-team": {
        "key": "internal-team",
        "conditions": [{"attribute": "email", "op": "ends_with", "values": ["@example.com"]}],
    },
}

BOOLEAN_ROLLOUT: dict[str, Any] = {
    "key": "new-checkout",
    "on": True,
    "rollout": {"on": 25, "off": 75},
    "plan": {"stages": [10, 25, 50, 100], "stage": 1},
}

THREE_WAY_AB: dict[str, Any] = {
    "key": "pricing-page",
    "kind": "string",
    "variants": {"control": "old", "blue": "blue-cta", "green": "green-cta"},
    "on": True,
    "off_variant": "control",
    "default_variant": "control",
    "rollout": {"control": 34, "blue": 33, "green": 33},
}

SEGMENT_ROLLOUT: dict[str, Any] = {
    "key": "search-v2",
    "on": True,
    "targets": {"off": ["user-13"]},
    "rules": [
        {"segment": "beta-testers", "variant": "on"},
        {"segment": "internal-team", "variant": "on"},
    ],
    "rollout": {"on": 10, "off": 90},
}


def flagset_doc(*flags: dict[str, Any]) -> dict[str, Any]:
    """A flags document holding `flags` and the shared segments."""
    return {"segments": SEGMENTS, "flags": {f["key"]: f for f in flags}}
