"""`--model select`: one thread, non-blocking sockets, IO multiplexing made visible.

The loop asks the selector which sockets are ready and serves each one a step: accept a
client, read a chunk and write its echo, or write what a slow reader left. A client whose
echo does not fit in the kernel's buffer is not read again until it is out (backpressure:
at most one chunk's echo held per client). The hub's requests (end idle clients, stop) come
in through a queue and a wake-up socket, so only the loop thread touches the selector.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Callable
from functools import partial
from queue import SimpleQueue

from coio.protocol import ServerState

from ..config import Config
from ..stats import Stats
from .book import RECV_BYTES, Client, reason_for
from .threaded import ThreadedModel, graceful_stop, listen


class Entry:
    """A client as the loop holds it: its socket and the echo bytes not yet written."""

    __slots__ = ("client", "pending", "sock")

    def __init__(self, client: Client, sock: socket.socket) -> None:
        self.client = client
        self.sock = sock
        self.pending = b""


class SelectModel(ThreadedModel):
    """One thread multiplexing every client with `selectors`."""

    name = "select"

    def __init__(self, config: Config, stats: Stats, listener: socket.socket | None) -> None:
        super().__init__(config, stats, listener)
        self._listening: socket.socket  # the bound socket, from start() on
        self.max_connections = config.max_connections
        self.selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._requests: SimpleQueue[Callable[[], None]] = SimpleQueue()
        self._entries: dict[Client, Entry] = {}
        self._accepting = True
        self._done = False

    def start(self) -> tuple[str, int]:
        self.sock = self._listening = listen(self._config, self._listener)
        self._listening.setblocking(False)
        self.selector.register(self._listening, selectors.EVENT_READ, None)
        self.selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        threading.Thread(target=self._loop, name="select", daemon=True).start()
        host, port = self._listening.getsockname()[:2]
        return host, port

    # -- called from the hub ---------------------------------------------------------------

    def _call(self, request: Callable[[], None]) -> None:
        self._requests.put(request)
        self._wake_w.send(b"!")

    def close_idle(self, timeout: float) -> int:
        idle = [c for c in self.book.quiet_for(timeout) if c.ending is None]
        for client in idle:
            self.book.stats.errors["idle_timeout"] += 1
            client.ending = "idle-timeout"
            self._call(partial(self._close_client, client, "idle-timeout"))
        return len(idle)

    def shutdown(self, grace: float) -> None:
        self._call(self._stop_accepting)
        graceful_stop(self.book, grace, self._end)
        self._call(self._finish)

    def _end(self, client: Client, reason: str) -> None:
        client.ending = reason
        self._call(partial(self._end_stream, client))

    # -- the loop thread -------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._done:
            for key, mask in self.selector.select():
                if key.data is None:
                    self._accept()
                elif key.data == "wake":
                    self._wake_r.recv(4096)
                    while not self._requests.empty():
                        self._requests.get()()
                elif mask & selectors.EVENT_WRITE:
                    self._flush(key.data)
                else:
                    self._read(key.data)
        self.selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _accept(self) -> None:
        while self._accepting and self.book.live < self.max_connections:
            try:
                sock, address = self._listening.accept()
            except BlockingIOError:
                return
            except OSError:  # e.g. out of descriptors: try again on the next turn
                return
            sock.setblocking(False)
            entry = Entry(self.book.opened(address, sock), sock)
            self._entries[entry.client] = entry
            self.selector.register(sock, selectors.EVENT_READ, entry)
            self._write(entry, entry.client.conn.data_to_send())
        if self._accepting and self.book.live >= self.max_connections:
            self.selector.unregister(self._listening)  # full: newcomers wait in the backlog

    def _read(self, entry: Entry) -> None:
        client = entry.client
        try:
            data = entry.sock.recv(RECV_BYTES)
        except BlockingIOError:
            return
        except OSError as exc:
            self._close(entry, reason_for(exc, self.book.stats))
            return
        try:
            out = client.conn.echo(data)
        except Exception as exc:  # a bug costs this client only
            self._close(entry, self.book.failed(client, exc))
            return
        client.quiet_since = time.monotonic()
        if not data:
            client.ending = client.ending or "eof"
        if self._write(entry, out) and not data:
            self._close(entry, client.ending)

    def _write(self, entry: Entry, data: bytes) -> bool:
        """Write what the kernel takes now; hold the rest and wait for room (False)."""
        try:
            sent = entry.sock.send(data) if data else 0
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            self._close(entry, reason_for(exc, self.book.stats))
            return False
        self.book.stats.bytes_out += sent
        if sent == len(data):
            return True
        entry.pending = data[sent:]
        self.selector.modify(entry.sock, selectors.EVENT_WRITE, entry)  # stop reading
        return False

    def _flush(self, entry: Entry) -> None:
        data, entry.pending = entry.pending, b""
        self.selector.modify(entry.sock, selectors.EVENT_READ, entry)
        if self._write(entry, data):
            entry.client.quiet_since = time.monotonic()
            if entry.client.ending is not None:
                self._close(entry, entry.client.ending)

    def _close_client(self, client: Client, reason: str) -> None:
        self._close(self._entries.get(client), reason)

    def _end_stream(self, client: Client) -> None:
        """End as at EOF: flush what the protocol held, then close."""
        entry = self._entries.get(client)
        if entry is None or client.conn.state is ServerState.CLOSED:
            return
        held = entry.client.conn.echo(b"")
        if entry.pending:
            entry.pending += held
        elif self._write(entry, held):
            self._close(entry, entry.client.ending or "shutdown")

    def _close(self, entry: Entry | None, reason: str | None) -> None:
        if entry is None or self._entries.pop(entry.client, None) is None:
            return  # already closed
        self.selector.unregister(entry.sock)
        entry.sock.close()
        self.book.closed(entry.client, entry.client.ending or reason or "closed")
        if self._accepting and self.book.live == self.max_connections - 1:
            self.selector.register(self._listening, selectors.EVENT_READ, None)  # a slot freed

    def _stop_accepting(self) -> None:
        if self._accepting:
            self._accepting = False
            if self.book.live < self.max_connections:
                self.selector.unregister(self._listening)
            self._listening.close()

    def _finish(self) -> None:
        for entry in list(self._entries.values()):
            self._close(entry, "shutdown")
        self._done = True
