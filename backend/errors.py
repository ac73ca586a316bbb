"""One error family for the whole backend.

Every failure that reaches a front end is a `TurnoutError`. Each class carries
the title the TUI shows and the exit code the CLI returns, so both front ends
agree without a mapping table of their own. Adapters translate kubernetes,
redis and httpx errors into these classes at the boundary with `raise ... from`.
"""

from __future__ import annotations


class TurnoutError(Exception):
    """Base of every error a front end shows. `message` is one line, safe to print."""

    title = "Error"
    exit_code = 1

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class InvalidInput(TurnoutError):
    """The request itself is wrong: nothing was changed."""

    title = "Invalid input"
    exit_code = 2


class ConfigError(TurnoutError):
    """Configuration or credentials are missing or malformed."""

    title = "Configuration error"
    exit_code = 3


class NotFound(TurnoutError):
    """The app, color, flag or object does not exist."""

    title = "Not found"
    exit_code = 4


class Conflict(TurnoutError):
    """Someone else changed the object between our read and our write."""

    title = "Changed by someone else"
    exit_code = 5


class Forbidden(TurnoutError):
    """The server (RBAC) refused the action."""

    title = "Forbidden"
    exit_code = 6


class ReadOnly(TurnoutError):
    """A write was attempted in read-only mode; refused before leaving the process."""

    title = "Read-only mode"
    exit_code = 7


class Unavailable(TurnoutError):
    """A backend (API server, Redis, Prometheus) could not be reached in time."""

    title = "Unavailable"
    exit_code = 8


class Locked(TurnoutError):
    """Another operator holds the app's release lock."""

    title = "Locked by another operator"
    exit_code = 9


class Cancelled(TurnoutError):
    """The operator declined a confirmation."""

    title = "Cancelled"
    exit_code = 10


class CheckFailed(TurnoutError):
    """`turnout check`: at least one item of the app's checklist fails (the list was printed)."""

    title = "Checklist fails"
    exit_code = 40


EXIT_CODES: dict[str, int] = {
    cls.__name__: cls.exit_code
    for cls in (
        TurnoutError,
        InvalidInput,
        ConfigError,
        NotFound,
        Conflict,
        Forbidden,
        ReadOnly,
        Unavailable,
        Locked,
        Cancelled,
        CheckFailed,
    )
}
"""Documented exit codes by error class (README: "Exit codes")."""
