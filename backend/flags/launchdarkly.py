"""LaunchDarkly as a flag store, through its REST API (v2) with httpx.

What maps, and what makes a flag read-only with the reason: see `ld_mapping`.
What Turnout changes: on/off and the rollout percentages — as a JSON patch
preceded by `test /_version` (the version precondition: a concurrent change
fails with 409 -> `Conflict`) and wrapped with a `comment` for
LaunchDarkly's audit log. Other edits (rules, segments) stay in
LaunchDarkly's UI and are refused here with a clear error.

The API token comes from `LD_API_KEY`, travels only in the Authorization
header and is never logged or put in an error. 429 and 5xx are retried
honouring Retry-After. Every request passes the write gate (an httpx
request hook), so read-only mode holds even for code that forgets to ask.
"""

from __future__ import annotations

import asyncio
import builtins
import email.utils
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec

from turnout.backend.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TurnoutError,
    Unavailable,
)
from turnout.backend.flags.ld_mapping import from_ld, map_environment, patch_ops
from turnout.backend.flags.ld_segments import Parts, segment_parts
from turnout.backend.flags.model import Flag, FlagSet, Segment
from turnout.backend.flags.store import HistoryEntry, Notice
from turnout.backend.gate import WriteGate

log = logging.getLogger(__name__)

_STATUS_ERRORS: dict[int, type[TurnoutError]] = {
    400: InvalidInput, 401: Forbidden, 403: Forbidden, 404: NotFound, 409: Conflict,
}  # fmt: skip


def retry_delay(response: httpx.Response, attempt: int, cap: float) -> float:
    """Seconds to wait: Retry-After (seconds or HTTP date) if given, else backoff."""
    header = response.headers.get("Retry-After", "")
    if header.isdigit():
        return min(float(header), cap)
    if header:
        parsed = email.utils.parsedate_to_datetime(header)
        wait: float = parsed.timestamp() - time.time()
        return min(max(wait, 0.0), cap)
    return min(0.5 * 2.0**attempt, cap)


