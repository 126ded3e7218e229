"""Argument types for coio's command lines: ports, and numbers within a range.

Each is an argparse ``type``: it returns the value, or raises ArgumentTypeError with the one
line argparse prints after the flag's name (``argument --port: port must be 1-65535, got 0``).
Ranges are written as people write them (``1-1000000``, never ``1e+06``); NaN and infinity
are refused, since no timer, rate or pool can use them.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

from coio.address import MAX_PORT

Number = TypeVar("Number", int, float)


def _written(bound: float) -> str:
    """A bound as people write it: 1000000 and 86400, not 1e+06 and 86400.0; 0.1 stays 0.1."""
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


def _bounded(
    convert: Callable[[str], Number],
    low: Number,
    high: Number | None,
    what: str,
    subject: str = "",
) -> Callable[[str], Number]:
    def parse(text: str) -> Number:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if value < low or (high is not None and value > high):
            span = (
                f"at least {_written(low)}" if high is None else f"{_written(low)}-{_written(high)}"
            )
            raise argparse.ArgumentTypeError(f"{subject}must be {span}, got {text}")
        return value

    return parse


def bounded_int(
    low: int, high: int | None = None, what: str = "a whole number"
) -> Callable[[str], int]:
    """A whole number from ``low`` to ``high`` (no upper bound if None); ``what`` names the
    kind of value when the text is not a whole number at all."""
    return _bounded(int, low, high, what)


def bounded_float(
    low: float, high: float | None = None, what: str = "a number"
) -> Callable[[str], float]:
    """A finite number from ``low`` to ``high`` (no upper bound if None)."""
    return _bounded(float, low, high, what)


_PORT = _bounded(int, 1, MAX_PORT, "a port number", subject="port ")
_PORT_OR_ZERO = _bounded(int, 0, MAX_PORT, "a port number", subject="port ")


def port_number(text: str) -> int:
    """A port to connect to: 1-65535."""
    return _PORT(text)


def port_or_zero(text: str) -> int:
    """A port to listen on: 1-65535, or 0 for any free port."""
    return _PORT_OR_ZERO(text)
