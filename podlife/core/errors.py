"""One error type for everything a user can fix: it names the cause and the fix."""

from __future__ import annotations


class PodlifeError(Exception):
    """An error whose message is one line: what went wrong, and what to do about it.

    The CLI prints it without a traceback and exits non-zero, so the cause and
    the fix must both be in the text.
    """

    def __init__(self, cause: str, fix: str, *, log: str | None = None) -> None:
        self.cause = cause
        self.fix = fix
        self.log = log
        super().__init__(cause)

    def __str__(self) -> str:
        text = f"{self.cause}. Fix: {self.fix}"
        if self.log:
            text += f" (log: {self.log})"
        return text
