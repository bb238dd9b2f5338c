"""Text from outside podlife, made safe to print to a terminal or write to a text report.

A results file can come from anywhere (another machine, a CI artifact), and its check
names and reasons are shown by `podlife compare`, `report` and the run summary. A raw ESC
there is a terminal escape: it can clear the screen, retitle the window or show a link to
any file (OSC 8). So every C0 and C1 control character (tab and newline aside), DEL, and
the bidirectional overrides that reorder what a reader sees are shown escaped, as \\x1b,
instead of being sent. What follows an escaped ESC is then plain, harmless text.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control character shown as an escape (tabs and newlines kept)."""
    return _UNSAFE.sub(_escaped, text)


def one_line(text: str) -> str:
    """Like printable, and newlines too: for a name or a path that must stay on one line."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")
