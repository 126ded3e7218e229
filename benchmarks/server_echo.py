"""Closed-loop echoes/s of coio-server beside the asyncio.Protocol reference, one run.

Server pinned to CPU 0, coio-bench (the load) to CPU 1. For each message size and client
count, every server is measured in turn, ``--repeats`` times interleaved; the median is kept.
Besides echoes/s and p99 it prints the server's CPU time per echo, which is steadier than
throughput when other work shares the machine. With ``--rate`` the load is open loop at that
many echoes/s for every server alike: where the load generator, not the server, limits the
closed loop, CPU per echo at one rate compares the servers' own cost. Prints figures;
asserts nothing.

    .venv/bin/python benchmarks/server_echo.py --sizes 16,1024 --clients 100,1000
    .venv/bin/python benchmarks/server_echo.py --rate 20000 --procs 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from servers import median, start_server, taskset

from coio.fds import raise_fd_limit
from coio.programs import program


def bench(
    port: int, clients: int, size: int, duration: float, procs: int, cpu: int, rate: float | None
) -> dict:
    cmd = taskset(
        cpu,
        [
            *program("coio-bench"),
            "--port",
            str(port),
            "--clients",
            str(clients),
            "--size",
            str(size),
            "--duration",
            str(duration),
            "--procs",
            str(procs),
            "--json",
            *(["--rate", str(rate)] if rate else []),
        ],
    )
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120, check=False)
    if out.returncode != 0 and not out.stdout.strip():
        raise SystemExit(f"coio-bench failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def measure(name: str, extra: list[str], args: argparse.Namespace, clients: int, size: int):
    with start_server(name, *extra, cpu=args.server_cpu) as server:
        cpu0 = server.cpu_seconds()
        result = bench(
            server.port, clients, size, args.duration, args.procs, args.load_cpu, args.rate
        )
        cpu = server.cpu_seconds() - cpu0
    echoes = result["echoes_per_s"] * (result["duration"] + result["warmup"])
    return {
        "echoes_per_s": result["echoes_per_s"],
        "p99_ms": result["rtt_ms"]["p99"],
        "cpu_us_per_echo": cpu / max(echoes, 1) * 1e6,
        "ok": result["ok"],
        "gen_cpu": result["generator"]["cpu_load"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="coio,asyncio")
    parser.add_argument("--sizes", default="16,1024")
    parser.add_argument("--clients", default="100,1000")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--procs", type=int, default=2, help="coio-bench load processes")
    parser.add_argument("--server-cpu", default="0", help='taskset CPU list, "" for none')
    parser.add_argument("--load-cpu", default="1", help='taskset CPU list, "" for none')
    parser.add_argument("--coio-args", default="", help="extra coio-server flags")
    parser.add_argument("--rate", type=float, default=None, help="open loop: echoes/s in all")
    args = parser.parse_args()
    raise_fd_limit()
    servers = args.servers.split(",")
    print(f"# {' '.join(sys.argv)}")
    print("| server | size | clients | echoes/s | vs asyncio | p99 ms | server CPU us/echo |")
    print("|---|---|---|---|---|---|---|")
    for size in map(int, args.sizes.split(",")):
        for clients in map(int, args.clients.split(",")):
            runs: dict[str, list[dict]] = {name: [] for name in servers}
            for _ in range(args.repeats):
                for name in servers:
                    extra = args.coio_args.split() if name.startswith("coio") else []
                    runs[name].append(measure(name, extra, args, clients, size))
            base = median([r["echoes_per_s"] for r in runs.get("asyncio", [])] or [0])
            for name in servers:
                rate = median([r["echoes_per_s"] for r in runs[name]])
                p99 = median([r["p99_ms"] for r in runs[name]])
                cpu = median([r["cpu_us_per_echo"] for r in runs[name]])
                ratio = f"{rate / base:.2f}x" if base else "-"
                bad = "" if all(r["ok"] for r in runs[name]) else " (errors!)"
                print(
                    f"| {name} | {size} | {clients} | {rate:,.0f} | {ratio} | {p99:.2f}"
                    f" | {cpu:.1f} |{bad}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
