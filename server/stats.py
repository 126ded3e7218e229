"""Live counters shared by every connection, and the periodic stats line built from them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(slots=True)
class Stats:
    """Plain counters: updated in the hot path, read by the stats line and /metrics."""

    live: int = 0
    total: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    lines: int = 0
    chunks: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> tuple[int, int, int, int, int]:
        return (self.live, self.total, self.bytes_in, self.bytes_out, self.lines)


@dataclass(slots=True)
class StatsReporter:
    """Builds one line per interval with rates since the last line, or None if nothing moved."""

    stats: Stats
    last: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    def line(self, elapsed: float) -> str | None:
        now = self.stats.snapshot()
        if now == self.last:
            return None
        _, total0, in0, out0, lines0 = self.last
        live, total, bytes_in, bytes_out, lines = now
        self.last = now
        per = max(elapsed, 1e-9)
        return (
            f"stats live={live} total={total} new={total - total0}"
            f" msgs/s={(lines - lines0) / per:.0f}"
            f" in_B/s={(bytes_in - in0) / per:.0f} out_B/s={(bytes_out - out0) / per:.0f}"
        )
