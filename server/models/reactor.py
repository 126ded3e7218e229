"""`--model reactor`: every client served from libev watcher callbacks in the hub, with no
greenlet (an asyncio.Protocol-style reactor on gevent's loop): the fast path.

The serving code is server/handler.py (`EchoHandler`) behind server/listener.py; this
adapter gives it the interface every model has.
"""

from __future__ import annotations

import socket
import time

import gevent

from ..config import LISTEN_BACKLOG, Config
from ..handler import EchoHandler
from ..listener import Listener
from ..stats import Stats
from .book import accept_queue

# After the grace period, clients that were cut get this long to close.
FORCE_WAIT = 1.0


def make_handler(config: Config, stats: Stats) -> EchoHandler:
    """The connection handler: the ordinary one, or (test-only) one that fails on purpose."""
    if not config.faults & {"echo", "stale-close"}:
        return EchoHandler(stats, config.idle_timeout)
    from ..faults import FaultyEchoHandler

    return FaultyEchoHandler(stats, config.idle_timeout, faults=config.faults)


class ReactorModel:
    """Watcher callbacks, no greenlet per client."""

    name = "reactor"

    def __init__(self, config: Config, stats: Stats, listener: socket.socket | None) -> None:
        self.handler = make_handler(config, stats)
        self.server = Listener(
            listener if listener is not None else (config.host, config.port),
            self.handler,
            config.max_connections,
            backlog=None if listener is not None else LISTEN_BACKLOG,
        )
        if listener is not None:
            # Workers share the socket: taking one connection per wakeup leaves the rest of
            # a burst to the other workers (all are woken) instead of the first one awake.
            self.server.max_accept = 1

    @property
    def live(self) -> int:
        return self.handler.live

    def waiting(self) -> int:
        return accept_queue(getattr(self.server, "socket", None))  # None once closed

    def start(self) -> tuple[str, int]:
        self.server.start()
        host, port = self.server.socket.getsockname()[:2]
        return host, port

    def close_idle(self, timeout: float) -> int:
        return self.handler.close_idle(timeout)

    def shutdown(self, grace: float) -> None:
        # Stop accepting, then let every client finish its echo and close; after the grace
        # period, close whoever is left (a client that never reads its echo, say).
        self.server.close()
        self.handler.stop()
        self._wait(grace)
        self.handler.close_all()
        self._wait(FORCE_WAIT)

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.handler.live and time.monotonic() < deadline:
            gevent.sleep(0.01)
