"""An OpenFeature provider over a `FlagReader` (typically on the Redis store).

Resolution is in-process and synchronous: the provider reads the reader's
compiled snapshot and never touches the network, so `resolve_*_details`
costs what `Evaluator.evaluate` costs. The reader's health becomes provider
events: READY when a snapshot is loaded, CONFIGURATION_CHANGED with the
changed flag keys on every notice, STALE while the store is unreachable (the
last snapshot keeps serving), ERROR when the store was reset.

    reader = FlagReader(open_store("redis://flags:6379/0", WriteGate()))
    await reader.start()
    api.set_provider(TurnoutProvider(reader))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast

from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEventDetails
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import FlagResolutionDetails
from openfeature.provider import AbstractProvider, Metadata

from turnout.backend.flags.evaluate import Reason
from turnout.backend.flags.reader import FlagReader, ReaderState

T = TypeVar("T")


def _context(evaluation_context: EvaluationContext | None) -> dict[str, Any]:
    if evaluation_context is None:
        return {}
    context = dict(evaluation_context.attributes)
    if evaluation_context.targeting_key is not None:
        context["targetingKey"] = evaluation_context.targeting_key
    return context


class TurnoutProvider(AbstractProvider):
    """OpenFeature resolution from Turnout's live snapshot."""

    def __init__(self, reader: FlagReader) -> None:
        super().__init__()
        self.reader = reader
        self._last = reader.state
        reader.listeners.append(self._on_reader)

    def get_metadata(self) -> Metadata:
        """The provider's name as OpenFeature reports it."""
        return Metadata(name="turnout")

    def _on_reader(self, state: ReaderState, changed: list[str], message: str) -> None:
        details = ProviderEventDetails(flags_changed=changed or None, message=message or None)
        if state == ReaderState.READY:
            if self._last == ReaderState.READY:
                self.emit_provider_configuration_changed(details)
            else:
                self.emit_provider_ready(details)
        elif state == self._last:
            pass  # the reader retries; an episode is one event, not one per retry
        elif state == ReaderState.STALE:
            self.emit_provider_stale(details)
        elif state == ReaderState.ERROR:
            details.error_code = ErrorCode.GENERAL
            self.emit_provider_error(details)
        self._last = state

    def _resolve(
        self, key: str, default: T, context: EvaluationContext | None, kind: type | tuple[type, ...]
    ) -> FlagResolutionDetails[T]:
        result = self.reader.evaluate(key, _context(context))
        meta: dict[str, int | bool] = {"stale": self.reader.state != ReaderState.READY}
        if result.bucket is not None:
            meta["bucket"] = result.bucket
        if result.reason == Reason.ERROR:
            code = ErrorCode.FLAG_NOT_FOUND if result.variant is None else ErrorCode.GENERAL
            if "targetingKey" in result.error:
                code = ErrorCode.TARGETING_KEY_MISSING
            return FlagResolutionDetails(default, code, result.error, Reason.ERROR.value, None, meta)
        value = result.value
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            message = f"flag {key!r} is {type(value).__name__}"
            return FlagResolutionDetails(default, ErrorCode.TYPE_MISMATCH, message, "ERROR")
        resolved = cast(T, value)
        return FlagResolutionDetails(resolved, None, None, result.reason.value, result.variant, meta)

    def resolve_boolean_details(
        self, flag_key: str, default_value: bool, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[bool]:
        """A boolean flag."""
        return self._resolve(flag_key, default_value, evaluation_context, bool)

    def resolve_string_details(
        self, flag_key: str, default_value: str, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[str]:
        """A string flag."""
        return self._resolve(flag_key, default_value, evaluation_context, str)

    def resolve_integer_details(
        self, flag_key: str, default_value: int, evaluation_context: EvaluationContext | None = None
    ) -> FlagResolutionDetails[int]:
        """An integer flag."""
        return self._resolve(flag_key, default_value, evaluation_context, int)

    def resolve_float_details(
        self,
        flag_key: str,
        default_value: float,
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[float]:
        """A number flag (integers widen)."""
        details = self._resolve(flag_key, default_value, evaluation_context, (int, float))
        details.value = float(details.value)
        return details

    def resolve_object_details(
        self,
        flag_key: str,
        default_value: Sequence[Any] | Mapping[str, Any],
        evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Sequence[Any] | Mapping[str, Any]]:
        """A JSON object or list flag."""
        return self._resolve(flag_key, default_value, evaluation_context, (dict, list))
