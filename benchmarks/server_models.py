"""One lesson, five servers: every `coio-server --model` beside the reference servers.

The load is echoload, a closed-loop generator in C (../shared/tools/echoload.c, built here
with gcc): on two cores a Python generator costs about what the server does per echo, so it,
not the server, would set the figure. The server is pinned to CPU 0, echoload to CPU 1, and
echoload reports its own CPU so a saturated generator shows. Every server runs with its
default flags (coio-server: only --model); each cell is measured ``--repeats`` times, the
servers in a different order each repeat; the table shows medians and the spread (min-max),
and each ratio to asyncio.Protocol is the median of the ratios taken within one repeat.

Per server: echoes/s and p99 at 16 B and 1 KiB x 100 and 1,000 clients, server CPU per echo,
OS threads while serving, memory per idle client at 10,000 (RSS growth / clients), and
connections/s (connect, banner, one echo, close). Prints a Markdown table; asserts nothing.

    .venv/bin/python benchmarks/server_models.py --out benchmarks/results/models.md
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from servers import Contender, Running, contenders, taskset

from coio.fds import raise_fd_limit
from coio.programs import program

ROOT = Path(__file__).resolve().parent.parent
ECHOLOAD_SRC = ROOT.parent / "shared" / "tools" / "echoload.c"
MODELS = ("gevent", "reactor", "threads", "select", "blocking")
REFERENCES = ("asyncio", "uvloop", "trio", "gevent-plain")
BASELINE = "asyncio"


def build_echoload(source: Path) -> Path:
    out = Path(tempfile.gettempdir()) / "coio-echoload"
    if not out.exists() or out.stat().st_mtime < source.stat().st_mtime:
        subprocess.run(["gcc", "-O2", "-Wall", "-o", str(out), str(source)], check=True)
    return out


def servers() -> dict[str, Contender]:
    known = contenders()
    found = {
        f"coio-{m}": Contender(
            f"coio-{m}", f"coio-server --model {m}", (*program("coio-server"), "--model", m)
        )
        for m in MODELS
    }
    found.update({key: known[key] for key in REFERENCES})
    return found


def threads_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def echoload(
    tool: Path, port: int, mode: str, clients: int, size: int, seconds: float, cpu: int
) -> dict:
    cmd = taskset(
        cpu,
        [
            str(tool),
            "-p",
            str(port),
            "-m",
            mode,
            "-c",
            str(clients),
            "-s",
            str(size),
            "-d",
            str(seconds),
            "-w",
            "1",
            "-T",
            "30",
        ],
    )
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 90, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {
            "msgs_per_s": 0.0,
            "p99_us": 0.0,
            "gen_cpu_pct": 0.0,
            "errors": -1,
            "stderr": out.stderr.strip()[-200:],
        }
    return json.loads(lines[-1])


def echo_cell(tool: Path, c: Contender, clients: int, size: int, args: argparse.Namespace) -> dict:
    server = Running(c, args.server_cpu)
    try:
        cpu0 = server.cpu_seconds()
        result = echoload(tool, server.port, "echo", clients, size, args.seconds, args.load_cpu)
        cpu = server.cpu_seconds() - cpu0
        result["threads"] = threads_of(server.pid)
        msgs = result["msgs_per_s"] * (args.seconds + 1)  # warm-up included in the CPU time
        result["cpu_us_per_echo"] = cpu / msgs * 1e6 if msgs else 0.0
    finally:
        server.stop()
    return result


def idle_cell(tool: Path, c: Contender, clients: int, args: argparse.Namespace) -> float | None:
    """kB of server RSS per idle client, with ``clients`` connected and idle."""
    server = Running(c, args.server_cpu)
    try:
        before = server.rss_kb()
        proc = subprocess.Popen(
            taskset(
                args.load_cpu,
                [
                    str(tool),
                    "-p",
                    str(server.port),
                    "-m",
                    "idle",
                    "-c",
                    str(clients),
                    "-s",
                    "16",
                    "-d",
                    "4",
                    "-T",
                    "30",
                ],
            ),
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        after = server.rss_kb() if ready.startswith("READY") else None
        proc.wait(timeout=60)
    finally:
        server.stop()
    return None if after is None else (after - before) / clients


def connrate_cell(tool: Path, c: Contender, args: argparse.Namespace) -> float:
    server = Running(c, args.server_cpu)
    try:
        result = echoload(tool, server.port, "connrate", 50, 16, args.seconds, args.load_cpu)
    finally:
        server.stop()
    return float(result["msgs_per_s"])


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--echoload", type=Path, default=ECHOLOAD_SRC, help="echoload.c")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--sizes", default="16,1024")
    parser.add_argument("--clients", default="100,1000")
    parser.add_argument("--idle", type=int, default=10_000, help="idle clients (0: skip)")
    parser.add_argument(
        "--servers", default=",".join([*(f"coio-{m}" for m in MODELS), *REFERENCES])
    )
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--load-cpu", type=int, default=1)
    parser.add_argument("--out", type=Path, help="also write the Markdown here")
    args = parser.parse_args()
    raise_fd_limit()
    tool = build_echoload(args.echoload)
    known = servers()
    keys = args.servers.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]
    counts = [int(c) for c in args.clients.split(",")]
    rng = random.Random(1)
    rows: dict[tuple[str, int, int], list[dict]] = {}
    for repeat in range(args.repeats):
        for size in sizes:
            for clients in counts:
                order = keys[:]
                rng.shuffle(order)
                for key in order:
                    if key == "coio-blocking" and clients > 1:
                        continue  # serves one client at a time: a closed loop of N never runs
                    r = echo_cell(tool, known[key], clients, size, args)
                    r["repeat"] = repeat
                    rows.setdefault((key, size, clients), []).append(r)
                    print(
                        f"repeat {repeat} {key:>14} {size:>5} B x {clients:>5}: "
                        f"{r['msgs_per_s']:>9,.0f}/s p99 {r['p99_us'] / 1000:6.2f} ms "
                        f"cpu/echo {r.get('cpu_us_per_echo', 0):5.1f} us "
                        f"threads {r.get('threads', 0)} gen cpu {r['gen_cpu_pct']:.0f}% "
                        f"errors {r['errors']}",
                        file=sys.stderr,
                        flush=True,
                    )
    idle = {
        key: idle_cell(tool, known[key], args.idle, args)
        for key in keys
        if args.idle and key != "coio-blocking"
    }
    rate = {key: connrate_cell(tool, known[key], args) for key in keys}
    out = [
        f"Generator: echoload (C, closed loop), server on CPU {args.server_cpu}, load on CPU "
        f"{args.load_cpu}; {args.repeats} repeats x {args.seconds:g} s, order shuffled per "
        "repeat; medians (min-max). Servers run with default flags (coio-server --model M).",
        "",
    ]
    for size in sizes:
        for clients in counts:
            out.append(f"### {size} B x {clients} clients")
            out.append("")
            out.append(
                "| server | echoes/s | vs asyncio | p99 ms | CPU µs/echo | threads | "
                "generator CPU |"
            )
            out.append("|---|---|---|---|---|---|---|")
            base = {r["repeat"]: r["msgs_per_s"] for r in rows.get((BASELINE, size, clients), [])}
            for key in keys:
                cell = rows.get((key, size, clients))
                if not cell:
                    out.append(f"| {known[key].name} | n/a (one client at a time) | | | | | |")
                    continue
                ratios = [
                    r["msgs_per_s"] / base[r["repeat"]] for r in cell if base.get(r["repeat"])
                ]
                ratio = (
                    f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
                    if ratios
                    else ""
                )
                out.append(
                    f"| {known[key].name} | {spread([r['msgs_per_s'] for r in cell])} | {ratio} | "
                    f"{statistics.median(r['p99_us'] for r in cell) / 1000:.2f} | "
                    f"{statistics.median(r['cpu_us_per_echo'] for r in cell):.1f} | "
                    f"{max(r['threads'] for r in cell)} | "
                    f"{max(r['gen_cpu_pct'] for r in cell):.0f}% |"
                )
            out.append("")
    out.append("### Idle clients and connection rate")
    out.append("")
    out.append(
        f"| server | memory per idle client at {args.idle:,} | connections/s (50 in flight) |"
    )
    out.append("|---|---|---|")
    for key in keys:
        mem = idle.get(key)
        conn = rate.get(key)
        out.append(
            f"| {known[key].name} | {'n/a' if mem is None else f'{mem:.2f} kB'} | "
            f"{'n/a' if conn is None else f'{conn:,.0f}'} |"
        )
    text = "\n".join(out) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
