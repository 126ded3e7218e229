"""One load connection as an asyncio Protocol: banner check, then send and verify echoes.

Verification is byte-exact and positional: the stream back must be the concatenation of the
expected echoes, in order. The hot path (one whole echo per read, closed loop) is one
comparison of two bytes objects.
"""

from __future__ import annotations

import asyncio
from collections import deque
from time import perf_counter_ns
from typing import cast

from coio.protocol import BANNER

from .recorder import Recorder

# Messages one connection may have in flight in open loop. Past it the server is not keeping
# up, so the message is counted as skipped rather than queued without bound.
MAX_IN_FLIGHT = 10_000
# Bytes shown of a wrong echo in the error report.
SAMPLE_BYTES = 40


def _consume(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


class EchoClient(asyncio.Protocol):
    """Drives one connection; ``welcomed`` resolves once the banner is checked."""

    def __init__(self, messages: list[tuple[bytes, bytes]], first: int, rec: Recorder) -> None:
        self.messages = messages
        self.rec = rec
        self.variants = len(messages)
        self.next = first % self.variants
        self.transport: asyncio.Transport | None = None
        self.welcomed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # The waiter may have given up (connect timeout) before the connection fails: mark the
        # failure as seen so asyncio does not print "exception was never retrieved".
        self.welcomed.add_done_callback(_consume)
        self.closed_loop = True  # send the next message as soon as an echo completes
        self.running = False
        self._banner = b""
        # (send time in ns, expected echo) per message in flight, oldest first
        self._pending: deque[tuple[int, bytes]] = deque()
        self._got = 0  # bytes of the oldest pending echo already verified

    # -- asyncio callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        pending = self._pending
        if pending and not self._got and data == pending[0][1]:
            # The common case, one whole echo in one read, inlined: this is the hot path.
            now = perf_counter_ns()
            rec = self.rec
            rec.total += 1
            if rec.measuring:
                rec.rtts.append(now - pending.popleft()[0])
            else:
                pending.popleft()
            transport = self.transport
            if self.running and self.closed_loop and transport is not None:
                message, expected = self.messages[self.next]
                self.next = (self.next + 1) % self.variants
                pending.append((now, expected))
                transport.write(message)
            return
        if not self.welcomed.done():
            data = self._check_banner(data)
        if data:
            self._verify(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if not self.welcomed.done():
            reason = "closed before the banner" if exc is None else describe(exc)
            self.welcomed.set_exception(ConnectionError(reason))
        elif self.running:
            self.running = False
            self.rec.error("closed by server" if exc is None else describe(exc))

    # -- sending -------------------------------------------------------------------------

    def start(self) -> None:
        """Begin closed-loop sending."""
        self.running = True
        self.send(perf_counter_ns())

    def send(self, stamp: int) -> None:
        """Send the next message; its round trip is timed from ``stamp`` (ns)."""
        if self.transport is None or len(self._pending) >= MAX_IN_FLIGHT:
            self.rec.skipped += 1
            return
        message, expected = self.messages[self.next]
        self.next = (self.next + 1) % len(self.messages)
        self._pending.append((stamp, expected))
        self.transport.write(message)

    def stop(self) -> None:
        self.running = False
        if self.transport is not None:
            self.transport.abort()

    # -- receiving -----------------------------------------------------------------------

    def _check_banner(self, data: bytes) -> bytes:
        self._banner += data
        head = self._banner[: len(BANNER)]
        if not BANNER.startswith(head):
            self.welcomed.set_exception(WrongBanner(self._banner))
            if self.transport is not None:
                self.transport.abort()
            return b""
        if len(head) < len(BANNER):
            return b""
        rest = self._banner[len(BANNER) :]
        self._banner = b""
        self.welcomed.set_result(None)
        return rest

    def _verify(self, data: bytes) -> None:
        pending = self._pending
        pos, size = 0, len(data)
        while pos < size:
            if not pending:
                self._wrong(b"", data[pos:])
                return
            stamp, expected = pending[0]
            take = min(size - pos, len(expected) - self._got)
            got = data[pos : pos + take]
            want = expected[self._got : self._got + take]
            if got != want:
                self._wrong(want, got)
                return
            pos += take
            self._got += take
            if self._got == len(expected):
                self._got = 0
                pending.popleft()
                self._complete(stamp)

    def _complete(self, stamp: int) -> None:
        now = perf_counter_ns()
        rec = self.rec
        rec.total += 1
        if rec.measuring:
            rec.rtts.append(now - stamp)
        if self.running and self.closed_loop:
            self.send(now)

    def _wrong(self, want: bytes, got: bytes) -> None:
        self.rec.mismatch(want[:SAMPLE_BYTES], got[:SAMPLE_BYTES])
        self.running = False
        if self.transport is not None:
            self.transport.abort()  # the stream is out of step: nothing after this can verify


class NoBanner(ConnectionError):
    """The peer accepted the connection but sent nothing in time."""


class WrongBanner(ConnectionError):
    """The peer's first bytes are not ``welcome!``."""

    def __init__(self, data: bytes) -> None:
        super().__init__(f"not a coio server: it sent {data[:SAMPLE_BYTES]!r}")
        self.data = data


def describe(exc: BaseException) -> str:
    """A short reason for a connection error, used as a counter key."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "reset by server"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, WrongBanner):
        return "wrong banner"
    if isinstance(exc, NoBanner):
        return "no banner"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def explain(exc: BaseException) -> str:
    """A connect failure in words, for the one line the user sees."""
    if isinstance(exc, WrongBanner | NoBanner):
        return str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    return describe(exc)
