"""argparse types for numbers: a bad value is refused by the parser in one line.

Python's float() takes "nan" and "inf", and a deadline computed from either never comes
(every comparison with nan is false), so a `--timeout nan` would wait for ever.
"""

from __future__ import annotations

import argparse
import math


def seconds(text: str) -> float:
    """A duration in seconds: a finite number above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a finite number of seconds above 0 (e.g. 300)")
    return value


_UNITS = {"s": 1, "m": 60, "h": 3600}


def duration(text: str) -> float:
    """A duration such as 600, 90s, 10m or 1h: a finite number of seconds above zero."""
    unit = text[-1:].lower()
    if unit in _UNITS:
        try:
            return seconds(str(float(text[:-1]) * _UNITS[unit]))
        except (ValueError, argparse.ArgumentTypeError):
            pass
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration (e.g. 600, 90s, 10m or 1h)")
    try:
        return seconds(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration (e.g. 600, 90s, 10m or 1h)") from None


def duration_or_zero(text: str) -> float:
    """A duration (see duration), or 0 (written 0, 0s or 0m) for none at all."""
    if text.strip().lower() in ("0", "0s", "0m", "0h"):
        return 0.0
    return duration(text)
