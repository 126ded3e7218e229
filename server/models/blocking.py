"""`--model blocking`: one client at a time, the "before" of the lesson.

One thread accepts a client and serves it with blocking calls until it leaves; only then is
the next one accepted. Everyone else waits in the kernel's listen backlog: connected (the
handshake is the kernel's), but without a banner until their turn. By design it does not
serve clients concurrently, so --max-connections does not apply and one client that never
leaves keeps everyone else waiting (--idle-timeout bounds that).
"""

from __future__ import annotations

import socket
import threading

from .threaded import (
    ThreadedModel,
    end_by_shutdown,
    graceful_stop,
    listen,
    serve_blocking,
    stop_listening,
)


class BlockingModel(ThreadedModel):
    """One client at a time, in one thread."""

    name = "blocking"

    def start(self) -> tuple[str, int]:
        self.sock = sock = listen(self._config, self._listener)
        threading.Thread(
            target=self._serve_in_turn, args=(sock,), name="serve", daemon=True
        ).start()
        host, port = sock.getsockname()[:2]
        return host, port

    def _serve_in_turn(self, listener: socket.socket) -> None:
        while True:
            try:
                sock, address = listener.accept()
            except OSError:  # the listener was shut: stop
                return
            serve_blocking(self.book, self.book.opened(address, sock), sock)

    def shutdown(self, grace: float) -> None:
        if self.sock is not None:
            stop_listening(self.sock)
        graceful_stop(self.book, grace, end_by_shutdown)
