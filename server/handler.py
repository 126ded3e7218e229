"""One client connection: recv -> protocol -> sendall, in one small loop per greenlet."""

from __future__ import annotations

import contextlib
import errno
import itertools
import logging
import socket
from typing import Any

import gevent

from protocol import ServerConnection

from .stats import Stats

log = logging.getLogger("coio.server")

# One recv takes at most this much: large enough that a bulk sender costs few loop turns,
# small enough that its echo is written before we read more (that is our backpressure).
RECV_BYTES = 64 * 1024


def _peer(address: Any) -> str:
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class EchoHandler:
    """Serves each accepted socket; ``stats`` is shared by all connections."""

    def __init__(self, stats: Stats, idle_timeout: float | None) -> None:
        self.stats = stats
        self.idle_timeout = idle_timeout
        self._ids = itertools.count(1)
        self._open: dict[int, socket.socket] = {}  # live sockets by connection number
        self._stopping = False

    def stop_reading(self) -> int:
        """Shut every client's read side: each echoes what it already received, then closes.

        A client blocked in recv sees end of stream at once; one whose echo is still being
        written finishes writing it first. Returns how many connections were told.
        """
        self._stopping = True
        for sock in list(self._open.values()):
            with contextlib.suppress(OSError):  # already reset by the peer
                sock.shutdown(socket.SHUT_RD)
        return len(self._open)

    def __call__(self, sock: socket.socket, address: Any) -> None:
        stats = self.stats
        number = next(self._ids)
        cid = f"c{number:x}"
        self._open[number] = sock
        peer = _peer(address)
        stats.live += 1
        stats.total += 1
        log.info("connect id=%s peer=%s live=%d", cid, peer, stats.live)
        reason = "eof"
        try:
            reason = self._serve(sock)
            if self._stopping:
                reason = "shutdown"
        except TimeoutError:
            reason = "idle-timeout"
            stats.errors["idle_timeout"] += 1
        except ConnectionResetError:
            reason = "reset"
            stats.errors["reset"] += 1
        except BrokenPipeError:
            reason = "broken-pipe"
            stats.errors["broken_pipe"] += 1
        except OSError as exc:
            if self._stopping and exc.errno == errno.EBADF:
                reason = "shutdown"  # gevent woke a recv that stop_reading() interrupted
            else:
                reason = f"error:{exc.strerror or exc}"
                stats.errors["os_error"] += 1
        except gevent.GreenletExit:
            reason = "shutdown"
            raise
        finally:
            del self._open[number]
            sock.close()
            stats.live -= 1
            log.info("disconnect id=%s peer=%s reason=%s live=%d", cid, peer, reason, stats.live)

    def _serve(self, sock: socket.socket) -> str:
        stats = self.stats
        conn = ServerConnection()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.idle_timeout)
        recv, sendall, echo = sock.recv, sock.sendall, conn.echo
        banner = conn.data_to_send()
        sendall(banner)
        stats.bytes_out += len(banner)
        while True:
            data = recv(RECV_BYTES)
            out = echo(data)
            if out:
                sendall(out)
            if not data:
                return "eof"
            stats.bytes_in += len(data)
            stats.bytes_out += len(out)
            stats.chunks += 1
            stats.lines += data.count(b"\n")
            # recv and sendall only switch when they would block; a client streaming flat out
            # would otherwise hold the loop. Yield once per chunk so every client gets a turn.
            gevent.sleep(0)
