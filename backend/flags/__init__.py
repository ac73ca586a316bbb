"""Feature flags: the model, in-process evaluation, stores and a live reader.

Applications evaluate in-process from a snapshot kept fresh by change notices:

    from turnout.backend.flags import FlagReader, open_store
    from turnout.backend.gate import WriteGate

    flags = FlagReader(open_store("redis://flags:6379/0", WriteGate(read_only=True)))
    await flags.start()
    if flags.is_enabled("new-checkout", {"targetingKey": user.id, "email": user.email}):
        ...

Store back ends (Redis, file, LaunchDarkly) import their client libraries only
when `open_store` picks them; the names below are loaded on first use.
"""

from typing import TYPE_CHECKING

from turnout.backend.lazy import exports

if TYPE_CHECKING:
    from turnout.backend.flags.evaluate import Evaluation, Evaluator, Reason
    from turnout.backend.flags.model import Condition, Flag, FlagSet, Meta, Plan, Rule, Segment
    from turnout.backend.flags.reader import FlagReader, ReaderState
    from turnout.backend.flags.store import FlagStore, HistoryEntry, StoreReset
    from turnout.backend.flags.urls import open_store, resolve_url

__all__ = [
    "Condition",
    "Evaluation",
    "Evaluator",
    "Flag",
    "FlagReader",
    "FlagSet",
    "FlagStore",
    "HistoryEntry",
    "Meta",
    "Plan",
    "ReaderState",
    "Reason",
    "Rule",
    "Segment",
    "StoreReset",
    "open_store",
    "resolve_url",
]

__getattr__ = exports(__name__, {
    "Condition": "model",
    "Evaluation": "evaluate",
    "Evaluator": "evaluate",
    "Flag": "model",
    "FlagReader": "reader",
    "FlagSet": "model",
    "FlagStore": "store",
    "HistoryEntry": "store",
    "Meta": "model",
    "Plan": "model",
    "ReaderState": "reader",
    "Reason": "evaluate",
    "Rule": "model",
    "Segment": "model",
    "StoreReset": "store",
    "open_store": "urls",
    "resolve_url": "urls",
})
