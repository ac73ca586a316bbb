"""A seeded month of past releases for each demo app (so `history` and `dora` have data).

Deterministic: the same app and clock give the same history. The last promoted
release is the version live in the demo world now.
"""

from __future__ import annotations

import random
import zlib
from datetime import datetime, timedelta

from turnout.backend.demo.world import SimApp
from turnout.backend.models import Color, Verdict, other
from turnout.backend.release.model import Outcome, Release

RELEASES = 12
"""Past releases per demo app, spread over the last 30 days."""


def _versions(live: str, count: int) -> list[str]:
    """`count` versions ending at `live`, stepping the patch (then the minor) number down."""
    parts = live.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return [f"{live}-{i}" for i in range(count - 1)] + [live]
    major, minor, patch = (int(p) for p in parts)
    found = [live]
    while len(found) < count:
        minor, patch = (minor, patch - 1) if patch > 0 else (max(minor - 1, 0), 9)
        found.append(f"{major}.{minor}.{patch}")
    return found[::-1]


def _failure(rng: random.Random, color: Color, at: datetime, app: str) -> tuple[str, Verdict]:
    if rng.random() < 0.5:
        rate = rng.uniform(0.12, 0.4)
        verdict = Verdict(signal="error-rate", color=color, outcome="fail", value=rate,
                          threshold=0.05, source=f"metrics/{app}/{color}", at=at,
                          detail=f"{rate:.1%} > 5.0%")
        return f"error-rate {rate:.1%} > 5.0% on {color}", verdict
    restarts = rng.randint(4, 9)
    verdict = Verdict(signal="restarts", color=color, outcome="fail", value=float(restarts),
                      threshold=3.0, source=f"pod/{app}-{color}-seed", at=at,
                      detail=f"{restarts} restarts in 5m > 3")
    return f"restarts {restarts} in 5m > 3 on {color}", verdict


def _release(sim: SimApp, rng: random.Random, i: int, version: str, previous: str,
             colors: tuple[Color, Color], start: datetime, outcome: Outcome) -> Release:
    old, new = colors
    duration = timedelta(seconds=rng.uniform(240, 900))
    exposed = start + timedelta(seconds=rng.uniform(20, 60))
    reason, detected, restored = "", None, None
    verdicts: tuple[Verdict, ...] = ()
    if outcome == "rolled-back":
        detected = exposed + timedelta(seconds=rng.uniform(8, 40))
        reason, verdict = _failure(rng, new, detected, sim.name)
        verdicts, restored = (verdict,), detected + timedelta(seconds=rng.uniform(2, 9))
        duration = restored - start
    return Release(
        id=f"seed{i:02d}{zlib.crc32(sim.name.encode()) % 1000:03d}", app=sim.name,
        namespace=sim.namespace, context="demo", version=version,
        image=f"registry.demo/{sim.name}:{version}", previous_version=previous,
        previous_image=f"registry.demo/{sim.name}:{previous}", strategy="canary",
        steps=sim.plan, by=rng.choice(("alice", "bob", "ci-pipeline")), started_at=start,
        finished_at=start + duration, outcome=outcome, reason=reason,
        stage="analyse at 10 %" if reason else "", verdicts=verdicts, from_color=old,
        to_color=new, commit_time=start - timedelta(hours=rng.uniform(1, 30)),
        exposed_at=exposed, detected_at=detected, restored_at=restored)


def seeded_history(sim: SimApp, now: datetime) -> list[Release]:
    """About a dozen releases over 30 days, two of them rolled back, ending at the live version."""
    rng = random.Random(zlib.crc32(sim.name.encode()))
    failing = set(rng.sample(range(1, RELEASES - 2), 2))
    promotions = RELEASES - 1 - len(failing)
    versions = _versions(sim.slots[sim.live].version, promotions + 1)
    # Each promotion swaps colors: start where `promotions` swaps end on the live color.
    live = sim.live if promotions % 2 == 0 else other(sim.live)
    releases, current = [], versions[0]
    promoted = iter(versions[1:])
    for i in range(RELEASES - 1):
        start = now - timedelta(days=30) + timedelta(days=30 * i / RELEASES, hours=rng.uniform(0, 8))
        outcome: Outcome = "rolled-back" if i in failing else "promoted"
        version = f"{current}-rc{i}" if outcome == "rolled-back" else next(promoted)
        releases.append(_release(sim, rng, i, version, current, (live, other(live)), start, outcome))
        if outcome == "promoted":
            live, current = other(live), version
    return releases
