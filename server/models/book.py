"""What every IO model shares: a client's id, its log lines, the counters, why it ended.

A model serves sockets its own way (a greenlet, a thread, a selector loop); it asks the book
for a `Client` when one connects and hands it back with a reason when it ends. The book
keeps `Stats` and the connect/disconnect log lines, so every model reads the same in the log
and in /metrics. Models that serve from several threads share one book: its two mutating
calls hold a lock.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import sys
import threading
import time
from collections.abc import Iterable

from coio.address import format_address
from coio.protocol import ServerConnection

from ..stats import Stats

log = logging.getLogger("coio.server")

# A client that has been quiet this long when the server stops is ended at once; one that
# spoke more recently is busy and is ended once it has been quiet for SHUTDOWN_QUIET: what it
# already sent has arrived and been echoed.
BUSY_FOR = 0.5
SHUTDOWN_QUIET = 0.05
# Bytes asked for per read: large enough that a bulk sender costs few reads, small enough
# that one client's turn cannot starve the others.
RECV_BYTES = 64 * 1024
INTERNAL_ERROR = "internal-error"  # the reason a client is closed for a bug in serving it


class Client:
    """One connection while it lives: its id, peer, protocol state and last activity."""

    __slots__ = ("cid", "conn", "ending", "peer", "quiet_since", "sock")

    def __init__(
        self, number: int, peer: str, sock: socket.socket | None, conn: ServerConnection
    ) -> None:
        self.cid = f"c{number:x}"
        self.peer = peer
        self.sock = sock
        self.conn = conn
        self.ending: str | None = None  # set when the server decides to end it, and why
        self.quiet_since = time.monotonic()  # last read or write progress

    def end(self, reason: str, how: int = socket.SHUT_RD) -> None:
        """Ask the thread serving this client to end it: its blocked read returns EOF (a
        read-side shutdown), so it flushes what the protocol held and closes, as at EOF."""
        if self.ending is None:
            self.ending = reason
        if self.sock is not None:
            with contextlib.suppress(OSError):  # already gone
                self.sock.shutdown(how)


# struct tcp_info: 8 one-byte fields, then u32s; the fifth (tcpi_unacked) is, for a listening
# socket, the number of connections waiting in its accept queue.
_TCP_INFO_BYTES = 104
_ACCEPT_QUEUE_AT = 24


def accept_queue(sock: socket.socket | None) -> int:
    """Clients connected but not yet accepted: waiting in the listen backlog, no banner yet."""
    if sock is None:
        return 0
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_BYTES)
    except (OSError, AttributeError):  # closed, or no TCP_INFO on this system
        return 0
    return int.from_bytes(info[_ACCEPT_QUEUE_AT : _ACCEPT_QUEUE_AT + 4], sys.byteorder)


def reason_for(exc: OSError, stats: Stats) -> str:
    """Name why a connection ended on a socket error, and count it by kind for /metrics."""
    if isinstance(exc, ConnectionResetError):
        stats.errors["reset"] += 1
        return "reset"
    if isinstance(exc, BrokenPipeError):
        stats.errors["broken_pipe"] += 1
        return "broken-pipe"
    if isinstance(exc, TimeoutError):
        stats.errors["idle_timeout"] += 1
        return "idle-timeout"
    stats.errors["os_error"] += 1
    return f"error:{exc.strerror or exc}"


class Book:
    """The live clients of one model, their counters and their log lines."""

    def __init__(self, stats: Stats, faults: frozenset[str] = frozenset()) -> None:
        self.stats = stats
        self._connection = ServerConnection
        if "echo" in faults:  # test-only: a protocol object that raises on a marker line
            from ..faults import FaultyConnection

            self._connection = FaultyConnection
        self._ids = itertools.count(1)
        self._clients: set[Client] = set()  # keyed by the object, never by a reusable fd
        self._lock = threading.Lock()
        stats.connections = self._live_connections

    @property
    def live(self) -> int:
        return len(self._clients)

    def clients(self) -> list[Client]:
        with self._lock:
            return list(self._clients)

    def _live_connections(self) -> Iterable[ServerConnection]:
        return [client.conn for client in self.clients()]

    def opened(self, address: tuple[str, int], sock: socket.socket | None = None) -> Client:
        """A client connected: give it an id, count it, log it."""
        with self._lock:
            peer = format_address(address[0], address[1])
            client = Client(next(self._ids), peer, sock, self._connection())
            self._clients.add(client)
            self.stats.live += 1
            self.stats.total += 1
            live = self.stats.live
        log.info("connect id=%s peer=%s live=%d", client.cid, client.peer, live)
        return client

    def closed(self, client: Client, reason: str) -> bool:
        """A client ended: uncount it and log why. Idempotent: False if it was already."""
        with self._lock:
            if client not in self._clients:
                return False
            self._clients.remove(client)
            if reason == INTERNAL_ERROR:  # counted as it is uncounted: /metrics stays consistent
                self.stats.errors["internal_error"] += 1
            self.stats.live -= 1
            self.stats.retire(client.conn)
            live = self.stats.live
        log.info(
            "disconnect id=%s peer=%s reason=%s live=%d", client.cid, client.peer, reason, live
        )
        return True

    def failed(self, client: Client, exc: BaseException) -> str:
        """A bug while serving ``client``: one line naming it (no traceback); the reason to
        close it with (counted when it is closed)."""
        log.error("internal error id=%s: %s: %s", client.cid, type(exc).__name__, exc)
        log.debug("internal error id=%s", client.cid, exc_info=exc)
        return INTERNAL_ERROR

    def quiet_for(self, seconds: float) -> list[Client]:
        """Clients with no read or write progress for ``seconds``."""
        now = time.monotonic()
        return [c for c in self.clients() if now - c.quiet_since >= seconds]
