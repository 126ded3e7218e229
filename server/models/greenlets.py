"""`--model gevent` (the default): one greenlet per client, code that reads top to bottom.

gevent's StreamServer accepts; its Pool caps the clients served at once (past the cap the
server stops accepting and newcomers wait in the listen backlog). Each client's `handle`
greenlet sends the banner, then reads, feeds the protocol and writes, until the client ends
its stream. A read or write that would block suspends this greenlet only: the hub runs the
others meanwhile. The server stops through StreamServer.stop, its documented way.

`FdStream` is the one fast path under that code: instead of gevent's socket methods (which
start and stop a watcher, and arm a timeout, around every wait), each client keeps one read
watcher whose callback is its own greenlet's ``switch``, and waits with ``hub.switch()``.
What it buys, in one run on 2 cores (benchmarks/results/models.md, echoload): a StreamServer
whose handler uses gevent's own ``sock.recv``/``sock.sendall`` echoed 89k 1 KiB messages/s
and 100k 16 B messages/s for 100 clients; this model 119k and 151k (1.34x and 1.51x), with
7.9 against 11.2 µs of server CPU per echo at 1 KiB.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

import gevent
from gevent.greenlet import Greenlet
from gevent.pool import Pool
from gevent.server import StreamServer

from ..config import LISTEN_BACKLOG, Config
from ..stats import Stats
from .book import BUSY_FOR, RECV_BYTES, SHUTDOWN_QUIET, Book, Client, accept_queue, reason_for

_READ, _WRITE = 1, 2  # libev's event masks


class End(Exception):
    """Thrown into a client's greenlet: end its stream as at EOF, for ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FdStream:
    """A client's descriptor, read and written by its own greenlet, waiting in the hub."""

    __slots__ = ("fd", "hub", "reader", "writer", "writing")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.hub = gevent.get_hub()
        self.reader: Any = self.hub.loop.io(fd, _READ)
        self.writer: Any = None  # made the first time an echo waits for room
        self.writing = False  # waiting for room to write: busy, not idle

    def read(self) -> bytes:
        """The next chunk the client sent (b"" at its end of stream); waits if none yet.

        Every read waits for the hub's turn first, even with data already there: one read
        per client per loop turn, so a client streaming flat out cannot starve the others
        (and in a closed loop it saves the read that would find nothing yet)."""
        if not self.reader.active:  # stays started: the next wait costs no syscall
            self.reader.start(gevent.getcurrent().switch)
        while True:
            self.hub.switch()
            try:
                return os.read(self.fd, RECV_BYTES)
            except BlockingIOError:
                pass

    def write(self, data: bytes) -> int:
        """Write all of ``data``, waiting for room while the client reads slowly."""
        view = memoryview(data)
        sent = 0
        while True:
            try:  # noqa: SIM105 (the hot path: contextlib.suppress costs a call per write)
                sent += os.write(self.fd, view[sent:])
            except BlockingIOError:
                pass
            if sent == len(data):
                return sent
            # Backpressure: read nothing while the echo waits for room.
            self.reader.stop()
            if self.writer is None:
                self.writer = self.hub.loop.io(self.fd, _WRITE)
            self.writer.start(gevent.getcurrent().switch)
            self.writing = True
            try:
                self.hub.switch()
            finally:
                self.writing = False
                self.writer.stop()

    def close(self) -> None:
        for watcher in (self.reader, self.writer):
            if watcher is not None:
                watcher.stop()
                watcher.close()


class GeventModel:
    """One greenlet per client, on gevent's StreamServer with a Pool."""

    name = "gevent"

    def __init__(self, config: Config, stats: Stats, listener: socket.socket | None) -> None:
        self.book = Book(stats, config.faults)
        self.pool = Pool(config.max_connections)
        self.server = StreamServer(
            listener if listener is not None else (config.host, config.port),
            self.handle,
            spawn=self.pool,
            backlog=None if listener is not None else LISTEN_BACKLOG,
        )
        self._greenlets: dict[Client, Greenlet[Any, Any]] = {}
        self._streams: dict[Client, FdStream] = {}

    @property
    def live(self) -> int:
        return self.book.live

    def waiting(self) -> int:
        return accept_queue(getattr(self.server, "socket", None))  # None once closed

    def start(self) -> tuple[str, int]:
        self.server.init_socket()
        # Accepted sockets inherit it: an echo leaves at once, never held for a delayed ACK.
        self.server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.start()
        host, port = self.server.socket.getsockname()[:2]
        return host, port

    def handle(self, sock: socket.socket, address: tuple[str, int]) -> None:
        """Serve one client, top to bottom, in its own greenlet."""
        client = self.book.opened(address)
        self._greenlets[client] = gevent.getcurrent()  # type: ignore[assignment]
        self._streams[client] = stream = FdStream(sock.fileno())
        stats = self.book.stats
        reason = "eof"
        try:
            try:
                stats.bytes_out += stream.write(client.conn.data_to_send())
                while True:
                    data = stream.read()
                    out = client.conn.echo(data)
                    if out:
                        stats.bytes_out += stream.write(out)
                    client.quiet_since = time.monotonic()
                    if not data:
                        break
            except End as end:  # the server ends it: flush what the protocol held, as at EOF
                reason = end.reason
                stats.bytes_out += stream.write(client.conn.echo(b""))
        except End as end:  # ended again while flushing: cut
            reason = end.reason
        except OSError as exc:
            reason = reason_for(exc, stats)
        except gevent.GreenletExit:  # killed by StreamServer.stop after the grace period
            reason = "shutdown"
        except Exception as exc:  # a bug costs this client only
            reason = self.book.failed(client, exc)
        finally:
            stream.close()
            del self._greenlets[client]
            del self._streams[client]
            self.book.closed(client, reason)
        # StreamServer closes the socket when this returns.

    def _end(self, client: Client, reason: str) -> None:
        greenlet = self._greenlets.get(client)
        if greenlet is not None and client.ending is None:
            client.ending = reason
            greenlet.kill(End(reason), block=False)

    def close_idle(self, timeout: float) -> int:
        idle = [c for c in self.book.quiet_for(timeout) if c.ending is None]
        for client in idle:
            self.book.stats.errors["idle_timeout"] += 1
            self._end(client, "idle-timeout")
        return len(idle)

    def shutdown(self, grace: float) -> None:
        """Stop accepting; end quiet clients now and busy ones once quiet; after ``grace``
        StreamServer.stop kills whoever is left."""
        ender = gevent.spawn(self._end_quiet_clients)
        try:
            self.server.stop(timeout=grace)
        finally:
            ender.kill()

    def _end_quiet_clients(self) -> None:
        quiet = BUSY_FOR
        while True:
            for client in self.book.quiet_for(quiet):
                stream = self._streams.get(client)
                if stream is not None and not stream.writing:  # a stuck echo waits for grace
                    self._end(client, "shutdown")
            quiet = SHUTDOWN_QUIET
            gevent.sleep(SHUTDOWN_QUIET)
