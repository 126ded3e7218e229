"""Shared test helpers: run the real coio-server as a subprocess and talk to it over sockets."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from coio.address import parse_listening_line, parse_metrics_line
from coio.programs import program
from coio.protocol import BANNER

# CI installs every system tool the tests drive and sets this to 1: a missing tool is then a
# failure, never a silent skip. On a machine with Python only, such tests skip with a reason.
REQUIRE_TOOLS = "COIO_REQUIRE_TOOLS"


def need_tool(tool: str, apt: str, path: str | None = None) -> str:
    """Where system tool ``tool`` is (``path``, if given, must exist); if it is missing, skip
    the test naming the ``apt-get`` line, or fail it where $COIO_REQUIRE_TOOLS is 1."""
    found = (path if Path(path).exists() else None) if path else shutil.which(tool)
    if found:
        return found
    reason = f"needs {tool}: apt-get install -y {apt}"
    if os.environ.get(REQUIRE_TOOLS) == "1":
        pytest.fail(f"{reason} ({REQUIRE_TOOLS}=1: every tool must be installed)", pytrace=False)
    pytest.skip(reason)


@dataclass
class ServerProcess:
    """A running coio-server child: its process, address and captured stderr log."""

    proc: subprocess.Popen[bytes]
    host: str
    port: int
    _log: list[bytes] = field(default_factory=list)
    _log_thread: threading.Thread | None = None
    _out_thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        """Everything the server wrote to stderr so far."""
        return b"".join(self._log).decode("utf-8", "replace")

    def connect(self, timeout: float = 10.0) -> socket.socket:
        """Open a plain TCP connection to the server."""
        return socket.create_connection(self.address, timeout=timeout)

    def welcomed_clients(self, count: int) -> list[socket.socket]:
        """Open ``count`` connections, each past its banner."""
        clients = [self.connect() for _ in range(count)]
        for sock in clients:
            recv_exactly(sock, len(BANNER))
        return clients

    def stop_timed(self, sig: int = signal.SIGTERM) -> tuple[int, float]:
        """stop(), and the seconds the server took to exit."""
        start = time.monotonic()
        code = self.stop(sig)
        return code, time.monotonic() - start

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Signal the server and wait for it to exit; return its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(5)
        for thread in (self._log_thread, self._out_thread):
            if thread is not None:
                thread.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return code


def _drain(stream: object, sink: list[bytes]) -> None:
    for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
        sink.append(line)


@contextmanager
def running_server(*args: str, env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    """Start `coio-server --port 0 ARGS`, wait for its listening line, stop it afterwards."""
    cmd = [*program("coio-server"), "--port", "0", *args]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, start_new_session=True
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    # The first stdout line names the address; pytest-timeout bounds a server that never says it.
    first = proc.stdout.readline()
    address = parse_listening_line(first)
    if address is None:
        proc.kill()
        err = proc.stderr.read().decode("utf-8", "replace")
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        raise RuntimeError(f"coio-server did not start: {first!r} {err}")
    server = ServerProcess(proc, *address)
    server._log_thread = threading.Thread(target=_drain, args=(proc.stderr, server._log))
    server._log_thread.daemon = True
    server._log_thread.start()
    server._out_thread = threading.Thread(target=_drain, args=(proc.stdout, []), daemon=True)
    server._out_thread.start()
    try:
        yield server
    finally:
        server.stop()


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    """Read exactly n bytes (fails the test on early EOF or timeout)."""
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(n - len(chunks))
        if not chunk:
            raise AssertionError(f"EOF after {len(chunks)} of {n} bytes")
        chunks += chunk
    return bytes(chunks)


def recv_until_eof(sock: socket.socket) -> bytes:
    """Read until the peer closes."""
    chunks = bytearray()
    while chunk := sock.recv(65536):
        chunks += chunk
    return bytes(chunks)


def wait_until(check: Callable[[], object], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``check`` until it is true or ``timeout`` passes; return whether it became true."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return bool(check())
        time.sleep(interval)
    return True


def count_phrase(text: str, phrase: str) -> int:
    """How often ``phrase`` occurs in ``text`` starting a word: ``connect id=`` is not
    counted inside ``disconnect id=``."""
    return len(re.findall(rf"(?<![\w-]){re.escape(phrase)}", text))


_SAMPLE = re.compile(r"^(\w+)(\{[^}]*\})? (\S+)$", re.MULTILINE)


def scrape_metrics(server: ServerProcess) -> dict[str, float]:
    """Fetch /metrics from a server run with ``--metrics-port``: {name{labels}: value}."""
    assert wait_until(lambda: parse_metrics_line(server.log()), 5), server.log()
    url = parse_metrics_line(server.log())
    assert url is not None
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return {name + (labels or ""): float(value) for name, labels, value in _SAMPLE.findall(text)}
