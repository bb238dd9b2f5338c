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
