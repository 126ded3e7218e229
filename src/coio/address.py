"""How coio writes an address, and the lines its programs print to say where they listen.

``coio-server`` prints ``coio-server VERSION listening on HOST:PORT`` as its first line on
stdout (an IPv6 host in brackets); whoever starts one (the TUI's --demo, the tests, the
benchmarks) reads the port back with `parse_listening_line`. The reference servers in
benchmarks/ print ``NAME listening on HOST:PORT`` with the same function, so one parser reads
them all. With --metrics-port it logs `metrics_line`; ``coio-tui --serve`` prints
`serving_line`. Standard library only: every room imports it.
"""

from __future__ import annotations

import re

from coio import __version__

# "listening on" and an address as format_address writes it, ending the line.
_LISTENING = re.compile(r"listening on (?:\[([^\]\s]+)\]|([^\s\[\]:]+)):(\d{1,5})\s*\Z")
_METRICS = re.compile(r"metrics on (http://\S+)")
_SERVING = re.compile(r"serving (http://\S+)")
MAX_PORT = 65535  # TCP ports are 16 bits


def format_address(host: str, port: int) -> str:
    """``host:port``, an IPv6 host in brackets (``[::1]:8080``), as URLs and logs write it."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def http_url(host: str, port: int, path: str = "/") -> str:
    """``http://host:port/path``, an IPv6 host in brackets."""
    return f"http://{format_address(host, port)}{path}"


def listening_line(host: str, port: int, name: str | None = None) -> str:
    """The first line on stdout once the port is open: scripts read the port from it.

    ``name`` is who listens (default: ``coio-server`` and its version).
    """
    who = f"coio-server {__version__}" if name is None else name
    return f"{who} listening on {format_address(host, port)}"


def parse_listening_line(line: str | bytes) -> tuple[str, int] | None:
    """The (host, port) a `listening_line` names, or None if ``line`` is not one."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    match = _LISTENING.search(text)
    if match is None:
        return None
    port = int(match.group(3))
    if port > MAX_PORT:
        return None
    return match.group(1) or match.group(2), port


def metrics_line(host: str, port: int) -> str:
    """coio-server's log line naming its Prometheus page (--metrics-port)."""
    return f"metrics on {http_url(host, port, '/metrics')}"


def parse_metrics_line(text: str) -> str | None:
    """The page's URL from a `metrics_line` anywhere in ``text`` (a line or a whole log)."""
    match = _METRICS.search(text)
    return None if match is None else match.group(1)


def serving_line(url: str) -> str:
    """How ``coio-tui --serve`` names the URL of its web page, on its first line of stdout."""
    return f"serving {url}"


def parse_serving_line(text: str) -> str | None:
    """The URL from a `serving_line` in ``text``, else None."""
    match = _SERVING.search(text)
    return None if match is None else match.group(1)
