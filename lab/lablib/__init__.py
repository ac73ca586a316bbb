"""The lab's building blocks: PKI, processes, a tiny Kubernetes client, seed data.

Stdlib only, so ``python3 lab/labctl.py up`` works before the project's virtualenv
exists. The one outside tool used is ``openssl``, for the certificates.
"""


class LabError(Exception):
    """A lab step failed; the message is one line naming the component and its log."""


class LabUnavailable(LabError):
    """The lab cannot be had on this machine (no Go, not root for apt, ...)."""
