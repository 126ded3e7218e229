"""`--model threads`: a thread per client, blocking sockets, code that reads top to bottom.

The accept thread takes a slot, then a connection, and starts a thread that serves it with
plain blocking calls (`serve_blocking`). Past --max-connections the accept thread waits for
a slot, so newcomers wait in the kernel's listen backlog. Each client costs an OS thread: its
stack and a scheduler entry, which is the point of the lesson.
"""

from __future__ import annotations

import socket
import threading

from ..config import Config
from ..stats import Stats
from .book import Client
from .threaded import (
    ThreadedModel,
    end_by_shutdown,
    graceful_stop,
    listen,
    serve_blocking,
    stop_listening,
)


class ThreadsModel(ThreadedModel):
    """One OS thread per client."""

    name = "threads"

    def __init__(self, config: Config, stats: Stats, listener: socket.socket | None) -> None:
        super().__init__(config, stats, listener)
        self._slots = threading.BoundedSemaphore(config.max_connections)
        self._accepting = True

    def start(self) -> tuple[str, int]:
        self.sock = sock = listen(self._config, self._listener)
        threading.Thread(target=self._accept, args=(sock,), name="accept", daemon=True).start()
        host, port = sock.getsockname()[:2]
        return host, port

    def _accept(self, listener: socket.socket) -> None:
        while self._accepting:
            self._slots.acquire()  # a free slot first: past the cap, clients wait in the backlog
            try:
                sock, address = listener.accept()
            except OSError:  # the listener was shut: stop accepting
                self._slots.release()
                return
            client = self.book.opened(address, sock)
            threading.Thread(target=self._serve, args=(client, sock), daemon=True).start()

    def _serve(self, client: Client, sock: socket.socket) -> None:
        try:
            serve_blocking(self.book, client, sock)
        finally:
            self._slots.release()

    def shutdown(self, grace: float) -> None:
        self._accepting = False
        if self.sock is not None:
            stop_listening(self.sock)
        graceful_stop(self.book, grace, end_by_shutdown)
