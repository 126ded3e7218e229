"""Live counters shared by every connection, and the periodic stats line built from them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from coio.protocol import ServerConnection


def _no_connections() -> Iterable[ServerConnection]:
    return ()


def _none_dropped() -> int:
    return 0


@dataclass(slots=True)
class Stats:
    """Counters read by the stats line and /metrics.

    The hot path bumps only ``bytes_out``; what was received is counted by each
    connection's protocol object, and summed here when read: the totals of closed
    connections (``closed_*``, added as each one ends) plus those of ``connections()``.
    """

    live: int = 0
    total: int = 0
    bytes_out: int = 0
    closed_bytes_in: int = 0
    closed_lines: int = 0
    closed_chunks: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    connections: Callable[[], Iterable[ServerConnection]] = _no_connections
    log_dropped: Callable[[], int] = _none_dropped  # log lines dropped (stderr not taking them)
    waiting: Callable[[], int] = _none_dropped  # clients in the listen backlog, not yet accepted
    model: str = ""  # the IO model serving (--model)

    def retire(self, conn: ServerConnection) -> None:
        """Fold a closed connection's counts into the totals."""
        self.closed_bytes_in += conn.bytes_received
        self.closed_lines += conn.lines_received
        self.closed_chunks += conn.chunks_received

    @property
    def bytes_in(self) -> int:
        return self.closed_bytes_in + sum(c.bytes_received for c in self.connections())

    @property
    def lines(self) -> int:
        return self.closed_lines + sum(c.lines_received for c in self.connections())

    @property
    def chunks(self) -> int:
        return self.closed_chunks + sum(c.chunks_received for c in self.connections())

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
