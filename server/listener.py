"""The accepting side: gevent's StreamServer, capped at --max-connections live clients."""

from __future__ import annotations

import socket
from typing import Any

from gevent.server import StreamServer

from .handler import EchoHandler


class Listener(StreamServer):
    """Accepts clients and hands each one's file descriptor to ``handler``, inline.

    A client is served from watcher callbacks with no greenlet and no socket object: the
    handler reads, writes and closes the descriptor itself, so the accept loop hands over
    the bare descriptor (no per-client gevent socket to build and tear down). Accepted
    sockets inherit TCP_NODELAY from the listening one. At ``max_connections`` live clients
    the listener stops accepting: newcomers wait in the kernel's listen backlog and are
    accepted as soon as a client leaves.
    """

    def __init__(
        self, listener: Any, handler: EchoHandler, max_connections: int, backlog: int | None
    ) -> None:
        # spawn=None: the handler runs inline, given a descriptor where gevent's stubs say socket.
        super().__init__(listener, handler, backlog=backlog, spawn=None)  # type: ignore[arg-type]
        self.max_connections = max_connections
        handler.on_close = self._slot_freed
        self._handler = handler

    def init_socket(self) -> None:
        super().init_socket()
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_read(self) -> tuple[int, Any] | None:  # type: ignore[override]
        """Accept one client: its descriptor and address, or None when none is waiting."""
        try:
            return self.socket._accept()  # type: ignore[attr-defined,no-any-return]
        except BlockingIOError:
            return None

    def full(self) -> bool:
        return self._handler.live >= self.max_connections

    def do_close(self, fd: int, *args: Any) -> None:  # type: ignore[override]
        """Called after the handler returns: the handler keeps the descriptor."""

    def _slot_freed(self) -> None:
        if self.started and not self.closed and not self.full():
            self.start_accepting()
