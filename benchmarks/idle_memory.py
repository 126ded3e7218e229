"""Memory per idle connection: a server's RSS growth over N connections that only got the banner.

    .venv/bin/python benchmarks/idle_memory.py --pid PID --port PORT --connections 10000

Opens one connection first (so one-time allocations are not charged to the rest), reads the
server's VmRSS, opens N more, waits for each banner and for RSS to settle, reads it again.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from collections.abc import Callable

CONNECT_CONCURRENCY = 200  # connects in flight: well under every server's listen backlog
SETTLE = 0.5  # seconds between RSS readings; it is settled when two agree within 1%
SETTLE_TRIES = 10
BANNER_BYTES = 8


def rss_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def raise_fd_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _settled(read: Callable[[], int]) -> int:
    last = read()
    for _ in range(SETTLE_TRIES):
        time.sleep(SETTLE)
        now = read()
        if abs(now - last) <= 0.01 * last:
            return now
        last = now
    return last


async def _open(port: int, count: int) -> list[asyncio.StreamWriter]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one() -> asyncio.StreamWriter:
        async with gate:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await asyncio.wait_for(reader.readexactly(BANNER_BYTES), 30)
            return writer

    return list(await asyncio.gather(*(one() for _ in range(count))))


def per_connection(pid: int, port: int, count: int) -> float:
    """RSS bytes the server grew by per idle connection (after its banner)."""
    raise_fd_limit()

    async def main() -> float:
        first = await _open(port, 1)
        before = await asyncio.to_thread(_settled, lambda: rss_of(pid))
        writers = await _open(port, count)
        after = await asyncio.to_thread(_settled, lambda: rss_of(pid))
        for writer in [*first, *writers]:
            writer.close()
        await asyncio.sleep(0.2)
        return (after - before) / count

    return asyncio.run(main())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pid", type=int, required=True, help="the server's process id")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=2000)
    args = parser.parse_args()
    kb = per_connection(args.pid, args.port, args.connections) / 1000
    print(f"{kb:.2f} kB per idle connection over {args.connections:,} connections")
