"""`--workers 2` against one worker: echoes/s measured, and each worker's CPU time per echo.

On a 2-core machine the load generator cannot run elsewhere: two workers and coio-bench share
the same two cores, so the measured ratio is capped by the generator, not by the workers.
This script therefore also reads each worker's own CPU time (/proc) and prints:

- the measured echoes/s (1 worker pinned to core 0 and the load to core 1; 2 workers pinned
  to cores 0 and 1 with the load unpinned beside them);
- how the load split between the workers (share of their summed CPU time);
- server CPU per echo, summed over workers (flat when workers do not get in each other's way);
- the projected echoes/s with a free core per worker: measured echoes/s divided by the
  busiest worker's CPU fraction (the rate at which it would fill its core), labelled as a
  projection, not a measurement.

Prints figures; asserts nothing.

    .venv/bin/python benchmarks/server_workers.py --size 1024 --clients 100
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from servers import children, cpu_seconds, median, start_server

from coio.fds import raise_fd_limit
from coio.programs import program


def load(port: int, clients: int, size: int, duration: float, cpus: set[int]) -> dict:
    cmd = [
        *program("coio-bench"),
        *("--port", str(port), "--clients", str(clients), "--size", str(size)),
        *("--duration", str(duration), "--warmup", "1", "--procs", "2", "--json"),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.sched_setaffinity(proc.pid, cpus)  # its load processes inherit this when they start
    out, err = proc.communicate(timeout=duration + 120)
    if not out.strip():
        raise SystemExit(f"coio-bench failed: {err.strip()}")
    return json.loads(out)


def wait_for_workers(pid: int, count: int) -> list[int]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        workers = children(pid)
        if len(workers) == count:
            return workers
        time.sleep(0.05)
    raise SystemExit(f"{count} workers did not start")


def measure(workers: int, args: argparse.Namespace) -> dict[str, float]:
    name = "coio" if workers == 1 else "coio-w2"
    with start_server(name, cpu=None) as server:
        pids = [server.pid] if workers == 1 else wait_for_workers(server.pid, workers)
        for core, pid in enumerate(pids):
            os.sched_setaffinity(pid, {core})
        load_cpus = {1} if workers == 1 else {0, 1}
        before = [cpu_seconds(pid) for pid in pids]
        start = time.monotonic()
        result = load(server.port, args.clients, args.size, args.duration, load_cpus)
        wall = time.monotonic() - start
        used = [cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
    rate = result["echoes_per_s"]
    echoes = rate * wall  # the server also served the warm-up: count its echoes alike
    busiest = max(used) / wall
    return {
        "rate": rate,
        "p99": result["rtt_ms"]["p99"],
        "cpu_us": sum(used) / max(echoes, 1) * 1e6,
        "split": max(used) / max(sum(used), 1e-9),
        "busiest": busiest,
        "projected": rate / max(busiest, 1e-9),
        "gen": result["generator"]["cpu_load"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("needs two CPUs")
    raise_fd_limit()
    print(f"# {' '.join(sys.argv)}")
    print(
        "| workers | echoes/s measured | p99 ms | busiest worker's share | busiest worker CPU"
        " | server CPU per echo | load CPU (cores) | projected echoes/s, a core per worker |"
    )
    print("|---|---|---|---|---|---|---|---|")
    figures = {}
    for workers in (1, 2):
        runs = []
        for _ in range(args.repeats):
            runs.append(measure(workers, args))
        fig = {key: median([r[key] for r in runs]) for key in runs[0]}
        figures[workers] = fig
        print(
            f"| {workers} | {fig['rate']:,.0f} | {fig['p99']:.2f} | {fig['split']:.0%}"
            f" | {fig['busiest']:.0%} | {fig['cpu_us']:.1f} µs | {fig['gen']:.2f}"
            f" | {fig['projected']:,.0f} |",
            flush=True,
        )
    measured = figures[2]["rate"] / figures[1]["rate"]
    projected = figures[2]["projected"] / figures[1]["projected"]
    print(f"\n2 workers / 1: measured {measured:.2f}x; projected (a core each) {projected:.2f}x")


if __name__ == "__main__":
    main()
