"""One client connection, served from libev watcher callbacks in the hub: no greenlet.

When a client's socket is readable its read watcher's callback reads one chunk, runs the
protocol and writes the echo, all without blocking. Only when the kernel's send buffer is
full does the client stop being read: the unsent rest is held and a write watcher waits
for room (that is the backpressure: at most one chunk's echo is held per client).

Every callback that serves a client catches what it did not expect: a bug while serving one
client closes that client (reason=internal-error, one line naming the exception, counted in
/metrics) and frees its slot and descriptor; the others are served on. Such a guard costs
nothing until it catches (Python 3.11's try blocks are free to enter).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

import gevent

from coio.address import format_address
from coio.protocol import ServerConnection

from .stats import Stats

log = logging.getLogger("coio.server")

# One read takes at most this much: large enough that a bulk sender costs few loop turns,
# small enough that one client's turn cannot starve the others (one read per callback).
RECV_BYTES = 64 * 1024
# A client that has been quiet this long when the server stops is closed at once; one that
# spoke more recently is busy, and is given until it has been quiet for SHUTDOWN_QUIET.
BUSY_FOR = 0.5
# While the server stops, a busy client is closed once it has been quiet this long: what
# it already sent has arrived and been echoed.
SHUTDOWN_QUIET = 0.05
# One read buffer for every connection: each read is copied out before the next can start.
_READ_BUFFER = bytearray(RECV_BYTES)
_READ_BUFFERS = [_READ_BUFFER]
_READ_VIEW = memoryview(_READ_BUFFER)


class Client:
    """One connection's state, kept while it lives."""

    __slots__ = (
        "cid",
        "conn",
        "ending",
        "fd",
        "peer",
        "pending",
        "quiet_since",
        "reader",
        "writer",
    )

    def __init__(self, fd: int, number: int, peer: str, loop: Any, conn: ServerConnection) -> None:
        self.fd = fd  # -1 once closed: a stale use fails instead of reaching a reused descriptor
        self.cid = f"c{number:x}"
        self.peer = peer
        self.conn = conn
        self.reader = loop.io(fd, 1)  # started while we want to read
        self.writer: Any = None  # write watcher, made the first time an echo waits for room
        self.pending = b""  # echo bytes the kernel has not taken yet
        self.ending: str | None = None  # close with this reason once pending is written
        self.quiet_since = loop.now()  # loop time of its last read or write progress