class LaunchDarklyStore:
    """One LaunchDarkly project and environment."""

    def __init__(
        self,
        project: str,
        environment: str,
        token: str,
        gate: WriteGate,
        *,
        base_url: str = "https://app.launchdarkly.com",
        timeout: float = 5.0,
        attempts: int = 4,
        max_delay: float = 30.0,
        poll_seconds: float = 10.0,
    ) -> None:
        self.project, self.environment = project, environment
        self.url = f"launchdarkly://{project}/{environment}"
        self.attempts, self.max_delay, self.poll_seconds = attempts, max_delay, poll_seconds
        self.timeout = timeout

        async def gate_hook(request: httpx.Request) -> None:
            gate.check_http(request.method, str(request.url))

        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/api/v2",
            headers={"Authorization": token, "LD-API-Version": "20240415"},
            timeout=timeout,
            event_hooks={"request": [gate_hook]},
        )

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(self.timeout):  # the retries too: one bound per call
                return await self._attempts(method, path, **kwargs)
        except TimeoutError as exc:
            raise Unavailable(f"{self.url}: no answer within {self.timeout:g}s") from exc

    async def _attempts(self, method: str, path: str, **kwargs: Any) -> Any:
        for attempt in range(self.attempts):
            try:
                response = await self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                raise Unavailable(f"{self.url}: {type(exc).__name__}") from exc
            retryable = response.status_code == 429 or response.status_code >= 500
            if not retryable or attempt == self.attempts - 1:
                break
            await asyncio.sleep(retry_delay(response, attempt, self.max_delay))
        return self._result(response)

    def _result(self, response: httpx.Response) -> Any:
        if response.is_success:
            return response.json() if response.content else None
        try:
            message = str(response.json().get("message", ""))
        except ValueError:
            message = ""
        error = _STATUS_ERRORS.get(response.status_code, Unavailable)
        detail = f": {message}" if message else ""
        path = response.request.url.path
        raise error(f"LaunchDarkly {response.status_code} on {path}{detail}")

    async def snapshot(self) -> FlagSet:
        """Every flag of the project, as seen in the environment."""
        items: list[Any] = []
        path: str | None = f"/flags/{self.project}"
        params: dict[str, Any] | None = {"env": self.environment, "summary": "0", "limit": 100}
        while path:
            page = await self._request("GET", path, params=params)
            items += page.get("items", [])
            path = (page.get("_links", {}).get("next") or {}).get("href")
            path, params = (path.removeprefix("/api/v2"), None) if path else (None, None)
        return map_environment(items, await self._raw_segments(), self.environment)

    async def _raw_segments(self) -> list[Any] | None:
        """The environment's segments as LaunchDarkly sends them (None if not readable)."""
        try:
            page = await self._request("GET", f"/segments/{self.project}/{self.environment}",
                                       params={"limit": 50})
        except (NotFound, Forbidden) as err:
            log.info("LaunchDarkly segments not readable (%s): flags using them are read-only", err)
            return None
        items = page.get("items", []) if isinstance(page, dict) else []
        return items if isinstance(items, list) else []

    async def _segment_parts(self) -> dict[str, Parts] | None:
        raw = await self._raw_segments()
        return None if raw is None else {str(s.get("key")): segment_parts(s) for s in raw
                                         if isinstance(s, dict)}

    async def list(self) -> list[Flag]:
        """Every flag, sorted by key."""
        flags = (await self.snapshot()).flags
        return [flags[k] for k in sorted(flags)]

    async def _raw(self, key: str) -> Any:
        return await self._request("GET", f"/flags/{self.project}/{key}", params={"env": self.environment})

    async def get(self, key: str) -> Flag:
        """One flag."""
        return from_ld(await self._raw(key), self.environment, await self._segment_parts())

    async def put(self, flag: Flag, *, expected_version: int | None, by: str, reason: str) -> Flag:
        """Change on/off and the rollout, if LaunchDarkly's version is still `expected_version`."""
        if expected_version is None:
            raise InvalidInput(f"{self.url}: create flags in LaunchDarkly itself")
        raw = await self._raw(flag.key)
        segments = await self._segment_parts()
        ops = patch_ops(raw, flag, self.environment, segments)
        body = {
            "comment": f"{reason} (by {by} via turnout)" if reason else f"by {by} via turnout",
            "patch": [{"op": "test", "path": "/_version", "value": expected_version}, *ops],
        }
        result = await self._request("PATCH", f"/flags/{self.project}/{flag.key}", json=body)
        return from_ld(result, self.environment, segments)

    async def set_enabled(self, key: str, on: bool, *, by: str, reason: str) -> Flag:
        """The kill switch."""
        current = await self.get(key)
        changed = msgspec.structs.replace(current, on=on)
        return await self.put(changed, expected_version=current.version, by=by, reason=reason)

    async def put_segment(
        self, segment: Segment, *, expected_version: int | None, by: str, reason: str
    ) -> Segment:
        """Segments are edited in LaunchDarkly itself."""
        raise InvalidInput(f"{self.url}: edit segments in LaunchDarkly")

    async def history(self, key: str, limit: int = 20) -> builtins.list[HistoryEntry]:
        """LaunchDarkly keeps history in its own audit log."""
        raise InvalidInput(f"{self.url}: see LaunchDarkly's audit log for history")

    async def revert(self, key: str, *, by: str, reason: str) -> Flag:
        """Not offered: LaunchDarkly's audit log has no one-step revert through the API."""
        raise InvalidInput(f"{self.url}: revert in LaunchDarkly's audit log")

    async def watch(self) -> AsyncIterator[Notice]:
        """LaunchDarkly's REST API has no push; poll and report changed versions."""
        yield Notice("subscribed", self.url, 0)
        seen = {k: f.version for k, f in (await self.snapshot()).flags.items()}
        while True:
            await asyncio.sleep(self.poll_seconds)
            now = {k: f.version for k, f in (await self.snapshot()).flags.items()}
            for key in now.keys() | seen.keys():
                if now.get(key) != seen.get(key):
                    yield Notice("flag", key, now.get(key, 0))
            seen = now

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()
