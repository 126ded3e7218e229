"""A coio-server whose stderr is a pipe nobody reads (until the test says so), and churn.

The fault a log must survive: once the pipe's buffer is full, every write() to it blocks.

    python -m tests.unread_stderr HOST PORT COUNT

runs `churn` in a process of its own (so the test's own measurements share no GIL with it)
and prints how many cycles it completed.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from coio.address import parse_listening_line
from coio.programs import program
from coio.protocol import BANNER
from tests.stress.probe import children
from tests.support import ServerProcess, recv_exactly

ROOT = Path(__file__).resolve().parents[1]
# Start-up lines read before the stderr pipe is left alone: a bound on a server that never
# logs the line waited for.
MAX_STARTUP_LINES = 20


@contextmanager
def server_with_unread_stderr(
    *args: str, until: str, env: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    """Start `coio-server --port 0 ARGS`; read its stderr up to the line holding ``until``,
    then read no more of it until `drain_stderr` is called. Stopped afterwards."""
    cmd = [*program("coio-server"), "--port", "0", *args]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        start_new_session=True,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    address = parse_listening_line(proc.stdout.readline())
    if address is None:
        proc.kill()
        proc.communicate()
        raise RuntimeError("coio-server printed no listening line")
    server = ServerProcess(proc, *address)
    server._out_thread = _reader(proc.stdout, [])
    try:
        for _ in range(MAX_STARTUP_LINES):
            line = proc.stderr.readline()
            server._log.append(line)
            if not line or until.encode() in line:
                break
        assert until in server.log(), server.log()
        yield server
    finally:
        drain_stderr(server)
        server.stop()


def drain_stderr(server: ServerProcess) -> None:
    """Start reading the server's stderr (into ``server.log()``), if nobody does yet."""
    stream = server.proc.stderr
    if server._log_thread is None and stream is not None and not stream.closed:
        server._log_thread = _reader(stream, server._log)


def _reader(stream: object, sink: list[bytes]) -> threading.Thread:
    def read() -> None:
        for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
            sink.append(line)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def stderr_fill(server: ServerProcess) -> tuple[int, int]:
    """(bytes waiting in the server's stderr pipe, the pipe's capacity)."""
    assert server.proc.stderr is not None
    fd = server.proc.stderr.fileno()
    waiting = int.from_bytes(fcntl.ioctl(fd, termios.FIONREAD, bytes(4)), sys.byteorder)
    return waiting, fcntl.fcntl(fd, fcntl.F_GETPIPE_SZ)


def blocked_in_pipe_write(pid: int) -> bool:
    """Whether a thread of process ``pid``, or of a child of it (the server's log copier), is
    asleep in write() to a full pipe (its wchan)."""
    pids = [pid, *children(pid)]
    for task in (task for p in pids for task in _tasks(p)):
        try:
            if (task / "wchan").read_text().endswith("pipe_write"):
                return True
        except OSError:  # the thread ended meanwhile
            continue
    return False


def _tasks(pid: int) -> list[Path]:
    try:
        return list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return []


def churn(address: tuple[str, int], count: int) -> int:
    """Connect, read the banner and close, ``count`` times; return how many cycles completed
    (fewer if the server stopped answering)."""
    for done in range(count):
        try:
            with socket.create_connection(address, timeout=5) as sock:
                recv_exactly(sock, len(BANNER))
        except (OSError, AssertionError) as exc:
            print(f"cycle {done + 1}: {type(exc).__name__}: {exc}", file=sys.stderr)
            return done
    return count


def start_churn(address: tuple[str, int], count: int) -> subprocess.Popen[str]:
    """Run `churn` in a child process; it prints the cycles completed when it ends."""
    host, port = address
    return subprocess.Popen(
        [sys.executable, "-m", "tests.unread_stderr", host, str(port), str(count)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


if __name__ == "__main__":
    print(churn((sys.argv[1], int(sys.argv[2])), int(sys.argv[3])))
