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


# Textual's Message runs its own set-up in __post_init__, which a dataclass's __init__ calls:
# the messages below are plain dataclasses, as Textual's own widgets write theirs.


@dataclass
class NetMessage(Message):
    """Base class: every network message names the connection it is about."""

    conn_id: int


@dataclass
class PartFailed(Message):
    """A part of the network side (``conn_id``'s connection, or ``part``: the bots, a watcher)
    failed with an unexpected error; it restarts on its own, the others go on."""

    part: str
    error: str
    conn_id: int | None = None
    bug: bool = True  # False: it ended for an outside reason (a process killed), said plainly


@dataclass
class StateChanged(NetMessage):
    """The link changed state; ``detail`` says why, ``retry_in`` when a retry is due."""

    state: LinkState
    detail: str = ""
    retry_in: float | None = None


@dataclass
class BannerChecked(NetMessage):
    """The first bytes arrived: ``ok`` if they were the coio banner; ``data`` is what came."""

    ok: bool
    data: bytes


@dataclass
class BannerMissing(NetMessage):
    """No banner within ``after`` seconds of connecting; ``data`` is what came (maybe nothing).

    The connection stays open: a banner that comes later is posted as ``BannerChecked``.
    """

    after: float
    data: bytes


@dataclass
class WireChunk(NetMessage):
    """One TCP read or write for the wire pane: its first bytes, raw, and its full size."""

    outgoing: bool
    data: bytes
    size: int
    at: float


@dataclass
class LinesSent(NetMessage):
    """Queued lines were written to the socket (in order)."""

    lines: list[tuple[int, str]]
    at: float


@dataclass
class LinesRequeued(NetMessage):
    """A write failed before any byte of the last ``count`` lines reported sent left:
    they go back to the front of the queue."""

    count: int


@dataclass
class Echoes(NetMessage):
    """Echoed lines from one TCP read (batched: one message per read, not per line).

    ``skipped`` counts unsolicited lines from that read that were only counted, not itemised.
    """

    items: list[EchoItem]
    skipped: int = 0


@dataclass
class LinesUnanswered(NetMessage):
    """The connection dropped before these written lines were echoed: unconfirmed.

    The server may have seen them, so they are never sent again unless the user asks.
    """

    lines: list[tuple[int, str]]


@dataclass
class ProtocolBroken(NetMessage):
    """The peer broke the protocol (e.g. an endless line); ``reason`` is one line."""

    reason: str


@dataclass(kw_only=True)
class BotsReport(Message):
    """The classroom bots' figures, posted four times a second; only the newest one matters."""

    bots: int
    connected: int
    echoed: int
    per_second: float
    p50: float | None
    p99: float | None
    errors: int
    last_error: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, BotsReport)


@dataclass(kw_only=True)
class ServerReport(Message):
    """What the server says about itself on its metrics page; only the newest one matters.

    ``per_second`` is None until a rate is known; ``unavailable`` says why the figures could
    not be read ("" when they could). The rest is None (or "") where the server does not say:
    its IO ``model``, its OS ``threads``, clients ``waiting`` to be accepted, and its resident
    ``memory`` in bytes.
    """

    live: int
    total: int
    per_second: float | None
    unavailable: str = ""
    model: str = ""
    threads: int | None = None
    waiting: int | None = None
    memory: int | None = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ServerReport)
