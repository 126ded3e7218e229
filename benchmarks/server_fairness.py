"""Fairness: one client streams flat out (64 KiB writes, reading its echo); another echoes a
short line in a closed loop meanwhile. Prints the second client's RTT p50/p99/max and the
streamer's MB/s. Server pinned to CPU 0, both clients to CPU 1. Asserts nothing.

    .venv/bin/python benchmarks/server_fairness.py --servers coio,asyncio,gevent-plain
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time

from servers import cpu_set, start_server, taskset


def probe(address: tuple[str, int], seconds: float) -> list[float]:
    rtts = []
    with socket.create_connection(address, timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        banner = b""
        while len(banner) < 8:
            banner += sock.recv(8 - len(banner))
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            start = time.perf_counter()
            sock.sendall(b"are you there?\n")
            got = b""
            while len(got) < 15:
                got += sock.recv(15 - len(got))
            rtts.append(time.perf_counter() - start)
            time.sleep(0.001)
    return rtts


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="coio,asyncio,gevent-plain")
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--server-cpu", default="0", help='taskset CPU list, "" for none')
    parser.add_argument("--load-cpu", default="1", help='taskset CPU list, "" for none')
    args = parser.parse_args()
    os.sched_setaffinity(0, cpu_set(args.load_cpu))  # the probing client runs here
    print(f"# {' '.join(sys.argv)}")
    print("| server | other client's echoes | p50 ms | p99 ms | max ms | streamer MB/s |")
    print("|---|---|---|---|---|---|")
    for name in args.servers.split(","):
        with start_server(name, cpu=args.server_cpu) as server:
            streamer = subprocess.Popen(
                taskset(
                    args.load_cpu,
                    [
                        sys.executable,
                        "-m",
                        "coio.loadgen.streamer",
                        server.host,
                        str(server.port),
                        str(args.duration + 1),
                    ],
                ),
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(0.5)
            rtts = probe((server.host, server.port), args.duration)
            out, _ = streamer.communicate(timeout=args.duration + 60)
        mb_s = int(out.split()[0]) / (args.duration + 1) / 1e6
        print(
            f"| {name} | {len(rtts)} | {pct(rtts, 50) * 1e3:.2f} | {pct(rtts, 99) * 1e3:.2f}"
            f" | {max(rtts) * 1e3:.2f} | {mb_s:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
