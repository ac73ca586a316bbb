"""Delivery figures from recorded releases, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.backend.release import Release
from turnout.backend.release.dora import dora
from turnout.backend.release.model import Outcome

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def release(day: float, outcome: Outcome, *, took: float = 600, commit_hours: float | None = None,
            exposed: float | None = 60, detected: float | None = None,
            restored: float | None = None, app: str = "shop") -> Release:
    """A release started `day` days after T0; other times in seconds after its start."""
    start = T0 + timedelta(days=day)

    def at(seconds: float | None) -> datetime | None:
        return None if seconds is None else start + timedelta(seconds=seconds)

    return Release(id=f"{app}{day}", app=app, namespace="shop", context="lab", version="1",
                   image="r/shop:1", previous_version="0", previous_image="r/shop:0",
                   strategy="canary", steps=(10, 100), by="ci", started_at=start,
                   finished_at=start + timedelta(seconds=took), outcome=outcome,
                   from_color="blue", to_color="green",
                   commit_time=None if commit_hours is None else start - timedelta(hours=commit_hours),
                   exposed_at=at(exposed), detected_at=at(detected), restored_at=at(restored))


HISTORY = [
    release(0, "promoted", commit_hours=2),
    release(1, "promoted", commit_hours=4),
    release(2, "rolled-back", took=90, exposed=30, detected=70, restored=80),
    release(3, "aborted", took=300, exposed=60, restored=240),
    release(4, "failed", took=20, exposed=None),
    release(5, "promoted"),
    release(40, "promoted", commit_hours=1),  # outside the window
    release(1.5, "promoted", app="search"),
]


def test_the_four_keys_and_turnouts_two() -> None:
    figures = dora(HISTORY, since=T0, until=T0 + timedelta(days=10), app="shop")
    assert figures.releases == 6
    assert figures.outcomes == {"promoted": 3, "rolled-back": 1, "aborted": 1, "failed": 1}
    assert figures.deployment_frequency_per_day == pytest.approx(0.3)
    # commit -> finished: 2 h + 600 s and 4 h + 600 s
    assert figures.lead_time.count == 2
    assert figures.lead_time.median == pytest.approx(3 * 3600 + 600)
    assert figures.change_failure_rate == pytest.approx(2 / 5)  # "failed" judges Turnout, not the change
    assert (figures.time_to_restore.count, figures.time_to_restore.median) == (2, pytest.approx(115))
    assert (figures.rollback_time.count, figures.rollback_time.median) == (1, pytest.approx(10))
    assert figures.success_rate == pytest.approx(3 / 6)


def test_every_app_and_the_window() -> None:
    assert dora(HISTORY, since=T0, until=T0 + timedelta(days=10)).releases == 7
    assert dora(HISTORY, since=T0 + timedelta(days=30), until=T0 + timedelta(days=60)).releases == 1


def test_no_history_gives_no_rates_rather_than_zeroes() -> None:
    figures = dora([], since=T0, until=T0 + timedelta(days=30))
    assert (figures.change_failure_rate, figures.success_rate, figures.lead_time.median) == (
        None, None, None)
    assert figures.deployment_frequency_per_day == 0


@given(st.lists(st.tuples(st.floats(min_value=0, max_value=29), st.sampled_from(
    ["promoted", "rolled-back", "aborted", "failed"])), max_size=30))
def test_rates_stay_between_0_and_1(entries: list[tuple[float, Outcome]]) -> None:
    releases = [release(day, outcome, restored=100 if outcome != "promoted" else None)
                for day, outcome in entries]
    figures = dora(releases, since=T0, until=T0 + timedelta(days=30))
    for rate in (figures.change_failure_rate, figures.success_rate):
        assert rate is None or 0 <= rate <= 1
    assert figures.releases == sum(figures.outcomes.values()) == len(entries)
