"""A hostile peer for the client's flood tests, run as its own process on loopback.

Usage: python flood_peer.py MODE MEGABYTES
  lines:   sends the coio banner, then MEGABYTES of newline-terminated lines nobody asked for;
  foreign: sends MEGABYTES of text with terminal escapes and no banner at all.
Prints "port N" on stdout, serves one client, then waits for it to close.
"""

from __future__ import annotations

import socket
import sys

CHUNK = 64 * 1024


def payload(mode: str) -> bytes:
    if mode == "lines":
        line = b"FLOOD [bold red]X[/] \x1b[2J 0123456789\n"
    else:
        line = b"\x1b]52;c;aGk=\x07 [@click=app.quit] no banner here\r\n"
    return (line * (CHUNK // len(line) + 1))[:CHUNK]


def main() -> int:
    mode, megabytes = sys.argv[1], int(sys.argv[2])
    with socket.create_server(("127.0.0.1", 0)) as listener:
        print("port", listener.getsockname()[1], flush=True)
        conn, _ = listener.accept()
        with conn:
            if mode == "lines":
                conn.sendall(b"welcome!")
            block = payload(mode)
            total = megabytes * 1024 * 1024
            sent = 0
            while sent < total:
                conn.sendall(block)
                sent += len(block)
            print("sent", sent, flush=True)
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(120)
            while conn.recv(65536):
                pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
