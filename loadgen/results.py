"""Each process's result, and the run's summary merged from them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .histogram import Histogram
from .spec import LoadSpec

# A process busy this fraction of the measured wall time was itself the bottleneck.
CPU_BOUND_FRACTION = 0.9
MEGA = 1_000_000


@dataclass(slots=True)
class WorkerResult:
    """What one load process measured (sent to the parent when its run ends)."""

    loop: str  # event loop used: "uvloop" or "asyncio"
    connected: int = 0
    connect_failures: Counter[str] = field(default_factory=Counter)
    connect_example: str = ""  # the first connect failure, in words
    echoes: int = 0  # completed inside the measured window
    wall: float = 0.0  # the window as this process saw it, seconds
    cpu: float = 0.0  # this process's CPU time (user + system) in the window, seconds
    rtt: Histogram = field(default_factory=Histogram)
    errors: Counter[str] = field(default_factory=Counter)
    first_mismatch: tuple[bytes, bytes] | None = None
    scheduled: int = 0  # open loop: messages due by the schedule
    skipped: int = 0  # open loop: due but not sent (connection gone or too far behind)


@dataclass(slots=True)
class Summary:
    """The whole run, all processes merged."""

    spec: LoadSpec
    loop: str
    cores: int  # CPUs the generator may use (its affinity mask)
    connected: int = 0
    connect_failures: Counter[str] = field(default_factory=Counter)
    connect_example: str = ""
    echoes: int = 0
    echoes_per_s: float = 0.0
    rtt: Histogram = field(default_factory=Histogram)
    errors: Counter[str] = field(default_factory=Counter)
    first_mismatch: tuple[bytes, bytes] | None = None
    scheduled: int = 0
    skipped: int = 0
    cpu_fractions: list[float] = field(default_factory=list)  # per process, CPU / wall

    @classmethod
    def merge(cls, spec: LoadSpec, cores: int, parts: list[WorkerResult]) -> Summary:
        out = cls(spec, parts[0].loop if parts else "-", cores)
        for part in parts:
            out.connected += part.connected
            out.connect_failures.update(part.connect_failures)
            out.connect_example = out.connect_example or part.connect_example
            out.echoes += part.echoes
            out.echoes_per_s += part.echoes / part.wall if part.wall > 0 else 0.0
            out.rtt.merge(part.rtt)
            out.errors.update(part.errors)
            out.first_mismatch = out.first_mismatch or part.first_mismatch
            out.scheduled += part.scheduled
            out.skipped += part.skipped
            out.cpu_fractions.append(part.cpu / part.wall if part.wall > 0 else 0.0)
        return out

    @property
    def mb_per_s(self) -> float:
        """Message bytes sent per second, in MB (10**6); ASCII echoes are as many back."""
        return self.echoes_per_s * self.spec.size / MEGA

    @property
    def cpu_load(self) -> float:
        """The generator's CPU use as a fraction of what it could use (procs on its cores)."""
        usable = min(len(self.cpu_fractions), self.cores) or 1
        return sum(self.cpu_fractions) / usable

    @property
    def cpu_bound(self) -> bool:
        """Whether the generator itself was (close to) the bottleneck."""
        busiest = max(self.cpu_fractions, default=0.0)
        return busiest >= CPU_BOUND_FRACTION or self.cpu_load >= CPU_BOUND_FRACTION

    @property
    def failed_connects(self) -> int:
        return sum(self.connect_failures.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def ok(self) -> bool:
        """Every client connected and every echo verified, with none lost."""
        return not self.failed_connects and not self.error_count and self.echoes > 0
