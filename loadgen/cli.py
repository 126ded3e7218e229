"""`coio-bench` command line: flags -> LoadSpec -> run -> report, with one-line errors."""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Sequence

from coio import __version__
from coio.args import bounded_float, bounded_int, port_number
from coio.fds import fd_ceiling
from coio.protocol import MAX_LINE_BYTES

from .progress import ProgressLine
from .report import as_json, as_text, verdict
from .runner import BenchError, run
from .spec import Charset, LoadSpec

PROG = "coio-bench"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080  # coio-server's default
MAX_PROCS = 256
FD_HEADROOM = 32  # descriptors each load process needs beyond one per client


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Load-test a server that speaks the coio protocol: wait for 'welcome!', "
        "send messages, check that every echo is exactly their uppercase, report echoes/s and "
        "round-trip times.",
        epilog="exit status: 0 when every client connected and every echo was right; 1 when "
        "an echo was wrong, a connection failed or broke, or the server is unreachable; "
        "2 for bad flags.",
    )
    env = os.environ
    parser.add_argument(
        "--host",
        default=env.get("COIO_HOST", DEFAULT_HOST),
        help="server address (default: $COIO_HOST or %(default)s)",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=None,
        help=f"server port (default: $COIO_PORT or {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--clients",
        metavar="N",
        type=bounded_int(1, 1_000_000),
        default=100,
        help="connections, over all processes (default: %(default)s)",
    )
    parser.add_argument(
        "--size",
        metavar="BYTES",
        type=bounded_int(1, MAX_LINE_BYTES, "a number of bytes"),
        default=64,
        help="bytes per message, newline included (default: %(default)s)",
    )
    parser.add_argument(
        "--duration",
        metavar="SECONDS",
        type=bounded_float(0.01, 86_400, "a number of seconds"),
        default=10.0,
        help="seconds measured (default: %(default)s)",
    )
    parser.add_argument(
        "--warmup",
        metavar="SECONDS",
        type=bounded_float(0, 3_600, "a number of seconds"),
        default=1.0,
        help="seconds of load before measuring starts (default: %(default)s)",
    )
    parser.add_argument(
        "--rate",
        metavar="PER_SECOND",
        type=bounded_float(0.001, 1e9, "a rate"),
        default=None,
        help="open loop: messages per second over all clients, sent on a fixed schedule "
        "(default: closed loop, each client sends again as soon as its echo is complete)",
    )
    parser.add_argument(
        "--procs",
        metavar="N",
        type=bounded_int(1, MAX_PROCS),
        default=1,
        help="load processes, so the generator is not the bottleneck (default: %(default)s)",
    )
    parser.add_argument(
        "--charset",
        choices=[c.value for c in Charset],
        default=Charset.ASCII.value,
        help="message text: ascii, or utf8 to exercise full Unicode uppercasing "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--connect-timeout",
        metavar="SECONDS",
        type=bounded_float(0.01, 600, "a number of seconds"),
        default=5.0,
        help="seconds to connect and receive the banner (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    return parser


def resolve(host: str, port: int, timeout: float) -> str:
    """A numeric address for ``host``, or BenchError with one line.

    When the name has several addresses (``localhost``: ::1 and 127.0.0.1), the first that
    accepts a connection wins, as a browser would pick; the load then goes to that one.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise BenchError(f"unknown host {host!r}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if len(addresses) > 1:
        for address in addresses:
            try:
                socket.create_connection((address, port), timeout=timeout).close()
            except OSError:
                continue
            return address
    return addresses[0]


def parse_spec(argv: Sequence[str] | None = None) -> tuple[LoadSpec, bool]:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.port is None:
        try:
            args.port = port_number(os.environ.get("COIO_PORT", str(DEFAULT_PORT)))
        except argparse.ArgumentTypeError as exc:
            parser.error(f"$COIO_PORT: {exc}")
    if args.procs > args.clients:
        parser.error(f"--procs {args.procs} is more than --clients {args.clients}")
    per_proc = -(-args.clients // args.procs) + FD_HEADROOM
    ceiling = fd_ceiling()  # each load process raises its own limit this far
    if ceiling is not None and per_proc > ceiling:
        parser.error(
            f"--clients {args.clients} over {args.procs} process(es) needs {per_proc} file "
            f"descriptors per process; the limit is {ceiling} (raise it, or add --procs)"
        )
    try:
        host = resolve(args.host, args.port, args.connect_timeout)
    except BenchError as exc:
        parser.exit(2, f"{PROG}: {exc}\n")
    spec = LoadSpec(
        host=host,
        port=args.port,
        clients=args.clients,
        size=args.size,
        duration=args.duration,
        warmup=args.warmup,
        rate=args.rate,
        procs=args.procs,
        charset=Charset(args.charset),
        connect_timeout=args.connect_timeout,
    )
    return spec, args.json


def main(argv: Sequence[str] | None = None) -> int:
    spec, want_json = parse_spec(argv)
    progress = ProgressLine(spec.warmup, spec.duration) if sys.stderr.isatty() else None
    try:
        summary = run(spec, progress)
    except BenchError as exc:
        _clear(progress)
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        _clear(progress)
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    _clear(progress)
    print(as_json(summary) if want_json else as_text(summary))
    problem = verdict(summary)
    if problem is not None:
        print(f"{PROG}: {problem}", file=sys.stderr)
        return 1
    return 0


def _clear(progress: ProgressLine | None) -> None:
    if progress is not None:
        progress.clear()
