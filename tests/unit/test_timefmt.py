"""kubectl-style ages, and the moment each one next reads differently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from turnout.backend.timefmt import age, age_changes_at

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_ages_read_as_kubectl_prints_them() -> None:
    assert [age(START, START + timedelta(seconds=s)) for s in (0, 59, 60, 3599, 3600, 86399, 86400 * 3)] \
        == ["0s", "59s", "1m", "59m", "1h", "23h", "3d"]
    assert age(None, START) == "-"


@given(st.floats(0, 1e7), st.floats(0, 1e7))
def test_the_age_changes_exactly_at_the_announced_moment(started: float, elapsed: float) -> None:
    since = START + timedelta(seconds=started)
    now = since + timedelta(seconds=elapsed)
    at = age_changes_at(since, now)
    assert at > now
    assert age(since, at - timedelta(microseconds=1)) == age(since, now)
    assert age(since, at) != age(since, now)


def test_an_unknown_start_never_changes() -> None:
    assert age_changes_at(None, START) > START + timedelta(days=365 * 1000)
