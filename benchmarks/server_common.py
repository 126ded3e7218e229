"""Shared by the server_*.py benchmarks: start a server pinned to a CPU, read /proc figures."""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LISTEN_LINE = re.compile(r"listening on \[?([0-9a-fA-F.:]+)\]?:(\d+)")
TICKS = os.sysconf("SC_CLK_TCK")

COIO = [str(BIN / "coio-server"), "--log-level", "warning", "--stats-interval", "0"]
SERVERS = {
    "coio": COIO,
    "coio-w2": [*COIO, "--workers", "2"],
    "asyncio": [sys.executable, str(ROOT / "benchmarks/reference/asyncio_protocol.py")],
    "uvloop": [sys.executable, str(ROOT / "benchmarks/reference/uvloop_protocol.py")],
    "gevent-plain": [sys.executable, str(ROOT / "benchmarks/reference/gevent_plain.py")],
    # coio-server from another source tree ($COIO_SRC), to compare two versions side by side.
    "coio-src": [
        sys.executable,
        "-m",
        "coio.server",
        "--log-level",
        "warning",
        "--stats-interval",
        "0",
    ],
}


def pinned(cpu: int | str | None, cmd: list[str]) -> list[str]:
    """Prefix ``cmd`` with taskset when CPUs are given ("0" or "0,1") and taskset exists."""
    if cpu is None or cpu == "" or shutil.which("taskset") is None:
        return cmd
    return ["taskset", "-c", str(cpu), *cmd]


def cpu_set(cpus: str) -> set[int]:
    """ "0,1" -> {0, 1}; "" -> every CPU this process may use."""
    return {int(c) for c in cpus.split(",")} if cpus else os.sched_getaffinity(0)


def raise_nofile() -> int:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Server:
    """A server child: its pid, port, and the CPU seconds it has used."""

    def __init__(self, proc: subprocess.Popen[str], host: str, port: int) -> None:
        self.proc = proc
        self.host = host
        self.port = port

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and its children that were reaped (workers)."""
        return sum(cpu_seconds(pid) for pid in [self.pid, *children(self.pid)])

    def rss_kb(self) -> int:
        return sum(rss_kb(pid) for pid in [self.pid, *children(self.pid)])


@contextmanager
def start_server(name: str, *extra: str, cpu: int | str | None = 0) -> Iterator[Server]:
    """Start server ``name`` on a free loopback port, pinned to ``cpu``; stop it afterwards."""
    cmd = pinned(cpu, [*SERVERS[name], "--port", "0", *extra])
    cwd = os.environ["COIO_SRC"] if name == "coio-src" else None
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=cwd
    )
    assert proc.stdout is not None
    match = LISTEN_LINE.search(proc.stdout.readline())
    if match is None:
        proc.kill()
        proc.wait()
        raise SystemExit(f"{name} did not start")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # never block its stdout
    try:
        yield Server(proc, match.group(1), int(match.group(2)))
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except FileNotFoundError:
        return []


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
