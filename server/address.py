"""How the server names an address in its output: `host:port`, IPv6 hosts in brackets."""

from __future__ import annotations

from coio import __version__


def format_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listening_line(host: str, port: int) -> str:
    """The first line on stdout, once the port is open: scripts read the port from it."""
    return f"coio-server {__version__} listening on {format_address(host, port)}"
