"""The write gate: the one choke point that enforces read-only mode.

Every adapter routes its outgoing mutating requests through a `WriteGate`
at the transport level (HTTP verb to the API server, write command to Redis,
non-GET to LaunchDarkly), so a code path that forgets to check read-only
mode still cannot write. Front ends may grey out actions for the operator's
benefit, but this gate is what makes read-only mode true.
"""

from __future__ import annotations

import msgspec

from turnout.backend.errors import ReadOnly

MUTATING_HTTP_VERBS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WriteGate(msgspec.Struct, frozen=True):
    """Refuses writes when `read_only` is set; `why` says where that came from."""

    read_only: bool = False
    why: str = ""

    def check(self, what: str) -> None:
        """Raise `ReadOnly` if writes are off. `what` names the refused write."""
        if self.read_only:
            source = f" ({self.why})" if self.why else ""
            raise ReadOnly(f"read-only mode{source}: refused {what}")

    def check_http(self, method: str, url: str) -> None:
        """Check an outgoing HTTP request; reads always pass."""
        if method.upper() in MUTATING_HTTP_VERBS:
            self.check(f"{method.upper()} {url}")
