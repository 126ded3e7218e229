"""Memory per idle connection: server RSS delta over N idle, welcomed connections, / N.

    .venv/bin/python benchmarks/server_idle_memory.py --connections 10000 --servers coio,asyncio

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import selectors
import socket
import sys
import time

from server_common import raise_nofile, start_server

BANNER = b"welcome!"


def open_idle(address: tuple[str, int], count: int) -> list[socket.socket]:
    """Open ``count`` connections and read each one's banner; keep them open and silent."""
    socks = []
    pending: dict[socket.socket, bytes] = {}
    with selectors.DefaultSelector() as sel:
        for i in range(count):
            sock = socket.create_connection(address, timeout=30)
            sock.setblocking(False)
            socks.append(sock)
            pending[sock] = b""
            sel.register(sock, selectors.EVENT_READ)
            if i % 200 == 199 or i == count - 1:  # read banners as we go: no backlog overflow
                drain(sel, pending, 0 if i < count - 1 else 30)
        if pending:
            raise SystemExit(f"{len(pending)} connections got no banner")
    return socks


def drain(sel: selectors.BaseSelector, pending: dict[socket.socket, bytes], wait: float) -> None:
    deadline = time.monotonic() + wait
    while pending:
        events = sel.select(max(0.0, deadline - time.monotonic()))
        if not events:
            return
        for key, _ in events:
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            pending[sock] += sock.recv(64)
            if pending[sock] == BANNER:
                del pending[sock]
                sel.unregister(sock)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="coio,asyncio")
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--server-cpu", default="0", help='taskset CPU list, "" for none')
    parser.add_argument("--coio-args", default="", help="extra coio-server flags")
    args = parser.parse_args()
    raise_nofile()
    print(f"# {' '.join(sys.argv)}")
    print("| server | idle connections | RSS before kB | RSS after kB | bytes per connection |")
    print("|---|---|---|---|---|")
    for name in args.servers.split(","):
        extra = args.coio_args.split() if name.startswith("coio") else []
        with start_server(name, *extra, cpu=args.server_cpu) as server:
            time.sleep(0.5)
            before = server.rss_kb()
            socks = open_idle((server.host, server.port), args.connections)
            time.sleep(1.0)
            after = server.rss_kb()
            for sock in socks:
                sock.close()
        per = (after - before) * 1024 / args.connections
        print(f"| {name} | {args.connections} | {before} | {after} | {per:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
