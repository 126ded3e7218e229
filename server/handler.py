"""One client connection: recv -> protocol -> sendall, in one small loop per greenlet.

A greenlet runs the loop only while the client is talking. After the banner, and after
PARK_AFTER with nothing to read, the client is parked: its greenlet ends, and a read watcher
on its socket starts a new one when bytes arrive. An idle client so costs a socket, a
watcher and its protocol state, not a greenlet and its saved stack.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import itertools
import logging
import os
import socket
from collections.abc import Callable
from typing import Any

import gevent

from protocol import ServerConnection

from .stats import Stats

log = logging.getLogger("coio.server")

# One read takes at most this much: large enough that a bulk sender costs few loop turns,
# small enough that its echo is written before we read more (that is our backpressure).
RECV_BYTES = 64 * 1024
# A client quiet this long gives up its greenlet (it is parked). Short enough that idle
# clients cost little; long enough that a chatty client keeps one greenlet between messages.
PARK_AFTER = 0.5
# While the server stops, a busy client is closed once it has been quiet this long: what
# it already sent has arrived and been echoed.
SHUTDOWN_QUIET = 0.05
_CLOSED = OSError(errno.EBADF, "closed at shutdown")
# One read buffer for every connection: each read is copied out before the next can start.
_READ_BUFFER = bytearray(RECV_BYTES)
_READ_BUFFERS = [_READ_BUFFER]
_READ_VIEW = memoryview(_READ_BUFFER)


class _Wait(enum.Enum):
    READY = "ready"  # bytes to read
    PARKED = "parked"  # quiet for PARK_AFTER: the greenlet gave the client to its watcher
    DONE = "done"  # stopping, and the client went quiet


class _Quiet(Exception):
    """Thrown into a serving greenlet when its client has been quiet for PARK_AFTER."""


_QUIET = _Quiet()


def _peer(address: Any) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Client:
    """One connection's state, kept while it lives (parked or running)."""

    __slots__ = ("cid", "conn", "fd", "parked_at", "peer", "sock", "watcher")

    def __init__(self, sock: socket.socket, number: int, peer: str, watcher: Any) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.cid = f"c{number:x}"
        self.peer = peer
        self.conn = ServerConnection()
        self.watcher = watcher  # read watcher that wakes a parked client
        self.parked_at: float | None = None  # loop time it went quiet; None while running


