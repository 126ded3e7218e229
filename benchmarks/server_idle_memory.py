"""Memory per idle connection: a server's RSS growth over N connections that only got the
banner, divided by N.

    .venv/bin/python benchmarks/server_idle_memory.py --connections 10000 --servers coio,asyncio
    .venv/bin/python benchmarks/server_idle_memory.py --pid PID --port PORT  # a running server

Opens one connection first (so one-time allocations are not charged to the rest), reads the
server's RSS (its workers' included) until it settles, opens N more, waits for each banner and
for RSS to settle, reads it again. run_matrix.py measures its memory column with
`per_connection`. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from servers import rss_kb, start_server

from coio.fds import raise_fd_limit
from coio.protocol import BANNER

CONNECT_CONCURRENCY = 200  # connects in flight: well under every server's listen backlog
SETTLE = 0.5  # seconds between RSS readings; it is settled when two agree within 1%
SETTLE_TRIES = 10


@dataclass(frozen=True)
class IdleMemory:
    before_kb: int  # RSS with one connection open
    after_kb: int  # RSS with ``connections`` more open and idle
    connections: int

    @property
    def per_connection(self) -> float:
        """RSS bytes the server grew by per idle connection."""
        return (self.after_kb - self.before_kb) * 1024 / self.connections


def _settled(read: Callable[[], int]) -> int:
    last = read()
    for _ in range(SETTLE_TRIES):
        time.sleep(SETTLE)
        now = read()
        if abs(now - last) <= 0.01 * last:
            return now
        last = now
    return last


async def _open(host: str, port: int, count: int) -> list[asyncio.StreamWriter]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one() -> asyncio.StreamWriter:
        async with gate:
            reader, writer = await asyncio.open_connection(host, port)
            await asyncio.wait_for(reader.readexactly(len(BANNER)), 30)
            return writer

    return list(await asyncio.gather(*(one() for _ in range(count))))


def per_connection(read_rss_kb: Callable[[], int], host: str, port: int, count: int) -> IdleMemory:
    """Open ``count`` idle connections to host:port and read the server's RSS around them."""
    raise_fd_limit()

    async def main() -> IdleMemory:
        first = await _open(host, port, 1)
        before = await asyncio.to_thread(_settled, read_rss_kb)
        writers = await _open(host, port, count)
        after = await asyncio.to_thread(_settled, read_rss_kb)
        for writer in [*first, *writers]:
            writer.close()
        await asyncio.sleep(0.2)
        return IdleMemory(before, after, count)

    return asyncio.run(main())


def row(name: str, idle: IdleMemory) -> str:
    return (
        f"| {name} | {idle.connections} | {idle.before_kb} | {idle.after_kb}"
        f" | {idle.per_connection:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="coio,asyncio", help="(default: %(default)s)")
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--server-cpu", default="0", help='taskset CPU list, "" for none')
    parser.add_argument("--coio-args", default="", help="extra coio-server flags")
    parser.add_argument("--pid", type=int, help="measure this running server instead")
    parser.add_argument("--port", type=int, help="the running server's port (with --pid)")
    parser.add_argument("--host", default="127.0.0.1", help="its address (with --pid)")
    args = parser.parse_args()
    if (args.pid is None) != (args.port is None):
        parser.error("--pid and --port go together")
    print(f"# {' '.join(sys.argv)}")
    print("| server | idle connections | RSS before kB | RSS after kB | bytes per connection |")
    print("|---|---|---|---|---|")
    if args.pid is not None:
        pid = args.pid
        idle = per_connection(lambda: rss_kb(pid), args.host, args.port, args.connections)
        print(row(f"pid {args.pid}", idle), flush=True)
        return
    for name in args.servers.split(","):
        extra = args.coio_args.split() if name.startswith("coio") else []
        with start_server(name, *extra, cpu=args.server_cpu) as server:
            idle = per_connection(server.rss_kb, server.host, server.port, args.connections)
        print(row(name, idle), flush=True)


if __name__ == "__main__":
    main()
