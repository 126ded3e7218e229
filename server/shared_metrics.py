"""`--metrics-port` with `--workers N`: one /metrics page summing every worker's figures.

prometheus_client's multiprocess mode. The supervisor makes a fresh directory and names it
in $PROMETHEUS_MULTIPROC_DIR before prometheus_client is first imported (the module reads it
once, at import, and the workers inherit the choice when they fork); each worker writes its
figures to files of its own there, and the supervisor serves /metrics from a thread,
summing the files at each scrape. The supervisor removes the directory when it exits.

A worker's hot path still bumps only plain integers (`Stats`): every SHARE_EVERY seconds, and
once more when it stops, `WorkerMetrics.share` adds what changed to its files. So the page is
at most that old, and the counts of a worker that died stay in the sums; its live gauge is
dropped (`worker_exited`).

This module never imports gevent: the supervisor imports it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
from typing import Any

from .stats import Stats

# Set before prometheus_client is imported (see the module docstring).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# How stale the summed page may be: a scraper asks every 15 s or so, and sharing costs a pass
# over the live connections (their byte and line counts), kept off the hot path.
SHARE_EVERY = 1.0


def make_metrics_dir() -> str:
    """Create the directory the workers share figures through, and name it in the
    environment; call it before anything imports prometheus_client."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before its directory was chosen")
    directory = tempfile.mkdtemp(prefix="coio-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    return directory


def serve_metrics(directory: str, host: str, port: int) -> tuple[Any, tuple[str, int]]:
    """Serve the workers' summed figures on host:port from a thread; return the server and
    the address it listens on. The thread takes no process signal."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:  # the supervisor waits for its signals with sigwaitinfo in its main thread
        server, _ = start_http_server(port, addr=host, registry=registry)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    address = server.socket.getsockname()
    return server, (address[0], address[1])


def stop_serving(server: Any) -> None:
    """Stop the /metrics server and close its socket."""
    server.shutdown()
    server.server_close()


def worker_exited(directory: str, pid: int) -> None:
    """Drop worker ``pid``'s live gauge from the sums; its counts stay."""
    from prometheus_client.multiprocess import mark_process_dead

    with contextlib.suppress(OSError):  # a file that cannot go must not stop the supervisor
        mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


class WorkerMetrics:
    """A worker's figures in the shared files, brought up to date by ``share``."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, values

        if not getattr(values.ValueClass, "_multiprocess", False):
            raise RuntimeError(f"${MULTIPROC_ENV} was not set when prometheus_client loaded")
        self.live = Gauge(
            "coio_connections_live", "Connections open now", multiprocess_mode="livesum"
        )
        self.counters = {
            "total": Counter("coio_connections", "Connections accepted"),
            "bytes_in": Counter("coio_received_bytes", "Bytes received"),
            "bytes_out": Counter("coio_sent_bytes", "Bytes echoed"),
            "chunks": Counter("coio_echo_chunks", "Chunks echoed"),
            "lines": Counter("coio_lines", "Newline-terminated lines echoed"),
            "log_dropped": Counter(
                "coio_log_dropped", "Log lines dropped while stderr was not taking them"
            ),
        }
        self.errors = Counter("coio_errors", "Connections ended by error", labelnames=["kind"])
        self._shared: dict[str, int] = {}  # each figure as last shared

    def share(self, stats: Stats) -> None:
        """Add to the files what ``stats`` (this worker's `Stats`) gained since last time."""
        self.live.set(stats.live)
        now = {
            "total": stats.total,
            "bytes_in": stats.bytes_in,
            "bytes_out": stats.bytes_out,
            "chunks": stats.chunks,
            "lines": stats.lines,
            "log_dropped": stats.log_dropped(),
        }
        now.update({f"error:{kind}": count for kind, count in stats.errors.items()})
        for key, value in now.items():
            gained = value - self._shared.get(key, 0)
            if gained > 0:
                if key.startswith("error:"):
                    self.errors.labels(key.removeprefix("error:")).inc(gained)
                else:
                    self.counters[key].inc(gained)
        self._shared = now
