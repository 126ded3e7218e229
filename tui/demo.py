"""`--demo`: a local coio-server child on a free loopback port, stopped when the app exits."""

from __future__ import annotations

import subprocess
import threading
from typing import IO

from coio.address import parse_listening_line, parse_metrics_line
from coio.programs import program, with_parent_death_signal

# Log lines read at start for the metrics address: it follows the listening line at once,
# after at most a warning or two.
MAX_START_LOG_LINES = 20
STOP_GRACE = 5.0  # seconds the server gets to exit after SIGTERM
# The demo server logs a stats line this often (when anything moved); the app shows it.
STATS_INTERVAL = 1.0


class DemoServerError(RuntimeError):
    """The local server could not be started; the message is one line for the user."""


class DemoServer:
    """A coio-server child process bound to 127.0.0.1 on a free port.

    With ``log=True`` its log (stderr) is a pipe and ``log_fd`` its read end, for the app to
    show the server's live figures; the reader must keep reading, or the server blocks once
    the pipe is full. Otherwise the log is discarded and ``log_fd`` is None.

    With ``metrics=True`` (not with ``log``) it also serves Prometheus metrics on a free
    loopback port, named by ``metrics_url``, for other processes to read its figures; its log
    is then read here, for that address, and discarded.
    """

    def __init__(
        self, extra: list[str] | None = None, *, log: bool = False, metrics: bool = False
    ) -> None:
        if log and metrics:
            raise ValueError("log and metrics are exclusive: the log is read for one of them")
        cmd = [*program("coio-server"), "--host", "127.0.0.1", "--port", "0"]
        cmd += ["--stats-interval", str(STATS_INTERVAL), *(extra or [])]
        if metrics:
            cmd += ["--metrics-port", "0"]
        self.proc = subprocess.Popen(
            with_parent_death_signal(cmd),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if log or metrics else subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.log_fd = None if self.proc.stderr is None or not log else self.proc.stderr.fileno()
        self.metrics_url: str | None = None
        self._drain: threading.Thread | None = None
        first = self.proc.stdout.readline()
        address = parse_listening_line(first)
        if address is None:
            self.stop()
            said = first.strip() or "no address line"
            raise DemoServerError(f"the local coio-server did not start ({said})")
        self.host, self.port = address
        if metrics:
            assert self.proc.stderr is not None
            self.metrics_url = self._read_metrics_url(self.proc.stderr)
            self._drain = threading.Thread(
                target=_discard, args=(self.proc.stderr,), name="coio-server log", daemon=True
            )
            self._drain.start()

    def _read_metrics_url(self, log: IO[str]) -> str:
        for _ in range(MAX_START_LOG_LINES):
            if url := parse_metrics_line(log.readline()):
                return url
        self.stop()
        raise DemoServerError("the local coio-server did not say where its metrics are")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._drain is not None:
            self._drain.join(STOP_GRACE)  # the log ends with the server
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def _discard(log: IO[str]) -> None:
    """Read the server's log to its end, so the server never blocks on a full pipe."""
    for _ in log:
        pass
