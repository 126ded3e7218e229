"""What one run asks for, after the flags are checked: the same spec goes to every process."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from coio.address import format_address


class Charset(Enum):
    ASCII = "ascii"  # letters and digits: the server's fast path
    UTF8 = "utf8"  # multi-byte text (ß, é, ǆ, CJK): full Unicode uppercasing


@dataclass(frozen=True, slots=True)
class LoadSpec:
    host: str  # a numeric address, resolved once by the parent
    port: int
    clients: int  # connections over all processes
    size: int  # bytes per message, the trailing newline included
    duration: float  # seconds measured
    warmup: float  # seconds of load before measuring starts
    rate: float | None  # messages/s over all processes (open loop); None: closed loop
    procs: int
    charset: Charset = Charset.ASCII
    connect_timeout: float = 5.0

    @property
    def closed_loop(self) -> bool:
        return self.rate is None

    @property
    def target(self) -> str:
        return format_address(self.host, self.port)

    def share(self, index: int) -> int:
        """Clients run by process ``index`` (the remainder goes to the first ones)."""
        base, extra = divmod(self.clients, self.procs)
        return base + (1 if index < extra else 0)
