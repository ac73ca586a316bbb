"""Which log lines of a color's pods the guard counts: pure selection, no server."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from turnout.backend.kube.logs import MAX_PODS, readable, recent_lines
from turnout.backend.models import Pod

logs = st.lists(st.lists(st.text(max_size=5), max_size=30), max_size=6)


def test_each_pod_gives_an_equal_share_of_its_newest_lines() -> None:
    per_pod = [[f"a{i}" for i in range(50)], [f"b{i}" for i in range(50)], [f"c{i}" for i in range(50)]]
    lines = recent_lines(per_pod, 10)
    assert lines == ["a46", "a47", "a48", "a49", "b47", "b48", "b49", "c47", "c48", "c49"]


def test_pods_with_more_lines_fill_what_quiet_ones_leave() -> None:
    assert recent_lines([["a1"], [f"b{i}" for i in range(9)], []], 5) == ["a1", "b5", "b6", "b7", "b8"]
    assert recent_lines([["a1"], ["b1", "b2"]], 100) == ["a1", "b1", "b2"]
    assert recent_lines([["a1"]], 0) == []


@given(logs, st.integers(min_value=0, max_value=200))
def test_the_limit_is_met_when_there_are_enough_lines(per_pod: list[list[str]], limit: int) -> None:
    lines = recent_lines(per_pod, limit)
    assert len(lines) == min(limit, sum(map(len, per_pod)))


@given(logs, st.integers(min_value=0, max_value=200))
def test_each_pod_contributes_its_newest_lines_and_shares_differ_by_one_at_most(
        per_pod: list[list[str]], limit: int) -> None:
    tagged = [[(i, line) for line in lines] for i, lines in enumerate(per_pod)]
    taken = recent_lines(tagged, limit)
    shares = []
    for i, lines in enumerate(tagged):
        mine = [t for t in taken if t[0] == i]
        assert mine == (lines[len(lines) - len(mine):])
        shares.append(len(mine))
    # A pod that had lines left got at most one fewer than any other pod.
    cut_short = [s for s, lines in zip(shares, per_pod, strict=True) if s < len(lines)]
    assert all(s >= max(shares) - 1 for s in cut_short)


def test_only_started_pods_on_a_node_are_read_and_at_most_max_pods() -> None:
    pods = [Pod(name=f"p{i:02d}", color="green", phase="Running", ready=True, node="n")
            for i in range(MAX_PODS + 5)]
    pending = Pod(name="a-pending", color="green", phase="Pending", ready=False, node="n")
    unscheduled = Pod(name="a-nowhere", color="green", phase="Running", ready=False)
    chosen = readable([pending, unscheduled, *reversed(pods)])
    assert [p.name for p in chosen] == [p.name for p in pods[:MAX_PODS]]
