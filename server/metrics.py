"""Prometheus metrics over gevent's WSGI server, read from the live counters at scrape time."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from gevent.pywsgi import WSGIServer
from prometheus_client import CollectorRegistry, ProcessCollector, make_wsgi_app
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from .stats import Stats


class StatsCollector(Collector):
    """Exposes ``Stats``; the hot path only bumps plain integers, never a metric lock."""

    def __init__(self, stats: Stats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        s = self.stats
        yield GaugeMetricFamily("coio_connections_live", "Connections open now", value=s.live)
        yield CounterMetricFamily("coio_connections", "Connections accepted", value=s.total)
        yield CounterMetricFamily("coio_received_bytes", "Bytes received", value=s.bytes_in)
        yield CounterMetricFamily("coio_sent_bytes", "Bytes echoed", value=s.bytes_out)
        yield CounterMetricFamily("coio_echo_chunks", "Chunks echoed", value=s.chunks)
        yield CounterMetricFamily("coio_lines", "Newline-terminated lines echoed", value=s.lines)
        errors = CounterMetricFamily("coio_errors", "Connections ended by error", labels=["kind"])
        for kind, count in sorted(s.errors.items()):
            errors.add_metric([kind], count)
        yield errors
        yield GaugeMetricFamily(
            "coio_clients_waiting",
            "Clients connected but not yet accepted: in the listen backlog, no banner yet",
            value=s.waiting(),
        )
        yield GaugeMetricFamily("coio_threads", "OS threads of the server process", value=threads())
        if s.model:
            info = InfoMetricFamily("coio_server", "How this server serves its clients")
            info.add_metric([], {"model": s.model})
            yield info
        yield CounterMetricFamily(
            "coio_log_dropped",
            "Log lines dropped while stderr was not taking them",
            value=s.log_dropped(),
        )


def threads() -> int:
    """This process's OS threads (the kernel's count, not only Python's)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return threading.active_count()


def start_metrics(stats: Stats, host: str, port: int) -> WSGIServer:
    """Serve /metrics on host:port in the background; return the started server.

    Beside coio's own figures, prometheus_client's process collector: memory, CPU, open fds.
    """
    registry = CollectorRegistry(auto_describe=True)
    registry.register(StatsCollector(stats))
    ProcessCollector(registry=registry)
    server = WSGIServer((host, port), make_wsgi_app(registry), log=None, error_log=None)
    server.start()
    return server
