"""The accepting side: gevent's StreamServer, capped at --max-connections live clients."""

from __future__ import annotations

import socket
from typing import Any

import gevent
from gevent.server import StreamServer

from .handler import EchoHandler


class Listener(StreamServer):  # type: ignore[misc]
    """Accepts clients and hands each to ``handler`` in a new greenlet.

    The handler owns each socket and closes it itself (an idle client is parked with no
    greenlet, so the socket must outlive the greenlet that accepted it). At
    ``max_connections`` live clients the listener stops accepting: newcomers wait in the
    kernel's listen backlog and are accepted as soon as a client leaves.
    """

    def __init__(
        self, listener: Any, handler: EchoHandler, max_connections: int, backlog: int | None
    ) -> None:
        super().__init__(listener, handler, backlog=backlog, spawn=gevent.spawn_raw)
        self.max_connections = max_connections
        handler.on_close = self._slot_freed
        self._handler = handler

    def full(self) -> bool:
        return self._handler.live >= self.max_connections

    def do_close(self, sock: socket.socket, *args: Any) -> None:
        """Called when the accepting greenlet returns: the handler keeps the socket."""

    def _slot_freed(self) -> None:
        if self.started and not self.closed and not self.full():
            self.start_accepting()
