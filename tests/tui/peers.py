"""Scripted peers on loopback for the client tests: say fixed bytes, then hold or close."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def scripted_peer(
    *chunks: bytes,
    echo_upper: bool = False,
    gap: float = 0.05,
    release: threading.Event | None = None,
) -> Iterator[int]:
    """Serve one client: send each chunk as its own write, then (optionally) echo uppercase.

    With ``release``, the chunks after the first wait until the test sets it.
    Yields the port. Runs in a thread: plain sockets, no gevent in the test process.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(30)
    stop = threading.Event()

    def serve() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            for index, chunk in enumerate(chunks):
                if index and release is not None:
                    release.wait(30)
                    if stop.is_set():  # the test ended first
                        return
                conn.sendall(chunk)
                stop.wait(gap)  # separate TCP reads on the client side
            conn.settimeout(0.1)
            while not stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                if echo_upper:
                    conn.sendall(data.upper())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        if release is not None:
            release.set()  # a peer still waiting for it ends now
        listener.close()
        thread.join(5)
