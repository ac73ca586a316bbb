"""Make untrusted text inert before it reaches a terminal.

Pod names, annotations, events, log lines and flag descriptions come from
other people. A terminal obeys escape sequences (an OSC can retitle the
window or write to the clipboard), and bidi overrides reorder what the
operator reads. `inert` keeps printable text, tab and newline, and drops the rest.
"""

from __future__ import annotations

import re

_ESCAPES = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC ... ST
    r"|\x1b\[[0-?]*[ -/]*[@-~]?"  # CSI
    r"|\x1b[ -/]*[0-~]?"  # other two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]?"  # 8-bit CSI
    r"|[\x90\x98\x9d\x9e\x9f][^\x07\x9c\x1b]*(?:\x07|\x9c)?"  # 8-bit DCS, SOS, OSC, PM, APC
)
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (tab and newline kept), DEL and C1
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"  # bidi marks, embeddings, overrides, isolates
)


def inert(text: str, *, single_line: bool = False) -> str:
    """`text` with escape sequences, control characters and bidi controls removed."""
    cleaned = _CONTROLS.sub("", _ESCAPES.sub("", text))
    if single_line:
        cleaned = cleaned.replace("\n", " ").replace("\t", " ")
    return cleaned
