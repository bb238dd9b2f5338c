"""Outcomes a check can end with besides pass and fail.

"Unsupported" means the cluster lacks a feature the check needs: it is neither a pass nor
an ordinary skip. It is a type, so the results recorder recognises it by the exception
raised (see podlife.pytest_results), not by parsing the skip message.
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


def unsupported(reason: str) -> NoReturn:
    """End a check as 'unsupported' (never a pass), saying what the cluster lacks."""
    raise Unsupported(reason)
