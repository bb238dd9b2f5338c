"""Outcomes a check can end with besides pass and fail.

"Unsupported" means the cluster lacks a feature the check needs: it is neither a pass nor
an ordinary skip. "Error" means the check could not reach a verdict because the cluster
answered something unexpected (a 403 from a policy, a webhook's denial, a 5xx): not a
finding about the behaviour under test, and not a pass either. Both are types, so the
results recorder recognises them by the exception raised (see podlife.plugin.recording),
not by parsing messages.
"""

from __future__ import annotations

from typing import NoReturn

import pytest


class Unsupported(pytest.skip.Exception):
    """The cluster lacks what the check needs. Pytest reports it as a skip."""

    def __init__(self, reason: str) -> None:
        # The skip message keeps the word, so pytest's own summary lines say what it was.
        super().__init__(f"unsupported: {reason}")
        self.reason = reason


class CheckError(Exception):
    """The check could not reach a verdict. Pytest reports it as a failure (exit non-zero)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"error: {reason}")
        self.reason = reason


def unsupported(reason: str) -> NoReturn:
    """End a check as 'unsupported' (never a pass), saying what the cluster lacks."""
    raise Unsupported(reason)


def error(reason: str) -> NoReturn:
    """End a check as 'error' (never a pass), saying what kept it from a verdict."""
    raise CheckError(reason)
