"""Which client engine makes the cheapest load generator: CPU time per echo, side by side.

    .venv/bin/python benchmarks/generator_engines.py [--clients 100] [--size 16] [--repeats 3]

Each engine is a minimal closed-loop client (connect, read the banner, send, wait for the whole
echo, compare, send again), pinned to core 1 against the uvloop reference server on core 0:
asyncio Protocol on uvloop, asyncio Protocol on the default loop, and a raw epoll loop over
non-blocking sockets; then coio-bench itself (uvloop, full verification and histogram). The
figure that matters is the generator's CPU time per echo (user + system, so it includes the
kernel's loopback TCP work): the lower it is, the faster a server one generator core can load.
Prints figures; never asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import subprocess
import sys
import time

from servers import Running, contenders, taskset

from coio.programs import program

BANNER_BYTES = 8


def _payload(size: int) -> tuple[bytes, bytes]:
    message = (b"abcdefghij" * (size // 10 + 1))[: size - 1] + b"\n"
    return message, message.upper()


def _report(echoes: int, wall: float, cpu: float) -> None:
    print(json.dumps({"echoes_per_s": echoes / wall, "cpu_us_per_echo": cpu / echoes * 1e6}))


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def run_asyncio(port: int, clients: int, size: int, seconds: float, use_uvloop: bool) -> None:
    import asyncio

    message, expected = _payload(size)
    count = [0]

    class Client(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport
            self.banner = b""
            self.ready = asyncio.get_running_loop().create_future()

        def data_received(self, data):
            if not self.ready.done():
                self.banner += data
                if len(self.banner) >= BANNER_BYTES:
                    self.ready.set_result(None)
                return
            if data != expected:
                raise SystemExit(f"wrong echo {data!r}")
            count[0] += 1
            self.transport.write(message)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        made = [await loop.create_connection(Client, "127.0.0.1", port) for _ in range(clients)]
        await asyncio.gather(*(p.ready for _, p in made))
        for transport, _ in made:
            transport.write(message)
        await asyncio.sleep(0.5)
        before, cpu0, wall0 = count[0], _cpu(), time.perf_counter()
        await asyncio.sleep(seconds)
        _report(count[0] - before, time.perf_counter() - wall0, _cpu() - cpu0)
        for transport, _ in made:
            transport.abort()

    if use_uvloop:
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())


def run_epoll(port: int, clients: int, size: int, seconds: float) -> None:
    message, expected = _payload(size)
    poller = select.epoll()
    socks = {}
    for _ in range(clients):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        banner = b""
        while len(banner) < BANNER_BYTES:
            banner += sock.recv(64)
        sock.setblocking(False)
        socks[sock.fileno()] = sock
        poller.register(sock.fileno(), select.EPOLLIN)
    for sock in socks.values():
        sock.send(message)

    def pump(until: float) -> int:
        done = 0
        while time.perf_counter() < until:
            for fd, _ in poller.poll(0.1):
                sock = socks[fd]
                data = sock.recv(65536)
                while len(data) < len(expected):
                    data += sock.recv(65536)  # rare on loopback: the rest is already here
                if data != expected:
                    raise SystemExit(f"wrong echo {data!r}")
                done += 1
                sock.send(message)
        return done

    pump(time.perf_counter() + 0.5)
    cpu0, wall0 = _cpu(), time.perf_counter()
    echoes = pump(wall0 + seconds)
    _report(echoes, time.perf_counter() - wall0, _cpu() - cpu0)


def measure(argv: list[str]) -> dict[str, float]:
    out = subprocess.run(taskset(1, argv), capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engine", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine == "epoll":
        run_epoll(args.port, args.clients, args.size, args.seconds)
        return 0
    if args.engine in ("uvloop", "asyncio"):
        run_asyncio(args.port, args.clients, args.size, args.seconds, args.engine == "uvloop")
        return 0
    server = Running(contenders()["uvloop"], 0)
    common = ["--port", str(server.port), "--clients", str(args.clients), "--size", str(args.size)]
    me = [sys.executable, __file__, *common, "--seconds", str(args.seconds), "--engine"]
    engines = {
        "asyncio Protocol on uvloop": [*me, "uvloop"],
        "asyncio Protocol, default loop": [*me, "asyncio"],
        "raw epoll, non-blocking sockets": [*me, "epoll"],
        "coio-bench (uvloop, full checks)": [
            *program("coio-bench"), *common, "--duration", str(args.seconds), "--warmup", "0.5",
            "--json",
        ],
    }  # fmt: skip
    results: dict[str, list[dict[str, float]]] = {name: [] for name in engines}
    try:
        for _ in range(args.repeats):
            for name, argv in engines.items():
                got = measure(argv)
                if "generator" in got:  # coio-bench's own report
                    got = {
                        "echoes_per_s": got["echoes_per_s"],
                        "cpu_us_per_echo": got["generator"]["cpu_load"] / got["echoes_per_s"] * 1e6,
                    }
                results[name].append(got)
    finally:
        server.stop()
    print(f"generator engines, {args.clients} clients x {args.size} B, closed loop, against the "
          f"uvloop reference server; median of {args.repeats}:")  # fmt: skip
    for name, runs in results.items():
        cpu = sorted(r["cpu_us_per_echo"] for r in runs)[len(runs) // 2]
        rate = sorted(r["echoes_per_s"] for r in runs)[len(runs) // 2]
        print(f"  {name:34} {cpu:6.1f} µs CPU per echo   {rate:9,.0f} echoes/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
