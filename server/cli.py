"""`coio-server` command line: flags and environment -> Config -> run, with one-line errors."""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import socket
import sys
from collections.abc import Callable, Sequence

from coio import __version__
from coio.address import format_address, listening_line, metrics_line
from coio.args import bounded_float, bounded_int, port_or_zero

from .config import (
    DEFAULT_GRACE,
    DEFAULT_HOST,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_PORT,
    DEFAULT_STATS_INTERVAL,
    FAULT_ENV,
    LISTEN_BACKLOG,
    MAX_CONNECTIONS_LIMIT,
    MAX_WORKERS,
    Config,
    parse_faults,
)
from .errors import BindError
from .models import DEFAULT_MODEL, MODELS

PROG = "coio-server"
LOG_LEVELS = ("debug", "info", "warning", "error")


# A shorter stats interval would turn the reporter into a busy loop on an idle server.
MIN_STATS_INTERVAL = 0.1


def stats_interval(text: str) -> float:
    """Seconds between stats lines: 0 (off) or at least MIN_STATS_INTERVAL."""
    value = bounded_float(0, what="a number of seconds")(text)
    if 0 < value < MIN_STATS_INTERVAL:
        raise argparse.ArgumentTypeError(
            f"must be 0 (off) or at least {MIN_STATS_INTERVAL}, got {text}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Welcome/uppercase-echo server: sends 'welcome!', then echoes everything "
        "uppercased. One gevent process, thousands of clients.",
    )
    parser.add_argument(
        "--host",
        default=os.environ.get("COIO_HOST", DEFAULT_HOST),
        help="address to listen on (default: $COIO_HOST or %(default)s, loopback; "
        "give :: or 0.0.0.0 to serve the network)",
    )
    parser.add_argument(
        "--port",
        type=port_or_zero,
        default=None,
        help=f"TCP port, 0 picks a free one (default: $COIO_PORT or {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--max-connections",
        type=bounded_int(1, MAX_CONNECTIONS_LIMIT),
        default=DEFAULT_MAX_CONNECTIONS,
        help="clients served at once; more wait in the listen backlog until a slot frees "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=bounded_float(0.001, what="a number of seconds"),
        default=None,
        help="close a client that sends nothing (and reads nothing) for this many seconds "
        "(default: off)",
    )
    parser.add_argument(
        "--grace",
        type=bounded_float(0, what="a number of seconds"),
        default=DEFAULT_GRACE,
        help="on SIGINT/SIGTERM, seconds to let busy clients finish before closing them "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--stats-interval",
        type=stats_interval,
        default=DEFAULT_STATS_INTERVAL,
        help=f"seconds between stats log lines (at least {MIN_STATS_INTERVAL}), only when "
        "something changed; 0 turns them off "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--metrics-port",
        type=port_or_zero,
        default=None,
        help="serve Prometheus metrics on this port, on 127.0.0.1; 0 picks a free one; "
        "with --workers, the sum of every worker's (default: off)",
    )
    parser.add_argument(
        "--workers",
        type=bounded_int(1, MAX_WORKERS),
        default=1,
        help="server processes sharing the port, restarted if they die; --max-connections "
        "applies to each (default: %(default)s)",
    )
    parser.add_argument(
        "--model",
        choices=list(MODELS),
        default=DEFAULT_MODEL,
        help="how clients are served, the IO lesson: "
        + "; ".join(f"{name}: {what}" for name, what in MODELS.items()),
    )
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="(default: info)")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return parser


def parse_config(argv: Sequence[str] | None = None) -> Config:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.host.strip():
        parser.error("--host: empty; give an address such as 127.0.0.1 or ::1")
    try:
        faults = parse_faults(os.environ.get(FAULT_ENV, ""))
    except ValueError as exc:
        parser.error(f"${FAULT_ENV}: {exc}")
    if args.port is None:
        try:
            args.port = port_or_zero(os.environ.get("COIO_PORT", str(DEFAULT_PORT)))
        except argparse.ArgumentTypeError as exc:
            parser.error(f"$COIO_PORT: {exc}")
    return Config(
        host=args.host,
        port=args.port,
        max_connections=args.max_connections,
        idle_timeout=args.idle_timeout,
        grace=args.grace,
        stats_interval=args.stats_interval,
        metrics_port=args.metrics_port,
        log_level=args.log_level,
        workers=args.workers,
        faults=faults,
        model=args.model,
    )


def describe_bind_error(exc: OSError, host: str, port: int) -> str:
    where = format_address(host, port)
    if isinstance(exc, socket.gaierror):
        return f"cannot listen on {where}: unknown host {host!r}"
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: the port is already in use"
    if exc.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied (ports below 1024 need privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: {host} is not an address of this machine"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_config(argv)
    try:
        if config.workers > 1:
            return run_workers(config)
        from .app import run  # gevent loads only once the flags are known to be good

        return run(config)
    except BindError as exc:
        print(f"{PROG}: {describe_bind_error(exc.cause, exc.host, exc.port)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def run_workers(config: Config) -> int:
    """Bind once here, then fork and supervise ``config.workers`` servers on that socket.

    With --metrics-port this process serves /metrics, summing what the workers share.
    """
    import logging

    from .logsink import FLUSH_TIMEOUT, start_log_sink
    from .workers import SLOW_START, Supervisor, bind_listener, describe_address

    sink = start_log_sink(config.log_level.upper(), "%(asctime)s %(levelname)s %(message)s")
    try:
        listener = bind_listener(config.host, config.port, LISTEN_BACKLOG)
    except OSError as exc:
        raise BindError(config.host, config.port, exc) from exc
    with listener, contextlib.ExitStack() as cleanup:
        on_exit, metrics_said = None, None
        if config.metrics_port is not None:
            on_exit, metrics_said = serve_workers_metrics(config, config.metrics_port, cleanup)
        host, port = describe_address(listener)
        print(listening_line(host, port), flush=True)
        if metrics_said is not None:
            logging.getLogger("coio.server").info("%s", metrics_said)

        def worker(index: int) -> int:
            from .app import run  # imported after the fork: each worker has its own gevent hub

            return run(config, listener, worker=index)

        slow_start = SLOW_START if "slow-worker-start" in config.faults else 0.0
        try:
            return Supervisor(config.workers, worker, config.grace, on_exit, slow_start).run()
        finally:
            sink.stop(FLUSH_TIMEOUT)


def serve_workers_metrics(
    config: Config, port: int, cleanup: contextlib.ExitStack
) -> tuple[Callable[[int], None], str]:
    """Serve /metrics summed over the workers (shared_metrics), undone by ``cleanup``; return
    what to call as each worker exits, and the line naming the page."""
    import shutil

    from . import shared_metrics

    directory = shared_metrics.make_metrics_dir()  # before any fork: workers inherit it
    cleanup.callback(shutil.rmtree, directory, ignore_errors=True)
    try:
        server, (host, bound) = shared_metrics.serve_metrics(directory, config.metrics_host, port)
    except OSError as exc:
        raise BindError(config.metrics_host, port, exc) from exc
    cleanup.callback(shared_metrics.stop_serving, server)

    def worker_exited(pid: int) -> None:
        shared_metrics.worker_exited(directory, pid)

    return worker_exited, metrics_line(host, bound)
