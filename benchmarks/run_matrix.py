"""Run every echo server side by side under coio-bench and write one table and one plot.

    .venv/bin/python benchmarks/run_matrix.py            # full run, about 13 minutes
    .venv/bin/python benchmarks/run_matrix.py --quick    # about 3 minutes
    .venv/bin/python benchmarks/run_matrix.py --idle 10000 --only coio,asyncio

Each server is pinned to core 0 and the load generator to core 1 (taskset); closed loop,
16 B and 1 KiB ASCII messages, 100 and 1,000 clients. All servers stay up (idle) through a
repeat and take turns back to back for each cell, in an order rotated every repeat, so drift
on a shared machine hits them alike; each cell is the median of the repeats.
Memory per idle connection is the RSS growth of a fresh server over --idle connections.
Writes results/matrix.md, results/matrix.json and results/matrix.png. Never asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matrix_table import markdown
from plot_matrix import plot
from server_idle_memory import per_connection
from servers import BASELINE, COIO, MATRIX, Contender, Running, can_pin, contenders, taskset

from coio.programs import program

RESULTS = Path(__file__).resolve().parent / "results"
SERVER_CPU, LOAD_CPU = 0, 1
CPU_SAMPLE = 0.5  # seconds between server CPU readings


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat of 2 s: about 3 minutes")
    parser.add_argument("--repeats", type=int, default=None, help="runs per cell (default 3)")
    parser.add_argument("--duration", type=float, default=None, help="seconds (default 4)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds (default 1)")
    parser.add_argument("--sizes", default="16,1024", help="message bytes (default: 16,1024)")
    parser.add_argument("--clients", default="100,1000", help="(default: 100,1000)")
    parser.add_argument(
        "--idle", type=int, default=2000, help="idle connections for memory (default 2000)"
    )
    parser.add_argument(
        "--only", default="", help="comma-separated name fragments (or server keys) to keep"
    )
    parser.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="NAME=COMMAND",
        help="add a server: COMMAND gets --port 0 appended and must print 'listening on H:P'",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin CPUs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="(default: %(default)s)")
    args = parser.parse_args()
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.duration = args.duration or (2.0 if args.quick else 4.0)
    args.warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 1.0)
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.clients = [int(c) for c in args.clients.split(",")]
    return args


def chosen(args: argparse.Namespace) -> list[Contender]:
    known = contenders()
    pool = [known[key] for key in MATRIX]
    for spec in args.server:
        name, _, command = spec.partition("=")
        pool.append(Contender(name, name, tuple(shlex.split(command))))
    if args.only:
        keep = [k.strip().lower() for k in args.only.split(",")]
        pool = [c for c in pool if any(k in c.name.lower() or k == c.key for k in keep)]
    return pool


class CpuSampler:
    """Samples a server's CPU use every CPU_SAMPLE seconds while the load runs."""

    def __init__(self, server: Running) -> None:
        self.server = server
        self.fractions: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last_cpu, last = self.server.cpu_seconds(), time.monotonic()
        while not self._stop.wait(CPU_SAMPLE):
            cpu, now = self.server.cpu_seconds(), time.monotonic()
            self.fractions.append((cpu - last_cpu) / (now - last))
            last_cpu, last = cpu, now

    def busy(self) -> float:
        """The median CPU fraction over the samples taken under load (idle ones dropped)."""
        self._stop.set()
        self._thread.join()
        active = [f for f in self.fractions if f > 0.05]
        return statistics.median(active) if active else 0.0


def bench(
    server: Running, size: int, clients: int, args: argparse.Namespace, pinned: bool
) -> dict[str, Any]:
    command = taskset(LOAD_CPU if pinned else None, [
        *program("coio-bench"),
        "--port", str(server.port), "--clients", str(clients), "--size", str(size),
        "--duration", str(args.duration), "--warmup", str(args.warmup), "--json",
    ])  # fmt: skip
    sampler = CpuSampler(server)
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    server_cpu = sampler.busy()
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"ok": False, "failure": done.stderr.strip()[-200:]}
    return {
        "ok": report["ok"],
        "echoes_per_s": report["echoes_per_s"],
        "p50_ms": report["rtt_ms"]["p50"],
        "p99_ms": report["rtt_ms"]["p99"],
        "gen_cpu": report["generator"]["cpu_load"],
        "gen_bound": report["generator"]["cpu_bound"],
        "server_cpu": server_cpu,
        # CPU time per echo is steadier than echoes/s when other work shares the machine.
        "cpu_us_per_echo": server_cpu / report["echoes_per_s"] * 1e6
        if report["echoes_per_s"]
        else None,
        "errors": report["errors"],
        "connect_failures": report["connect_failures"],
    }


