"""Round-trip figures and reconnect delays, without any IO."""

from __future__ import annotations

import itertools

import pytest

from coio.tui.net.backoff import MAX_DELAY, Backoff
from coio.tui.stats import RTT_WINDOW, LinkStats, format_bytes, format_ms, percentile


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        ([], 0.5, None),
        ([7.0], 0.99, 7.0),
        ([3.0, 1.0, 2.0], 0.5, 2.0),
        ([float(n) for n in range(1, 101)], 0.5, 50.0),
        ([float(n) for n in range(1, 101)], 0.99, 99.0),
        ([float(n) for n in range(1, 101)], 1.0, 100.0),
        ([1.0] * 98 + [500.0, 900.0], 0.99, 500.0),
    ],
)
def test_percentile_is_nearest_rank(values: list[float], fraction: float, expected) -> None:
    """p50 / p99 pick an observed value by nearest rank; no values gives None."""
    assert percentile(values, fraction) == expected


def test_link_stats_keep_a_bounded_window_of_round_trips() -> None:
    """Only the most recent RTT_WINDOW round trips count for last, p50 and p99."""
    stats = LinkStats()
    for n in range(RTT_WINDOW + 500):
        stats.add_rtt(n / 1000)
    assert len(stats.rtts) == RTT_WINDOW
    assert stats.last_rtt == (RTT_WINDOW + 499) / 1000
    assert stats.percentile(0.0) == 0.5  # the first 500 fell out of the window


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    """Delays double from the first one, never pass the cap, and start over after a reset."""
    backoff = Backoff()
    delays = [backoff.next_delay() for _ in range(12)]
    assert delays[:3] == [0.5, 1.0, 2.0]
    assert max(delays) == MAX_DELAY
    assert delays[-1] == MAX_DELAY
    assert all(b >= a for a, b in itertools.pairwise(delays))
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_figures_are_formatted_for_people() -> None:
    """Milliseconds keep one decimal below 100 ms; bytes climb through binary units."""
    assert [format_ms(None), format_ms(0.00042), format_ms(0.25)] == ["-", "0.4 ms", "250 ms"]
    assert [format_bytes(n) for n in (12, 2048, 5 * 2**20, 3 * 2**30)] == [
        "12 B",
        "2.0 KiB",
        "5.0 MiB",
        "3.0 GiB",
    ]
