"""The echo servers the benchmarks run: one registry, and how to start each one (pinned to
CPUs), read its figures from /proc and stop it.

Each server has a key for --servers lists (coio, asyncio, ...) and the name tables and plots
show (coio-server, asyncio Protocol, ...). Each is started with --port 0 and prints a
listening line (coio.address) naming the port it got.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from coio.address import parse_listening_line
from coio.programs import program

REFERENCE = Path(__file__).resolve().parent / "reference"
START_TIMEOUT = 20.0  # seconds a server gets to print its listening line
STOP_GRACE = 5.0  # seconds a server gets to exit after SIGTERM, before SIGKILL
TICKS = os.sysconf("SC_CLK_TCK")
COIO = "coio-server"  # the name coio's own server goes by in tables and plots
BASELINE = "asyncio Protocol"  # every ratio in the matrix is to this server
# Quiet logs (a line per connection is not what is measured), no stats lines, and room for
# 10,000 idle connections and more.
COIO_FLAGS = ("--log-level", "warning", "--stats-interval", "0", "--max-connections", "20000")
# The servers run_matrix.py runs side by side, in its order (coio-w2 and coio-src are extras).
MATRIX = (
    "uvloop",
    "asyncio",
    "asyncio-streams",
    "gevent-plain",
    "gevent-monkey",
    "trio",
    "threads",
    "coio",
)


@dataclass(frozen=True)
class Contender:
    key: str  # in --servers lists
    name: str  # in tables and plots
    command: tuple[str, ...]  # without the port flag


def contenders() -> dict[str, Contender]:
    """Every server, by key."""
    py = sys.executable

    def reference(key: str, name: str, script: str) -> Contender:
        return Contender(key, name, (py, str(REFERENCE / script)))

    coio = (*program("coio-server"), *COIO_FLAGS)
    found = [
        reference("uvloop", "uvloop Protocol", "uvloop_protocol.py"),
        reference("asyncio", BASELINE, "asyncio_protocol.py"),
        reference("asyncio-streams", "asyncio streams", "asyncio_streams.py"),
        reference("gevent-plain", "gevent StreamServer, plain recv/sendall", "gevent_plain.py"),
        reference("gevent-monkey", "gevent tutorial (monkey-patched)", "gevent_monkey.py"),
        reference("trio", "trio serve_tcp", "trio_tcp.py"),
        reference("threads", "thread per connection", "threads.py"),
        Contender("coio", COIO, coio),
        Contender("coio-w2", f"{COIO} --workers 2", (*coio, "--workers", "2")),
    ]
    if src := os.environ.get("COIO_SRC"):
        # coio-server from another checkout, installed in its own .venv: two versions side
        # by side.
        theirs = program("coio-server", Path(src) / ".venv" / "bin" / "python")
        found.append(Contender("coio-src", f"{COIO} ({src})", (*theirs, *COIO_FLAGS)))
    return {c.key: c for c in found}


def can_pin() -> bool:
    return shutil.which("taskset") is not None


def taskset(cpus: int | str | None, cmd: list[str]) -> list[str]:
    """``cmd`` prefixed with taskset when CPUs are given (0, "0" or "0,1") and it exists."""
    if cpus is None or cpus == "" or not can_pin():
        return cmd
    return ["taskset", "-c", str(cpus), *cmd]


def cpu_set(cpus: str) -> set[int]:
    """ "0,1" -> {0, 1}; "" -> every CPU this process may use."""
    return {int(c) for c in cpus.split(",")} if cpus else os.sched_getaffinity(0)


class Running:
    """A started server: its process, address and log, and its figures (workers included)."""

    def __init__(
        self, contender: Contender, cpus: int | str | None = None, extra: tuple[str, ...] = ()
    ) -> None:
        self.contender = contender
        self.proc = subprocess.Popen(
            taskset(cpus, [*contender.command, "--port", "0", *extra]),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.host, self.port = self._read_address()
        # Drain both pipes so a chatty server never blocks on a full one; keep its log.
        self._log: list[str] = []
        self._drains = [
            threading.Thread(target=self._drain, args=(stream, sink), daemon=True)
            for stream, sink in ((self.proc.stdout, []), (self.proc.stderr, self._log))
        ]
        for drain in self._drains:
            drain.start()

    def _read_address(self) -> tuple[str, int]:
        stdout = self.proc.stdout
        assert stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(stdout, selectors.EVENT_READ)
            line = stdout.readline() if sel.select(START_TIMEOUT) else ""
        address = parse_listening_line(line)
        if address is None:
            self.stop()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"{self.contender.name} did not start: {err.strip()[-300:]}")
        return address

    @staticmethod
    def _drain(stream: object, sink: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            sink.append(line)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def rss_kb(self) -> int:
        return rss_kb(self.pid)

    def log(self) -> str:
        """What the server wrote to stderr (all of it once stopped)."""
        return "".join(self._log)

    def stop(self) -> None:
        if self.proc.poll() is None:
            group = os.getpgid(self.proc.pid)
            os.killpg(group, signal.SIGTERM)
            try:
                self.proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                os.killpg(group, signal.SIGKILL)
                self.proc.wait(STOP_GRACE)
            time.sleep(0.2)  # let the kernel release the port and the sockets in TIME_WAIT settle
        for drain in getattr(self, "_drains", []):
            drain.join(STOP_GRACE)


@contextmanager
def start_server(key: str, *extra: str, cpu: int | str | None = 0) -> Iterator[Running]:
    """Start server ``key`` (see contenders) with ``extra`` flags on a free loopback port,
    pinned to ``cpu``; stop it afterwards. A server that does not start ends the script."""
    known = contenders()
    if key not in known:
        raise SystemExit(f"unknown server {key!r}: one of {', '.join(known)}")
    try:
        server = Running(known[key], cpu, extra)
    except (RuntimeError, OSError) as exc:
        raise SystemExit(str(exc)) from None
    try:
        yield server
    finally:
        server.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` and its children (workers) so far."""
    return sum(_own_cpu_seconds(p) for p in [pid, *children(pid)])


def rss_kb(pid: int) -> int:
    """Resident memory of process ``pid`` and its children (workers), in kB."""
    return sum(_own_rss_kb(p) for p in [pid, *children(pid)])


def _own_cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _own_rss_kb(pid: int) -> int:
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
