"""Seeded feature flags for the demo apps, in an in-memory store behind the flag port."""

from __future__ import annotations

from collections.abc import Callable

from turnout.backend.flags.local import Document, MemoryStore
from turnout.backend.flags.model import Condition, Flag, FlagSet, Meta, Plan, Rule, Segment
from turnout.backend.gate import WriteGate

SEGMENTS = {
    "beta-testers": Segment(key="beta-testers", description="Opted in to early features",
                            users=("alice", "bob", "carol")),
    "internal-team": Segment(key="internal-team", description="Everyone at example.com",
                             conditions=(Condition("email", "ends_with", ("@example.com",)),)),
}

FLAGS = (
    Flag(key="new-checkout", description="One-page checkout", on=True,
         rollout={"on": 25, "off": 75}, plan=Plan(stages=(10, 25, 50, 100), stage=1),
         rules=(Rule("internal-team", "on"),), meta=Meta(owner="shop-team", app="checkout"),
         version=4),
    Flag(key="search-ranking", description="Ranking model A/B/C", kind="string", on=True,
         variants={"control": "bm25", "v2": "learned-v2", "v3": "learned-v3"},
         off_variant="control", default_variant="control",
         rollout={"control": 50, "v2": 25, "v3": 25}, rules=(Rule("beta-testers", "v3"),),
         meta=Meta(owner="search-team", app="search", tags=("experiment",)), version=9),
    Flag(key="payments-3ds", description="3-D Secure on every card payment", on=True,
         rollout={"on": 100, "off": 0}, meta=Meta(owner="payments-team", app="payments"),
         version=2),
    Flag(key="dark-mode", description="Dark theme for the storefront",
         targets={"on": ("alice",)}, meta=Meta(owner="web-team", app="checkout"), version=1),
)


class KeptFlagStore(MemoryStore):
    """The demo's flags as an earlier run left them, kept again after each write."""

    def __init__(self, gate: WriteGate, document: Document | None, keep: Callable[[], None]) -> None:
        super().__init__(gate, seeded())
        if document is not None:
            self._document = document
        self._keep = keep

    @property
    def document(self) -> Document:
        """Everything the store holds, to keep."""
        return self._load()

    def _save(self, document: Document) -> None:
        super()._save(document)
        self._keep()


def seeded() -> FlagSet:
    """The demo flags and segments as every demo starts."""
    return FlagSet(flags={f.key: f for f in FLAGS}, segments=dict(SEGMENTS))


def demo_flag_store(gate: WriteGate) -> MemoryStore:
    """A fresh store holding the demo flags and segments."""
    return MemoryStore(gate, seeded())