def start(contender: Contender, pinned: bool) -> Running | None:
    """Start a server; a server that fails to start is logged and left out, not fatal."""
    try:
        return Running(contender, SERVER_CPU if pinned else None)
    except (RuntimeError, OSError) as exc:
        log(f"{contender.name}: {exc}")
        return None


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main() -> int:
    args = parse_args()
    pool = chosen(args)
    pinned = not args.no_pin and can_pin()
    configs = [(s, c) for s in args.sizes for c in args.clients]
    total = len(pool) * len(configs) * args.repeats
    per_run = args.duration + args.warmup + 1.5
    minutes = (total * per_run + len(pool) * 5) / 60
    log(f"{total} runs of ~{per_run:.1f} s, then idle memory: about {minutes:.0f} min")
    runs: list[dict[str, Any]] = []
    n = 0
    started = time.monotonic()
    for repeat in range(args.repeats):
        # Every server runs (idle) through the whole repeat, and for each cell they take
        # turns back to back, in an order rotated each repeat: drift hits them alike.
        order = pool[repeat % len(pool) :] + pool[: repeat % len(pool)]
        servers = [s for c in order if (s := start(c, pinned)) is not None]
        try:
            for size, clients in configs:
                for server in servers:
                    n += 1
                    result = bench(server, size, clients, args, pinned)
                    run = {"server": server.contender.name, "size": size, "clients": clients}
                    runs.append({**run, "repeat": repeat, **result})
                    log(_line(n, total, runs[-1]))
        finally:
            for server in servers:
                server.stop()
    memory: dict[str, float] = {}
    for contender in pool:
        server = start(contender, pinned)
        if server is None:
            continue
        try:
            idle = per_connection(server.rss_kb, server.host, server.port, args.idle)
            memory[contender.name] = idle.per_connection
        except Exception as exc:  # a server that cannot hold them all: say so in the table
            log(f"{contender.name}: idle memory failed: {exc!r}")
        finally:
            server.stop()
        kb = memory.get(contender.name, float("nan")) / 1000
        log(f"memory {contender.name}: {kb:.2f} kB per idle connection")
    data = summarise(args, pool, runs, memory, pinned, time.monotonic() - started)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "matrix.json").write_text(json.dumps(data, indent=1) + "\n")
    (args.out / "matrix.md").write_text(markdown(data))
    plot(data, args.out / "matrix.png")
    minutes = (time.monotonic() - started) / 60
    log(f"wrote {args.out}/matrix.md, matrix.json and matrix.png in {minutes:.1f} min")
    return 0


def _line(n: int, total: int, run: dict[str, Any]) -> str:
    head = (
        f"[{n:3}/{total}] r{run['repeat'] + 1} {run['server'][:34]:34}"
        f" {run['size']:5} B x {run['clients']:5}"
    )
    if "echoes_per_s" not in run:
        return f"{head}: FAILED {run.get('failure', '')}"
    flag = " (generator CPU-bound)" if run["gen_bound"] else ""
    bad = "" if run["ok"] else f" NOT OK {run['errors']} {run['connect_failures']}"
    return (
        f"{head}: {run['echoes_per_s']:9,.0f}/s p99 {run['p99_ms']:6.2f} ms"
        f" server CPU {run['server_cpu']:4.0%} gen CPU {run['gen_cpu']:4.0%}{flag}{bad}"
    )


def summarise(
    args: argparse.Namespace,
    pool: list[Contender],
    runs: list[dict[str, Any]],
    memory: dict[str, float],
    pinned: bool,
    elapsed: float,
) -> dict[str, Any]:
    cells = []
    for contender in pool:
        for size in args.sizes:
            for clients in args.clients:
                mine = [
                    r for r in runs
                    if r["server"] == contender.name and r["size"] == size
                    and r["clients"] == clients and "echoes_per_s" in r
                ]  # fmt: skip
                if not mine:
                    continue
                rates = [r["echoes_per_s"] for r in mine]
                cells.append({
                    "server": contender.name, "size": size, "clients": clients,
                    "echoes_per_s": statistics.median(rates),
                    "spread": (max(rates) - min(rates)) / statistics.median(rates),
                    "p99_ms": statistics.median(r["p99_ms"] for r in mine),
                    "server_cpu": statistics.median(r["server_cpu"] for r in mine),
                    "cpu_us_per_echo": statistics.median(
                        r["cpu_us_per_echo"] or float("inf") for r in mine
                    ),
                    "gen_cpu": statistics.median(r["gen_cpu"] for r in mine),
                    "gen_bound": any(r["gen_bound"] for r in mine),
                    "ok": all(r["ok"] for r in mine) and len(mine) == args.repeats,
                })  # fmt: skip
    for cell in cells:
        base = next(
            (b for b in cells if b["server"] == BASELINE and b["size"] == cell["size"]
             and b["clients"] == cell["clients"]), None,
        )  # fmt: skip
        cell["ratio"] = cell["echoes_per_s"] / base["echoes_per_s"] if base else None
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return {
        "title": f"Echo servers side by side, {when} (median of {args.repeats}; only ratios count)",
        "when": when,
        "command": shlex.join([".venv/bin/python", "benchmarks/run_matrix.py", *sys.argv[1:]]),
        "machine": _machine(),
        "pinned": pinned,
        "repeats": args.repeats,
        "duration": args.duration,
        "warmup": args.warmup,
        "idle": args.idle,
        "elapsed_s": round(elapsed),
        "memory_per_idle_conn": memory,
        "cells": cells,
        "runs": runs,
        "coio": COIO,
        "baseline": BASELINE,
    }


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                line.split(":", 1)[1].strip() for line in f if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    python = platform.python_version()
    return f"{model}, {os.cpu_count()} cores, Python {python}, Linux {platform.release()}"


if __name__ == "__main__":
    sys.exit(main())
