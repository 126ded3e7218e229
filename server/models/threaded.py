"""What the models built on OS threads share: binding, serving one client with blocking
calls, and a graceful stop run from the hub.

These models (threads, select, blocking) serve clients from real threads; gevent is not
monkey-patched here, so a thread blocked in recv() releases the GIL and the hub in the main
thread goes on with signals, stats and /metrics.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable

import gevent

from ..config import LISTEN_BACKLOG, Config
from ..stats import Stats
from .book import BUSY_FOR, RECV_BYTES, SHUTDOWN_QUIET, Book, Client, accept_queue, reason_for

# After the grace period, threads get this long to close what they were forced to end.
FORCE_WAIT = 1.0


def listen(config: Config, listener: socket.socket | None) -> socket.socket:
    """The listening socket: ``listener`` if a supervisor bound it, else bind config's."""
    if listener is not None:
        return listener
    family = socket.getaddrinfo(config.host, config.port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.create_server(
        (config.host, config.port), family=family, backlog=LISTEN_BACKLOG, reuse_port=False
    )
    # Accepted sockets inherit it: an echo leaves at once, never held for a delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def serve_blocking(book: Book, client: Client, sock: socket.socket) -> None:
    """Serve one client top to bottom with blocking calls: the banner, then read, uppercase,
    write, until the client ends its stream (or the server ends it). Closes the socket."""
    stats = book.stats
    reason = "eof"
    try:
        with sock:
            banner = client.conn.data_to_send()
            sock.sendall(banner)
            stats.bytes_out += len(banner)
            while True:
                data = sock.recv(RECV_BYTES)
                out = client.conn.echo(data)
                if out:
                    sock.sendall(out)
                    stats.bytes_out += len(out)
                client.quiet_since = time.monotonic()
                if not data:
                    break
    except OSError as exc:  # cut by the server (ending says why), or by the network
        reason = client.ending or reason_for(exc, stats)
    except Exception as exc:  # a bug costs this client only
        reason = book.failed(client, exc)
    book.closed(client, client.ending or reason)


def stop_listening(sock: socket.socket) -> None:
    """Wake a thread blocked in accept() (it gets an error) and close the socket."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def graceful_stop(book: Book, grace: float, end: Callable[[Client, str], None]) -> None:
    """From the hub: end quiet clients now and busy ones once quiet (``end`` asks the serving
    thread to finish as at EOF); after ``grace``, cut whoever is left."""
    deadline = time.monotonic() + grace
    quiet = BUSY_FOR
    while book.live and time.monotonic() < deadline:
        for client in book.quiet_for(quiet):
            if client.ending is None:
                end(client, "shutdown")
        quiet = SHUTDOWN_QUIET
        gevent.sleep(SHUTDOWN_QUIET)
    for client in book.clients():
        client.end("shutdown", socket.SHUT_RDWR)
    deadline = time.monotonic() + FORCE_WAIT
    while book.live and time.monotonic() < deadline:
        gevent.sleep(0.01)


def end_by_shutdown(client: Client, reason: str) -> None:
    """End a client served by a blocked thread: its read returns EOF."""
    client.end(reason)


def close_idle(book: Book, timeout: float) -> int:
    """End every client quiet for ``timeout`` (reads and writes both cut: it may be stuck
    writing to a client that never reads)."""
    idle = [c for c in book.quiet_for(timeout) if c.ending is None]
    for client in idle:
        book.stats.errors["idle_timeout"] += 1
        client.end("idle-timeout", socket.SHUT_RDWR)
    return len(idle)


class ThreadedModel:
    """What the thread-based models share: the book, a socket bound by ``start()``, the
    counts and the idle sweep."""

    name = ""

    def __init__(self, config: Config, stats: Stats, listener: socket.socket | None) -> None:
        self.book = Book(stats, config.faults)
        self._config = config
        self._listener = listener
        self.sock: socket.socket | None = None  # bound by start()

    @property
    def live(self) -> int:
        return self.book.live

    def waiting(self) -> int:
        return accept_queue(self.sock)

    def close_idle(self, timeout: float) -> int:
        return close_idle(self.book, timeout)
