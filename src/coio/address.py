"""How coio writes an address, and the line a server prints once its port is open.

``coio-server`` prints ``coio-server VERSION listening on HOST:PORT`` as its first line on
stdout (an IPv6 host in brackets); whoever starts one (the TUI's --demo, the tests, the
benchmarks) reads the port back with `parse_listening_line`. The reference servers in
benchmarks/ print ``NAME listening on HOST:PORT`` with the same function, so one parser reads
them all. Standard library only: every room imports it.
"""

from __future__ import annotations

import re

from coio import __version__

# "listening on" and an address as format_address writes it, ending the line.
_LISTENING = re.compile(r"listening on (?:\[([^\]\s]+)\]|([^\s\[\]:]+)):(\d{1,5})\s*\Z")
MAX_PORT = 65535  # TCP ports are 16 bits


def format_address(host: str, port: int) -> str:
    """``host:port``, an IPv6 host in brackets (``[::1]:8080``), as URLs and logs write it."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


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
