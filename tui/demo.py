"""`--demo`: a local coio-server child on loopback, its figures on a metrics page, restarted
with another IO model on request, and stopped when the app exits."""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from pathlib import Path

from coio.address import parse_listening_line, parse_metrics_line
from coio.io_models import DEFAULT_MODEL, MODELS
from coio.programs import program, with_parent_death_signal

from .limits import MAX_BOTS, MAX_CLIENTS
from .net.server_metrics import MetricsTarget, parse_metrics_url

STOP_GRACE = 5.0  # seconds the server gets to exit after SIGTERM
# Room for the most bots, the most tabs (--clients) and tabs opened later: with the server's
# default (10,000) a full room of bots left one waiting in the backlog.
MAX_CONNECTIONS = MAX_BOTS + MAX_CLIENTS + 100
# The server logs its metrics address a moment after it prints the listening line (its log
# leaves through a thread of its own): this long at most.
METRICS_LINE_WITHIN = 5.0
# A restart binds the same ports again. Should they still be held (the old process's
# sockets not yet gone), it tries again for this long, this often.
REBIND_WITHIN = 3.0
REBIND_EVERY = 0.1
POLL_LOG_EVERY = 0.02  # seconds between reads of the log while waiting for a line in it


class DemoServerError(RuntimeError):
    """The local server could not be started; the message is one line for the user."""


class DemoServer:
    """A coio-server child process on 127.0.0.1, serving Prometheus metrics too.

    Its log (stderr) goes to a file of its own in a temporary directory, read here only for
    the metrics address and, when it fails to start, for its reason: never an unread pipe.
    ``restart(model)`` replaces it with a server of another IO model on the same two ports,
    so every client (and the metrics reader) finds it where it was.
    """

    def __init__(self, model: str = DEFAULT_MODEL, extra: list[str] | None = None) -> None:
        self._extra = list(extra or [])
        self._logs = tempfile.TemporaryDirectory(prefix="coio-demo-")
        self._lock = threading.Lock()  # one start, restart or stop at a time
        self._closed = False
        self._starts = 0
        self.host, self.port = "127.0.0.1", 0  # where it listens, once started
        self.metrics_url = ""  # its metrics page, once started
        try:
            self.proc = self._start(model, port=0, metrics_port=0)
        except BaseException:
            self._logs.cleanup()
            raise
        self.model = model

    @property
    def metrics_target(self) -> MetricsTarget:
        """Where the metrics page is: the same for the server's whole life, restarts included."""
        return parse_metrics_url(self.metrics_url)

    @property
    def log_path(self) -> Path:
        """The running server's log file (a new one per start)."""
        return Path(self._logs.name) / f"coio-server-{self._starts}.log"

    def _start(self, model: str, *, port: int, metrics_port: int) -> subprocess.Popen[str]:
        """Start a server of ``model`` on ``port`` and ``metrics_port`` (0: free ones) and read
        back where it listens; DemoServerError with its reason if it does not start."""
        if model not in MODELS:
            raise DemoServerError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
        cmd = [*program("coio-server"), "--host", self.host, "--port", str(port)]
        cmd += ["--model", model, "--metrics-port", str(metrics_port)]
        cmd += ["--max-connections", str(MAX_CONNECTIONS), *self._extra]
        self._starts += 1
        with self.log_path.open("wb") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen(
                with_parent_death_signal(cmd),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        assert proc.stdout is not None
        first = proc.stdout.readline()
        address = parse_listening_line(first)
        if address is None:
            _end(proc)
            raise DemoServerError(f"the local coio-server did not start ({self._why(first)})")
        self.host, self.port = address
        deadline = time.monotonic() + METRICS_LINE_WITHIN
        while (url := parse_metrics_line(self._log_text())) is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                _end(proc)
                raise DemoServerError("the local coio-server did not say where its metrics are")
            time.sleep(POLL_LOG_EVERY)
        self.metrics_url = url
        return proc

    def restart(self, model: str) -> None:
        """Stop the server (SIGTERM, then wait) and start one of ``model`` on the same ports,
        retrying the bind for REBIND_WITHIN seconds; DemoServerError if it cannot.

        Blocks for as long as that takes (about a second): call it off the UI thread.
        """
        with self._lock:
            if self._closed:
                raise DemoServerError("the demo server has been stopped")
            _end(self.proc)
            port, metrics_port = self.port, self.metrics_target.port
            deadline = time.monotonic() + REBIND_WITHIN
            while True:
                try:
                    self.proc = self._start(model, port=port, metrics_port=metrics_port)
                except DemoServerError as exc:
                    if time.monotonic() + REBIND_EVERY > deadline:
                        raise DemoServerError(
                            f"could not restart the demo server on port {port}: {exc}"
                        ) from None
                    time.sleep(REBIND_EVERY)
                    continue
                self.model = model
                return

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        """Stop the server for good and remove its logs; safe to call more than once."""
        with self._lock:
            self._closed = True
            _end(self.proc)
            self._logs.cleanup()

    def _log_text(self) -> str:
        try:
            return self.log_path.read_text("utf-8", "replace")
        except OSError:
            return ""

    def _why(self, said: str) -> str:
        """Why the server did not start: its last log line, else what it printed, in brief."""
        lines = self._log_text().strip().splitlines()
        reason = lines[-1] if lines else said.strip()
        return reason[:200] or "no address line"


def _end(proc: subprocess.Popen[str]) -> None:
    """SIGTERM, a grace period, then SIGKILL; the child is reaped and its pipe closed."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
