"""Prometheus metrics over gevent's WSGI server, read from the live counters at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from gevent.pywsgi import WSGIServer
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
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
        yield CounterMetricFamily(
            "coio_log_dropped",
            "Log lines dropped while stderr was not taking them",
            value=s.log_dropped(),
        )


def start_metrics(stats: Stats, host: str, port: int) -> WSGIServer:
    """Serve /metrics on host:port in the background; return the started server."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(StatsCollector(stats))
    server = WSGIServer((host, port), make_wsgi_app(registry), log=None, error_log=None)
    server.start()
    return server
