"""The UI's handle on one connection: queue lines, connect, disconnect. Never awaits."""

from __future__ import annotations

import itertools

from .connection import OUTBOX_LINES, ConnectionWorker, Outgoing, Post
from .guest import TrioGuest


class Link:
    """Owned by the UI. Counts queued lines itself, so the trio outbox is never full."""

    def __init__(self, guest: TrioGuest, conn_id: int, host: str, port: int, post: Post) -> None:
        self._guest = guest
        self.worker = ConnectionWorker(conn_id, host, port, post)
        self._seq = itertools.count()
        self.queued = 0  # lines handed to trio and not yet written to the socket

    def start(self) -> None:
        self._guest.spawn(self.worker.run, on_error=self._failed)

    def _failed(self, error: BaseException) -> None:
        """A bug broke this connection's trio side: say so in its tab; it restarts alone."""
        self.worker.failed(error)

    def send_line(self, text: str) -> int | None:
        """Queue a line for sending; its sequence number, or None if the outbox is full."""
        if self.queued >= OUTBOX_LINES:
            return None
        self.queued += 1
        seq = next(self._seq)
        self._guest.call_soon(self.worker.enqueue, Outgoing(seq, text))
        return seq

    def written(self, count: int) -> None:
        """Trio reports ``count`` queued lines written."""
        self.queued -= count

    def read_shown(self) -> None:
        """The UI showed one TCP read: the reader may take another."""
        self._guest.call_soon(self.worker.read_shown)

    def connect(self) -> None:
        self._guest.call_soon(self.worker.connect_now)

    def disconnect(self) -> None:
        self._guest.call_soon(self.worker.disconnect)
