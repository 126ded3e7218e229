"""The servers run side by side: how to start each one (pinned to a CPU) and stop it."""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference"
BIN = Path(sys.executable).parent
LISTEN_LINE = re.compile(r"listening on \[?([0-9a-fA-F.:]+)\]?:(\d+)")
START_TIMEOUT = 20.0
BASELINE = "asyncio Protocol"  # every ratio is to this server
COIO = "coio-server"


@dataclass(frozen=True)
class Contender:
    name: str
    command: tuple[str, ...]  # without the port flag


def contenders() -> list[Contender]:
    py = sys.executable
    ref = [
        ("uvloop Protocol", "uvloop_protocol.py"),
        ("asyncio Protocol", "asyncio_protocol.py"),
        ("asyncio streams", "asyncio_streams.py"),
        ("gevent StreamServer, plain recv/sendall", "gevent_plain.py"),
        ("gevent tutorial (monkey-patched)", "gevent_monkey.py"),
        ("trio serve_tcp", "trio_tcp.py"),
        ("thread per connection", "threads.py"),
    ]
    out = [Contender(name, (py, str(REFERENCE / script))) for name, script in ref]
    # Quiet logs (a line per connection is not what is measured) and room for 10,000 idle.
    coio = BIN / "coio-server"
    base = (str(coio),) if coio.exists() else (py, "-m", "coio.server")
    out.append(Contender(COIO, (*base, "--log-level", "warning", "--max-connections", "20000")))
    return out


def pin(cpu: int | None) -> list[str]:
    """A taskset prefix pinning to ``cpu``, or nothing if pinning is off or impossible."""
    if cpu is None or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(cpu)]


class Running:
    """A started contender: its process and port; ``cpu_seconds()`` reads its CPU time."""

    def __init__(self, contender: Contender, cpu: int | None) -> None:
        self.contender = contender
        self.proc = subprocess.Popen(
            [*pin(cpu), *contender.command, "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.port = self._read_port()
        # Drain both pipes so a chatty server never blocks on a full one.
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=stream.read, daemon=True).start()

    def _read_port(self) -> int:
        stdout = self.proc.stdout
        assert stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(stdout, selectors.EVENT_READ)
            line = stdout.readline() if sel.select(START_TIMEOUT) else ""
        match = LISTEN_LINE.search(line)
        if match is None:
            self.stop()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"{self.contender.name} did not start: {err.strip()[-300:]}")
        return int(match.group(2))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS line")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with_pgroup = os.getpgid(self.proc.pid)
            os.killpg(with_pgroup, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(with_pgroup, signal.SIGKILL)
                self.proc.wait(5)
        time.sleep(0.2)  # let the kernel release the port and the sockets in TIME_WAIT settle