class EchoHandler:
    """Serves each accepted socket; ``stats`` is shared by all connections.

    ``on_close`` is called after each connection ends (the listener resumes accepting).
    """

    # Makes each connection's protocol object (the fault-injecting handler uses another).
    connection_class: type[ServerConnection] = ServerConnection

    def __init__(
        self, stats: Stats, idle_timeout: float | None, on_close: Callable[[], None] | None = None
    ) -> None:
        self.stats = stats
        self.idle_timeout = idle_timeout
        self.on_close = on_close
        self._busy_for = min(BUSY_FOR, idle_timeout or BUSY_FOR)
        self._ids = itertools.count(1)
        # Live connections, keyed by the client itself: a descriptor number is reused as soon
        # as it is closed, so it cannot say which client a late close is about.
        self._clients: set[Client] = set()
        stats.connections = self._live_connections
        self._stopping = False
        self._shutdown_timer: Any = None
        self._loop = gevent.get_hub().loop

    @property
    def live(self) -> int:
        return len(self._clients)

    def _live_connections(self) -> Iterable[ServerConnection]:
        return (client.conn for client in self._clients)

    def __call__(self, fd: int, address: Any) -> None:
        """Take a new connection's descriptor, in the hub's accept callback: send the banner,
        then read. The descriptor is this handler's from now on; it closes it."""
        try:
            peer = format_address(address[0], address[1])
            client = Client(fd, next(self._ids), peer, self._loop, self.connection_class())
        except Exception as exc:  # not a client yet: nothing to serve, the descriptor to close
            os.close(fd)
            self.stats.errors["internal_error"] += 1
            log.error("internal error accepting %r: %s: %s", address, type(exc).__name__, exc)
            return
        try:
            self._clients.add(client)
            stats = self.stats
            stats.live += 1
            stats.total += 1
            log.info("connect id=%s peer=%s live=%d", client.cid, client.peer, stats.live)
            os.set_blocking(fd, False)
            if self._write(client, client.conn.data_to_send()):
                client.reader.start(self._on_readable, client)
        except Exception as exc:
            self._internal_error(client, exc)

    def _on_readable(self, client: Client) -> None:
        """Read watcher callback (in the hub): one read, its echo written without blocking."""
        try:
            try:
                # Into the shared buffer, then copied out at its size (os.read would map and
                # unmap a fresh 64 KiB per call).
                data = bytes(_READ_VIEW[: os.readv(client.fd, _READ_BUFFERS)])
            except BlockingIOError:
                return
            except OSError as exc:
                self._close(client, self._reason(exc))
                return
            out = client.conn.echo(data)
            if not data:  # EOF: flush what the protocol held, then close
                client.reader.stop()
                client.ending = "shutdown" if self._stopping else "eof"
                if self._write(client, out):
                    self._close(client, client.ending)
                return
            client.quiet_since = self._loop.now()
            if out:
                self._write(client, out)
        except Exception as exc:  # a bug serving this client costs this client only
            self._internal_error(client, exc)

    def _write(self, client: Client, data: bytes) -> bool:
        """Write what the kernel takes now; hold the rest and wait for room (return False)."""
        try:
            sent = os.write(client.fd, data) if data else 0
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._close(client, self._reason(exc))
            return False
        self.stats.bytes_out += sent
        if sent == len(data):
            return True
        client.reader.stop()  # backpressure: read nothing more until the echo is out
        client.pending = data[sent:]
        if client.writer is None:
            client.writer = self._loop.io(client.fd, 2)
        client.writer.start(self._on_writable, client)
        return False

    def _on_writable(self, client: Client) -> None:
        """Write watcher callback: room for the held echo; once it is out, read again."""
        try:
            data = client.pending
            try:
                sent = os.write(client.fd, data)
            except BlockingIOError:
                return
            except OSError as exc:
                self._close(client, self._reason(exc))
                return
            self.stats.bytes_out += sent
            client.quiet_since = self._loop.now()
            if sent < len(data):
                client.pending = data[sent:]
                return
            client.pending = b""
            client.writer.stop()
            if client.ending is not None:
                self._close(client, client.ending)
            else:
                client.reader.start(self._on_readable, client)
        except Exception as exc:
            self._internal_error(client, exc)

    def _internal_error(self, client: Client, exc: Exception) -> None:
        """An unexpected exception while serving ``client``: close it, and only it.

        One line names the exception (its traceback only at --log-level debug), then the
        disconnect line says reason=internal-error; coio_errors{kind="internal_error"} counts
        it. Closing frees the client's slot and descriptor, however far serving it had got.
        """
        self.stats.errors["internal_error"] += 1
        log.error(
            "internal error id=%s: %s: %s",
            client.cid,
            type(exc).__name__,
            exc,
            exc_info=exc if log.isEnabledFor(logging.DEBUG) else None,
        )
        try:
            self._close(client, "internal-error")
        except Exception as again:  # closing failed too: say so once, and serve the others
            log.error("closing id=%s failed: %s: %s", client.cid, type(again).__name__, again)

    def _reason(self, exc: OSError) -> str:
        """Name why a connection ended, and count it by kind for /metrics."""
        errors = self.stats.errors
        if isinstance(exc, ConnectionResetError):
            errors["reset"] += 1
            return "reset"
        if isinstance(exc, BrokenPipeError):
            errors["broken_pipe"] += 1
            return "broken-pipe"
        errors["os_error"] += 1
        return f"error:{exc.strerror or exc}"

    def _finish(self, client: Client, reason: str) -> None:
        """End the stream as at EOF: flush what the protocol held, then close."""
        client.reader.stop()
        client.ending = reason
        if client.pending:  # its write watcher closes it once all is out
            client.pending += client.conn.echo(b"")
        elif self._write(client, client.conn.echo(b"")):
            self._close(client, reason)

    def _close(self, client: Client, reason: str) -> None:
        """Close ``client``'s connection, once: a later close of the same client does nothing,
        whatever client its old descriptor number now belongs to."""
        if client not in self._clients:
            return  # already closed
        self._clients.remove(client)
        for watcher in (client.reader, client.writer):
            if watcher is not None:
                watcher.stop()
                watcher.close()
        fd, client.fd = client.fd, -1
        with contextlib.suppress(OSError):  # the descriptor is released whatever close says
            os.close(fd)
        stats = self.stats
        stats.live -= 1
        stats.retire(client.conn)
        log.info(
            "disconnect id=%s peer=%s reason=%s live=%d",
            client.cid,
            client.peer,
            reason,
            stats.live,
        )
        if self.on_close is not None:
            self.on_close()

    def close_idle(self, timeout: float) -> int:
        """Close every client quiet (nothing read, no write progress) for ``timeout`` seconds."""
        now = self._loop.now()
        idle = [c for c in self._clients if now - c.quiet_since >= timeout]
        for client in idle:
            self.stats.errors["idle_timeout"] += 1
            try:
                self._close(client, "idle-timeout")
            except Exception as exc:
                self._internal_error(client, exc)
        return len(idle)

    def stop(self) -> int:
        """Stop serving: a quiet client's stream ends now (held bytes flushed, as at EOF);
        a busy one ends once it has been quiet for SHUTDOWN_QUIET, so everything it already
        sent is echoed first. Returns how many clients were live."""
        self._stopping = True
        live = len(self._clients)
        self._end_quiet(self._busy_for)
        if self._clients:
            self._shutdown_timer = self._loop.timer(SHUTDOWN_QUIET, SHUTDOWN_QUIET)
            self._shutdown_timer.start(self._end_quiet, SHUTDOWN_QUIET)
        return live

    def _end_quiet(self, quiet: float) -> None:
        now = self._loop.now()
        for client in list(self._clients):
            if client.ending is None and not client.pending and now - client.quiet_since >= quiet:
                try:
                    self._finish(client, "shutdown")
                except Exception as exc:
                    self._internal_error(client, exc)

    def close_all(self) -> None:
        """After the grace period: close whoever is left (say, a client that never reads)."""
        if self._shutdown_timer is not None:
            self._shutdown_timer.close()
            self._shutdown_timer = None
        for client in list(self._clients):
            try:
                self._close(client, "shutdown")
            except Exception as exc:
                self._internal_error(client, exc)
