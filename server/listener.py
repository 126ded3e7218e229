"""The accepting side: gevent's StreamServer, capped at --max-connections live clients."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from gevent.server import StreamServer

from .handler import EchoHandler


def _call_now(func: Callable[..., Any], *args: Any) -> None:
    """StreamServer's spawn hook: run the handler inline; it never blocks."""
    func(*args)


class Listener(StreamServer):  # type: ignore[misc]
    """Accepts clients and hands each to ``handler``, inline in the accept callback.

    The handler owns each socket and closes it itself (a client is served from watcher
    callbacks with no greenlet, so the socket must outlive the call that accepted it). At
    ``max_connections`` live clients the listener stops accepting: newcomers wait in the
    kernel's listen backlog and are accepted as soon as a client leaves.
    """

    def __init__(
        self, listener: Any, handler: EchoHandler, max_connections: int, backlog: int | None
    ) -> None:
        super().__init__(listener, handler, backlog=backlog, spawn=_call_now)
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
