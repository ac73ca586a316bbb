"""The one rule for unfinished operations, on records: refuse, naming the operation and
both ways out."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from turnout.backend.errors import Conflict
from turnout.backend.models import App, Operation, Slot, Traffic, Weights
from turnout.backend.unfinished import refuse_unfinished

SLOT = Slot(color="blue", version="1", image="x", desired=1, ready=1, available=1)
APP = App(name="shop", namespace="web", context="c", blue=SLOT,
          green=msgspec.structs.replace(SLOT, color="green"),
          traffic=Traffic(live="blue", weights=Weights.all_to("blue")))


def test_nothing_unfinished_is_no_refusal() -> None:
    refuse_unfinished(APP, "weight")


def test_an_unfinished_operation_is_named_with_both_ways_out() -> None:
    op = Operation(id="abc123", kind="traffic", by="ann", step=1,
                   started_at=datetime(2026, 1, 1, tzinfo=UTC),
                   steps=("service/shop", "ingress/shop-canary", "service/shop-preview"))
    with pytest.raises(Conflict) as err:
        refuse_unfinished(msgspec.structs.replace(APP, operation=op), "abort")
    text = str(err.value)
    assert "abc123" in text and "step 1/3" in text and "by ann" in text
    assert "turnout -n web resume shop`" in text and "resume shop --back" in text
