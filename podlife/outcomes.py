"""Outcomes of a check other than pass and fail."""

from __future__ import annotations

from typing import NoReturn

import pytest


def unsupported(reason: str) -> NoReturn:
    """End a check as 'unsupported': the cluster lacks a feature it needs (never a pass)."""
    pytest.skip(f"unsupported: {reason}")
