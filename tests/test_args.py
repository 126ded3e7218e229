"""coio.args: the argument types every command line shares, and the one line each refusal is."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest

from coio.args import bounded_float, bounded_int, port_number, port_or_zero


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (port_number, "1", 1),
        (port_number, "65535", 65535),
        (port_or_zero, "0", 0),
        (bounded_int(1, 1_000_000), "1000000", 1_000_000),
        (bounded_int(0), "12345678901234567890", 12345678901234567890),
        (bounded_float(0.1, 50.0), "0.1", 0.1),
        (bounded_float(0), "1e3", 1000.0),
    ],
)
def test_values_in_range_are_taken(parse: Callable[[str], float], text: str, value: float) -> None:
    """A value within its range comes back as the number it names."""
    assert parse(text) == value


@pytest.mark.parametrize(
    ("parse", "text", "said"),
    [
        (port_number, "0", "port must be 1-65535, got 0"),
        (port_number, "http", "not a port number: 'http'"),
        (port_or_zero, "70000", "port must be 0-65535, got 70000"),
        (port_or_zero, "-1", "port must be 0-65535, got -1"),
        (bounded_int(1, 1_000_000), "0", "must be 1-1000000, got 0"),
        (bounded_int(1, 1_000_000), "1e3", "not a whole number: '1e3'"),
        (bounded_int(1), "0", "must be at least 1, got 0"),
        (bounded_int(1, 10, "a number of bytes"), "big", "not a number of bytes: 'big'"),
        (bounded_float(0.1, 50.0), "0", "must be 0.1-50, got 0"),
        (bounded_float(0.001, 1e9), "-5", "must be 0.001-1000000000, got -5"),
        (bounded_float(0.1, 50.0), "nan", "must be a finite number, got nan"),
        (bounded_float(0), "inf", "must be a finite number, got inf"),
        (bounded_float(0, what="a number of seconds"), "soon", "not a number of seconds: 'soon'"),
    ],
)
def test_values_out_of_range_are_one_line(
    parse: Callable[[str], float], text: str, said: str
) -> None:
    """A bad value is refused with one line naming the range as people write it."""
    with pytest.raises(argparse.ArgumentTypeError) as refused:
        parse(text)
    assert str(refused.value) == said
