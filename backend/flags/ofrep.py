"""OFREP, the OpenFeature Remote Evaluation Protocol: request bodies in, responses out.

Pure functions over a `FlagReader`'s snapshot, so the wire shapes are tested
without a server (`ofrep_server.py` is the HTTP side). Shapes follow the
protocol's OpenAPI definition (open-feature/protocol `service/openapi.yaml`):

- single `POST /ofrep/v1/evaluate/flags/{key}`: 200 `{key, value, variant, reason,
  metadata}`; 400 `{key, errorCode, errorDetails}` with PARSE_ERROR,
  TARGETING_KEY_MISSING, INVALID_CONTEXT or GENERAL; 404 with FLAG_NOT_FOUND;
- bulk `POST /ofrep/v1/evaluate/flags`: 200 `{flags: [success | failure, ...]}`
  with an ETag over the body (304 when `If-None-Match` matches); 400
  `{errorCode, errorDetails}` for a body that cannot be read.

A snapshot the reader could not refresh is still served (losing the store must
never turn every flag off) but never silently: every answer then carries
`metadata.stale = true` and `staleSince`, and a reader that never loaded one
answers 500 GENERAL rather than defaults.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from turnout.backend.flags.evaluate import Evaluation, Reason
from turnout.backend.flags.reader import FlagReader, ReaderState

PARSE_ERROR = "PARSE_ERROR"
TARGETING_KEY_MISSING = "TARGETING_KEY_MISSING"
INVALID_CONTEXT = "INVALID_CONTEXT"
GENERAL = "GENERAL"
FLAG_NOT_FOUND = "FLAG_NOT_FOUND"

_STATUS = {FLAG_NOT_FOUND: 404, GENERAL: 500}
_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


class Answer(msgspec.Struct, frozen=True):
    """One HTTP answer: status, JSON body (None for 304) and extra headers."""

    status: int
    body: Any
    headers: dict[str, str] = msgspec.field(default_factory=dict)

    def encoded(self) -> bytes:
        """The body as JSON bytes (empty for a 304)."""
        return b"" if self.body is None else _encoder.encode(self.body)


class BadRequest(Exception):
    """A body that is not an OFREP request: its error code and details."""

    def __init__(self, code: str, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


def read_context(body: bytes) -> dict[str, Any]:
    """The evaluation context of a request body; `BadRequest` when unusable.

    An empty body or one without `context` is an empty context: OFREP's
    `context` is optional, and a flag without targeting needs none.
    """
    if not body.strip():
        return {}
    try:
        request = _decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(PARSE_ERROR, f"malformed JSON: {exc}") from exc
    if not isinstance(request, dict):
        raise BadRequest(PARSE_ERROR, "the request body must be a JSON object")
    context = request.get("context", {})
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise BadRequest(INVALID_CONTEXT, "context must be a JSON object")
    key = context.get("targetingKey")
    if key is not None and not isinstance(key, str):
        raise BadRequest(INVALID_CONTEXT, "targetingKey must be a string")
    return context


def _metadata(reader: FlagReader, result: Evaluation) -> dict[str, Any]:
    flag = reader.evaluator.flagset.flags[result.flag]
    meta: dict[str, Any] = {"version": flag.version, "bucketing": flag.bucketing}
    if result.bucket is not None:
        meta["bucket"] = result.bucket
    if reader.state != ReaderState.READY:
        meta["stale"] = True
        meta["storeState"] = str(reader.state)
        if reader.stale_since is not None:
            meta["staleSince"] = reader.stale_since.isoformat()
    return meta


def _failure(key: str, code: str, details: str) -> dict[str, Any]:
    return {"key": key, "errorCode": code, "errorDetails": details}


def _error_code(result: Evaluation) -> str:
    if result.variant is None:
        return FLAG_NOT_FOUND
    if result.error.startswith("targetingKey"):
        return TARGETING_KEY_MISSING
    if result.error.startswith("bad context"):
        return INVALID_CONTEXT
    return GENERAL


def flag_body(reader: FlagReader, result: Evaluation) -> tuple[str | None, dict[str, Any]]:
    """(error code or None, the flag's entry) for one evaluation."""
    if result.reason == Reason.ERROR:
        code = _error_code(result)
        return code, _failure(result.flag, code, result.error)
    body = {
        "key": result.flag,
        "value": result.value,
        "variant": result.variant,
        "reason": str(result.reason),
        "metadata": _metadata(reader, result),
    }
    return None, body


def not_loaded(reader: FlagReader) -> str | None:
    """Why nothing can be answered (no snapshot loaded, nothing to serve stale), or None.

    A reader whose first load failed holds an empty flag set while STALE or ERROR;
    answering FLAG_NOT_FOUND from it would pass an outage off as "no such flag".
    """
    if reader.state == ReaderState.READY or reader.evaluator.flagset.flags:
        return None
    return f"flag store {reader.store.url} not loaded: {reader.message or 'connecting'}"


def evaluate_one(reader: FlagReader, key: str, body: bytes) -> Answer:
    """The single-flag endpoint."""
    why = not_loaded(reader)
    if why is not None:
        return Answer(500, _failure(key, GENERAL, why))
    try:
        context = read_context(body)
    except BadRequest as bad:
        return Answer(400, _failure(key, bad.code, bad.details))
    code, entry = flag_body(reader, reader.evaluate(key, context))
    return Answer(200 if code is None else _STATUS.get(code, 400), entry)


def etag_of(payload: bytes) -> str:
    """A strong ETag over the exact bulk body: any change of value, variant or staleness."""
    return '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'


def evaluate_bulk(reader: FlagReader, body: bytes, if_none_match: str | None) -> tuple[Answer, bytes]:
    """The bulk endpoint: (answer, encoded body), 304 when the client's ETag still holds."""
    why = not_loaded(reader)
    if why is not None:
        answer = Answer(500, {"errorCode": GENERAL, "errorDetails": why})
        return answer, answer.encoded()
    try:
        context = read_context(body)
    except BadRequest as bad:
        answer = Answer(400, {"errorCode": bad.code, "errorDetails": bad.details})
        return answer, answer.encoded()
    flags = [flag_body(reader, result)[1] for result in reader.evaluate_all(context)]
    payload = _encoder.encode({"flags": flags})
    tag = etag_of(payload)
    if if_none_match is not None and tag in (t.strip() for t in if_none_match.split(",")):
        return Answer(304, None, {"ETag": tag}), b""
    return Answer(200, {"flags": flags}, {"ETag": tag}), payload


def reasons_of(answer: Answer) -> list[str]:
    """The evaluation reasons (or error codes) an answer carries, for the metrics."""
    body = answer.body
    if not isinstance(body, dict):
        return []
    entries = body.get("flags", [body])
    return [str(e.get("reason") or e.get("errorCode") or "") for e in entries if isinstance(e, dict)]
