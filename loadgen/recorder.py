"""What one process's connections record while the load runs."""

from __future__ import annotations

from array import array
from collections import Counter


class Recorder:
    """Counters shared by the connections of one process (one event loop, no locks)."""

    __slots__ = ("errors", "first_mismatch", "measuring", "rtts", "skipped", "total")

    def __init__(self) -> None:
        self.total = 0  # echoes completed since the load started (warm-up included)
        self.measuring = False  # True inside the measured window
        self.rtts = array("q")  # round trip of each echo completed in the window, ns
        self.skipped = 0  # open loop: messages not sent, too many already in flight
        self.errors: Counter[str] = Counter()
        self.first_mismatch: tuple[bytes, bytes] | None = None  # (expected, got)

    def error(self, reason: str) -> None:
        self.errors[reason] += 1

    def mismatch(self, expected: bytes, got: bytes) -> None:
        self.errors["wrong echo"] += 1
        if self.first_mismatch is None:
            self.first_mismatch = (expected, got)
