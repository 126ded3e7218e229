"""Per-connection counters and round-trip statistics, kept by the UI from network messages."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

# Round trips kept for p50/p99 and the sparkline: recent behaviour, bounded memory.
RTT_WINDOW = 1000


@dataclass(slots=True)
class LinkStats:
    sent_lines: int = 0
    sent_bytes: int = 0  # chat lines written, newline included
    echoed_lines: int = 0  # echoes paired with a line we sent: the round trips
    echoed_bytes: int = 0  # the round trips' echoes, newline included: comparable to sent_bytes
    received_bytes: int = 0  # everything read, banner and unsolicited lines included
    mismatches: int = 0  # round trips whose echo is not the uppercase of the line sent
    unsolicited: int = 0  # lines the peer sent that answer nothing we sent (no round trip)
    unconfirmed_lines: int = 0  # written, then the link dropped before their echo
    rtts: deque[float] = field(default_factory=lambda: deque(maxlen=RTT_WINDOW))

    def add_rtt(self, seconds: float) -> None:
        self.rtts.append(seconds)

    @property
    def last_rtt(self) -> float | None:
        return self.rtts[-1] if self.rtts else None

    def percentile(self, fraction: float) -> float | None:
        """The ``fraction`` quantile (0..1) of recent round trips, nearest-rank."""
        return percentile(self.rtts, fraction)


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """The ``fraction`` quantile (0..1) of ``values``, nearest-rank; None if empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def plural(count: int, word: str) -> str:
    """``1 line``, ``2 lines``: a count with its noun."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def format_ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    ms = seconds * 1000
    return f"{ms:.1f} ms" if ms < 100 else f"{ms:.0f} ms"


def format_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.1f} GiB"
