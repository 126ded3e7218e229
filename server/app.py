"""The server's lifecycle: listen, serve, report, and stop cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from typing import TYPE_CHECKING, TextIO, cast

import gevent
from gevent.event import Event

from coio.address import format_address, listening_line, metrics_line
from coio.fds import raise_fd_limit

from .config import Config
from .errors import BindError
from .logsink import FLUSH_TIMEOUT, LogSink, start_log_sink
from .metrics import start_metrics
from .models import make_model
from .stats import Stats, StatsReporter

if TYPE_CHECKING:
    from .shared_metrics import WorkerMetrics

log = logging.getLogger("coio.server")

# File descriptors kept for the listener, metrics, logs and stdio beyond one per client.
FD_HEADROOM = 64


class CoioServer:
    """One IO model (--model) serving clients, with live stats, metrics and a signal-driven
    stop; the hub in this thread runs the lifecycle whatever the model."""

    def __init__(
        self,
        config: Config,
        listener: socket.socket | None = None,
        log_sink: LogSink | None = None,
    ) -> None:
        """Listen on ``config``'s address, or serve on an already bound ``listener``.

        ``log_sink``'s count of dropped lines is shown in /metrics.
        """
        self.config = config
        self.stats = Stats()
        if log_sink is not None:
            self.stats.log_dropped = lambda: log_sink.dropped
        if config.faults:
            log.warning("test faults on: %s", ", ".join(sorted(config.faults)))
        self.model = make_model(config.model, config, self.stats, listener)
        self.stats.model = config.model
        self._stopping = False
        self._stopped = Event()
        self._shared_metrics: WorkerMetrics | None = None

    def start(self, announce: bool = True) -> None:
        """Bind and start accepting; raise BindError if an address cannot be used.

        ``announce`` prints the listening line (a worker leaves that to its supervisor).
        """
        needed = self.config.max_connections + FD_HEADROOM
        fds = raise_fd_limit(needed)
        if fds is not None and fds < needed:
            log.warning(
                "fd limit %d leaves too few for --max-connections %d (needs %d)",
                fds,
                self.config.max_connections,
                needed,
            )
        config = self.config
        try:
            host, port = self.model.start()
        except OSError as exc:
            raise BindError(config.host, config.port, exc) from exc
        self.stats.waiting = self.model.waiting
        metrics_said = None
        if config.metrics_port is not None and config.workers > 1:
            # The supervisor serves /metrics: this worker adds its figures to the shared files.
            from .shared_metrics import WorkerMetrics

            self._shared_metrics = WorkerMetrics()
            gevent.spawn(self._share_metrics, self._shared_metrics)
        elif config.metrics_port is not None:
            try:
                metrics = start_metrics(self.stats, config.metrics_host, config.metrics_port)
            except OSError as exc:
                self.model.shutdown(0)
                raise BindError(config.metrics_host, config.metrics_port, exc) from exc
            mhost, mport = metrics.socket.getsockname()[:2]
            metrics_said = metrics_line(mhost, mport)
        if announce:
            print(listening_line(host, port), flush=True)
        else:
            log.info("serving on %s", format_address(host, port))
        if metrics_said:
            log.info("%s", metrics_said)

    def serve(self) -> None:
        """Run until a signal stops the server."""
        gevent.signal_handler(signal.SIGTERM, self.request_stop, "SIGTERM")
        gevent.signal_handler(signal.SIGINT, self.request_stop, "SIGINT")
        if self.config.stats_interval > 0:
            gevent.spawn(self._report_stats)
        if self.config.idle_timeout is not None:
            gevent.spawn(self._sweep_idle, self.config.idle_timeout)
        # With a timeout: where clients are served from threads, nothing else may keep the
        # hub's loop alive, and a wait with no timer would end it.
        while not self._stopped.wait(timeout=1.0):
            pass
        if self._shared_metrics is not None:
            self._shared_metrics.share(self.stats)  # the final figures, not a second old

    def request_stop(self, name: str) -> None:
        if self._stopping:
            return
        self._stopping = True
        log.info(
            "%s: stop accepting; closing %d clients (grace %gs)",
            name,
            self.stats.live,
            self.config.grace,
        )
        gevent.spawn(self._stop)

    def _stop(self) -> None:
        # Stop accepting, then let every client finish its echo and close; after the grace
        # period, close whoever is left (a client that never reads its echo, say).
        self.model.shutdown(self.config.grace)
        self._stopped.set()

    def _share_metrics(self, metrics: WorkerMetrics) -> None:
        from .shared_metrics import SHARE_EVERY

        while True:
            gevent.sleep(SHARE_EVERY)
            metrics.share(self.stats)

    def _sweep_idle(self, timeout: float) -> None:
        # One sweep for every model (no per-read timer on the hot path), several times per
        # timeout: each client is closed within a quarter of the timeout of its due time.
        while True:
            gevent.sleep(min(timeout / 4, 1.0))
            self.model.close_idle(timeout)

    def _report_stats(self) -> None:
        reporter = StatsReporter(self.stats)
        last = time.monotonic()
        while True:
            gevent.sleep(self.config.stats_interval)
            now = time.monotonic()
            line = reporter.line(now - last)
            last = now
            if line:
                log.info("%s", line)


def setup_logging(config: Config, worker: int | None = None) -> LogSink:
    """Log through a sink that never blocks the hub; gevent's own error reports go there too."""
    tag = "" if worker is None else f"w{worker} "
    sink = start_log_sink(config.log_level.upper(), f"%(asctime)s %(levelname)s {tag}%(message)s")
    hub = gevent.get_hub()
    room = hub.loop.io(sink.pipe, 2)  # the log pipe has room again

    def want_room(want: bool) -> None:
        if threading.get_ident() != hub.thread_ident:  # logged from a model's own thread
            hub.loop.run_callback_threadsafe(want_room, want)  # watchers are the hub's
        elif want:
            room.start(sink.flush)
        else:
            room.stop()

    sink.want_room = want_room
    # gevent reports an error that escapes a callback or greenlet here: through the sink too.
    hub.exception_stream = cast(TextIO, sink)  # it only ever calls write()
    return sink


def run(config: Config, listener: socket.socket | None = None, worker: int | None = None) -> int:
    """Start, serve and stop; return the exit code.

    A worker serves on its supervisor's ``listener`` and tags its log lines ``w<worker>``.
    """
    sink = setup_logging(config, worker)
    # Addresses are resolved only while binding, at start: in this thread, not in a resolver
    # thread that would then stay in the server's thread count (the lesson --model shows).
    gevent.config.resolver = "block"
    server = CoioServer(config, listener, sink)
    server.start(announce=listener is None)
    server.serve()
    log.info("stopped: served %d connections", server.stats.total)
    sink.stop(FLUSH_TIMEOUT)  # the last lines are written unless stderr is blocked
    return 0
