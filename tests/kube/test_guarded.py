"""The pieces of a guarded change that need no server: versions from bodies, the diff of
what the routing objects said, and the stop message."""

from __future__ import annotations

from turnout.backend.kube.guarded import says_diff, stopped, version_of


def test_the_version_comes_from_the_body() -> None:
    assert version_of(b'{"metadata": {"name": "x", "resourceVersion": "42"}, "spec": {}}') == "42"


def test_the_diff_names_what_each_object_said_and_says() -> None:
    before = ["service/shop selects blue", "service/shop-preview selects green"]
    after = ["service/shop selects green", "service/shop-preview selects green"]
    assert says_diff(before, after) == ["was: service/shop selects blue",
                                        "now: service/shop selects green"]
    assert says_diff(before, before) == []


def test_a_stop_after_writes_names_the_ways_out() -> None:
    text = str(stopped("shop", "web", 1, 3, ["ingress/shop-canary was changed"], [], "abc"))
    assert "Stopped before write 2 of 3" in text and "operation abc" in text
    assert "`turnout -n web resume shop`" in text and "resume shop --back" in text


def test_a_stop_before_any_write_says_nothing_was_written() -> None:
    text = str(stopped("shop", "web", 0, 1, ["service/shop was changed"], [], ""))
    assert "nothing was written" in text and "resume" not in text
