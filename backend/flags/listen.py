"""The listening rule every flag server shares (OFREP and the flagd gRPC sync).

A server that hands out flags listens on loopback by default; any other address
needs a token, so a flag set never leaks to whoever can reach the pod or node.
"""

from __future__ import annotations

import ipaddress

from turnout.backend.errors import ConfigError

TOKEN_ENV = "TURNOUT_OFREP_TOKEN"
"""The bearer token both servers read when no --token-file is given."""


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_token_off_loopback(host: str, token: str, what: str) -> None:
    """Refuse to serve `what` on a non-loopback `host` without a token."""
    if not token and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve {what} on {host} without a token: set {TOKEN_ENV} "
            "or --token-file (only 127.0.0.1/::1 may go without)"
        )
