"""A client that streams flat out: 64 KiB writes for N seconds while a thread reads the echo.

    python -m coio.loadgen.streamer HOST PORT SECONDS

Prints the number of bytes echoed back (banner included) once the server closes.
Used to check that one greedy client does not starve the others.
"""

from __future__ import annotations

import socket
import sys
import threading
import time

CHUNK = b"x" * 65536


def stream(host: str, port: int, seconds: float) -> int:
    """Send flat out for ``seconds``, half-close, and return how many bytes came back."""
    got = 0
    with socket.create_connection((host, port)) as sock:

        def read() -> None:
            nonlocal got
            while chunk := sock.recv(1 << 20):
                got += len(chunk)

        reader = threading.Thread(target=read)
        reader.start()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            sock.sendall(CHUNK)
        sock.shutdown(socket.SHUT_WR)
        reader.join()
    return got


if __name__ == "__main__":
    print(stream(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
