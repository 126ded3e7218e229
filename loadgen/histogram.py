"""Round-trip times: recorded raw during a run, folded into a small mergeable histogram."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# Significant bits kept per sample: 2**-7 relative error (< 1%), a few hundred buckets.
PRECISION_BITS = 8


def bucket(ns: int) -> int:
    """``ns`` rounded down to PRECISION_BITS significant bits."""
    shift = ns.bit_length() - PRECISION_BITS
    return ns if shift <= 0 else (ns >> shift) << shift


class Histogram:
    """Counts of round trips (nanoseconds) per bucket, plus the exact sum and maximum."""

    __slots__ = ("count", "counts", "max", "total")

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self.count = 0
        self.total = 0
        self.max = 0

    @classmethod
    def of(cls, samples: Iterable[int]) -> Histogram:
        hist = cls()
        values = list(samples)
        hist.counts.update(map(bucket, values))
        hist.count = len(values)
        hist.total = sum(values)
        hist.max = max(values, default=0)
        return hist

    def merge(self, other: Histogram) -> None:
        self.counts.update(other.counts)
        self.count += other.count
        self.total += other.total
        self.max = max(self.max, other.max)

    def percentile(self, fraction: float) -> int:
        """The nearest-rank ``fraction`` quantile (0..1), in nanoseconds; 0 if empty."""
        if not self.count:
            return 0
        if fraction >= 1:
            return self.max
        rank = max(1, round(fraction * self.count + 0.5))
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return value
        return self.max

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0
