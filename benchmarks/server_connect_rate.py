"""Connection rate: connect, read the banner, one echo, close; N in flight, for D seconds.

Server pinned to CPU 0, the load processes (raw sockets and epoll) to CPU 1. Prints
completed cycles per second, failures, and how busy the load processes were (a busy
generator means the figure is the generator's limit, not the server's). Asserts nothing.

    .venv/bin/python benchmarks/server_connect_rate.py --servers coio,asyncio --inflight 50
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import select
import socket
import sys
import time

from servers import cpu_set, median, start_server

from coio.fds import raise_fd_limit

BANNER = b"welcome!"
LINE = b"one echo\n"
ECHO = LINE.upper()


class Cycle:
    """One connection's cycle: connect, read the banner, send a line, read its echo, close."""

    __slots__ = ("got", "sock", "want")

    def __init__(self, family: int, address: tuple[str, int]) -> None:
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.connect_ex(address)  # EINPROGRESS: readable once the banner arrives
        self.got = b""
        self.want = BANNER


def cycles(host: str, port: int, inflight: int, duration: float) -> tuple[int, int]:
    """Keep ``inflight`` cycles going for ``duration`` s over raw non-blocking sockets and
    epoll: the cheapest client Python has, so one generator core can outrun the server."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    address = (host, port)
    poller = select.epoll()
    live: dict[int, Cycle] = {}
    done = failed = 0

    def begin() -> None:
        cycle = Cycle(family, address)
        live[cycle.sock.fileno()] = cycle
        poller.register(cycle.sock.fileno(), select.EPOLLIN)

    def end(fd: int, ok: bool) -> None:
        nonlocal done, failed
        cycle = live.pop(fd)
        poller.unregister(fd)
        cycle.sock.close()
        if ok:
            done += 1
        else:
            failed += 1
        if time.monotonic() < deadline:
            begin()

    deadline = time.monotonic() + duration
    for _ in range(inflight):
        begin()
    while live:
        for fd, _ in poller.poll(1.0):
            cycle = live[fd]
            try:
                data = cycle.sock.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                end(fd, False)
                continue
            if not data:
                end(fd, False)
                continue
            cycle.got += data
            if len(cycle.got) < len(cycle.want):
                continue
            if cycle.got != cycle.want:
                end(fd, False)
            elif cycle.want is BANNER:
                cycle.got, cycle.want = b"", ECHO
                cycle.sock.send(LINE)
            else:
                end(fd, True)
    poller.close()
    return done, failed


def load_process(host: str, port: int, inflight: int, duration: float, out: object) -> None:
    cpu0 = time.process_time()
    done, failed = cycles(host, port, inflight, duration)
    out.put((done, failed, (time.process_time() - cpu0) / duration))  # type: ignore[attr-defined]


def measure(name: str, args: argparse.Namespace) -> tuple[float, int, float, float]:
    with start_server(name, cpu=args.server_cpu) as server:
        cpu0 = server.cpu_seconds()
        queue: multiprocessing.Queue[tuple[int, int, float]] = multiprocessing.Queue()
        per = args.inflight // args.procs
        procs = [
            multiprocessing.Process(
                target=load_process, args=(server.host, server.port, per, args.duration, queue)
            )
            for _ in range(args.procs)
        ]
        for proc in procs:
            proc.start()
            if proc.pid is not None:
                os.sched_setaffinity(proc.pid, cpu_set(args.load_cpu))
        results = [queue.get(timeout=args.duration + 60) for _ in procs]
        for proc in procs:
            proc.join(10)
        cpu = server.cpu_seconds() - cpu0
    done = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    return done / args.duration, failed, sum(r[2] for r in results), cpu / max(done, 1) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="coio,asyncio")
    parser.add_argument("--inflight", type=int, default=50)
    parser.add_argument("--procs", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--server-cpu", default="0", help='taskset CPU list, "" for none')
    parser.add_argument("--load-cpu", default="1", help='taskset CPU list, "" for none')
    args = parser.parse_args()
    raise_fd_limit()
    print(f"# {' '.join(sys.argv)}")
    print(
        "| server | in flight | cycles/s | failures | generator CPU (cores) | server CPU us/cycle |"
    )
    print("|---|---|---|---|---|---|")
    for name in args.servers.split(","):
        runs = [measure(name, args) for _ in range(args.repeats)]
        rate = median([r[0] for r in runs])
        failures = sum(r[1] for r in runs)
        gen = median([r[2] for r in runs])
        cpu = median([r[3] for r in runs])
        print(
            f"| {name} | {args.inflight} | {rate:,.0f} | {failures} | {gen:.2f} | {cpu:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
