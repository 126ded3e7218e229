"""The server side of a coio connection: banner out, then an uppercase echo of the stream."""

from __future__ import annotations

from enum import Enum

from .errors import LocalProtocolError
from .events import Closed, ServerEvent
from .limits import BANNER, NEWLINE
from .transform import Uppercaser


class ServerState(Enum):
    OPEN = "open"  # echoing whatever the client sends
    CLOSED = "closed"  # the client ended its stream; final bytes are queued, nothing more comes


class ServerConnection:
    """Sans-IO server connection.

    On creation the banner is queued. ``receive_data(chunk)`` queues the uppercase echo;
    ``receive_data(b"")`` marks end of stream, queues any held bytes unchanged and a
    ``Closed`` event. ``data_to_send()`` drains the queue; ``echo(chunk)`` does both at once.
    """

    __slots__ = (
        "_events",
        "_outgoing",
        "_upper",
        "bytes_received",
        "chunks_received",
        "lines_received",
        "state",
    )

    def __init__(self) -> None:
        self.state = ServerState.OPEN
        self._upper = Uppercaser()
        self._outgoing: list[bytes] = [BANNER]
        # At most one event (Closed) ever queues: a list, as a deque costs ~700 B per client.
        self._events: list[ServerEvent] = []
        self.bytes_received = 0  # client bytes seen, for logs and metrics
        self.chunks_received = 0  # non-empty chunks fed: reads, for an adapter's metrics
        self.lines_received = 0  # newlines seen: chat messages, for logs and metrics

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the client; ``b""`` means the client closed its side."""
        self._outgoing.append(self.echo(data))

    def echo(self, data: bytes) -> bytes:
        """Feed ``data`` and return everything to send now (the adapter's hot path)."""
        if self.state is ServerState.CLOSED:
            raise LocalProtocolError(f"receive_data() in state {self.state.name}")
        if data:
            self.bytes_received += len(data)
            self.chunks_received += 1
            # Most chunks are one line: find (memchr) is several times faster than count.
            first = data.find(NEWLINE)
            if first == len(data) - 1:
                self.lines_received += 1
            elif first >= 0:
                self.lines_received += data.count(NEWLINE, first)
            out = self._upper.feed(data)
        else:
            out = self._upper.flush()
            self.state = ServerState.CLOSED
            self._events.append(Closed(pending=out))
        if self._outgoing:
            out = b"".join(self._outgoing) + out
            self._outgoing.clear()
        return out

    def data_to_send(self) -> bytes:
        """Return and clear everything queued for the client."""
        out = b"".join(self._outgoing)
        self._outgoing.clear()
        return out

    def next_event(self) -> ServerEvent | None:
        """Return the oldest pending event, or None."""
        return self._events.pop(0) if self._events else None