class EchoHandler:
    """Serves each accepted socket; ``stats`` is shared by all connections.

    ``on_close`` is called after each connection ends (the listener resumes accepting).
    """

    def __init__(
        self, stats: Stats, idle_timeout: float | None, on_close: Callable[[], None] | None = None
    ) -> None:
        self.stats = stats
        self.idle_timeout = idle_timeout
        self.on_close = on_close
        self._park_after = min(PARK_AFTER, idle_timeout or PARK_AFTER)
        self._ids = itertools.count(1)
        self._clients: dict[int, Client] = {}  # live connections by fd
        self._stopping = False
        self._hub = gevent.get_hub()
        self._loop = self._hub.loop

    @property
    def live(self) -> int:
        return len(self._clients)

    def __call__(self, sock: socket.socket, address: Any) -> None:
        """Take a new connection, in the hub's accept callback: send the banner and park.

        Nothing here blocks (a fresh socket's buffer takes the 8-byte banner at once), so no
        greenlet is started until the client sends something.
        """
        client = Client(sock, next(self._ids), _peer(address), self._loop.io(sock.fileno(), 1))
        self._clients[client.fd] = client
        stats = self.stats
        stats.live += 1
        stats.total += 1
        log.info("connect id=%s peer=%s live=%d", client.cid, client.peer, stats.live)
        banner = client.conn.data_to_send()
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # The timeout bounds a sendall to a client that reads nothing; a silent client
            # is parked, and the idle sweep closes it.
            sock.settimeout(self.idle_timeout)
            sent = os.write(client.fd, banner)
        except BlockingIOError:
            sent = 0
        except OSError as exc:  # reset before the banner went out
            self._close(client, self._reason(exc))
            return
        stats.bytes_out += sent
        if sent < len(banner):  # never seen, but a greenlet may block where the hub may not
            gevent.spawn_raw(self._run, client, banner[sent:])
        else:
            self._park(client, self._loop.now())  # most clients take a while to speak

    def _wake(self, client: Client) -> None:
        """Read watcher callback (in the hub): bytes arrived for a parked client."""
        client.watcher.stop()
        client.parked_at = None
        gevent.spawn_raw(self._run, client, b"")

    def _run(self, client: Client, banner: bytes) -> None:
        """One spell of serving: until the client goes quiet (parked) or the connection ends."""
        try:
            if banner:
                self._send(client, banner)
                self.stats.bytes_out += len(banner)
            if self._serve(client):
                return  # parked
            reason = "shutdown" if self._stopping else "eof"
        except OSError as exc:  # TimeoutError included: the idle timeout on a sendall
            reason = self._reason(exc)
        self._close(client, reason)

    def _reason(self, exc: OSError) -> str:
        """Name why a connection ended, and count it by kind for /metrics."""
        errors = self.stats.errors
        if isinstance(exc, TimeoutError):
            errors["idle_timeout"] += 1
            return "idle-timeout"
        if isinstance(exc, ConnectionResetError):
            errors["reset"] += 1
            return "reset"
        if isinstance(exc, BrokenPipeError):
            errors["broken_pipe"] += 1
            return "broken-pipe"
        if self._stopping and exc.errno == errno.EBADF:
            return "shutdown"  # closed by stop() after the grace period
        errors["os_error"] += 1
        return f"error:{exc.strerror or exc}"

    def _serve(self, client: Client) -> bool:
        """Echo chunks until the client is quiet for PARK_AFTER (return True) or EOF (False)."""
        stats = self.stats
        fd = client.fd
        echo = client.conn.echo
        readv, buffers, view, send = os.readv, _READ_BUFFERS, _READ_VIEW, self._send
        quiet = self._loop.timer(self._park_after, self._park_after)
        throw = gevent.getcurrent().throw
        try:
            while True:
                try:
                    # Into the shared buffer, then copied out at its size before anything can
                    # switch greenlets (os.read would map and unmap a fresh 64 KiB per call).
                    data: bytes | None = bytes(view[: readv(fd, buffers)])
                except BlockingIOError:  # woken, but another reader got there first
                    data = None
                if data is not None:
                    out = echo(data)
                    if out:
                        send(client, out)
                    if not data:
                        return False
                    stats.bytes_in += len(data)
                    stats.bytes_out += len(out)
                    stats.chunks += 1
                    stats.lines += data.count(b"\n")
                # Every chunk waits for the hub's next IO poll before the next read: a client
                # streaming flat out takes turns with every other ready client (fairness), and
                # a request/response client never pays for a read that would fail.
                state = self._wait_readable(client, quiet, throw)
                if state is _Wait.PARKED:
                    return True
                if state is _Wait.DONE:  # stopping, and the client went quiet: end as at EOF
                    send(client, echo(b""))
                    return False
        finally:
            quiet.close()

    @staticmethod
    def _send(client: Client, data: bytes) -> None:
        """Write all of ``data``; if the client is not reading fast enough, wait here (reading
        nothing more from it meanwhile: that is the backpressure)."""
        try:
            sent = os.write(client.fd, data)
        except BlockingIOError:
            sent = 0
        if sent < len(data):
            client.sock.sendall(memoryview(data)[sent:])

    def _wait_readable(self, client: Client, quiet: Any, throw: Callable[..., Any]) -> _Wait:
        """Wait (letting other greenlets run) for bytes from the client.

        READY: bytes arrived. PARKED: quiet for PARK_AFTER, the greenlet can end. DONE: the
        server is stopping and the client has been quiet for SHUTDOWN_QUIET.
        """
        timer = self._loop.timer(SHUTDOWN_QUIET, SHUTDOWN_QUIET) if self._stopping else quiet
        timer.again(throw, _QUIET)
        try:
            self._hub.wait(client.watcher)
        except _Quiet:
            if self._stopping:
                return _Wait.DONE
            self._park(client, self._loop.now() - self._park_after)
            return _Wait.PARKED
        finally:
            timer.stop()
            if timer is not quiet:
                timer.close()
        return _Wait.READY

    def _park(self, client: Client, quiet_since: float) -> None:
        """Give up the greenlet: the read watcher starts a new one when bytes arrive."""
        client.parked_at = quiet_since
        client.watcher.start(self._wake, client)

    def _close(self, client: Client, reason: str) -> None:
        client.watcher.stop()
        client.watcher.close()
        client.sock.close()
        del self._clients[client.fd]
        stats = self.stats
        stats.live -= 1
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
        """Close every client parked for at least ``timeout`` seconds; return how many."""
        now = self._loop.now()
        idle = [
            c
            for c in self._clients.values()
            if c.parked_at is not None and now - c.parked_at >= timeout
        ]
        for client in idle:
            self.stats.errors["idle_timeout"] += 1
            self._close(client, "idle-timeout")
        return len(idle)

    def stop(self) -> int:
        """Stop serving: a parked client's stream ends now (held bytes flushed, as at EOF);
        a busy one ends once it has been quiet for SHUTDOWN_QUIET, so everything it already
        sent is echoed first. Returns how many clients were live."""
        self._stopping = True
        live = len(self._clients)
        for client in list(self._clients.values()):
            if client.parked_at is not None:
                with contextlib.suppress(OSError):  # best effort: a few held bytes at most
                    os.write(client.fd, client.conn.echo(b""))
                self._close(client, "shutdown")
        return live

    def close_all(self) -> None:
        """After the grace period: close whoever is left (say, a client that never reads)."""
        for client in list(self._clients.values()):
            if client.parked_at is not None:
                self._close(client, "shutdown")
            else:  # its greenlet wakes with EBADF and closes the rest
                self._hub.cancel_wait(client.watcher, _CLOSED)
                client.sock.close()
