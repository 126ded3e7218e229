"""Messages from the network side (trio) to the UI. Protocol events are separate types."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from textual.message import Message


class LinkState(Enum):
    CONNECTING = "connecting"  # a TCP connect is under way
    CONNECTED = "connected"  # connected; the banner decides what the peer is
    WAITING = "reconnecting"  # the last attempt failed; retrying after a delay
    CLOSED = "closed by server"  # the server ended the stream
    OFFLINE = "disconnected"  # the user disconnected; no retries
    FAILED = "failed"  # the connection broke; a retry follows


@dataclass(frozen=True, slots=True)
class EchoItem:
    """One echoed line, paired with the line it answers (or none: an unsolicited line)."""

    seq: int  # the sent line's number in this session (0-based); -1 if unsolicited
    sent: str
    echo: bytes
    matches: bool
    rtt: float | None  # seconds from write to echo; None if unsolicited
    at: float  # wall-clock time of arrival


class NetMessage(Message):
    """Base class: every network message names the connection it is about."""

    def __init__(self, conn_id: int) -> None:
        super().__init__()
        self.conn_id = conn_id


class PartFailed(Message):
    """A part of the network side (``conn_id``'s connection, or ``part``: the bots, a watcher)
    failed with an unexpected error; it restarts on its own, the others go on."""

    def __init__(self, part: str, error: str, conn_id: int | None = None) -> None:
        super().__init__()
        self.part = part
        self.error = error
        self.conn_id = conn_id


class StateChanged(NetMessage):
    """The link changed state; ``detail`` says why, ``retry_in`` when a retry is due."""

    def __init__(
        self, conn_id: int, state: LinkState, detail: str = "", retry_in: float | None = None
    ) -> None:
        super().__init__(conn_id)
        self.state = state
        self.detail = detail
        self.retry_in = retry_in


class BannerChecked(NetMessage):
    """The first bytes arrived: ``ok`` if they were the coio banner; ``data`` is what came."""

    def __init__(self, conn_id: int, ok: bool, data: bytes) -> None:
        super().__init__(conn_id)
        self.ok = ok
        self.data = data


class BannerMissing(NetMessage):
    """No banner within ``after`` seconds of connecting; ``data`` is what came (maybe nothing)."""

    def __init__(self, conn_id: int, after: float, data: bytes) -> None:
        super().__init__(conn_id)
        self.after = after
        self.data = data


class WireChunk(NetMessage):
    """One TCP read or write for the wire pane: its first bytes, raw, and its full size."""

    def __init__(self, conn_id: int, outgoing: bool, data: bytes, size: int, at: float) -> None:
        super().__init__(conn_id)
        self.outgoing = outgoing
        self.data = data
        self.size = size
        self.at = at


class LinesSent(NetMessage):
    """Queued lines were written to the socket (in order)."""

    def __init__(self, conn_id: int, lines: list[tuple[int, str]], at: float) -> None:
        super().__init__(conn_id)
        self.lines = lines
        self.at = at


class LinesRequeued(NetMessage):
    """A write failed before any byte of the last ``count`` lines reported sent left:
    they go back to the front of the queue."""

    def __init__(self, conn_id: int, count: int) -> None:
        super().__init__(conn_id)
        self.count = count


class Echoes(NetMessage):
    """Echoed lines from one TCP read (batched: one message per read, not per line).

    ``skipped`` counts unsolicited lines from that read that were only counted, not itemised.
    """

    def __init__(self, conn_id: int, items: list[EchoItem], skipped: int = 0) -> None:
        super().__init__(conn_id)
        self.items = items
        self.skipped = skipped


class LinesUnanswered(NetMessage):
    """The connection dropped before these written lines were echoed: unconfirmed.

    The server may have seen them, so they are never sent again unless the user asks.
    """

    def __init__(self, conn_id: int, lines: list[tuple[int, str]]) -> None:
        super().__init__(conn_id)
        self.lines = lines


class ProtocolBroken(NetMessage):
    """The peer broke the protocol (e.g. an endless line); ``reason`` is one line."""

    def __init__(self, conn_id: int, reason: str) -> None:
        super().__init__(conn_id)
        self.reason = reason


class BotsReport(Message):
    """The classroom bots' figures, posted twice a second; only the newest one matters."""

    def __init__(
        self,
        *,
        bots: int,
        connected: int,
        echoed: int,
        per_second: float,
        p50: float | None,
        p99: float | None,
        errors: int,
        last_error: str,
    ) -> None:
        super().__init__()
        self.bots = bots
        self.connected = connected
        self.echoed = echoed
        self.per_second = per_second
        self.p50 = p50
        self.p99 = p99
        self.errors = errors
        self.last_error = last_error

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BotsReport)


class ServerReport(Message):
    """What the server says about itself on its metrics page; only the newest one matters.

    ``per_second`` is None until a rate is known; ``unavailable`` says why the figures could
    not be read ("" when they could). The rest is None (or "") where the server does not say:
    its IO ``model``, its OS ``threads``, clients ``waiting`` to be accepted, and its resident
    ``memory`` in bytes.
    """

    def __init__(
        self,
        *,
        live: int,
        total: int,
        per_second: float | None,
        unavailable: str = "",
        model: str = "",
        threads: int | None = None,
        waiting: int | None = None,
        memory: int | None = None,
    ) -> None:
        super().__init__()
        self.live = live
        self.total = total
        self.per_second = per_second
        self.unavailable = unavailable
        self.model = model
        self.threads = threads
        self.waiting = waiting
        self.memory = memory

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ServerReport)
