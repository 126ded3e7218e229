"""The client side of a coio connection: verify the banner, pair each echoed line with its send."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from enum import Enum

from .errors import LocalProtocolError, RemoteProtocolError
from .events import ClientEvent, Closed, Echoed, ForeignData, Welcomed, WrongBanner
from .limits import BANNER, MAX_ECHO_LINE_BYTES, MAX_LINE_BYTES, NEWLINE
from .transform import upper_bytes


class ClientState(Enum):
    AWAITING_BANNER = "awaiting banner"  # connected; the first 8 bytes decide what the peer is
    OPEN = "open"  # banner verified; the stream is echoed lines
    FOREIGN = "foreign"  # the peer sent a wrong banner; its bytes are passed on raw
    CLOSED = "closed"  # the peer ended its stream
    BROKEN = "broken"  # the peer broke the protocol; the connection is unusable


class ClientConnection:
    """Sans-IO client connection.

    ``send_line(text)`` returns the bytes to write and remembers what the echo must be.
    ``receive_data(chunk)`` buffers bytes from the server (``b""`` = end of stream);
    ``next_event()`` / ``events()`` hand out ``Welcomed``, ``WrongBanner``, ``ForeignData``,
    ``Echoed`` and ``Closed``.
    """

    def __init__(self) -> None:
        self.state = ClientState.AWAITING_BANNER
        self._buffer = bytearray()
        self._scanned = 0  # bytes of _buffer already searched for a newline
        self._expected: deque[bytes] = deque()  # uppercase of each line sent, not yet echoed
        self._events: deque[ClientEvent] = deque()
        self.lines_sent = 0
        self.lines_echoed = 0

    @property
    def outstanding(self) -> int:
        """Lines sent whose echo has not arrived yet."""
        return len(self._expected)

    def send_line(self, line: str | bytes) -> bytes:
        """Return the wire bytes for one chat line (a newline is added)."""
        if self.state in (ClientState.CLOSED, ClientState.BROKEN):
            raise LocalProtocolError(f"send_line() in state {self.state.name}")
        try:
            data = line.encode("utf-8", "surrogateescape") if isinstance(line, str) else bytes(line)
        except UnicodeEncodeError as exc:
            raise LocalProtocolError(f"line is not encodable text: {exc.reason}") from None
        if NEWLINE in data:
            raise LocalProtocolError("a line must not contain a newline; send one line per call")
        if len(data) > MAX_LINE_BYTES:
            raise LocalProtocolError(f"line of {len(data)} bytes exceeds {MAX_LINE_BYTES}")
        self._expected.append(upper_bytes(data))
        self.lines_sent += 1
        return data + NEWLINE

    def receive_data(self, data: bytes) -> None:
        """Feed bytes from the server; ``b""`` means the server closed its side."""
        if self.state in (ClientState.CLOSED, ClientState.BROKEN):
            raise LocalProtocolError(f"receive_data() in state {self.state.name}")
        if not data:
            self._receive_eof()
        elif self.state is ClientState.FOREIGN:
            self._events.append(ForeignData(data))
        else:
            self._buffer += data
            if self.state is ClientState.AWAITING_BANNER:
                self._check_banner()
            if self.state is ClientState.OPEN:
                self._split_lines()

    def next_event(self) -> ClientEvent | None:
        """Return the oldest pending event, or None."""
        return self._events.popleft() if self._events else None

    def events(self) -> Iterator[ClientEvent]:
        """Yield every pending event."""
        while self._events:
            yield self._events.popleft()

    def _check_banner(self) -> None:
        head = bytes(self._buffer[: len(BANNER)])
        if not BANNER.startswith(head):
            self.state = ClientState.FOREIGN
            self._events.append(WrongBanner(bytes(self._buffer)))
            self._buffer.clear()
        elif len(head) == len(BANNER):
            del self._buffer[: len(BANNER)]
            self.state = ClientState.OPEN
            self._events.append(Welcomed(BANNER))

    def _split_lines(self) -> None:
        buffer = self._buffer
        start = 0
        while (end := buffer.find(NEWLINE, self._scanned)) >= 0:
            self._deliver(bytes(buffer[start:end]))
            start = self._scanned = end + 1
        if start:
            del buffer[:start]
            self._scanned = 0
        self._scanned = len(buffer)
        if len(buffer) > MAX_ECHO_LINE_BYTES:
            self.state = ClientState.BROKEN
            raise RemoteProtocolError(
                f"echoed line exceeds {MAX_ECHO_LINE_BYTES} bytes with no newline"
            )

    def _deliver(self, line: bytes) -> None:
        expected = self._expected.popleft() if self._expected else None
        self._events.append(Echoed(self.lines_echoed, line, expected))
        self.lines_echoed += 1

    def _receive_eof(self) -> None:
        pending = bytes(self._buffer)
        self._buffer.clear()
        self.state = ClientState.CLOSED
        self._events.append(Closed(pending=pending))
