"""coio.address: the listening line, written and read back, and the lines it must not take."""

from __future__ import annotations

import pytest

from coio import __version__
from coio.address import (
    format_address,
    http_url,
    listening_line,
    metrics_line,
    parse_listening_line,
    parse_metrics_line,
    parse_serving_line,
    serving_line,
)


@pytest.mark.parametrize(
    ("host", "port", "written"),
    [("127.0.0.1", 8080, "127.0.0.1:8080"), ("::1", 9, "[::1]:9"), ("fe80::1%eth0", 1, None)],
)
def test_a_listening_line_reads_back_as_its_address(
    host: str, port: int, written: str | None
) -> None:
    """Whatever the host, the line names it (IPv6 in brackets) and parses back to it."""
    line = listening_line(host, port)
    if written is not None:
        assert format_address(host, port) == written
        assert line == f"coio-server {__version__} listening on {written}"
    assert parse_listening_line(line) == (host, port)
    assert parse_listening_line(f"{line}\n".encode()) == (host, port)


@pytest.mark.parametrize(
    ("line", "address"),
    [
        ("asyncio-protocol listening on 127.0.0.1:40123\n", ("127.0.0.1", 40123)),
        ("trio listening on [::1]:5\n", ("::1", 5)),
        ("coio-server 0.1.0 listening on 127.0.0.1:70000\n", None),
        ("coio-server 0.1.0 listening on ::1:8080\n", None),
        ("coio-server 0.1.0 listening on 127.0.0.1:8080 and more\n", None),
        ("Traceback (most recent call last):\n", None),
        ("", None),
    ],
)
def test_other_servers_lines_and_non_lines(line: str, address: tuple[str, int] | None) -> None:
    """The reference servers' lines read the same way; anything else is None, never an error."""
    assert parse_listening_line(line) == address


def test_metrics_and_serving_lines_read_back_as_their_urls() -> None:
    """The metrics log line and the web view's first line give back the URL they name."""
    log = f"2026-11-25 INFO {metrics_line('::1', 9100)}\n2026-11-25 INFO stats ...\n"
    assert parse_metrics_line(log) == "http://[::1]:9100/metrics"
    served = f"coio-tui: {serving_line(http_url('127.0.0.1', 8000))} (each browser tab ...)\n"
    assert parse_serving_line(served) == "http://127.0.0.1:8000/"
    assert parse_metrics_line(served) is None
    assert parse_serving_line(log) is None
