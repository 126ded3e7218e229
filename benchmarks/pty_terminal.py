"""Run a program on a pseudo-terminal and timestamp everything it paints.

A stand-in for a terminal emulator that reads as fast as the program writes: what it measures
is the program's own work, never a slow emulator's.
"""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence

COLUMNS, ROWS = 120, 40
READ_BYTES = 1 << 16


class PtyProgram:
    """A child process whose stdin/stdout/stderr are a pty of COLUMNS x ROWS."""

    def __init__(self, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        leader, follower = pty.openpty()
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.leader = leader
        self.chunks: list[tuple[float, bytes]] = []  # (seconds since start, bytes read)
        self._lock = threading.Lock()
        full_env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor", **(env or {})}
        full_env.pop("NO_COLOR", None)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv),
            stdin=follower,
            stdout=follower,
            stderr=follower,
            start_new_session=True,
            env=full_env,
        )
        os.close(follower)
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.leader, READ_BYTES)
            except OSError:  # EIO: the child closed its side
                return
            if not data:
                return
            with self._lock:
                self.chunks.append((time.perf_counter() - self.started, data))

    def first(self, marker: bytes, timeout: float) -> float | None:
        """Seconds from start until ``marker`` had been painted, or None after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                seen = b""
                for at, data in self.chunks:
                    # Search across the chunk boundary too.
                    if marker in seen[-len(marker) :] + data:
                        return at
                    seen += data
            if self.proc.poll() is not None:
                return None
            time.sleep(0.005)
        return None

    def painted_bytes(self) -> int:
        with self._lock:
            return sum(len(d) for _, d in self.chunks)

    def send(self, keys: bytes) -> None:
        os.write(self.leader, keys)

    def stop(self, keys: bytes = b"\x11", timeout: float = 10.0) -> int:
        """Press ``keys`` (default Ctrl+Q) and wait; SIGTERM, then SIGKILL, if it stays."""
        if self.proc.poll() is None:
            try:
                self.send(keys)
                self.proc.wait(timeout)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait()
        self._reader.join(5)
        os.close(self.leader)
        return self.proc.returncode
